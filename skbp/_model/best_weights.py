"""The best weights of a fit: the one place they are copied and put back.

Early stopping (and ``restore_best_weights``) keep a copy of the weights of
the best validation score (or training loss) during a fit, and the fit ends
with them as the model. ``skbp.load`` gives a loaded model its own weights
as best weights (files do not hold them).
"""

from .arrays import copied

__all__ = ["weights_of", "store_best_weights", "restore_best_weights"]


def weights_of(model):
    """A copy of ``model``'s ``coefs_`` and ``intercepts_``, each array in
    its library and device: the snapshot of every best-weights rule
    (early stopping here, :func:`skbp.streaming.fit_chunks`' validation
    rule too, for skbp's estimators and scikit-learn's MLPs)."""
    return [copied(W) for W in model.coefs_], [copied(b) for b in model.intercepts_]


def store_best_weights(model):
    """Keep a copy of ``model``'s weights as its best weights."""
    model._best_coefs, model._best_intercepts = weights_of(model)


def restore_best_weights(model):
    """Make the best weights ``model``'s weights (no copy: the fit is over)."""
    model.coefs_ = model._best_coefs
    model.intercepts_ = model._best_intercepts
