"""The interrupt checkpoint: a ``KeyboardInterrupt`` keeps the last step."""

from .._model.rollback import EpochCheckpoint
from .engine import Listener

__all__ = ["Checkpoint"]


class Checkpoint(Listener):
    """Saves the weights and what a step changes after each step
    (:class:`~skbp._model.rollback.EpochCheckpoint`), and puts them back when the
    fit is interrupted: the estimator is then the model of the last
    completed step (before any, ``keeps_fitted_state`` puts back the model
    before the call).

    Parameters
    ----------
    estimator : BaseBackprop
        With the weights the fit starts from.
    """

    def __init__(self, estimator):
        self._checkpoint = EpochCheckpoint(estimator)

    def step_ends(self, estimator, step):
        self._checkpoint.save(estimator, step.flat)
        return False

    def interrupted(self, estimator, interrupt):
        self._checkpoint.restore(estimator, interrupt)
