"""Validation, early stopping and best weights: what each step tells the rule.

Written once, for every solver and placement: :func:`validation_loss`
scores the held-out rows (in memory, or on the Dask workers),
:func:`update_rule` applies scikit-learn's no-improvement rule to the score
(or the training loss) and keeps the best weights; :class:`NoImprovement`
(the stochastic solvers) and :class:`BestIterate` (L-BFGS) call them after
each step; :func:`init_stopping_state` and :func:`check_stopping_state`
set up the rule's bookkeeping before a fit.
"""

import numpy as np

from .._model.best_weights import store_best_weights
from ..core import OPTIMIZERS
from .engine import Listener
from .rules import stalled, update_no_improvement

__all__ = [
    "NoImprovement",
    "BestIterate",
    "validation_loss",
    "update_rule",
    "init_stopping_state",
    "check_stopping_state",
]


def init_stopping_state(estimator):
    """Start the no-improvement rule afresh: on the validation score
    (early stopping, stochastic solvers) or on the training loss."""
    estimator._no_improvement_count = 0
    if estimator.early_stopping and estimator.solver in OPTIMIZERS:
        estimator.validation_scores_ = []
        estimator.best_validation_score_ = -np.inf
        estimator.best_loss_ = None
    else:
        estimator.validation_scores_ = None
        estimator.best_validation_score_ = None
        estimator.best_loss_ = np.inf
    if estimator.early_stopping or estimator.restore_best_weights:
        store_best_weights(estimator)


def check_stopping_state(estimator):
    """Before a warm-start fit: if ``early_stopping``, the solver or
    ``restore_best_weights`` changed since the last fit, the rule's
    bookkeeping no longer fits them (scikit-learn's MLP then fails with
    a TypeError); it starts afresh, while the weights carry on."""
    on_scores = estimator.early_stopping and estimator.solver in OPTIMIZERS
    keeps_best = estimator.early_stopping or estimator.restore_best_weights
    if (getattr(estimator, "validation_scores_", None) is None) == on_scores or (
        keeps_best and not hasattr(estimator, "_best_coefs")
    ):
        init_stopping_state(estimator)


def validation_loss(estimator, validation, coefs=None, intercepts=None):
    """The validation loss (and score, when early stopping) of the network:
    the loss goes to ``validation_loss_curve_``, the score is returned
    (None without early stopping or validation rows).

    Called once per step, after ``loss_curve_`` has grown: once the curve
    exists it has one entry per entry of ``loss_curve_``, NaN for steps
    trained without a validation set.

    Parameters
    ----------
    estimator : BaseBackprop
    validation : HeldOutRows or None
        In memory or on the Dask workers (:mod:`skbp._data.rows`).
    coefs, intercepts : lists of arrays, optional
        Default: ``coefs_`` and ``intercepts_`` (L-BFGS passes its iterate).
    """
    curve = getattr(estimator, "validation_loss_curve_", None)
    if validation is None:
        if curve is not None:  # kept aligned with loss_curve_
            curve.append(float("nan"))
        return None
    scored = estimator.early_stopping and estimator.solver in OPTIMIZERS
    loss, score = validation.evaluate(
        estimator.coefs_ if coefs is None else coefs,
        estimator.intercepts_ if intercepts is None else intercepts,
        scored=scored,
    )
    if curve is None:
        # Steps before this one (warm start, partial_fit) had no validation
        # set: NaN, so that entry k is loss_curve_[k]'s step.
        curve = estimator.validation_loss_curve_ = [float("nan")] * (
            len(estimator.loss_curve_) - 1
        )
    curve.append(float(loss))
    return score


def update_rule(estimator, score):
    """Apply the no-improvement rule to this epoch's validation ``score``
    (early stopping) or training loss; keep the best weights when asked."""
    if estimator.early_stopping:
        estimator.validation_scores_.append(score)
        if estimator.verbose:
            print(f"Validation score: {score:f}")
        count, estimator.best_validation_score_, improved = update_no_improvement(
            estimator._no_improvement_count,
            estimator.best_validation_score_,
            score,
            estimator.tol,
        )
        keep = improved
    else:
        # The rule reads scores: the loss enters negated, which is exact, so
        # the comparisons are scikit-learn's on the loss itself.
        count, best, improved = update_no_improvement(
            estimator._no_improvement_count,
            -estimator.best_loss_,
            -estimator.loss_curve_[-1],
            estimator.tol,
        )
        estimator.best_loss_ = -best
        keep = improved and estimator.restore_best_weights
    estimator._no_improvement_count = count
    if keep:
        store_best_weights(estimator)


class NoImprovement(Listener):
    """The stochastic solvers' stopping rule, after each epoch.

    The validation loss (and score, when early stopping) goes to the
    estimator's curves; the no-improvement rule reads the score (or the
    training loss) and keeps the best weights; the optimizer's schedule
    moves on; a rule that stalled lets the optimizer decide (``adaptive``
    learning rates shrink instead of stopping).

    Parameters
    ----------
    validation : HeldOutRows or None
        The held-out rows, if any.
    """

    def __init__(self, validation):
        self._validation = validation

    def step_ends(self, estimator, step):
        # The validation score (when early stopping), for the listeners after.
        step.score = score = validation_loss(estimator, self._validation)
        update_rule(estimator, score)
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
    validation : HeldOutRows or None
    iterate : callable
        ``iterate() -> (coefs, intercepts)``: the current iterate's weights.
    """

    def __init__(self, validation, iterate):
        self._validation, self._iterate = validation, iterate

    def step_ends(self, estimator, step):
        estimator.best_loss_ = min(estimator.best_loss_, step.loss)
        if self._validation is not None:
            validation_loss(estimator, self._validation, *self._iterate())
        return False
