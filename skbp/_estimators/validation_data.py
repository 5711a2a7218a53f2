"""Validation rows: ``fit``'s own (``X_val``, ``y_val``) or early stopping's split.

Validation data given to ``fit`` is checked against the network and put
where the training rows live; without it, early stopping holds out
``validation_fraction`` of the training rows, where they live
(:meth:`~skbp._data.rows.TrainingRows.split`). Either way the engine gets
:class:`~skbp._data.rows.HeldOutRows`, scored by the estimator's own score.
"""

import numpy as np
from sklearn.base import is_classifier

from .._data.memory import MemoryPlacement, MemoryRows
from .._model.arrays import follow, to_host
from .._model.settings import check_sample_weight

__all__ = ["validation_arguments", "validation_rows", "split_validation"]


def validation_arguments(X_val, y_val, sample_weight_val):
    """``fit``'s validation arguments as one tuple, or None without them."""
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val is given, but X_val and y_val are not.")
        return None
    if y_val is None:
        raise ValueError("X_val is given, but y_val is not.")
    if X_val is None:
        raise ValueError("y_val is given, but X_val is not.")
    return X_val, y_val, sample_weight_val


def split_validation(estimator, data, held_out, network):
    """The training rows and the validation rows.

    Validation data given to ``fit`` (``held_out``) is the validation
    set; otherwise, when early stopping, ``validation_fraction`` of the
    rows are held out (:meth:`~skbp._data.rows.TrainingRows.split`).
    Without either, the validation set is None.

    Returns the :class:`~skbp._data.rows.TrainingRows` to train on and
    the :class:`~skbp._data.rows.HeldOutRows` (or None).
    """
    if held_out is not None or not estimator.early_stopping:
        return data, held_out
    _check_validation_fraction(estimator)
    return data.split(
        estimator.validation_fraction,
        estimator._random_state,
        estimator._stratified(),
        network,
        estimator._scoring(),
    )


def _check_validation_fraction(estimator):
    if not estimator.validation_fraction > 0:
        raise ValueError(
            "early_stopping=True scores each epoch on held-out rows: it needs "
            "validation_fraction > 0, got validation_fraction="
            f"{estimator.validation_fraction!r}."
        )


def validation_rows(estimator, X_val, y_val, sample_weight_val, where, dtype):
    """``fit``'s validation data, checked against the network and put
    where the training data lives (``where``, in its float ``dtype``).

    Rows are weighted by ``sample_weight_val`` alone (no class weights),
    as in scikit-learn's HistGradientBoosting.
    """
    X_val, y_val, sample_weight_val = follow(where, X_val, y_val, sample_weight_val)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            X_val, Y_val = _validation_input(estimator, X_val, y_val)
    except ValueError as exc:  # scikit-learn's checks name X and y
        raise ValueError(f"Bad validation data (X_val, y_val): {exc}") from exc
    if X_val.dtype != dtype:  # the training data's float dtype
        xp = where.xp
        X_val = X_val.astype(dtype) if where.on_host else xp.astype(X_val, dtype)
    sample_weight_val = check_sample_weight(
        to_host(sample_weight_val), X_val, name="sample_weight_val"
    )
    sample_weight_val = where.put(sample_weight_val, dtype)
    return MemoryRows(X_val, where.put(Y_val, dtype), sample_weight_val)


def _validation_input(estimator, X_val, y_val):
    """Validated ``X_val`` and its target matrix ``Y_val`` (as training
    makes them), against the fitted network."""
    place = MemoryPlacement()
    X_val, y_val, _ = place.checked(
        estimator, X_val, y_val, None, reset=False, labels=is_classifier(estimator)
    )
    estimator._check_validation_labels(y_val)
    return X_val, estimator._encoded(y_val, place, X_val.dtype)
