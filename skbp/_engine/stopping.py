"""Validation, early stopping and best weights: what each step tells the rule."""

from .._stopping import stalled
from .engine import Listener

__all__ = ["NoImprovement", "BestIterate"]


class NoImprovement(Listener):
    """The stochastic solvers' stopping rule, after each epoch.

    The validation loss (and score, when early stopping) goes to the
    estimator's curves; the no-improvement rule reads the score (or the
    training loss) and keeps the best weights; the optimizer's schedule
    moves on; a rule that stalled lets the optimizer decide (``adaptive``
    learning rates shrink instead of stopping).

    Parameters
    ----------
    validation : HeldOut, ChunkedHeldOut or None
        The held-out rows, if any.
    """

    def __init__(self, validation):
        self._validation = validation

    def step_ends(self, estimator, step):
        # The validation score (when early stopping), for the listeners after.
        step.score = score = estimator._track_validation(self._validation)
        estimator._update_no_improvement_count(score)
        estimator._optimizer.iteration_ends(estimator.t_)
        if not stalled(estimator._no_improvement_count, estimator.n_iter_no_change):
            return False
        what = "Validation score" if estimator.early_stopping else "Training loss"
        message = (
            f"{what} did not improve more than tol={estimator.tol:f} for "
            f"{estimator.n_iter_no_change} consecutive epochs."
        )
        if estimator._optimizer.trigger_stopping(message, estimator.verbose):
            return True
        estimator._no_improvement_count = 0
        return False


class BestIterate(Listener):
    """L-BFGS's counterpart: ``best_loss_`` is the lowest loss of this
    fit's iterations (kept current, so that an interrupted fit's is its
    iterations'), and the validation loss is taken at each iterate.

    Parameters
    ----------
    validation : HeldOut, ChunkedHeldOut or None
    iterate : callable
        ``iterate() -> (coefs, intercepts)``: the current iterate's weights.
    """

    def __init__(self, validation, iterate):
        self._validation, self._iterate = validation, iterate

    def step_ends(self, estimator, step):
        estimator.best_loss_ = min(estimator.best_loss_, step.loss)
        if self._validation is not None:
            estimator._track_validation(self._validation, *self._iterate())
        return False
