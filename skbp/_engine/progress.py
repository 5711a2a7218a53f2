"""``progress=True``: the progress display of a long fit."""

from .engine import Listener

__all__ = ["Progress"]


class Progress(Listener):
    """Updates a progress display (:class:`~skbp._engine.display.ProgressDisplay`,
    or anything with its ``update`` and ``close``) after each step, with the
    step's validation score when a listener before it set one, and closes
    it when the solver is done."""

    def __init__(self, display):
        self._display = display

    def step_ends(self, estimator, step):
        self._display.update(step.index, step.loss, step.score)
        return False

    def closes(self, estimator):
        self._display.close()
