"""``progress=True``: the progress display of a long fit."""

from .engine import Listener

__all__ = ["Progress"]


class Progress(Listener):
    """Updates a :class:`~skbp._progress.ProgressDisplay` after each step
    (with the validation score when early stopping keeps one) and closes it
    when the fit is over."""

    def __init__(self, display):
        self._display = display

    def step_ends(self, estimator, step):
        scores = getattr(estimator, "validation_scores_", None)
        score = scores[-1] if estimator.early_stopping and scores else None
        self._display.update(estimator.n_iter_, step.loss, score)
        return False

    def closes(self, estimator):
        self._display.close()
