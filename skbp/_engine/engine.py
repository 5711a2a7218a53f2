"""The engine: a fit as steps, each told to the listeners in order."""

import contextlib
from typing import NamedTuple

from .._model.rollback import deferred_interrupts

__all__ = ["Engine", "Listener", "Outcome", "Step"]


class Step:
    """What one completed step (an epoch, an L-BFGS iteration) produced.

    A solver may hand the same object over at every step, updated (an
    epoch of a small network takes tens of microseconds; a new object each
    time would show): listeners read it during :meth:`Listener.step_ends`
    and keep nothing of it.

    Attributes
    ----------
    loss : float
        The step's training loss (an epoch's mean batch loss, the loss at
        an L-BFGS iterate).
    n_samples : int
        Rows the step trained on (0 for an L-BFGS iteration, which adds
        nothing to ``t_``).
    flat : array of shape (n_parameters,) or None
        The weights after the step as one vector (what ``coefs_`` and
        ``intercepts_`` view, or the L-BFGS iterate), unchanged until the
        next step begins; None where the steps are another estimator's.
    index : int
        The step's number in this run, from 1 (set by the engine).
    score : float or None
        The step's validation score, set by the listener that computes
        one (early stopping), for those after it; None by default.
    """

    __slots__ = ("loss", "n_samples", "flat", "index", "score")

    def __init__(self, loss, n_samples, flat):
        self.loss, self.n_samples, self.flat = loss, n_samples, flat
        self.index, self.score = 0, None


class Outcome(NamedTuple):
    """How a fit ended, for :meth:`Listener.fit_ends`.

    Attributes
    ----------
    stopped : bool
        A listener asked to stop (early stopping, a callback).
    converged : bool
        The solver converged, or had no more to do (``partial_fit``).
    message : str
        Why the solver did not converge (the ``ConvergenceWarning``).
    """

    stopped: bool
    converged: bool
    message: str = ""


class Listener:
    """One concern of every fit; each hook does nothing unless overridden."""

    def step_begins(self, estimator):
        """A step is about to begin (may be called again before it ends:
        L-BFGS calls it at each evaluation of an iteration)."""

    def step_ends(self, estimator, step):
        """A step completed (:class:`Step`); return True to stop the fit."""
        return False

    def step_abandoned(self, estimator):
        """The step that began will not complete (L-BFGS out of evaluations)."""

    def interrupted(self, estimator, interrupt):
        """``KeyboardInterrupt`` ``interrupt`` is about to propagate."""

    def fit_ends(self, estimator, outcome):
        """The fit ended (:class:`Outcome`), after :meth:`closes`; not
        called when the solver raised."""

    def closes(self, estimator):
        """The solver returned or raised (release what you hold)."""


class Engine:
    """Runs one fit's steps and tells its listeners about each.

    Parameters
    ----------
    estimator : BaseBackprop
        The estimator being fitted, handed to every hook.
    listeners : list of Listener
        In the order they hear each event.
    """

    def __init__(self, estimator, listeners):
        self.estimator = estimator
        self.listeners = list(listeners)
        self.stopped = False
        self.steps = 0  # completed
        # Bound once, and only the hooks a listener overrides: a step's
        # dispatch is a loop over the calls that do something (an epoch of
        # a small network takes tens of microseconds).
        self._step_begins = _overridden(self.listeners, "step_begins")
        self._step_ends = _overridden(self.listeners, "step_ends")

    @contextlib.contextmanager
    def running(self):
        """Around the solver: a ``KeyboardInterrupt`` is told to the
        listeners (with a second one held until they are done) and goes on;
        the listeners are closed whatever happens."""
        try:
            yield self
        except KeyboardInterrupt as interrupt:
            with deferred_interrupts():
                for listener in self.listeners:
                    listener.interrupted(self.estimator, interrupt)
            raise
        finally:
            for listener in self.listeners:
                listener.closes(self.estimator)

    def step_begins(self):
        for step_begins in self._step_begins:
            step_begins(self.estimator)

    def step_ends(self, step):
        """Tell every listener; True when any asked to stop."""
        self.steps += 1
        step.index, step.score = self.steps, None
        stop = False
        for step_ends in self._step_ends:
            if step_ends(self.estimator, step):
                stop = True
        self.stopped = self.stopped or stop
        return stop

    def step_abandoned(self):
        for listener in self.listeners:
            listener.step_abandoned(self.estimator)

    def run(self, run_step, max_steps, once=False):
        """The loop of the stochastic solvers: up to ``max_steps`` steps.

        Parameters
        ----------
        run_step : callable
            ``run_step() -> Step``: trains one step (an epoch).
        max_steps : int
        once : bool, default=False
            Stop after one step whatever the listeners say (``partial_fit``).

        Returns
        -------
        int
            The steps run.
        """
        for count in range(1, max_steps + 1):
            self.step_begins()
            if self.step_ends(run_step()) or once:
                return count
        return max_steps

    def fit_ends(self, converged, message=""):
        """The solver is done: tell the listeners how it ended."""
        outcome = Outcome(self.stopped, converged, message)
        for listener in self.listeners:
            listener.fit_ends(self.estimator, outcome)


def _overridden(listeners, hook):
    """The bound ``hook`` of each listener whose class overrides it."""
    default = getattr(Listener, hook)
    return [
        getattr(listener, hook)
        for listener in listeners
        if getattr(type(listener), hook) is not default
    ]
