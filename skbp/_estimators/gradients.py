"""``check_gradients``: verify the hand-written backprop on your own data."""

from copy import deepcopy

from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state

from .._data.memory import MemoryPlacement, mask_function
from .._model.arrays import host_dtype, to_host
from ..core import gradient_check, to_numpy
from .base import BaseBackprop

__all__ = ["check_gradients", "gradient_check_arguments"]


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
        **gradient_check_arguments(estimator, X, y, sample_weight), eps=eps
    )


def gradient_check_arguments(estimator, X, y, sample_weight=None):
    """The training loss at the current weights, as
    :func:`skbp.core.gradient_check`'s keyword arguments.

    The weights are the fitted ones, or for an unfitted estimator the
    ones ``fit`` would start from. ``estimator`` is not modified: the work is
    done on a copy (a fitted estimator) or a clone (an unfitted one).

    Parameters
    ----------
    X, y, sample_weight
        As for :meth:`fit`: ``X`` of shape (n_samples, n_features),
        ``y`` of shape (n_samples,) or (n_samples, n_outputs),
        ``sample_weight`` of shape (n_samples,) or None.

    Returns
    -------
    dict
        ``X`` of shape (n_samples, n_features), ``Y`` of shape
        (n_samples, n_outputs), ``coefs`` and ``intercepts`` (in the
        dtype of ``X``, as training casts them), ``activations``,
        ``loss``, ``alpha``, ``sample_weight`` of shape (n_samples,)
        (class weights included) or None, and ``dropout_masks``: one
        fixed draw when the estimator has dropout, else None.
    """
    if hasattr(estimator, "coefs_"):
        est = deepcopy(estimator)
        # The fitted classes are checked, not learnt; class weights are
        # those a fit on these rows would use.
        place = MemoryPlacement()
        X, y, sample_weight = place.checked(
            est, X, y, sample_weight, reset=False, labels=is_classifier(est)
        )
        est._learn_targets(y, place, incremental=True)
        Y = est._encoded(y, place, X.dtype)
        sample_weight = est._row_weights(Y, sample_weight, False, place)
        est._random_state = check_random_state(est.random_state)
    else:
        est = clone(estimator)
        est._validate_params()
        data = est._training_rows(
            MemoryPlacement(), X, y, sample_weight, incremental=False
        )
        X, Y, sample_weight = data.X, data.Y, data.sample_weight
    # The check runs on the host (in float64 finite differences),
    # whatever library and device the model trains on.
    dtype = host_dtype(X.dtype)
    X, Y, sample_weight = (to_host(a) for a in (X, Y, sample_weight))
    masks = mask_function(est._dropout())
    return {
        "X": X,
        "Y": Y,
        "coefs": [to_numpy(W).astype(dtype, copy=False) for W in est.coefs_],
        "intercepts": [to_numpy(b).astype(dtype, copy=False) for b in est.intercepts_],
        "activations": est._activations(),
        "loss": est._output_loss(),
        "alpha": est.alpha,
        "sample_weight": sample_weight,
        "dropout_masks": None if masks is None else masks(X),
    }
