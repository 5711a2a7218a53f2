"""Input checks shared by the estimators (no math here)."""

import numbers

import numpy as np
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.class_weight import compute_class_weight

from ..core import HIDDEN_ACTIVATIONS, Activation, Loss, get_activation
from .arrays import host_dtype

__all__ = [
    "check_sample_weight",
    "check_hidden_layer_sizes",
    "check_hidden_activations",
    "check_output_loss",
    "shown",
    "check_dropout",
    "check_finite_targets",
    "check_weight_values",
    "check_weight_total",
    "rescale_weights",
    "weight_scale",
    "class_index",
    "class_weight_rows",
    "class_weights_of_totals",
    "check_class_weighted",
    "check_validation_size",
]


def check_sample_weight(sample_weight, X, name="sample_weight"):
    """Validate ``sample_weight`` against ``X``.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        ``None`` means unit weights; a number is broadcast to every row.
        numpy (or array-like): weights are checked on the host.
    X : ndarray, sparse matrix or array of shape (n_samples, n_features)
    name : str, default="sample_weight"
        The argument's name, as the messages give it (``sample_weight_val``
        for the validation rows' weights).

    Returns
    -------
    numpy.ndarray of shape (n_samples,) in the dtype of ``X``, or None

    Raises
    ------
    ValueError
        If the weights have the wrong shape or length, are not finite, are
        negative, or sum to zero.
    """
    if sample_weight is None:
        return None
    n_samples = X.shape[0]
    dtype = host_dtype(X.dtype)
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=dtype)
    sample_weight = check_array(
        sample_weight,
        ensure_2d=False,
        dtype=dtype,
        input_name=name,
        ensure_min_samples=0,
    )
    if sample_weight.ndim != 1:
        raise ValueError(
            f"{name} must be 1D array or scalar, got an array of shape "
            f"{sample_weight.shape}."
        )
    if sample_weight.shape[0] != n_samples:
        rows = "X_val" if name == "sample_weight_val" else "X"
        raise ValueError(
            f"{name}.shape == {sample_weight.shape}, expected ({n_samples},)! "
            f"({rows} has {n_samples} rows.)"
        )
    check_consistent_length(X, sample_weight)
    check_weight_values(sample_weight, name)
    with np.errstate(over="ignore"):
        total = np.sum(sample_weight)
    check_weight_total(total, name)
    return rescale_weights(sample_weight, total)


def check_weight_values(sample_weight, name="sample_weight"):
    """Refuse negative row weights (each row on its own: any chunk of rows).

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,)
    name : str, default="sample_weight"
        The argument's name, for the message.
    """
    if np.any(sample_weight < 0):
        raise ValueError(f"Negative values in data passed to {name}.")


def check_weight_total(total, name="sample_weight"):
    """Refuse row weights whose sum (over every row) is not positive.

    Parameters
    ----------
    total : float
    name : str, default="sample_weight"
        The argument's name, for the message.
    """
    if not total > 0:
        raise ValueError(f"{name} must have a positive sum; got all zeros.")


def rescale_weights(weight, total):
    """Divide row weights by their maximum where their scale risks overflow.

    The weighted mean losses divide by the weights' sum, so one factor on
    every weight leaves them as they are. The L2 penalty's divisor
    ``n = sum(weight)`` does change with it: weights of ordinary scale (the
    largest within ``[sqrt(tiny), sqrt(max)]`` of their dtype, about
    ``1.5e-154`` to ``1.3e154`` in float64 and ``1.1e-19`` to ``1.8e19`` in
    float32, and a finite sum) are returned as they are, so that
    ``n = sum(s)``. Others are divided by their largest, so that ``n`` is
    ``sum(s) / max(s)``, between 1 and ``n_samples``: the penalty of the
    same weights scaled to a largest of 1, where ``sum(s)`` itself would make
    ``alpha / n`` overflow or vanish.

    Parameters
    ----------
    weight : ndarray of shape (n_samples,)
        Finite and non-negative, with a positive sum.
    total : float
        ``weight.sum()``, possibly overflowed to inf.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    top = weight_scale(total, weight.max(), weight.dtype)
    return weight if top is None else weight / top


def weight_scale(total, top, dtype):
    """What :func:`rescale_weights` divides by: None (nothing) for weights of
    ordinary scale, else their largest, ``top``.

    Parameters
    ----------
    total, top : float
        The weights' sum (possibly overflowed to inf) and largest.
    dtype : dtype
        The weights' float dtype.

    Returns
    -------
    float or None
    """
    info = np.finfo(dtype)
    if np.isfinite(total) and np.sqrt(info.tiny) <= top <= np.sqrt(info.max):
        return None
    return top


def class_index(Y):
    """Each row's class index in the single-label indicator matrix ``Y``:
    the hot column, or the one binary column.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs), bool

    Returns
    -------
    ndarray of shape (n_samples,), int
    """
    return Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0].astype(np.intp)


def class_weight_rows(class_weight, Y, classes, sample_weight=None, multilabel=False):
    """Each row's training weight: its class weight times its sample weight.

    ``'balanced'`` counts the classes weighted by ``sample_weight``, so that
    a row of weight ``k`` counts as ``k`` rows, and balances only the
    classes of positive total weight (the others keep weight 1, on rows of
    weight 0). Multilabel targets (only ``'balanced'``) balance each label
    column as a binary target, its 0s against its 1s, and multiply the
    columns' weights, as
    :func:`sklearn.utils.class_weight.compute_sample_weight` does for
    multi-output targets.

    Parameters
    ----------
    class_weight : dict or 'balanced'
        ``{label: weight}`` (labels absent from the dict weigh 1), or
        ``'balanced'``.
    Y : ndarray of shape (n_samples, n_outputs), bool
        The indicator matrix of :class:`~sklearn.preprocessing.LabelBinarizer`:
        one column for two classes, one per class (one hot) for more, one
        per label for multilabel targets.
    classes : ndarray of shape (n_classes,)
        The labels of ``Y``'s classes, in its column order (for multilabel
        targets, ignored: each column's classes are 0 and 1).
    sample_weight : ndarray of shape (n_samples,), default=None
        Checked weights (non-negative, positive sum); None means ones.
    multilabel : bool, default=False
        Whether ``Y``'s columns are independent labels.

    Returns
    -------
    ndarray of shape (n_samples,), float64
        The product, divided by its largest where its scale risks overflow
        (:func:`rescale_weights`).

    Raises
    ------
    ValueError
        For a dict with multilabel targets, a negative or non-finite
        weight, or weights that are all zero.
    """
    if multilabel:
        if not isinstance(class_weight, str):
            raise ValueError(
                "For multilabel targets class_weight must be 'balanced' or "
                f"None; got {class_weight!r}."
            )
        binary = np.array([0, 1])
        columns = [(binary, Y[:, k].astype(np.intp)) for k in range(Y.shape[1])]
    else:
        columns = [(classes, class_index(Y))]
    weight = np.ones(Y.shape[0])
    for column_classes, index in columns:
        per_class = _per_class_weight(
            class_weight, column_classes, index, sample_weight
        )
        weight *= per_class[index]
    if sample_weight is not None:
        weight *= sample_weight
    valid = np.isfinite(weight).all() and not np.any(weight < 0)
    total = weight.sum()
    check_class_weighted(class_weight, valid, total, weight.dtype)
    return rescale_weights(weight, total)


def check_class_weighted(class_weight, valid, total, dtype):
    """Refuse row weights (class weights times sample weights) that are not
    all finite and non-negative (``valid``), or whose sum ``total`` is not
    positive.

    Parameters
    ----------
    class_weight : dict or 'balanced'
        As given to the estimator (named in the errors).
    valid : bool
    total : float
    dtype : dtype
        The weights' dtype (named in the errors).
    """
    if not valid:
        raise ValueError(
            f"class_weight={class_weight!r} must give every class a "
            "finite, non-negative weight (times sample_weight, one that "
            f"{dtype} can hold)."
        )
    if not total > 0:
        raise ValueError(
            f"class_weight={class_weight!r} and sample_weight give every "
            "row a weight of zero."
        )


def class_weights_of_totals(class_weight, classes, totals):
    """The weight of each class, from each class's total row weight.

    What :func:`class_weight_rows` gives the classes of single-label
    targets, for data whose rows are not all in one place (Dask chunks):
    only the totals are needed, summed over the chunks. They are handed to
    the same computation as one row per class weighing that class's total,
    whose weighted counts are the totals themselves.

    Parameters
    ----------
    class_weight : dict or 'balanced'
    classes : ndarray of shape (n_classes,)
    totals : ndarray of shape (n_classes,)
        The sum of the sample weights (or the number) of each class's rows.

    Returns
    -------
    ndarray of shape (n_classes,), float64
    """
    one_row_each = np.arange(len(classes))
    return _per_class_weight(class_weight, classes, one_row_each, totals)


def _per_class_weight(class_weight, classes, index, sample_weight):
    """The weight of each of ``classes`` (shape (n_classes,)), for the rows
    of class index ``index`` (shape (n_samples,))."""
    if isinstance(class_weight, dict):
        return compute_class_weight(class_weight, classes=classes, y=classes[index])
    # 'balanced', from the (weighted) counts of the classes present.
    counts = np.bincount(index, sample_weight, minlength=len(classes))
    present = np.flatnonzero(counts > 0)
    rows = np.isin(index, present)  # rows of weight > 0 or of no weight
    per_class = np.ones(len(classes))
    per_class[present] = compute_class_weight(
        "balanced",
        classes=classes[present],
        y=classes[index[rows]],
        sample_weight=None if sample_weight is None else sample_weight[rows],
    )
    return per_class


def check_finite_targets(y, sample_weight=None):
    """Raise a clear ValueError for NaN or infinite ``y`` or ``sample_weight``.

    For the paths that hand ``y`` to scikit-learn's label and metric helpers
    without ``validate_data`` (``score``, a first ``partial_fit``), whose
    casts would only warn about such values.

    Parameters
    ----------
    y : array-like
    sample_weight : array-like, float or None, default=None
    """
    with np.errstate(over="ignore", invalid="ignore"):
        check_array(y, ensure_2d=False, dtype=None, input_name="y")
        if sample_weight is not None and not isinstance(sample_weight, numbers.Number):
            check_array(
                sample_weight, ensure_2d=False, dtype=None, input_name="sample_weight"
            )


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


def check_hidden_activations(activation, n_hidden):
    """Return one activation, a name or an object, per hidden layer.

    Parameters
    ----------
    activation : str, Activation or sequence of them
        One name or :class:`~skbp.core.Activation` object for every hidden
        layer, or one per hidden layer (names and objects may mix).
    n_hidden : int
        Number of hidden layers.

    Returns
    -------
    list of (str or Activation) of length ``n_hidden``

    Raises
    ------
    TypeError
        For an entry that is neither a name nor an Activation object.
    ValueError
        For an unknown name, an activation that is not offered for hidden
        layers (``softmax``, ``exp``, or an object whose ``hidden`` is
        False), or a list of the wrong length.
    """
    if isinstance(activation, (str, Activation)):
        entries = [activation] * n_hidden
    else:
        entries = list(activation)
        if len(entries) != n_hidden:
            raise ValueError(
                f"activation has {len(entries)} entries but the network has "
                f"{n_hidden} hidden layers; give one name per hidden layer (names "
                "and Activation objects may mix), or a single one for all of them."
            )
    for entry in entries:
        _check_hidden_activation(entry, activation)
    return entries


def _check_hidden_activation(entry, activation):
    """Refuse ``entry`` of the ``activation`` setting unless it is a hidden
    activation's name or a hidden :class:`~skbp.core.Activation` object."""
    if isinstance(entry, Activation):
        if not entry.hidden:
            raise ValueError(
                f"{shown(entry)} in activation={shown(activation)} is an output "
                "activation (its hidden attribute is False), not offered for "
                f"hidden layers; use one of {list(HIDDEN_ACTIVATIONS)} or an "
                "Activation object whose hidden is True."
            )
        return
    if not isinstance(entry, str):
        raise TypeError(
            f"activation entries must be names or skbp.core.Activation objects; "
            f"got {shown(entry)} (a {type(entry).__name__}) in "
            f"activation={shown(activation)}."
        )
    if entry not in HIDDEN_ACTIVATIONS:
        raise ValueError(
            f"Unknown hidden activation {entry!r} in activation={activation!r}; "
            f"expected one of {list(HIDDEN_ACTIVATIONS)}, or an "
            "skbp.core.Activation object."
        )


def shown(value, limit=80):
    """``repr(value)`` for a message: cut when long, the type's name when
    the repr itself fails (a user's object)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken repr is not the user's question
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_output_loss(loss):
    """Refuse a :class:`~skbp.core.Loss` object that the regressor does not
    offer: one whose ``regression`` is False (the log-losses, which the
    classifier picks itself), or whose ``output_activation`` is not an
    :class:`~skbp.core.Activation`.

    Parameters
    ----------
    loss : str or Loss
        The regressor's ``loss`` (a name passes: its constraint checks it).
    """
    if not isinstance(loss, Loss):
        return
    if not loss.regression:
        raise ValueError(
            f"loss={shown(loss)} is not a regression loss (its regression "
            "attribute is False): BPRegressor trains on losses whose class sets "
            "regression = True. BPClassifier picks its log-loss itself."
        )
    if not isinstance(loss.output_activation, Activation):
        raise TypeError(
            f"loss={shown(loss)} has output_activation="
            f"{shown(loss.output_activation)}, which is not an "
            "skbp.core.Activation object."
        )


def check_dropout(dropout, n_hidden):
    """Return one dropout rate in ``[0, 1)`` per hidden layer.

    Parameters
    ----------
    dropout : float or sequence of float
    n_hidden : int

    Returns
    -------
    list of float of length ``n_hidden``
    """
    if isinstance(dropout, numbers.Real):
        rates = [float(dropout)] * n_hidden
    else:
        rates = np.asarray(dropout, dtype=float).ravel().tolist()
        if len(rates) != n_hidden:
            raise ValueError(
                f"dropout has {len(rates)} rates but the network has {n_hidden} "
                "hidden layers; give one rate per hidden layer, or a single rate."
            )
    for rate in rates:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rates must be in [0, 1); got {dropout!r}.")
    return rates


def check_validation_size(n_val):
    """Refuse an early-stopping split of fewer than 2 validation rows."""
    if n_val < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )


def init_factors(activation, n_hidden):
    """Initialisation factor of each layer, the ``init_factor`` of its
    activation (:class:`~skbp.core.Activation`: 2 for logistic units,
    scikit-learn's choice, 6 otherwise).

    A layer's weights take the factor of the activation they feed, and
    the output layer that of the last hidden layer (scikit-learn uses the
    one hidden activation for every layer; a single name gives the same).

    Parameters
    ----------
    activation : str, Activation or list of them
        The estimator's ``activation`` (checked).
    n_hidden : int
        The number of hidden layers.

    Returns
    -------
    list of float, one per layer (output layer last)
    """
    if isinstance(activation, (str, Activation)):
        entries = [activation] * (n_hidden + 1)
    else:
        entries = list(activation)
        entries.append(entries[-1] if entries else "identity")
    return [float(get_activation(entry).init_factor) for entry in entries]


def check_warm_start_shapes(coefs, layer_units):
    """Refuse fitted weights ``coefs`` that do not chain ``layer_units``
    (``[n_features, *hidden, n_outputs]``) for a warm start."""
    expected = list(zip(layer_units[:-1], layer_units[1:]))
    found = [W.shape for W in coefs]
    if found != expected:
        raise ValueError(
            "The network's fitted weights have shapes "
            f"{found}, but the data and hidden_layer_sizes call for "
            f"{expected}. Set warm_start=False (or refit) to train a new "
            "network."
        )
