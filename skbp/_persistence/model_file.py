"""Plain-format files: :func:`save` and :func:`load`, no pickle involved.

A ``.npz`` archive of the weights and a JSON document (see
:mod:`skbp._persistence.archive`): loading an untrusted file runs no code, reads no more
than the sizes it has checked, and a SHA-256 digest rejects files modified
or truncated since saving. :func:`save` replaces a file atomically
(:mod:`skbp._persistence.atomic`), and :func:`load` accepts only what
:mod:`skbp._model.attributes` allows, checked as one consistent model.
"""

import json
import os
import re
import warnings

import numpy as np

from .._estimators.classifier import BPClassifier
from .._estimators.regressor import BPRegressor
from .._model.attributes import (
    FITTED_ATTRIBUTES,
    SAVED_ATTRIBUTES,
    SETTINGS,
    check_attribute,
    check_model,
    quote,
    short_message,
)
from .._model.best_weights import store_best_weights
from .._model.moving import converted, placement_record
from .._model.settings import check_hidden_layer_sizes
from .._model.versioning import skbp_version
from ..core import Activation, Loss
from ..core.namespace import to_numpy
from ..exceptions import InconsistentVersionWarning, PersistenceWarning
from .archive import (
    MAX_DOCUMENT_BYTES,
    MAX_MEMBERS,
    ArchivePlan,
    little_endian,
    read_archive,
    write_archive,
)
from .atomic import atomic_write
from .document import MAX_HIDDEN_LAYERS, Decoder, Encoder, survey

__all__ = ["save", "load", "FORMAT", "FORMAT_VERSION"]


#: Name of the file format, stored in every file.
FORMAT = "skbp-npz"
#: Version of the file format written by :func:`save`. Version 2 stores
#: lists of floats (loss curves) as arrays and records the layer widths, so
#: that :func:`load` can bound the arrays before reading them. Version 3
#: stores ``streaming_history_`` and no longer the best-epoch weights.
FORMAT_VERSION = 3
#: Versions :func:`load` reads.
READABLE_VERSIONS = (1, 2, 3)
#: What a model's arrays may take besides its weights (float64, live and
#: best-epoch copies) and the dropout salt: labels and learning curves, a
#: million epochs of them.
OTHER_ARRAYS_BYTES = 16 * 2**20
#: The most bytes an array held by a parameter may take (a hidden layer
#: size, a dropout rate or an activation name per layer).
PARAMETER_ARRAY_BYTES = 64 * (MAX_HIDDEN_LAYERS + 1)
# Not saved (skbp._model.attributes lists them): the optimizer's moment estimates
# (partial_fit after load starts a fresh optimizer, as fit with warm_start
# does), the random generator (drawn afresh from random_state by every fit),
# the best-epoch weights (hidden state no file can show is right: a loaded
# model's best weights are its weights), and scikit-learn's callbacks and
# metadata requests (settings of an estimator, not part of the model).
_NOT_SAVED = frozenset({*FITTED_ATTRIBUTES, *SETTINGS}) - SAVED_ATTRIBUTES
# Files of format version 2 hold these; they are read and dropped.
_DROPPED = frozenset({"_best_coefs", "_best_intercepts"})
_ATTRIBUTE_NAME = re.compile(r"_?[a-z][a-z0-9_]*")
_DOCUMENT_KEYS = frozenset(
    {
        "format",
        "format_version",
        "skbp_version",
        "estimator",
        "layer_units",
        "params",
        "attributes",
    }
)


def _estimator_classes():
    """The classes a file may name, by name (the only ones it may build)."""
    return {cls.__name__: cls for cls in (BPClassifier, BPRegressor)}


def save(estimator, file):
    """Save a :class:`~skbp.BPClassifier` or :class:`~skbp.BPRegressor` without pickle.

    The file is a numpy ``.npz`` archive holding the weights (and every other
    array) plus a JSON document: the class name, the constructor parameters,
    the fitted attributes (``n_iter_``, ``loss_curve_``, ``classes_``, ...),
    the skbp version and the file format's version. A SHA-256 digest of all
    of it lets :func:`load` reject files modified or truncated since.

    Only plain data is stored. Parameters must be JSON-safe: a
    ``random_state`` given as a ``numpy.random.RandomState`` or
    ``Generator`` is stored as ``None`` with a
    :class:`~skbp.exceptions.PersistenceWarning` (predictions are unchanged;
    pass an int to keep refits reproducible). Not stored: the optimizer's
    moment estimates (``partial_fit`` after :func:`load` starts a fresh
    optimizer, as a ``warm_start`` fit does) and the internal random
    generator. No code is stored either: a model whose ``activation`` or
    ``loss`` holds an :class:`~skbp.core.Activation` or
    :class:`~skbp.core.Loss` object (your own math, or a built-in class's
    instance) is refused; save it with pickle, joblib or skops, which
    record the object's class (importable where the model is loaded).

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
        Fitted or not.
    file : str, os.PathLike or binary file object
        Written as is: no extension is added.

    Raises
    ------
    TypeError
        If ``estimator`` is not an skbp estimator, or holds a parameter or
        attribute that is not plain data, such as an Activation or Loss
        object.
    """
    estimator = _numpy_model(estimator)
    _refuse_code(estimator)
    encoder = Encoder(little_endian)
    # _plain_params is called here: its warning's stacklevel names save's
    # caller. Parameters first: the encoder numbers the arrays in order.
    params = {
        name: encoder.encode(value, f"parameter {name}={value!r}")
        for name, value in _plain_params(estimator).items()
    }
    document = _document(estimator, encoder, params)
    text = json.dumps(document, sort_keys=True, allow_nan=True)
    # The bounds load applies, checked before the file is touched: a model
    # save writes is a model load reads.
    try:
        _check_writable(text, document, encoder.arrays)
    except ValueError as exc:
        raise ValueError(f"skbp.save cannot store this model: {exc}.") from exc

    def write(handle):
        write_archive(handle, text, encoder.arrays)

    if isinstance(file, (str, os.PathLike)):
        atomic_write(file, write)
    else:
        write(file)


def _numpy_model(estimator):
    """``estimator``, as the numpy model :func:`save` stores.

    Parameters
    ----------
    estimator : object
        What :func:`save` was given.

    Returns
    -------
    BPClassifier or BPRegressor
        ``estimator`` itself, or, for a model whose arrays live on a device
        (a GPU) or in another array library, a converted copy holding numpy
        arrays: a file loads anywhere.

    Raises
    ------
    TypeError
        If ``estimator`` is not exactly one of the classes a file may name
        (a subclass could not be rebuilt by :func:`load`).
    """
    classes = _estimator_classes()
    if classes.get(type(estimator).__name__) is not type(estimator):
        raise TypeError(
            "skbp.save stores BPClassifier and BPRegressor models only, got "
            f"{type(estimator).__name__}. Save pipelines with joblib or skops."
        )
    if placement_record(vars(estimator)) is not None:
        return converted(estimator, to_numpy)
    return estimator


def _document(estimator, encoder, params):
    """The JSON document of ``estimator``, its arrays left in ``encoder``.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
        A numpy model (:func:`_numpy_model`).
    encoder : Encoder
        Encodes the attributes, and collects their arrays after the
        parameters' ones.
    params : dict
        The encoded constructor parameters.

    Returns
    -------
    dict
        The document :func:`load` reads: format, versions, class name, layer
        widths, parameters and the saved attributes.

    Raises
    ------
    TypeError
        For an attribute that is not plain data.
    ValueError
        For an attribute :func:`load` would refuse: it is not written.
    """
    attributes = {
        name: encoder.encode(value, f"attribute {name}")
        for name, value in vars(estimator).items()
        if name not in params and name not in _NOT_SAVED
    }
    for name in attributes:  # what load would refuse is not written
        try:
            check_attribute(estimator, name, getattr(estimator, name))
        except ValueError as exc:
            raise ValueError(f"skbp.save cannot store this model: {exc}.") from exc
    coefs = getattr(estimator, "coefs_", None)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skbp_version": skbp_version(),
        "estimator": type(estimator).__name__,
        "layer_units": None if coefs is None else _units(coefs),
        "params": params,
        "attributes": attributes,
    }


def _check_writable(text, document, arrays):
    """Refuse to write what :func:`load` would refuse to read."""
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise ValueError(
            f"its document would exceed {MAX_DOCUMENT_BYTES} bytes (too many "
            "feature names or labels)"
        )
    if len(arrays) + 2 > MAX_MEMBERS:
        raise ValueError(
            f"it would take {len(arrays)} arrays; a file holds at most "
            f"{MAX_MEMBERS - 2} (a network of at most {MAX_HIDDEN_LAYERS} "
            "hidden layers)"
        )
    plan = _plan(document)
    for name, limit in plan.limits.items():
        if arrays[name].nbytes > limit:
            raise ValueError(f"{plan.fields[name]} is too large for a parameter")
    if sum(array.nbytes for array in arrays.values()) > plan.max_bytes:
        raise ValueError(
            f"its arrays besides the weights exceed {OTHER_ARRAYS_BYTES} bytes "
            "(loss curves or labels too long)"
        )


def _refuse_code(estimator):
    """Refuse a model whose parameters hold math as objects.

    An :class:`~skbp.core.Activation` or :class:`~skbp.core.Loss` object
    is code: a file :func:`load` reads runs none, so :func:`save` stores
    none, and says what does.
    """
    for name, value in estimator.get_params(deep=False).items():
        entries = value if isinstance(value, (list, tuple)) else [value]
        for entry in entries:
            if isinstance(entry, (Activation, Loss)):
                kind = "Activation" if isinstance(entry, Activation) else "Loss"
                raise TypeError(
                    f"skbp.save cannot store the parameter {name}={quote(value)}: "
                    f"{quote(entry)} is an skbp.core.{kind} object, which is "
                    "code, and skbp.save stores no code (skbp.load runs none). "
                    "Save this model with pickle or joblib, or with skops "
                    "(skops.io.dump; trust the object's class when loading): "
                    "they record the class, which must be importable where the "
                    "model is loaded. Or use a built-in name for "
                    f"{name}."
                )


def _plain_params(estimator):
    """Constructor parameters, a random generator replaced by None (warned)."""
    params = estimator.get_params(deep=False)
    value = params.get("random_state")
    if isinstance(value, (np.random.RandomState, np.random.Generator)):
        warnings.warn(
            PersistenceWarning(
                f"random_state={value!r} is not plain data and is saved as "
                "None: the loaded model predicts the same, but a refit draws "
                "different initial weights. Use an int random_state to keep "
                "refits reproducible."
            ),
            stacklevel=3,
        )
        params["random_state"] = None
    return params


def _units(coefs):
    return [int(coefs[0].shape[0]), *(int(W.shape[1]) for W in coefs)]


def _check_format(document):
    """Refuse a document of another format or version, or of unexpected
    shape; return the estimator class it names."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("it is not a file written by skbp.save")
    version = document.get("format_version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise ValueError(
            f"it uses format version {quote(version)}, and this skbp reads "
            f"versions {list(READABLE_VERSIONS)}; load it with the skbp version "
            f"that saved it ({quote(document.get('skbp_version'))})"
        )
    unexpected = set(document) - _DOCUMENT_KEYS
    if unexpected:
        raise ValueError(f"its document holds unexpected keys {_names(unexpected)}")
    cls = _estimator_classes().get(document.get("estimator"))
    if cls is None:
        raise ValueError(
            f"it holds an unknown estimator {quote(document.get('estimator'))}"
        )
    params, attributes = document.get("params"), document.get("attributes")
    if not isinstance(attributes, dict) or not isinstance(params, dict):
        raise ValueError("its document is malformed")
    # Names first: a document naming what no model holds is refused at a
    # glance, before anything it holds is looked at.
    unknown = set(params) - set(cls._get_param_names())
    if unknown:
        raise ValueError(
            f"its parameters {_names(unknown)} are unknown to this skbp version"
        )
    unknown = set(attributes) - SAVED_ATTRIBUTES - _DROPPED
    if unknown:
        raise ValueError(
            f"its attributes {_names(unknown)} are not ones a saved model holds"
        )
    return cls


def _names(names):
    """Sorted names, at most five of them, each cut short."""
    shown = sorted(str(name)[:40] for name in names)
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    return f"{shown[:5]}{more}"


def _plan(document):
    """What :func:`~skbp._persistence.archive.read_archive` needs before reading arrays:
    the document checked (:func:`_check_format`) and surveyed
    (:func:`skbp._persistence.document.survey`), and the arrays' budget."""
    _check_format(document)
    units = _layer_units(document)
    sections = {"params": document["params"], "attributes": document["attributes"]}
    fields, limits = survey(sections, PARAMETER_ARRAY_BYTES)
    return ArchivePlan(_array_budget(units), fields, limits)


def _array_budget(units):
    """The most bytes a document's arrays may take, from its layer widths.

    The weights of layer widths ``n_0, ..., n_L`` hold
    ``sum((n_{l-1} + 1) n_l)`` numbers; a model keeps them twice at most
    (live and, in files of format version 2, best epoch), in float64 at
    most, plus ``n_0`` 8-byte dropout salts, plus :data:`OTHER_ARRAYS_BYTES`
    for labels and learning curves.
    """
    n_weights = sum((a + 1) * b for a, b in zip(units[:-1], units[1:]))
    return 2 * 8 * n_weights + 8 * (units[0] if units else 0) + OTHER_ARRAYS_BYTES


def _layer_units(document):
    """Layer widths the document declares ([] for an unfitted model)."""
    attributes, params = document["attributes"], document["params"]
    if "coefs_" not in attributes:
        return []
    units = document.get("layer_units")
    if document["format_version"] == 1:  # no layer_units: from the attributes
        hidden = params.get("hidden_layer_sizes")
        if isinstance(hidden, dict):
            hidden = hidden.get("__tuple__")
        if isinstance(hidden, list) and len(hidden) > MAX_HIDDEN_LAYERS:
            raise ValueError(f"its hidden_layer_sizes lists {len(hidden)} layers")
        units = [attributes.get("n_features_in_"), *check_hidden_layer_sizes(hidden)]
        units.append(attributes.get("n_outputs_"))
    if not isinstance(units, list) or not 2 <= len(units) <= MAX_HIDDEN_LAYERS + 2:
        raise ValueError(
            f"its layer_units must list 2 to {MAX_HIDDEN_LAYERS + 2} widths"
        )
    if not all(type(n) is int and n > 0 for n in units):
        raise ValueError(f"its layer_units {quote(units)} are not positive integers")
    return units


def load(file):
    """Load a model written by :func:`save`, without unpickling anything.

    The archive is read without pickle and the JSON document is parsed by
    Python's ``json`` module: an untrusted file cannot run code. Before any
    array is read, the archive's directory and each array's header are
    checked against each other and against the sizes the document's layer
    widths imply, so a crafted file cannot make ``load`` use more memory
    than a genuine model of its declared size. The arrays are then read
    while their SHA-256 digest is computed, and the model is checked as a
    whole: only the attributes a fitted model holds, each of its documented
    type, layer shapes that chain from ``n_features_in_`` to ``n_outputs_``
    through ``hidden_layer_sizes``, and classes that fit the output layer.
    The digest detects accidental modification and truncation; it is not a
    signature.

    Parameters
    ----------
    file : str, os.PathLike or binary file object

    Returns
    -------
    BPClassifier or BPRegressor

    Raises
    ------
    ValueError
        If the file is truncated, corrupted, modified since it was saved, of
        another format version, or does not describe a valid model. The
        message names the field at fault.
    FileNotFoundError
        If there is no such file.

    Warns
    -----
    skbp.exceptions.InconsistentVersionWarning
        If another skbp version saved the file.
    """
    where = "file"
    if isinstance(file, (str, os.PathLike)):
        where = short_message(repr(os.fspath(file)), 200)
    try:
        document, arrays = read_archive(file, _plan)
        return _build(document, arrays)
    except _LOAD_ERRORS as exc:
        # One error for every file that cannot be loaded, quoting at most a
        # few hundred characters of whatever the file held.
        raise ValueError(
            f"Cannot load {where} as an skbp model: {short_message(exc)}."
        ) from exc


# What decoding and checking a hostile document may raise, besides the
# checks' own ValueErrors: each becomes load's one ValueError.
_LOAD_ERRORS = (
    TypeError,
    ValueError,
    RecursionError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
)


def _build(document, arrays):
    cls = _check_format(document)
    original = document.get("skbp_version")
    if original != skbp_version():
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=cls.__name__,
                current_version=skbp_version(),
                original_version=short_message(str(original), 60),
            ),
            stacklevel=3,
        )
    params, attributes = document["params"], document["attributes"]
    decoder = Decoder(arrays)
    try:
        estimator = cls(**{name: decoder.decode(v) for name, v in params.items()})
        estimator._validate_params()
        for name, value in attributes.items():
            if name in params:
                raise ValueError(f"attribute {name!r} is a parameter")
            if not _ATTRIBUTE_NAME.fullmatch(name):
                raise ValueError(f"invalid attribute name {quote(name)}")
            value = decoder.decode(value)
            if name in _DROPPED:  # best weights of format 2: never read
                continue
            check_attribute(estimator, name, value)
            setattr(estimator, name, value)
        unused = set(arrays) - decoder.used
        if unused:
            raise ValueError(f"arrays {_names(unused)} are not referenced")
        check_model(estimator)
        units = document.get("layer_units")
        if units is not None and units != _units(estimator.coefs_):
            raise ValueError(
                f"layer_units {quote(units)} do not match the weights' "
                f"{_units(estimator.coefs_)}"
            )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"it does not describe a valid model: {exc}") from exc
    _keep_best_weights(estimator)
    return estimator


def _keep_best_weights(estimator):
    """A loaded model's best-epoch weights are its weights.

    A file does not hold best weights (nothing it shows could check them):
    when the parameters keep them (``early_stopping``,
    ``restore_best_weights``), a warm-start refit starts from the weights
    the file shows as the best so far, with the file's best score, as the
    saved model did after a completed fit.
    """
    if "coefs_" in vars(estimator) and (
        estimator.early_stopping or estimator.restore_best_weights
    ):
        store_best_weights(estimator)  # the one place best weights are copied
