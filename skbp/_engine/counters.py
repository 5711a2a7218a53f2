"""The loss curve and the counters a fit keeps."""

from .engine import Listener

__all__ = ["LossCurve"]


class LossCurve(Listener):
    """After each step: ``n_iter_`` (steps of this fit), ``t_`` (rows seen,
    over every fit), ``loss_`` and ``loss_curve_`` (the step's loss)."""

    def step_ends(self, estimator, step):
        estimator.n_iter_ += 1
        estimator.t_ += step.n_samples
        estimator.loss_ = step.loss
        estimator.loss_curve_.append(step.loss)
        return False
