"""``check_gradients``: verify the hand-written backprop on your own data."""

from ..core import gradient_check
from .base import BaseBackprop

__all__ = ["check_gradients"]


def check_gradients(estimator, X, y, sample_weight=None, eps=1e-6):
    """Compare an estimator's backprop gradients with finite differences.

    The gradient of the training loss (with the estimator's ``alpha``,
    class weights and, when it has dropout, one fixed dropout mask) is
    computed twice at the estimator's current weights: by the hand-written
    backward pass, and by nudging every weight both ways
    (:func:`skbp.core.gradient_check`). A fitted estimator is checked at its
    fitted weights; an unfitted one at the weights ``fit`` would start from.
    The estimator itself is never modified.

    Each weight costs two forward passes over ``X``: use a few dozen rows
    and a small network.

    Parameters
    ----------
    estimator : BPRegressor or BPClassifier
        Fitted or not.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), default=None
    eps : float, default=1e-6
        Step of the central differences.

    Returns
    -------
    float
        The largest relative error between the two gradients over all weight
        arrays: around 1e-7 or less in float64 (1e-3 in float32) when the
        backward pass is right, of order 1 when it is wrong.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbp import BPClassifier, check_gradients
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = BPClassifier(hidden_layer_sizes=(5,), activation="tanh",
    ...                    random_state=0)
    >>> check_gradients(clf, X[::10], y[::10]) < 1e-6
    True
    """
    if not isinstance(estimator, BaseBackprop):
        raise TypeError(
            "check_gradients takes a BPRegressor or BPClassifier, got "
            f"{type(estimator).__name__}."
        )
    return gradient_check(
        **estimator._gradient_check_arguments(X, y, sample_weight), eps=eps
    )
