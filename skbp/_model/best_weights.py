"""The best weights of a fit: the one place they are copied and put back.

Early stopping (and ``restore_best_weights``) keep a copy of the weights of
the best validation score (or training loss) during a fit, and the fit ends
with them as the model. ``skbp.load`` gives a loaded model its own weights
as best weights (files do not hold them).
"""

from .arrays import copied

__all__ = ["store_best_weights", "restore_best_weights"]


def store_best_weights(model):
    """Keep a copy of ``model``'s ``coefs_`` and ``intercepts_`` (in their
    library and device) as its best weights."""
    model._best_coefs = [copied(W) for W in model.coefs_]
    model._best_intercepts = [copied(b) for b in model.intercepts_]


def restore_best_weights(model):
    """Make the best weights ``model``'s weights (no copy: the fit is over)."""
    model.coefs_ = model._best_coefs
    model.intercepts_ = model._best_intercepts
