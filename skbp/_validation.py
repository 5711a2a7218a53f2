"""Input checks shared by the estimators (no math here)."""

import numbers

import numpy as np
from sklearn.utils import check_array, check_consistent_length

__all__ = ["check_sample_weight", "check_hidden_layer_sizes"]


def check_sample_weight(sample_weight, X):
    """Validate ``sample_weight`` against ``X``.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        ``None`` means unit weights; a number is broadcast to every row.
    X : ndarray or sparse matrix of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples,) in the dtype of ``X``, or None

    Raises
    ------
    ValueError
        If the weights have the wrong shape or length, are not finite, are
        negative, or sum to zero.
    """
    if sample_weight is None:
        return None
    n_samples = X.shape[0]
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=X.dtype)
    sample_weight = check_array(
        sample_weight,
        ensure_2d=False,
        dtype=X.dtype,
        input_name="sample_weight",
        ensure_min_samples=0,
    )
    if sample_weight.ndim != 1:
        raise ValueError(
            "sample_weight must be 1D array or scalar, got an array of shape "
            f"{sample_weight.shape}."
        )
    if sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected ({n_samples},)!"
        )
    check_consistent_length(X, sample_weight)
    if np.any(sample_weight < 0):
        raise ValueError("Negative values in data passed to sample_weight.")
    if not np.sum(sample_weight) > 0:
        raise ValueError("sample_weight must have a positive sum; got all zeros.")
    return sample_weight


def check_hidden_layer_sizes(hidden_layer_sizes):
    """Return ``hidden_layer_sizes`` as a list of positive ints.

    An int means one hidden layer; an empty sequence means none (a linear or
    generalised linear model trained by backprop).
    """
    sizes = hidden_layer_sizes
    if isinstance(sizes, numbers.Integral):
        sizes = [sizes]
    sizes = list(sizes)
    for size in sizes:
        if not isinstance(size, numbers.Integral) or isinstance(size, bool):
            raise TypeError(
                f"hidden_layer_sizes must hold integers, got {hidden_layer_sizes!r}."
            )
    if any(size <= 0 for size in sizes):
        raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
    return [int(size) for size in sizes]
