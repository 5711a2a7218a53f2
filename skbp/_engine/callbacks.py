"""scikit-learn's callbacks: one task per step."""

from .engine import Listener

__all__ = ["Callbacks"]


class Callbacks(Listener):
    """Opens and ends each step's task of :class:`~skbp._engine.tasks.FitTasks`;
    a callback asking to stop stops the fit.

    Parameters
    ----------
    tasks : FitTasks
    weights : callable
        ``weights() -> (coefs, intercepts)`` as :class:`FitTasks` takes it:
        the weights the hooks see.
    """

    def __init__(self, tasks, weights):
        self._tasks, self._weights = tasks, weights

    def step_begins(self, estimator):
        self._tasks.begin_step(self._weights)

    def step_ends(self, estimator, step):
        return self._tasks.end_step(self._weights)

    def step_abandoned(self, estimator):
        # A step that began but did not complete ends as an empty task.
        self._tasks.abandon_step()
