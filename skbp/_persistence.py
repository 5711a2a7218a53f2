"""Plain-format files: :func:`save` and :func:`load`, no pickle involved.

A ``.npz`` archive of the weights and a JSON document (see
:mod:`skbp._archive`): loading an untrusted file runs no code, reads no more
than the sizes it has checked, and a SHA-256 digest rejects files modified
or truncated since saving. :func:`save` replaces a file atomically
(:mod:`skbp._atomic`), and :func:`load` accepts only what
:mod:`skbp._model_check` allows, checked as one consistent model.
"""

import json
import os
import re
import warnings

import numpy as np

from ._archive import MAX_DOCUMENT_BYTES, little_endian, read_archive, write_archive
from ._atomic import atomic_write
from ._model_check import check_attribute, check_model
from ._moving import converted, placement_record
from ._validation import check_hidden_layer_sizes
from ._versioning import skbp_version
from .core.namespace import to_numpy
from .exceptions import InconsistentVersionWarning, PersistenceWarning

__all__ = ["save", "load", "FORMAT", "FORMAT_VERSION"]


#: Name of the file format, stored in every file.
FORMAT = "skbp-npz"
#: Version of the file format written by :func:`save`. Version 2 stores
#: lists of floats (loss curves) as arrays and records the layer widths, so
#: that :func:`load` can bound the arrays before reading them.
FORMAT_VERSION = 2
#: Versions :func:`load` reads.
READABLE_VERSIONS = (1, 2)
#: What a model's arrays may take besides its weights (float64, live and
#: best-epoch copies) and the dropout salt: labels and learning curves, a
#: million epochs of them.
OTHER_ARRAYS_BYTES = 16 * 2**20
# Not saved: the optimizer's moment estimates (partial_fit after load starts a
# fresh optimizer, as fit with warm_start does) and the random generator
# (drawn afresh from random_state by every fit). Nor scikit-learn's callbacks
# (set_callbacks): live objects watching fits, not part of the model.
_NOT_SAVED = frozenset({"_optimizer", "_random_state", "_skl_callbacks"})
_ARRAY_KINDS = frozenset("biufUS")
_ATTRIBUTE_NAME = re.compile(r"_?[a-z][a-z0-9_]*")
_BINARIZER_ATTRIBUTES = frozenset(
    {"neg_label", "pos_label", "sparse_output", "y_type_", "sparse_input_", "classes_"}
)


class _Encoder:
    """Turn Python values into JSON, moving arrays into named archive members.

    JSON keeps ``None``, booleans, ints, floats (``NaN`` and infinities as
    Python's ``json`` writes them), strings and lists; everything else is a
    one-key object: ``{"__array__": member}``, ``{"__floats__": member}`` (a
    list of floats, such as a loss curve, kept as a float64 array),
    ``{"__tuple__": [...]}``, ``{"__dict__": [[key, value], ...]}``,
    ``{"__strings__": [...]}`` (an object array of strings) or
    ``{"__label_binarizer__": {...}}``.
    """

    def __init__(self):
        self.arrays = {}

    def encode(self, value, where):
        from sklearn.preprocessing import LabelBinarizer

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return value.item()
        if isinstance(value, np.ndarray):
            return self._encode_array(value, where)
        if value and isinstance(value, list) and all(type(v) is float for v in value):
            return {"__floats__": self._add(np.array(value, dtype=np.float64))}
        if isinstance(value, list):
            return [self.encode(item, where) for item in value]
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(item, where) for item in value]}
        if isinstance(value, dict):
            return {
                "__dict__": [
                    [self.encode(k, where), self.encode(v, where)]
                    for k, v in value.items()
                ]
            }
        if type(value) is LabelBinarizer:
            return {
                "__label_binarizer__": {
                    name: self.encode(item, where) for name, item in vars(value).items()
                }
            }
        raise TypeError(
            f"skbp.save cannot store {where}: {type(value).__name__} is not plain "
            "data (None, bool, int, float, str, lists, tuples, dicts and numeric "
            "or string arrays)."
        )

    def _encode_array(self, value, where):
        if value.dtype.kind == "O":
            if all(isinstance(item, str) for item in value.ravel()):
                return {"__strings__": value.tolist(), "shape": list(value.shape)}
            raise TypeError(
                f"skbp.save cannot store {where}: an object array holding "
                "something other than strings."
            )
        if value.dtype.kind not in _ARRAY_KINDS or value.dtype.fields is not None:
            raise TypeError(
                f"skbp.save cannot store {where}: arrays of dtype {value.dtype} "
                "are not supported."
            )
        return {"__array__": self._add(value)}

    def _add(self, array):
        key = f"a{len(self.arrays)}"
        self.arrays[key] = little_endian(array)
        return key


class _Decoder:
    """Inverse of :class:`_Encoder`; anything unexpected is a ``ValueError``."""

    def __init__(self, arrays):
        self.arrays = arrays
        self.used = set()

    def decode(self, value):
        from sklearn.preprocessing import LabelBinarizer

        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(item) for item in value]
        if not isinstance(value, dict):
            raise ValueError(f"unexpected JSON value {value!r}")
        if set(value) == {"__array__"}:
            return self._array(value["__array__"])
        if set(value) == {"__floats__"}:
            array = self._array(value["__floats__"])
            if array.dtype != np.float64 or array.ndim != 1:
                raise ValueError("__floats__ must refer to a 1-D float64 array")
            return array.tolist()
        if set(value) == {"__tuple__"}:
            return tuple(self.decode(self._list(value["__tuple__"])))
        if set(value) == {"__dict__"}:
            pairs = self._list(value["__dict__"])
            if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
                raise ValueError("malformed dict entry")
            return {self._key(k): self.decode(v) for k, v in pairs}
        if set(value) == {"__strings__", "shape"}:
            strings = self._list(value["__strings__"])
            array = np.array(strings, dtype=object)
            if any(not isinstance(s, str) for s in array.ravel()):
                raise ValueError("__strings__ must hold strings")
            return array.reshape(self._list(value["shape"]))
        if set(value) == {"__label_binarizer__"}:
            attributes = value["__label_binarizer__"]
            if not isinstance(attributes, dict):
                raise ValueError("malformed label binarizer")
            if set(attributes) != _BINARIZER_ATTRIBUTES:
                raise ValueError(
                    f"the label binarizer must hold {sorted(_BINARIZER_ATTRIBUTES)}"
                )
            binarizer = LabelBinarizer()
            for name, item in attributes.items():
                setattr(binarizer, name, self.decode(item))
            return binarizer
        raise ValueError(f"unexpected JSON object with keys {sorted(value)}")

    def _array(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            raise ValueError(f"reference to a missing array {key!r}")
        if key in self.used:
            raise ValueError(f"array {key!r} is referenced twice")
        self.used.add(key)
        return self.arrays[key]

    def _key(self, key):
        key = self.decode(key)
        if isinstance(key, (list, dict, np.ndarray)):
            raise ValueError("unhashable dict key")
        return key

    @staticmethod
    def _list(value):
        if not isinstance(value, list):
            raise ValueError(f"expected a JSON list, got {value!r}")
        return value


def _estimator_classes():
    from ._classifier import BPClassifier
    from ._regressor import BPRegressor

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
    generator.

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
        attribute that is not plain data.
    """
    classes = _estimator_classes()
    if classes.get(type(estimator).__name__) is not type(estimator):
        raise TypeError(
            "skbp.save stores BPClassifier and BPRegressor models only, got "
            f"{type(estimator).__name__}. Save pipelines with joblib or skops."
        )
    if placement_record(vars(estimator)) is not None:
        # A model on a device (a GPU) is stored as numpy: it loads anywhere.
        estimator = converted(estimator, to_numpy)
    encoder = _Encoder()
    params = {
        name: encoder.encode(value, f"parameter {name}={value!r}")
        for name, value in _plain_params(estimator).items()
    }
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
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skbp_version": skbp_version(),
        "estimator": type(estimator).__name__,
        "layer_units": None if coefs is None else _units(coefs),
        "params": params,
        "attributes": attributes,
    }
    text = json.dumps(document, sort_keys=True, allow_nan=True)
    # The bounds load applies, checked before the file is touched: a model
    # save writes is a model load reads.
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise ValueError(
            f"skbp.save cannot store this model: its document would exceed "
            f"{MAX_DOCUMENT_BYTES} bytes (too many feature names or labels)."
        )
    total = sum(array.nbytes for array in encoder.arrays.values())
    if total > _array_budget(document):
        raise ValueError(
            f"skbp.save cannot store this model: its arrays besides the weights "
            f"exceed {OTHER_ARRAYS_BYTES} bytes (loss curves or labels too long)."
        )

    def write(handle):
        write_archive(handle, text, encoder.arrays)

    if isinstance(file, (str, os.PathLike)):
        atomic_write(file, write)
    else:
        write(file)


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
    """Refuse a document of another format or version; return its version."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("it is not a file written by skbp.save")
    version = document.get("format_version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise ValueError(
            f"it uses format version {version!r}, and this skbp reads versions "
            f"{list(READABLE_VERSIONS)}; load it with the skbp version that "
            f"saved it ({document.get('skbp_version')!r})"
        )
    return version


def _plan(document):
    """What :func:`~skbp._archive.read_archive` needs before reading arrays."""
    return _array_budget(document), _array_fields(document)


def _array_fields(document):
    """Archive member -> the field holding it, such as ``"coefs_[0] (member 'a2')"``."""
    fields = {}

    def walk(value, path):
        if isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif isinstance(value, dict):
            for tag in ("__array__", "__floats__"):
                key = value.get(tag)
                if isinstance(key, str):
                    fields.setdefault(key, f"{path} (member {key!r})")
            for item in value.values():
                walk(item, path)

    for section in ("params", "attributes"):
        for name, value in document[section].items():
            walk(value, name)
    return fields


def _array_budget(document):
    """The most bytes a document's arrays may take, from its layer widths.

    The weights of layer widths ``n_0, ..., n_L`` hold
    ``sum((n_{l-1} + 1) n_l)`` numbers; a model keeps them twice at most
    (live and best epoch), in float64 at most, plus ``n_0`` 8-byte dropout
    salts, plus :data:`OTHER_ARRAYS_BYTES` for labels and learning curves.
    """
    _check_format(document)
    units = _layer_units(document)
    n_weights = sum((a + 1) * b for a, b in zip(units[:-1], units[1:]))
    return 2 * 8 * n_weights + 8 * (units[0] if units else 0) + OTHER_ARRAYS_BYTES


def _layer_units(document):
    """Layer widths the document declares ([] for an unfitted model)."""
    attributes, params = document.get("attributes"), document.get("params")
    if not isinstance(attributes, dict) or not isinstance(params, dict):
        raise ValueError("its document is malformed")
    if "coefs_" not in attributes:
        return []
    units = document.get("layer_units")
    if document["format_version"] == 1:  # no layer_units: from the attributes
        hidden = params.get("hidden_layer_sizes")
        if isinstance(hidden, dict):
            hidden = hidden.get("__tuple__")
        units = [attributes.get("n_features_in_"), *check_hidden_layer_sizes(hidden)]
        units.append(attributes.get("n_outputs_"))
    if not (
        isinstance(units, list)
        and len(units) >= 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in units)
    ):
        raise ValueError(f"its layer_units {units!r} are not positive integers")
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
    where = repr(os.fspath(file)) if isinstance(file, (str, os.PathLike)) else "file"
    try:
        document, arrays = read_archive(file, _plan)
        return _build(document, arrays)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"Cannot load {where} as an skbp model: {exc}.") from exc


def _build(document, arrays):
    cls = _estimator_classes().get(document.get("estimator"))
    if cls is None:
        raise ValueError(f"it holds an unknown estimator {document.get('estimator')!r}")
    original = document.get("skbp_version")
    if original != skbp_version():
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=cls.__name__,
                current_version=skbp_version(),
                original_version=str(original),
            ),
            stacklevel=3,
        )
    params, attributes = document["params"], document["attributes"]
    decoder = _Decoder(arrays)
    try:
        unknown = set(params) - set(cls._get_param_names())
        if unknown:
            raise ValueError(
                f"parameters {sorted(unknown)} are unknown to this skbp version"
            )
        estimator = cls(**{name: decoder.decode(v) for name, v in params.items()})
        estimator._validate_params()
        for name, value in attributes.items():
            if name in params:
                raise ValueError(f"attribute {name!r} is a parameter")
            if not isinstance(name, str) or not _ATTRIBUTE_NAME.fullmatch(name):
                raise ValueError(f"invalid attribute name {name!r}")
            value = decoder.decode(value)
            check_attribute(estimator, name, value)
            setattr(estimator, name, value)
        unused = set(arrays) - decoder.used
        if unused:
            raise ValueError(f"arrays {sorted(unused)} are not referenced")
        check_model(estimator)
        units = document.get("layer_units")
        if units is not None and units != _units(estimator.coefs_):
            raise ValueError(
                f"layer_units {units} do not match the weights' "
                f"{_units(estimator.coefs_)}"
            )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"it does not describe a valid model: {exc}") from exc
    return estimator
