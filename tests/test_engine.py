"""The training engine (skbp._engine): one loop, its listeners, every solver.

The engine tells each completed step to its listeners in order; any of
them may stop the fit, and all hear the step that stops it. A
``KeyboardInterrupt`` is told to them and goes on; they are closed when the
solver returns, whatever happened, and then hear how the fit ended. Both
kinds of solver run through it: the epochs of sgd and adam and L-BFGS's
iterations reach the same listeners as the same events.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier, BPRegressor
from skbp._engine import Engine, Listener, Step, solvers

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class Recorder(Listener):
    """Records every event; stops at step ``stop_at`` if given."""

    def __init__(self, log, name="recorder", stop_at=None):
        self.log, self.name, self.stop_at = log, name, stop_at
        self.steps = 0

    def step_begins(self, estimator):
        self.log.append((self.name, "begins"))

    def step_ends(self, estimator, step):
        self.steps += 1
        self.log.append((self.name, "ends", step.loss))
        return self.steps == self.stop_at

    def step_abandoned(self, estimator):
        self.log.append((self.name, "abandoned"))

    def interrupted(self, estimator, interrupt):
        self.log.append((self.name, "interrupted"))

    def fit_ends(self, estimator, outcome):
        self.log.append((self.name, "fit_ends", outcome))

    def closes(self, estimator):
        self.log.append((self.name, "closes"))


def _steps(losses):
    losses = iter(losses)
    return lambda: Step(next(losses), 10, None)


def test_every_listener_hears_each_step_in_order():
    log = []
    engine = Engine(None, [Recorder(log, "a"), Recorder(log, "b")])
    with engine.running():
        assert engine.run(_steps([3.0, 2.0]), max_steps=2) == 2
    engine.fit_ends(converged=True)
    assert [event[:2] for event in log] == [
        ("a", "begins"),
        ("b", "begins"),
        ("a", "ends"),
        ("b", "ends"),
    ] * 2 + [("a", "closes"), ("b", "closes"), ("a", "fit_ends"), ("b", "fit_ends")]
    assert log[-1][2].stopped is False and log[-1][2].converged is True


def test_a_listener_stops_the_fit_after_all_heard_the_step():
    log = []
    engine = Engine(None, [Recorder(log, "a", stop_at=2), Recorder(log, "b")])
    with engine.running():
        assert engine.run(_steps([3.0, 2.0, 1.0]), max_steps=3) == 2
    engine.fit_ends(converged=False, message="never")
    assert ("b", "ends", 2.0) in log and ("b", "ends", 1.0) not in log
    outcome = log[-1][2]
    assert outcome.stopped and not outcome.converged


def test_once_runs_a_single_step_whatever_the_listeners_say():
    log = []
    engine = Engine(None, [Recorder(log)])
    with engine.running():
        assert engine.run(_steps([3.0, 2.0]), max_steps=5, once=True) == 1


def test_an_interrupt_is_told_then_goes_on_and_listeners_close():
    log = []
    engine = Engine(None, [Recorder(log)])

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), engine.running():
        engine.run(interrupted, max_steps=3)
    assert [event[1] for event in log] == ["begins", "interrupted", "closes"]


def test_listeners_close_after_any_error():
    log = []
    engine = Engine(None, [Recorder(log)])
    with pytest.raises(ValueError), engine.running():
        raise ValueError("solver failed")
    assert log == [("recorder", "closes")]


def test_only_the_hooks_a_listener_overrides_are_called_per_step():
    class EndsOnly(Listener):
        def step_ends(self, estimator, step):
            return False

    engine = Engine(None, [EndsOnly(), Listener()])
    assert engine._step_begins == []
    assert len(engine._step_ends) == 1


def _with_recorder(monkeypatch):
    """Every fit also tells a Recorder (the last listener), returned."""
    log, original = [], solvers.listeners

    def listeners(*args, **kwargs):
        return [*original(*args, **kwargs), Recorder(log)]

    monkeypatch.setattr(solvers, "listeners", listeners)
    return log


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_every_solver_tells_its_steps_to_the_same_listeners(monkeypatch, cls, solver):
    log = _with_recorder(monkeypatch)
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] > 0).astype(int) if cls is BPClassifier else X[:, 0]
    est = cls(hidden_layer_sizes=(4,), solver=solver, max_iter=7, random_state=0)
    est.fit(X, y)
    losses = [event[2] for event in log if event[1] == "ends"]
    assert losses == est.loss_curve_ and len(losses) == est.n_iter_
    (outcome,) = [event[2] for event in log if event[1] == "fit_ends"]
    assert not outcome.stopped
    # The solver's end closes the listeners; then the fit's outcome.
    assert ("recorder", "closes") in log[-3:] and log[-1][1] == "fit_ends"


def test_a_listener_stopping_lbfgs_stops_it_at_that_iterate(monkeypatch):
    """L-BFGS hears the engine's stop as the stochastic solvers do: the fit
    ends at that iteration, with no ConvergenceWarning."""
    original = solvers.listeners
    monkeypatch.setattr(
        solvers,
        "listeners",
        lambda *a, **k: [*original(*a, **k), Recorder([], stop_at=3)],
    )
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = BPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50)
        est.fit(X, X[:, 0])
    assert est.n_iter_ == 3 == len(est.loss_curve_)


def test_fit_chunks_runs_its_epochs_through_the_engine(monkeypatch):
    """Streaming shares the loop: each epoch is an engine step, its
    validation rule stops the engine, and the display is the engine's
    Progress listener."""
    import skbp.streaming
    from skbp._engine import Progress

    engines = []

    class Watched(Engine):
        def __init__(self, estimator, listeners):
            super().__init__(estimator, listeners)
            engines.append(self)

    monkeypatch.setattr(skbp.streaming, "Engine", Watched)
    rng = np.random.RandomState(0)
    X = rng.randn(120, 3)
    y = (X[:, 0] > 0).astype(int)
    chunks = [(X[i : i + 30], y[i : i + 30]) for i in range(0, 120, 30)]
    est = BPClassifier(hidden_layer_sizes=(4,), random_state=0)
    skbp.streaming.fit_chunks(
        est,
        chunks,
        classes=[0, 1],
        n_epochs=30,
        validation=-1,
        n_iter_no_change=2,
        tol=1.0,
        verbose=True,
    )
    (engine,) = engines
    history = est.streaming_history_
    assert engine.steps == history.n_epochs < 30
    assert engine.stopped and history.stopped_early
    assert any(isinstance(listener, Progress) for listener in engine.listeners)
