"""scikit-learn's callbacks (``sklearn.callback``) in skbp's fits."""

import copy
import itertools
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_allclose, assert_array_equal, assert_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbp
from skbp import BPClassifier, BPRegressor

callback = pytest.importorskip(
    "sklearn.callback", reason="scikit-learn's callbacks came in scikit-learn 1.9"
)

X, y = make_classification(
    n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0
)
X_reg, y_reg = make_regression(n_samples=80, n_features=5, noise=1.0, random_state=0)


def _quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


class Recorder:
    """Records every hook call: (hook, estimator name, task name, task id
    path, the fitted estimator's weights if one was given)."""

    def __init__(self):
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", type(estimator).__name__, context.task_name))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", type(estimator).__name__, context.task_name))

    def _record(self, hook, estimator, context, fitted_estimator):
        path = []
        ctx = context
        while ctx is not None:
            path.insert(0, ctx.task_id)
            ctx = ctx.parent
        weights = None
        if fitted_estimator is not None and hasattr(fitted_estimator, "coefs_"):
            weights = [W.copy() for W in fitted_estimator.coefs_]
        self.calls.append(
            (hook, type(estimator).__name__, context.task_name, tuple(path), weights)
        )

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self._record("begin", estimator, context, fitted_estimator)

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self._record("end", estimator, context, fitted_estimator)

    def hooks(self, hook, task_name=None):
        return [
            call
            for call in self.calls
            if call[0] == hook and (task_name is None or call[2] == task_name)
        ]


class PropagatedRecorder(Recorder):
    """The same, auto-propagated by meta-estimators to their sub-estimators."""

    max_propagation_depth = None


class StopAfter(Recorder):
    """Asks to stop at the end of the ``n``-th step."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        super().on_fit_task_end(estimator, context, fitted_estimator=fitted_estimator)
        return context.task_name in ("epoch", "lbfgs-iter") and context.task_id == (
            self.n - 1
        )


# ---------------------------------------------------------------------------
# The task tree: one task per epoch or L-BFGS iteration
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "solver, step", [("adam", "epoch"), ("sgd", "epoch"), ("lbfgs", "lbfgs-iter")]
)
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_one_task_per_epoch_or_iteration(Estimator, solver, step):
    data = (X, y) if Estimator is BPClassifier else (X_reg, y_reg)
    recorder = Recorder()
    est = Estimator(hidden_layer_sizes=(8,), solver=solver, max_iter=6, random_state=0)
    _quiet_fit(est.set_callbacks(recorder), *data)

    assert recorder.calls[0][:3] == ("setup", Estimator.__name__, "fit")
    assert recorder.calls[-1][:3] == ("teardown", Estimator.__name__, "fit")
    begins, ends = recorder.hooks("begin", step), recorder.hooks("end", step)
    assert len(begins) == len(ends) == est.n_iter_ == 6
    assert [call[3] for call in ends] == [(0, k) for k in range(6)]
    # The root task ends last, with the fitted model.
    assert recorder.calls[-2][:4] == ("end", Estimator.__name__, "fit", (0,))
    for W, fitted in zip(recorder.calls[-2][4], est.coefs_):
        assert_array_equal(W, fitted)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_each_step_sees_the_weights_before_and_after_it(solver):
    # The model the hooks get after step k is the model max_iter=k gives:
    # a copy, which later steps do not overwrite.
    recorder = Recorder()
    params = dict(hidden_layer_sizes=(8,), solver=solver, random_state=0)
    _quiet_fit(BPClassifier(max_iter=4, **params).set_callbacks(recorder), X, y)
    step = "epoch" if solver == "adam" else "lbfgs-iter"
    ends = recorder.hooks("end", step)
    begins = recorder.hooks("begin", step)
    for k in (1, 3):
        reference = _quiet_fit(BPClassifier(max_iter=k, **params), X, y)
        for seen_after, seen_before_next, W in zip(
            ends[k - 1][4], begins[k][4], reference.coefs_
        ):
            assert_allclose(seen_after, W, rtol=1e-12, atol=1e-12)
            assert_allclose(seen_before_next, W, rtol=1e-12, atol=1e-12)
    first = begins[0][4]
    # Before the first step: the initial weights (not yet trained).
    assert not np.allclose(first[0], ends[0][4][0])


def test_partial_fit_is_one_task_with_one_epoch():
    recorder = Recorder()
    est = BPClassifier(hidden_layer_sizes=(8,), random_state=0).set_callbacks(recorder)
    est.partial_fit(X, y, classes=[0, 1, 2])
    est.partial_fit(X, y)
    roots = recorder.hooks("end", "partial_fit")
    assert len(roots) == 2
    assert len(recorder.hooks("end", "epoch")) == 2
    assert len(recorder.hooks("setup")) == len(recorder.hooks("teardown")) == 2


def test_lbfgs_partial_fit_of_the_regressor_reports_its_iterations():
    recorder = Recorder()
    est = BPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5)
    _quiet_fit(est.set_callbacks(recorder), X_reg, y_reg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.partial_fit(X_reg, y_reg)
    assert len(recorder.hooks("end", "partial_fit")) == 1
    assert len(recorder.hooks("end", "lbfgs-iter")) == 5 + est.n_iter_


class Keeper:
    """Keeps every fitted estimator it is handed, as it is (no copy), with a
    copy of what that estimator held when it was handed."""

    def __init__(self):
        self.kept = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def _keep(self, hook, context, fitted_estimator):
        if fitted_estimator is not None:
            then = copy.deepcopy(_snapshot(fitted_estimator))
            self.kept.append((hook, context.task_name, fitted_estimator, then))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self._keep("begin", context, fitted_estimator)

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self._keep("end", context, fitted_estimator)


def _snapshot(model):
    """What training changes in place: weights, curves, optimizer moments."""
    optimizer = getattr(model, "_optimizer", None)
    return {
        "coefs_": model.coefs_,
        "intercepts_": model.intercepts_,
        "n_iter_": model.n_iter_,
        "loss_curve_": model.loss_curve_,
        "validation_loss_curve_": model.validation_loss_curve_,
        "moments": [
            getattr(optimizer, name)
            for name in ("ms", "vs", "velocities")
            if hasattr(optimizer, name)
        ],
    }


@pytest.mark.parametrize(
    "solver, step", [("adam", "epoch"), ("sgd", "epoch"), ("lbfgs", "lbfgs-iter")]
)
def test_a_kept_fitted_estimator_keeps_its_step(solver, step):
    """A callback may keep the fitted estimators it is handed: each is a
    snapshot, which neither later steps nor later fits change."""
    keeper = Keeper()
    est = BPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=5)
    est.set_params(random_state=0).set_callbacks(keeper)
    _quiet_fit(est, X[:90], y[:90], X_val=X[90:], y_val=y[90:])
    kept = list(keeper.kept)
    ends = [model for hook, name, model, _ in kept if (hook, name) == ("end", step)]
    assert [model.n_iter_ for model in ends] == [1, 2, 3, 4, 5]
    for model in ends:  # the curves as they were after that step
        assert len(model.loss_curve_) == model.n_iter_
        assert len(model.validation_loss_curve_) == model.n_iter_
    # Each step's model holds that step's weights: no two alike, and the
    # first four unlike the final ones.
    firsts = [model.coefs_[0] for model in ends]
    for i, j in itertools.combinations(range(5), 2):
        assert not np.array_equal(firsts[i], firsts[j]), (i, j)
    for model in ends[:-1]:
        assert not np.array_equal(model.coefs_[0], est.coefs_[0])
    # None of them shares memory with the live model's weights.
    live = [*est.coefs_, *est.intercepts_]
    shared = [
        (hook, name, then["n_iter_"])
        for hook, name, model, then in kept
        for array in (*model.coefs_, *model.intercepts_)
        if any(np.shares_memory(array, other) for other in live)
    ]
    assert not shared, f"kept models share the live weights: {shared}"
    # A warm-start L-BFGS fit writes into the live weights in place.
    est.set_params(solver="lbfgs", warm_start=True, max_iter=3)
    _quiet_fit(est, X, y)
    for hook, name, model, then in kept:
        assert_equal(_snapshot(model), then, err_msg=f"{hook} {name} {then['n_iter_']}")


def test_an_iteration_that_never_completes_ends_as_an_empty_task(monkeypatch):
    """scipy may stop in a line search (one that fails): its evaluations
    began an iteration that never completes. That task still ends, with no
    model, as scikit-learn's own L-BFGS ends its last one."""
    minimize = scipy.optimize.minimize

    def stops_in_a_line_search(fun, x0, options, **kwargs):
        # Three iterations, then one trial point of the fourth.
        result = minimize(fun, x0, options={**options, "maxiter": 3}, **kwargs)
        fun(result.x + 1.0)
        return result

    monkeypatch.setattr(scipy.optimize, "minimize", stops_in_a_line_search)
    recorder = Recorder()
    est = BPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=10)
    _quiet_fit(est.set_callbacks(recorder), X, y)
    begins = recorder.hooks("begin", "lbfgs-iter")
    ends = recorder.hooks("end", "lbfgs-iter")
    assert len(begins) == len(ends) == est.n_iter_ + 1 == 4
    assert [call[3] for call in ends] == [(0, k) for k in range(4)]
    assert [call[4] is None for call in ends] == [False, False, False, True]
    assert recorder.calls[-2][:3] == ("end", "BPClassifier", "fit")


# ---------------------------------------------------------------------------
# A callback may stop the fit
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_a_callback_stops_the_fit(solver):
    stopper = StopAfter(3)
    params = dict(hidden_layer_sizes=(8,), solver=solver, random_state=0)
    est = BPClassifier(max_iter=50, **params)
    with warnings.catch_warnings():
        # Stopped on request: no "maximum iterations reached" warning.
        warnings.simplefilter("error", ConvergenceWarning)
        est.set_callbacks(stopper).fit(X, y)
    assert est.n_iter_ == 3
    assert len(est.loss_curve_) == 3
    step = "lbfgs-iter" if solver == "lbfgs" else "epoch"
    assert len(stopper.hooks("end", step)) == 3
    # The model is the one after those 3 steps.
    reference = _quiet_fit(BPClassifier(max_iter=3, **params), X, y)
    assert_allclose(est.predict_proba(X), reference.predict_proba(X), rtol=1e-10)


# ---------------------------------------------------------------------------
# scikit-learn's own callbacks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver, step", [("adam", "epoch"), ("lbfgs", "lbfgs-iter")])
def test_scoring_monitor_records_one_score_per_step(solver, step):
    monitor = callback.ScoringMonitor(scoring="accuracy")
    params = dict(hidden_layer_sizes=(8,), solver=solver, random_state=0)
    est = _quiet_fit(BPClassifier(max_iter=5, **params).set_callbacks(monitor), X, y)
    rows = monitor.get_logs().data
    steps = [row for row in rows if row["task_name"] == step]
    assert [row["task_id"] for row in steps] == list(range(est.n_iter_))
    # Step k's score is that of the model after k steps.
    for k in (1, 4):
        reference = _quiet_fit(BPClassifier(max_iter=k, **params), X, y)
        assert steps[k - 1]["accuracy"] == reference.score(X, y)
    (root,) = [row for row in rows if row["task_name"] == "fit"]
    assert root["accuracy"] == est.score(X, y)


class EventfulProgressBar(callback.ProgressBar):
    """scikit-learn's ProgressBar, recording what it was told."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.task_name, context.max_subtasks))
        super().on_fit_task_begin(estimator, context)

    def on_fit_task_end(self, estimator, context):
        self.events.append(("end", context.task_name, context.max_subtasks))
        super().on_fit_task_end(estimator, context)


@pytest.mark.parametrize("solver, step", [("adam", "epoch"), ("lbfgs", "lbfgs-iter")])
def test_progress_bar_counts_epochs_or_iterations(solver, step, capsys):
    pytest.importorskip("rich")
    bar = EventfulProgressBar()
    est = BPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=7)
    _quiet_fit(est.set_callbacks(bar), X_reg, y_reg)
    # The bar's total is max_iter; one step of it per epoch or iteration.
    assert bar.events[0] == ("begin", "fit", 7)
    assert bar.events.count(("end", step, 0)) == est.n_iter_ == 7
    assert bar.events[-1] == ("end", "fit", 7)
    out = capsys.readouterr().out
    assert "BPRegressor - fit" in out and "100%" in out


_IGNORED = "progress=True is ignored because a ProgressBar callback is set"


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_progress_bar_callback_wins_over_progress(solver, capsys):
    # Both would redraw the same terminal line: the callback's bar is the
    # one display, and progress=True is ignored with a warning.
    pytest.importorskip("rich")
    est = BPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=4)
    est.set_params(progress=True).set_callbacks(callback.ProgressBar())
    with pytest.warns(UserWarning, match=_IGNORED):
        _quiet_fit(est, X, y)
    out = capsys.readouterr().out
    assert "BPClassifier - fit" in out
    assert "done: 4/4" not in out and "4/4 [" not in out


@pytest.mark.parametrize("max_propagation_depth", [1, 0])
def test_a_progress_bar_of_a_meta_estimator_wins_too(max_propagation_depth, capsys):
    # Propagated to the network (depth 1), or drawing the pipeline's bar
    # only (depth 0): either way it is on the terminal during the fit.
    pytest.importorskip("rich")
    bar = callback.ProgressBar(max_propagation_depth=max_propagation_depth)
    net = BPClassifier(hidden_layer_sizes=(8,), max_iter=4, progress=True)
    pipe = make_pipeline(StandardScaler(), net).set_callbacks(bar)
    with pytest.warns(UserWarning, match=_IGNORED):
        _quiet_fit(pipe, X, y)
    out = capsys.readouterr().out
    assert "Pipeline - fit" in out and "done: 4/4" not in out


def test_progress_next_to_other_callbacks_shows(capsys):
    # Only a ProgressBar takes the display's place: with a ScoringMonitor
    # the display is there, and nothing warns.
    monitor = callback.ScoringMonitor(scoring="accuracy")
    est = BPClassifier(hidden_layer_sizes=(8,), max_iter=4, progress=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _quiet_fit(est.set_callbacks(monitor), X, y)
    assert "done: 4/4 epochs" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# Callbacks set on meta-estimators reach skbp's estimators
# ---------------------------------------------------------------------------
def test_callbacks_set_on_a_pipeline_reach_the_network():
    recorder, plain = PropagatedRecorder(), Recorder()
    pipe = make_pipeline(
        StandardScaler(), BPClassifier(hidden_layer_sizes=(8,), max_iter=4)
    )
    _quiet_fit(pipe.set_callbacks(recorder, plain), X, y)
    # The auto-propagated callback sees the network's epochs, inside the
    # pipeline's task tree; the other one sees the pipeline's tasks only.
    epochs = recorder.hooks("end", "epoch")
    assert len(epochs) == 4
    assert {call[1] for call in epochs} == {"BPClassifier"}
    assert all(len(call[3]) == 3 for call in epochs)  # pipeline / step / epoch
    assert plain.hooks("end", "epoch") == []
    assert len(recorder.hooks("setup")) == len(recorder.hooks("teardown")) == 1


def test_callbacks_set_on_a_search_reach_every_fit():
    recorder = PropagatedRecorder()
    search = GridSearchCV(
        BPClassifier(hidden_layer_sizes=(8,), random_state=0),
        {"max_iter": [2, 3]},
        cv=2,
    )
    _quiet_fit(search.set_callbacks(recorder), X, y)
    epochs = recorder.hooks("end", "epoch")
    # 2 folds of each candidate, then the refit of the best.
    assert len(epochs) == 2 * (2 + 3) + search.best_estimator_.n_iter_
    assert len(recorder.hooks("setup")) == 1


def test_scoring_monitor_on_the_network_inside_a_parallel_search():
    # The callback travels to the joblib workers with the estimator and
    # sends its scores back (scikit-learn's transport).
    monitor = callback.ScoringMonitor(scoring="accuracy")
    search = GridSearchCV(
        BPClassifier(hidden_layer_sizes=(8,), random_state=0).set_callbacks(monitor),
        {"max_iter": [2, 3]},
        cv=2,
        n_jobs=2,
    )
    _quiet_fit(search, X, y)
    (log,) = monitor.get_logs(select="all")  # one run: the search's
    per_fit = {}
    for row in log.data:
        if row["task_name"] == "epoch":
            key = row["parent_task_id_path"]
            per_fit[key] = per_fit.get(key, 0) + 1
    refit = search.best_estimator_.n_iter_
    assert sorted(per_fit.values()) == sorted([2, 2, 3, 3, refit])


# ---------------------------------------------------------------------------
# Callbacks and the estimator's life: clone, pickle, save, failed fits
# ---------------------------------------------------------------------------
def test_clone_and_pickle_keep_callbacks_and_save_leaves_them_out(tmp_path):
    import pickle

    recorder = Recorder()
    est = BPClassifier(hidden_layer_sizes=(8,), max_iter=3).set_callbacks(recorder)
    assert clone(est)._skl_callbacks == [recorder]  # scikit-learn's clone
    _quiet_fit(est, X, y)
    assert isinstance(pickle.loads(pickle.dumps(est))._skl_callbacks[0], Recorder)
    path = tmp_path / "model.skbp"
    skbp.save(est, path)
    loaded = skbp.load(path)
    assert not hasattr(loaded, "_skl_callbacks")
    assert_array_equal(loaded.predict(X), est.predict(X))


class FailAt(Recorder):
    """Raises at the end of the second epoch."""

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        super().on_fit_task_end(estimator, context, fitted_estimator=fitted_estimator)
        if context.task_name == "epoch" and context.task_id == 1:
            raise RuntimeError("callback failed")


def test_a_failed_fit_tears_callbacks_down_and_keeps_the_model():
    est = _quiet_fit(BPClassifier(hidden_layer_sizes=(8,), max_iter=3), X, y)
    before = est.predict_proba(X)
    failing = FailAt()
    with pytest.raises(RuntimeError, match="callback failed"):
        est.set_callbacks(failing).fit(X, y)
    assert failing.calls[-1][0] == "teardown"
    assert not hasattr(est, "_callback_fit_ctx")
    assert_array_equal(est.predict_proba(X), before)
    # Bad validation data is refused before any callback is set up.
    recorder = Recorder()
    with pytest.raises(ValueError, match="y_val has labels"):
        est.set_callbacks(recorder).fit(X, y, X_val=X[:5], y_val=[7] * 5)
    assert recorder.calls == []
    assert_array_equal(est.predict_proba(X), before)


def test_without_sklearn_callback_nothing_changes():
    # scikit-learn 1.7 and 1.8 have no sklearn.callback: skbp imports and
    # fits as before, and offers no set_callbacks.
    code = textwrap.dedent(
        """
        import sys
        # scikit-learn itself imports sklearn.callback: load what skbp uses
        # first, then make the import fail, as it does on 1.8.
        import sklearn.metrics, sklearn.model_selection, sklearn.pipeline
        sys.modules["sklearn.callback"] = None
        import numpy as np
        from skbp import BPClassifier
        X = np.random.RandomState(0).normal(size=(40, 3))
        y = (X[:, 0] > 0).astype(int)
        est = BPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
        est.fit(X, y, X_val=X[:10], y_val=y[:10])
        assert not hasattr(est, "set_callbacks")
        assert len(est.validation_loss_curve_) == 5
        print(est.score(X, y))
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    est = _quiet_fit(
        BPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0),
        *_subprocess_data(),
    )
    assert float(result.stdout) == est.score(*_subprocess_data())


def _subprocess_data():
    X = np.random.RandomState(0).normal(size=(40, 3))
    return X, (X[:, 0] > 0).astype(int)


def test_lbfgs_steps_are_named_as_logistic_regressions_iterations():
    # So that the logs of the two read alike: LogisticRegression(solver=
    # "lbfgs") reports its iterations as "lbfgs-iter" subtasks of "fit".
    LogisticRegression = pytest.importorskip("sklearn.linear_model").LogisticRegression
    ours, theirs = Recorder(), Recorder()
    model = BPClassifier(hidden_layer_sizes=(), solver="lbfgs", max_iter=3)
    _quiet_fit(model.set_callbacks(ours), X, y)
    _quiet_fit(LogisticRegression(max_iter=3).set_callbacks(theirs), X, y)

    def task_names(recorder):
        return sorted({call[2] for call in recorder.hooks("end")})

    assert task_names(ours) == task_names(theirs) == ["fit", "lbfgs-iter"]


class Drawer(Keeper):
    """Keeps each fitted estimator and draws from its random generator, as a
    callback that trains or evaluates the kept model with shuffling would."""

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        super().on_fit_task_end(estimator, context, fitted_estimator=fitted_estimator)
        if fitted_estimator is not None:
            fitted_estimator._random_state.random_sample(100)


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_a_kept_fitted_estimator_draws_from_a_generator_of_its_own(dropout):
    # Shuffling (and dropout) draw from the estimator's generator: a kept
    # model sharing it would change the rest of the live fit.
    params = dict(hidden_layer_sizes=(8,), solver="adam", max_iter=4, random_state=0)
    reference = _quiet_fit(BPClassifier(dropout=dropout, **params), X, y)
    drawer = Drawer()
    est = BPClassifier(dropout=dropout, **params).set_callbacks(drawer)
    _quiet_fit(est, X, y)
    assert len(drawer.kept) > 4
    for ours, theirs in zip(
        est.coefs_ + est.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert_array_equal(ours, theirs)
    assert all(
        model._random_state is not est._random_state for *_, model, _ in drawer.kept
    )
