"""The ``ConvergenceWarning`` of a solver that did not converge."""

import warnings

from sklearn.exceptions import ConvergenceWarning

from .engine import Listener

__all__ = ["ConvergenceCheck"]


class ConvergenceCheck(Listener):
    """Warns when the fit ended neither converged nor stopped by a listener
    (early stopping, a callback)."""

    def fit_ends(self, estimator, outcome):
        if not (outcome.stopped or outcome.converged):
            # Attributed to the estimator's _fit, as before the engine:
            # here, Engine.fit_ends, the solver, then _fit.
            warnings.warn(outcome.message, ConvergenceWarning, stacklevel=4)
