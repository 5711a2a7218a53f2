"""What a model may hold: the one list of its attributes, and the checks of them.

:data:`FITTED_ATTRIBUTES` describes the model: every attribute ``fit`` may
set, each with the type its docstring documents, its shape (or value) as a
rule of the layer widths, whether it holds weights (the weights' float
dtype, finite), whether :func:`skbp.save` writes it, whether it lives where
the model lives (its array library and device) and what an epoch changes;
:data:`SETTINGS` lists the few that scikit-learn's API sets on an instance
outside ``fit`` (callbacks, metadata requests). Every reader of a model uses
this one list: :func:`skbp.save` and :func:`skbp.load` (what a file may
hold), unpickling (pickle, joblib and skops: what a state may hold), moving
a model between devices and array libraries (:mod:`skbp._model.moving`), and the
checkpoint an interrupted fit returns to (:mod:`skbp._model.rollback`).

Anything else (a private name, a method's name such as ``predict``) is
refused. :func:`check_model` then checks that the attributes agree with each
other and with the parameters: the layer shapes chain from
``n_features_in_`` to ``n_outputs_`` and match ``hidden_layer_sizes``, a
classifier's ``classes_`` fit its output layer, and every array a later call
reads (the weights, the optimizer's moments) has the weights' shapes and
dtype and is finite. Every refusal is one ``ValueError`` naming the field.

Not saved by :func:`skbp.save`, so never read from its files: the optimizer
(a loaded model's ``partial_fit`` starts a fresh one, as a ``warm_start`` fit
does), the random generator (drawn afresh by every fit) and the best-epoch
weights. Those hidden weights cannot be checked against anything a file
shows, so a loaded model's best weights are its weights: a warm-start refit
that never beats the saved best score returns the weights the file showed.
Pickles keep all three, checked as above.
"""

from collections.abc import Callable
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._metadata_requests import MetadataRequest

from ..core.optimizers import LEARNING_RATE_SCHEDULES, OPTIMIZERS
from .arrays import is_numpy_array
from .history import StreamingHistory
from .settings import (
    check_dropout,
    check_hidden_activations,
    check_hidden_layer_sizes,
)

try:
    from sklearn.callback import CallbackContext
except ImportError:  # scikit-learn < 1.9 has no callbacks
    CallbackContext = None

__all__ = [
    "Attribute",
    "BINARIZER_ATTRIBUTES",
    "FITTED_ATTRIBUTES",
    "STREAMING_HISTORY_FIELDS",
    "SETTINGS",
    "LABEL_KINDS",
    "EPOCH_LOGS",
    "EPOCH_VALUES",
    "PLACED_ATTRIBUTES",
    "SAVED_ATTRIBUTES",
    "check_attribute",
    "check_model",
    "check_state_names",
    "check_unpickled",
    "short_message",
    "quote",
]

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


#: Array types a model holds: ndarray, or a memory map of one (joblib loads
#: arrays so with ``mmap_mode``); not other subclasses (``np.matrix``, masked
#: arrays), which compute differently.
_ARRAY_TYPES = (np.ndarray, np.memmap)


def _array(value):
    return type(value) in _ARRAY_TYPES


def _weights(value):
    return isinstance(value, list) and all(type(a) in _ARRAY_TYPES for a in value)


def _score(value):
    """A best score or loss: a number, infinite as the rule starts, never NaN
    (a NaN best would compare false forever and freeze the rule)."""
    return value is None or (_number(value) and value == value)


def _is_optimizer(value):
    return value is None or type(value) in OPTIMIZERS.values()


def _is_random_state(value):
    return type(value) is np.random.RandomState


def _is_streaming_history(value):
    if type(value) is not StreamingHistory:
        return False
    fields = vars(value)
    return (
        set(fields) == set(STREAMING_HISTORY_FIELDS)
        and _numbers(fields["loss"])
        and _numbers(fields["validation_score"])
        and _optional(lambda v: _integer(v, 1))(fields["best_epoch"])
        and _optional(_number)(fields["best_validation_score"])
        and isinstance(fields["stopped_early"], bool)
        and _optional(_integer)(fields["n_chunks"])
        and _integer(fields["n_samples"])
    )


#: What a :class:`~skbp.streaming.StreamingHistory` holds.
STREAMING_HISTORY_FIELDS = (
    "loss",
    "validation_score",
    "best_epoch",
    "best_validation_score",
    "stopped_early",
    "n_chunks",
    "n_samples",
)


def _is_callback_context(value):
    return CallbackContext is not None and type(value) is CallbackContext


def _is_metadata_request(value):
    return type(value) is MetadataRequest


class Attribute(NamedTuple):
    """What one attribute of a model may hold.

    Attributes
    ----------
    check : callable
        ``check(value) -> bool``: the value is of the documented type.
    expected : str
        What ``check`` expects, for messages.
    saved : bool
        Whether :func:`skbp.save` writes it (and so :func:`skbp.load`
        accepts it).
    placed : bool
        Whether its arrays live where the model lives (its array library and
        device); everything else is host data.
    layers : callable or None
        ``layers(units) -> expected``: what it must be, given the layer
        widths ``units = [n_features, *hidden, n_outputs]`` of the weights:
        the shape of an array, the list of shapes of a list of arrays, or
        the value of a count.
    weights : bool
        Whether it holds weights: arrays of the weights' float dtype, all
        finite.
    epoch : {None, "value", "log"}
        What :class:`~skbp._model.rollback.EpochCheckpoint` keeps after every
        epoch: the value, or the length of a list that training appends to.
    """

    check: Callable
    expected: str
    saved: bool = True
    placed: bool = False
    layers: Callable | None = None
    weights: bool = False
    epoch: str | None = None


def _layer_shapes(units):
    """One weight matrix per layer: (n_{l-1}, n_l)."""
    return [(a, b) for a, b in zip(units[:-1], units[1:])]


def _bias_shapes(units):
    """One bias vector per layer: (n_l,)."""
    return [(b,) for b in units[1:]]


def _per_feature(units):
    return (units[0],)


_LIST_OF_ARRAYS = "a list of arrays"
_COUNT = "a non-negative integer"
_WEIGHTS = {"check": _weights, "expected": _LIST_OF_ARRAYS, "weights": True}

#: Every attribute ``fit``, ``partial_fit`` or ``fit_chunks`` may set.
FITTED_ATTRIBUTES = {
    "n_features_in_": Attribute(
        lambda v: _integer(v, 1), "a positive integer", layers=lambda u: u[0]
    ),
    "feature_names_in_": Attribute(
        lambda v: _array(v) and v.ndim == 1 and all(isinstance(s, str) for s in v),
        "an array of str",
        layers=_per_feature,
    ),
    "n_outputs_": Attribute(
        lambda v: _integer(v, 1), "a positive integer", layers=lambda u: u[-1]
    ),
    "n_layers_": Attribute(lambda v: _integer(v, 2), "an integer >= 2", layers=len),
    "out_activation_": Attribute(lambda v: isinstance(v, str), "a str"),
    "coefs_": Attribute(**_WEIGHTS, placed=True, layers=_layer_shapes),
    "intercepts_": Attribute(**_WEIGHTS, placed=True, layers=_bias_shapes),
    # The best epoch's weights: early stopping and restore_best_weights
    # return them. Hidden state no file could show to be right: never saved.
    "_best_coefs": Attribute(
        **_WEIGHTS, saved=False, placed=True, layers=_layer_shapes, epoch="value"
    ),
    "_best_intercepts": Attribute(
        **_WEIGHTS, saved=False, placed=True, layers=_bias_shapes, epoch="value"
    ),
    "n_iter_": Attribute(_integer, _COUNT, epoch="value"),
    "t_": Attribute(_integer, _COUNT, epoch="value"),
    "loss_": Attribute(_optional(_number), "a float or None", epoch="value"),
    "loss_curve_": Attribute(_numbers, "a list of floats", epoch="log"),
    "best_loss_": Attribute(_score, "a float (not NaN) or None", epoch="value"),
    "validation_scores_": Attribute(
        _optional(_numbers), "a list of floats or None", epoch="log"
    ),
    "validation_loss_curve_": Attribute(
        _optional(_numbers), "a list of floats or None", epoch="log"
    ),
    "best_validation_score_": Attribute(
        _score, "a float (not NaN) or None", epoch="value"
    ),
    "_no_improvement_count": Attribute(_integer, _COUNT, epoch="value"),
    "_dropout_seed": Attribute(_optional(_integer), "a non-negative integer or None"),
    # Counts the batches dropout masks were drawn for: an epoch changes it.
    "_dropout_step": Attribute(_integer, _COUNT, epoch="value"),
    "_dropout_salt": Attribute(
        lambda v: _array(v) and v.dtype == np.uint64 and v.ndim == 1,
        "a uint64 array",
        placed=True,
        layers=_per_feature,
    ),
    "classes_": Attribute(_array, "an array"),
    "_label_binarizer": Attribute(
        lambda v: type(v) is LabelBinarizer, "a LabelBinarizer"
    ),
    "streaming_history_": Attribute(_is_streaming_history, "a StreamingHistory"),
    # Its moments are checked against the weights (_check_optimizer).
    "_optimizer": Attribute(
        _is_optimizer, "an skbp optimizer or None", saved=False, placed=True
    ),
    "_random_state": Attribute(_is_random_state, "a RandomState", saved=False),
}

#: What scikit-learn's API sets on an instance outside ``fit``: callbacks
#: (``set_callbacks``, and their working state while a fit runs), metadata
#: requests (``set_fit_request``) and the HTML repr's link template. Pickles
#: keep them; :func:`skbp.save` does not (they configure an estimator, they
#: are not a model).
SETTINGS = {
    "_skl_callbacks": Attribute(lambda v: type(v) is list, "a list", saved=False),
    "_skl_callbacks_to_teardown": Attribute(
        lambda v: type(v) is list, "a list", saved=False
    ),
    "_callback_fit_ctx": Attribute(
        _is_callback_context, "a CallbackContext", saved=False
    ),
    # Set by a meta-estimator that propagates its callbacks to this one.
    "_parent_callback_ctx": Attribute(
        _is_callback_context, "a CallbackContext", saved=False
    ),
    "_metadata_request": Attribute(
        _is_metadata_request, "a MetadataRequest", saved=False
    ),
    "__doc_link_template": Attribute(
        lambda v: isinstance(v, str), "a str", saved=False
    ),
}
_ALL = {**FITTED_ATTRIBUTES, **SETTINGS}

#: The attributes whose arrays live where the model lives.
PLACED_ATTRIBUTES = frozenset(name for name, a in _ALL.items() if a.placed)
#: The attributes a file written by :func:`skbp.save` may hold.
SAVED_ATTRIBUTES = frozenset(name for name, a in _ALL.items() if a.saved)
#: What an epoch changes, kept after each
#: (:class:`~skbp._model.rollback.EpochCheckpoint`): values, and lists that
#: training appends to.
EPOCH_VALUES = tuple(name for name, a in _ALL.items() if a.epoch == "value")
EPOCH_LOGS = tuple(name for name, a in _ALL.items() if a.epoch == "log")
_REQUIRED = ("coefs_", "intercepts_", "n_features_in_", "n_outputs_", "n_layers_")
_REQUIRED += ("out_activation_", "n_iter_", "t_", "loss_curve_")
_CLASSIFIER_ONLY = ("classes_", "_label_binarizer")
_BINARIZER = {"neg_label": 0, "pos_label": 1, "sparse_output": False}
#: Exactly what a fitted LabelBinarizer holds (its methods read these).
BINARIZER_ATTRIBUTES = frozenset({*_BINARIZER, "y_type_", "sparse_input_", "classes_"})
_Y_TYPES = ("binary", "multiclass", "multilabel-indicator")


def check_attribute(estimator, name, value, saved=True):
    """Refuse an attribute that is not on the allow-list or not of its type.

    Parameters
    ----------
    estimator : BaseBackprop
        The model it belongs to (its class decides what it may hold).
    name : str
    value : object
    saved : bool, default=True
        Check against what :func:`skbp.save` files may hold; False for
        what an unpickled state may hold (every attribute on the lists).
    """
    entry = _ALL.get(name) if isinstance(name, str) else None
    is_classifier = hasattr(type(estimator), "predict_proba")
    if (
        entry is None
        or (saved and not entry.saved)
        or (name in _CLASSIFIER_ONLY and not is_classifier)
    ):
        what = "a saved model" if saved else f"a {type(estimator).__name__}"
        raise ValueError(f"attribute {quote(name)} is not one {what} holds")
    if not entry.check(value):
        raise ValueError(
            f"attribute {name} must be {entry.expected}, got {_describe(value)}"
        )


def check_state_names(cls, state):
    """Refuse a state (an unpickled ``__dict__``) naming anything but the
    parameters of ``cls`` and the attributes on the lists.

    Raises
    ------
    ValueError
        Naming the first unexpected key.
    """
    if type(state) is not dict:
        raise ValueError(f"its state must be a dict, got {type(state).__name__}")
    params = set(cls._get_param_names())
    is_classifier = hasattr(cls, "predict_proba")
    for name in state:
        if name in params:
            continue
        if name == "_sklearn_version":  # read (and removed) by BaseEstimator
            if not isinstance(state[name], str):
                raise ValueError("_sklearn_version must be a str")
            continue
        if name not in _ALL or (name in _CLASSIFIER_ONLY and not is_classifier):
            raise ValueError(
                f"attribute {quote(name)} is not one a {cls.__name__} holds"
            )


def check_unpickled(estimator):
    """Check an unpickled estimator as :func:`skbp.load` checks a file.

    Every attribute must be of its documented type; a fitted model must
    also have valid parameters (``predict`` reads them) and form one
    consistent network (:func:`check_model`), the best-epoch weights and
    the optimizer's moments included.

    Raises
    ------
    ValueError
        Naming the first field at fault.
    """
    params = set(type(estimator)._get_param_names())
    for name, value in vars(estimator).items():
        if name not in params:
            check_attribute(estimator, name, value, saved=False)
    if "coefs_" in vars(estimator):
        estimator._validate_params()
    check_model(estimator)


def short_message(text, limit=400):
    """``text`` cut to about ``limit`` characters: errors quote bounded
    excerpts of what a file holds, never all of it."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 24, limit // 2)]}... ({len(text)} chars)"


def quote(value, limit=60):
    """``repr(value)`` for a message, cut by :func:`short_message`."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a hostile object's repr: not shown
        text = f"<{type(value).__name__}>"
    return short_message(text, limit)


def _describe(value):
    if is_numpy_array(value):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a hostile object's repr: not shown
        text = ""
    return text if 0 < len(text) <= 60 else f"a {type(value).__name__}"


def check_model(estimator):
    """Check that a loaded model's attributes form one usable network.

    Raises
    ------
    ValueError
        Naming the first field that disagrees.
    """
    attributes = vars(estimator)
    if "coefs_" not in attributes:
        params = set(estimator.get_params(deep=False))
        extra = sorted(set(attributes) - params - set(SETTINGS))
        if extra:
            raise ValueError(f"an unfitted model holds fitted attributes {extra}")
        return
    hidden = check_hidden_layer_sizes(estimator.hidden_layer_sizes)
    check_hidden_activations(estimator.activation, len(hidden))
    check_dropout(estimator.dropout, len(hidden))
    required = _REQUIRED + (
        _CLASSIFIER_ONLY if hasattr(type(estimator), "predict_proba") else ()
    )
    for name in required:
        if name not in attributes:
            raise ValueError(f"a fitted model needs {name}")
    _check_weights(estimator)
    coefs = estimator.coefs_
    units = [coefs[0].shape[0], *(W.shape[1] for W in coefs)]
    _check_hidden_layers(estimator, units, hidden)
    _check_against_layers(estimator, units)
    if hasattr(type(estimator), "predict_proba"):
        _check_classes(estimator)
    if estimator.out_activation_ != estimator._out_activation():
        raise ValueError(
            f"out_activation_={estimator.out_activation_!r} does not match the "
            f"targets and loss (expected {estimator._out_activation()!r})"
        )
    levels = getattr(estimator, "_levels", lambda: None)()
    if isinstance(levels, tuple) and estimator.n_outputs_ % len(levels):
        raise ValueError(
            f"n_outputs_={estimator.n_outputs_} does not hold the {len(levels)} "
            f"levels of quantile={list(levels)} for each target"
        )


def _check_weights(estimator):
    """The weights form a network: float32 or float64 layers that chain."""
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    if not coefs or len(coefs) != len(intercepts):
        raise ValueError("coefs_ and intercepts_ must be lists of the same length")
    dtype = coefs[0].dtype
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"coefs_ must be float32 or float64 arrays, got {dtype}")
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(
                f"coefs_[{i}] has shape {W.shape} and intercepts_[{i}] {b.shape}: "
                "they do not form a layer"
            )
    if any(a.shape[1] != b.shape[0] for a, b in zip(coefs[:-1], coefs[1:])):
        raise ValueError(
            f"coefs_ shapes {[W.shape for W in coefs]} do not chain layer to layer"
        )


def _check_against_layers(estimator, units):
    """Every attribute present follows its rules on the list: its shape or
    value from the layer widths, and for weights, the weights' dtype and
    finite values; the optimizer's moments fit the weights."""
    attributes = vars(estimator)
    dtype = estimator.coefs_[0].dtype
    for name, attribute in _ALL.items():
        value = attributes.get(name)
        if value is None:
            continue
        if attribute.layers is not None:
            found = _shape_or_value(value)
            expected = attribute.layers(units)
            if found != expected:
                raise ValueError(
                    f"{name}={quote(found, 120)} does not match the "
                    f"{quote(expected, 120)} that the weights' layer widths "
                    f"{quote(units, 120)} call for"
                )
        if attribute.weights:
            if any(a.dtype != dtype for a in value):
                raise ValueError(f"{name} must be arrays of the weights' {dtype}")
            for i, a in enumerate(value):
                if not np.isfinite(a).all():
                    raise ValueError(f"{name}[{i}] is not finite")
    _check_optimizer(
        attributes.get("_optimizer"), estimator.coefs_, estimator.intercepts_
    )


def _shape_or_value(value):
    """An array's shape, a list of arrays' shapes, or the value itself."""
    if _array(value):
        return value.shape
    if isinstance(value, list) and all(_array(a) for a in value):
        return [a.shape for a in value]
    return value


#: Each optimizer's state: its numbers, and its lists of moment arrays.
_OPTIMIZER_NUMBERS = {
    "SGD": ("learning_rate_init", "learning_rate", "momentum", "power_t"),
    "Adam": ("learning_rate_init", "learning_rate", "beta_1", "beta_2", "epsilon"),
}
_OPTIMIZER_OTHERS = {
    "SGD": {"lr_schedule", "nesterov", "velocities", "_scratch"},
    "Adam": {"t", "ms", "vs", "_scratch"},
}
_OPTIMIZER_MOMENTS = {"SGD": ("velocities",), "Adam": ("ms", "vs")}


def _check_optimizer(optimizer, coefs, intercepts):
    """An optimizer's state fits the weights it steps: one flat moment vector
    per list, of the weights' size and dtype, finite; finite numbers.

    (Its type was checked with the attribute: SGD, Adam or None.)
    """
    if optimizer is None:
        return
    kind = type(optimizer).__name__
    if kind not in _OPTIMIZER_NUMBERS:  # an optimizer added without a line here
        raise ValueError(f"the state of a {kind} optimizer is not checked")
    state = vars(optimizer)
    # The attributes first: the arrays' check reads them by name.
    _check_optimizer_settings(kind, state)
    _check_optimizer_arrays(kind, state, coefs, intercepts)


def _check_optimizer_settings(kind, state):
    """An optimizer holds exactly its kind's attributes, with valid settings.

    Parameters
    ----------
    kind : {"SGD", "Adam"}
        The optimizer's class name.
    state : dict
        The optimizer's ``vars``.

    Raises
    ------
    ValueError
        For a missing or extra attribute, a number that is not finite, an
        SGD schedule or ``nesterov`` that is not valid, or an Adam step count
        that is not a non-negative integer.
    """
    numbers = _OPTIMIZER_NUMBERS[kind]
    expected = set(numbers) | _OPTIMIZER_OTHERS[kind]
    if set(state) != expected:
        raise ValueError(
            f"the {kind} optimizer must hold {sorted(expected)}, got "
            f"{quote(sorted(map(str, state)), 200)}"
        )
    for name in numbers:
        if not (_number(state[name]) and np.isfinite(state[name])):
            raise ValueError(f"_optimizer.{name} must be a finite number")
    if kind == "SGD" and not (
        isinstance(state["lr_schedule"], str)
        and state["lr_schedule"] in LEARNING_RATE_SCHEDULES
        and isinstance(state["nesterov"], bool)
    ):
        raise ValueError("_optimizer.lr_schedule or nesterov is not valid")
    if kind == "Adam" and not _integer(state["t"]):
        raise ValueError("_optimizer.t must be a non-negative integer")


def _check_optimizer_arrays(kind, state, coefs, intercepts):
    """An optimizer's arrays are flat vectors of the weights' size and dtype.

    Each moment list holds one such vector, finite. The scratch buffers
    (None, or a dict of vectors) need not be finite: every step overwrites
    them before reading them.

    Parameters
    ----------
    kind : {"SGD", "Adam"}
        The optimizer's class name.
    state : dict
        The optimizer's ``vars``, whose attributes were checked already.
    coefs, intercepts : list of arrays
        The weights the optimizer steps, checked already.

    Raises
    ------
    ValueError
        For an array of another size or dtype, a moment list of another
        length than one, or a moment that is not finite.
    """
    size = sum(a.size for a in (*coefs, *intercepts))
    scratch = state["_scratch"]
    arrays = {name: state[name] for name in _OPTIMIZER_MOMENTS[kind]} | (
        {} if scratch is None else {"_scratch": scratch}
    )
    for name, value in arrays.items():
        items = list(value.values()) if type(value) is dict else value
        if not (
            _weights(items)
            and (name == "_scratch" or len(items) == 1)
            and all(a.shape == (size,) and a.dtype == coefs[0].dtype for a in items)
        ):
            raise ValueError(
                f"_optimizer.{name} must hold arrays of the weights' size ({size}) "
                f"and dtype ({coefs[0].dtype})"
            )
        if name != "_scratch" and not np.isfinite(items[0]).all():
            raise ValueError(f"_optimizer.{name} is not finite")


def _check_hidden_layers(estimator, units, hidden):
    """The weights' hidden layers are the ones ``hidden_layer_sizes`` asks for."""
    if hidden != units[1:-1]:
        raise ValueError(
            f"hidden_layer_sizes={quote(estimator.hidden_layer_sizes, 120)} does "
            f"not match the weights' hidden layers {units[1:-1]}"
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
    if set(vars(binarizer)) != BINARIZER_ATTRIBUTES:
        raise ValueError(
            f"_label_binarizer must hold {sorted(BINARIZER_ATTRIBUTES)}, got "
            f"{quote(sorted(map(str, vars(binarizer))), 200)}"
        )
    for name, value in _BINARIZER.items():
        if getattr(binarizer, name, None) != value:
            raise ValueError(f"_label_binarizer.{name} must be {value!r}")
    if getattr(binarizer, "y_type_", None) not in _Y_TYPES:
        raise ValueError(f"_label_binarizer.y_type_ must be one of {_Y_TYPES}")
    if not isinstance(getattr(binarizer, "sparse_input_", None), bool):
        raise ValueError("_label_binarizer.sparse_input_ must be a bool")
    inner = getattr(binarizer, "classes_", None)
    if not (
        is_numpy_array(inner)
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
