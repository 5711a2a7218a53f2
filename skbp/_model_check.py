"""What a saved model may hold, and the whole-model check :func:`skbp.load` runs.

A file names its attributes; :data:`FITTED_ATTRIBUTES` is the allow-list of
those a fitted model may hold, each with the type its docstring documents.
Anything else (a private attribute such as ``_optimizer``, a method's name)
is refused: optimizer state is never read from a file, it is rebuilt by the
next ``partial_fit``. :func:`check_model` then checks that the attributes
agree with each other and with the parameters: the layer shapes chain from
``n_features_in_`` to ``n_outputs_`` and match ``hidden_layer_sizes``, and a
classifier's ``classes_`` fit its output layer. Every refusal is one
``ValueError`` naming the field.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.preprocessing import LabelBinarizer

from ._validation import (
    check_dropout,
    check_hidden_activations,
    check_hidden_layer_sizes,
)

__all__ = ["FITTED_ATTRIBUTES", "LABEL_KINDS", "check_attribute", "check_model"]

#: dtype kinds a classifier's labels may have: what ``skbp.save`` stores
#: (bool, integers, floats, strings; object arrays of ``str``).
LABEL_KINDS = frozenset("biufUSO")


def _integer(value, minimum=0):
    return (
        isinstance(value, Integral) and not isinstance(value, bool) and value >= minimum
    )


def _number(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def _numbers(value):
    return isinstance(value, list) and all(_number(item) for item in value)


def _optional(check):
    return lambda value: value is None or check(value)


def _weights(value):
    return isinstance(value, list) and all(isinstance(a, np.ndarray) for a in value)


#: Name -> (check of its type, what the check expects).
FITTED_ATTRIBUTES = {
    "n_features_in_": (lambda v: _integer(v, 1), "a positive integer"),
    "feature_names_in_": (
        lambda v: (
            isinstance(v, np.ndarray)
            and v.ndim == 1
            and all(isinstance(s, str) for s in v)
        ),
        "an array of str",
    ),
    "n_outputs_": (lambda v: _integer(v, 1), "a positive integer"),
    "n_layers_": (lambda v: _integer(v, 2), "an integer >= 2"),
    "out_activation_": (lambda v: isinstance(v, str), "a str"),
    "coefs_": (_weights, "a list of arrays"),
    "intercepts_": (_weights, "a list of arrays"),
    "_best_coefs": (_weights, "a list of arrays"),
    "_best_intercepts": (_weights, "a list of arrays"),
    "n_iter_": (_integer, "a non-negative integer"),
    "t_": (_integer, "a non-negative integer"),
    "loss_": (_optional(_number), "a float or None"),
    "loss_curve_": (_numbers, "a list of floats"),
    "best_loss_": (_optional(_number), "a float or None"),
    "validation_scores_": (_optional(_numbers), "a list of floats or None"),
    "validation_loss_curve_": (_optional(_numbers), "a list of floats or None"),
    "best_validation_score_": (_optional(_number), "a float or None"),
    "_no_improvement_count": (_integer, "a non-negative integer"),
    "_dropout_seed": (_optional(_integer), "a non-negative integer or None"),
    "_dropout_step": (_integer, "a non-negative integer"),
    "_dropout_salt": (
        lambda v: isinstance(v, np.ndarray) and v.dtype == np.uint64 and v.ndim == 1,
        "a uint64 array",
    ),
    "classes_": (lambda v: isinstance(v, np.ndarray), "an array"),
    "_label_binarizer": (
        lambda v: type(v) is LabelBinarizer,
        "a LabelBinarizer",
    ),
}
_REQUIRED = ("coefs_", "intercepts_", "n_features_in_", "n_outputs_", "n_layers_")
_REQUIRED += ("out_activation_", "n_iter_", "t_", "loss_curve_")
_CLASSIFIER_ONLY = ("classes_", "_label_binarizer")
_BINARIZER = {"neg_label": 0, "pos_label": 1, "sparse_output": False}
_Y_TYPES = ("binary", "multiclass", "multilabel-indicator")


def check_attribute(estimator, name, value):
    """Refuse an attribute that is not on the allow-list or not of its type."""
    entry = FITTED_ATTRIBUTES.get(name)
    is_classifier = hasattr(type(estimator), "predict_proba")
    if entry is None or (name in _CLASSIFIER_ONLY and not is_classifier):
        raise ValueError(f"attribute {name!r} is not one a saved model holds")
    check, expected = entry
    if not check(value):
        raise ValueError(f"attribute {name} must be {expected}, got {_describe(value)}")


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def check_model(estimator):
    """Check that a loaded model's attributes form one usable network.

    Raises
    ------
    ValueError
        Naming the first field that disagrees.
    """
    hidden = check_hidden_layer_sizes(estimator.hidden_layer_sizes)
    check_hidden_activations(estimator.activation, len(hidden))
    check_dropout(estimator.dropout, len(hidden))
    attributes = vars(estimator)
    if "coefs_" not in attributes:
        extra = sorted(set(attributes) - set(estimator.get_params(deep=False)))
        if extra:
            raise ValueError(f"an unfitted model holds fitted attributes {extra}")
        return
    required = _REQUIRED + (
        _CLASSIFIER_ONLY if hasattr(type(estimator), "predict_proba") else ()
    )
    for name in required:
        if name not in attributes:
            raise ValueError(f"a fitted model needs {name}")
    _check_weights(estimator)
    _check_layers(estimator, hidden)
    if hasattr(type(estimator), "predict_proba"):
        _check_classes(estimator)
    if estimator.out_activation_ != estimator._out_activation():
        raise ValueError(
            f"out_activation_={estimator.out_activation_!r} does not match the "
            f"targets and loss (expected {estimator._out_activation()!r})"
        )


def _check_weights(estimator):
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    if not coefs or len(coefs) != len(intercepts):
        raise ValueError("coefs_ and intercepts_ must be lists of the same length")
    dtype = coefs[0].dtype
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"coefs_ must be float32 or float64 arrays, got {dtype}")
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        if W.dtype != dtype or b.dtype != dtype:
            raise ValueError(f"coefs_[{i}] and intercepts_[{i}] must be {dtype}")
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(
                f"coefs_[{i}] has shape {W.shape} and intercepts_[{i}] {b.shape}: "
                "they do not form a layer"
            )
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise ValueError(f"coefs_[{i}] or intercepts_[{i}] is not finite")
    for name in ("_best_coefs", "_best_intercepts"):
        best = getattr(estimator, name, None)
        live = coefs if name == "_best_coefs" else intercepts
        if best is not None and [(a.shape, a.dtype) for a in best] != [
            (a.shape, a.dtype) for a in live
        ]:
            raise ValueError(f"{name} does not match the shapes of the weights")


def _check_layers(estimator, hidden):
    """Shapes chain from n_features_in_ to n_outputs_ through ``hidden``."""
    coefs = estimator.coefs_
    units = [coefs[0].shape[0], *(W.shape[1] for W in coefs)]
    if any(a.shape[1] != b.shape[0] for a, b in zip(coefs[:-1], coefs[1:])):
        raise ValueError(
            f"coefs_ shapes {[W.shape for W in coefs]} do not chain layer to layer"
        )
    if hidden != units[1:-1]:
        raise ValueError(
            f"hidden_layer_sizes={estimator.hidden_layer_sizes!r} does not match "
            f"the weights' hidden layers {units[1:-1]}"
        )
    if estimator.n_features_in_ != units[0]:
        raise ValueError(
            f"n_features_in_={estimator.n_features_in_} does not match the first "
            f"layer's {units[0]} inputs"
        )
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and names.shape != (units[0],):
        raise ValueError("feature_names_in_ does not have n_features_in_ names")
    salt = getattr(estimator, "_dropout_salt", None)
    if salt is not None and salt.shape != (units[0],):
        raise ValueError("_dropout_salt does not have n_features_in_ entries")
    if estimator.n_outputs_ != units[-1]:
        raise ValueError(
            f"n_outputs_={estimator.n_outputs_} does not match the last layer's "
            f"{units[-1]} outputs"
        )
    if estimator.n_layers_ != len(units):
        raise ValueError(
            f"n_layers_={estimator.n_layers_} does not match the {len(units)} "
            "layers of the weights"
        )


def _check_classes(estimator):
    classes, binarizer = estimator.classes_, estimator._label_binarizer
    if classes.ndim != 1 or classes.dtype.kind not in LABEL_KINDS or not len(classes):
        raise ValueError(
            "classes_ must be a non-empty 1-D array of labels, got "
            f"{_describe(classes)}"
        )
    if classes.dtype.kind == "O" and not all(isinstance(c, str) for c in classes):
        raise ValueError("classes_ of dtype object must hold str labels")
    if len(np.unique(classes)) != len(classes):
        raise ValueError("classes_ holds a label twice")
    for name, value in _BINARIZER.items():
        if getattr(binarizer, name, None) != value:
            raise ValueError(f"_label_binarizer.{name} must be {value!r}")
    if getattr(binarizer, "y_type_", None) not in _Y_TYPES:
        raise ValueError(f"_label_binarizer.y_type_ must be one of {_Y_TYPES}")
    if not isinstance(getattr(binarizer, "sparse_input_", None), bool):
        raise ValueError("_label_binarizer.sparse_input_ must be a bool")
    inner = getattr(binarizer, "classes_", None)
    if not (
        isinstance(inner, np.ndarray)
        and inner.dtype == classes.dtype
        and np.array_equal(inner, classes)
    ):
        raise ValueError("_label_binarizer.classes_ does not equal classes_")
    multilabel = binarizer.y_type_ == "multilabel-indicator"
    expected = len(classes) if multilabel or len(classes) > 2 else 1
    if expected != estimator.n_outputs_:
        raise ValueError(
            f"classes_ has {len(classes)} labels ({binarizer.y_type_}), which "
            f"need {expected} output units; the output layer has "
            f"{estimator.n_outputs_}"
        )
