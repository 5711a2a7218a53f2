"""Plain-format files: :func:`save` and :func:`load`, no pickle involved.

A ``.npz`` archive of the weights and a JSON document, read back with
``numpy.load(allow_pickle=False)``: loading an untrusted file runs no code,
and a SHA-256 digest rejects files modified or truncated since saving.
"""

import hashlib
import json
import os
import re
import warnings

import numpy as np

from ._versioning import skbp_version
from .exceptions import InconsistentVersionWarning, PersistenceWarning

__all__ = ["save", "load", "FORMAT", "FORMAT_VERSION"]


#: Name of the file format, stored in every file.
FORMAT = "skbp-npz"
#: Version of the file format; :func:`load` refuses other versions.
FORMAT_VERSION = 1

_DOCUMENT, _DIGEST = "document", "digest"
# Not saved: the optimizer's moment estimates (partial_fit after load starts a
# fresh optimizer, as fit with warm_start does) and the random generator
# (drawn afresh from random_state by every fit).
_NOT_SAVED = frozenset({"_optimizer", "_random_state"})
_ARRAY_KINDS = frozenset("biufUS")
_ATTRIBUTE_NAME = re.compile(r"_?[a-z][a-z0-9_]*")


class _Encoder:
    """Turn Python values into JSON, moving arrays into named archive members.

    JSON keeps ``None``, booleans, ints, floats (``NaN`` and infinities as
    Python's ``json`` writes them), strings and lists; everything else is a
    one-key object: ``{"__array__": member}``, ``{"__tuple__": [...]}``,
    ``{"__dict__": [[key, value], ...]}``, ``{"__strings__": [...]}`` (an
    object array of strings) or ``{"__label_binarizer__": {...}}``.
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
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(value)
        return {"__array__": key}


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
            key = value["__array__"]
            if not isinstance(key, str) or key not in self.arrays:
                raise ValueError(f"reference to a missing array {key!r}")
            if key in self.used:
                raise ValueError(f"array {key!r} is referenced twice")
            self.used.add(key)
            return self.arrays[key]
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
            binarizer = LabelBinarizer()
            for name, item in attributes.items():
                _check_attribute_name(binarizer, name)
                setattr(binarizer, name, self.decode(item))
            if getattr(binarizer, "y_type_", None) not in (
                "binary",
                "multiclass",
                "multilabel-indicator",
            ):
                raise ValueError("the label binarizer has an invalid y_type_")
            return binarizer
        raise ValueError(f"unexpected JSON object with keys {sorted(value)}")

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


def _check_attribute_name(estimator, name):
    """Refuse names that are not plain attributes (methods, dunders, params)."""
    if (
        not isinstance(name, str)
        or not _ATTRIBUTE_NAME.fullmatch(name)
        or hasattr(type(estimator), name)
    ):
        raise ValueError(f"invalid attribute name {name!r}")


def _digest(members):
    """SHA-256 of the archive's members: each name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    for key in sorted(members):
        array = np.ascontiguousarray(members[key])
        header = json.dumps([key, array.dtype.str, list(array.shape)]).encode()
        data = array.tobytes()
        for chunk in (header, data):
            digest.update(len(chunk).to_bytes(8, "little"))
            digest.update(chunk)
    return digest.hexdigest()


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
    encoder = _Encoder()
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        if name == "random_state" and isinstance(
            value, (np.random.RandomState, np.random.Generator)
        ):
            warnings.warn(
                PersistenceWarning(
                    f"random_state={value!r} is not plain data and is saved as "
                    "None: the loaded model predicts the same, but a refit draws "
                    "different initial weights. Use an int random_state to keep "
                    "refits reproducible."
                ),
                stacklevel=2,
            )
            value = None
        params[name] = encoder.encode(value, f"parameter {name}={value!r}")
    attributes = {
        name: encoder.encode(value, f"attribute {name}")
        for name, value in vars(estimator).items()
        if name not in params and name not in _NOT_SAVED
    }
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skbp_version": skbp_version(),
        "estimator": type(estimator).__name__,
        "params": params,
        "attributes": attributes,
    }
    text = json.dumps(document, sort_keys=True, allow_nan=True)
    members = {_DOCUMENT: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    members.update(encoder.arrays)
    members[_DIGEST] = np.frombuffer(_digest(members).encode("ascii"), np.uint8)
    if isinstance(file, (str, os.PathLike)):
        with open(file, "wb") as handle:
            np.savez(handle, **members)
    else:
        np.savez(file, **members)


def _read_members(file):
    try:
        archive = np.load(file, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:
        raise ValueError(
            "it is truncated, corrupted or not a file written by skbp.save "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            "it holds a single numpy array, not a file written by skbp.save"
        )
    try:
        return {key: archive[key] for key in archive.files}
    except Exception as exc:
        raise ValueError(
            f"it is truncated or corrupted ({type(exc).__name__}: {exc})"
        ) from exc
    finally:
        archive.close()


def load(file):
    """Load a model written by :func:`save`, without unpickling anything.

    The archive is read with ``numpy.load(allow_pickle=False)`` and the JSON
    document is parsed by Python's ``json`` module: an untrusted file cannot run code.
    The file's SHA-256 digest, its structure and the network's shapes are
    checked before the model is returned. The digest detects accidental
    modification and truncation; it is not a signature.

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
        another format version, or does not describe a valid model.
    FileNotFoundError
        If there is no such file.

    Warns
    -----
    skbp.exceptions.InconsistentVersionWarning
        If another skbp version saved the file.
    """
    where = repr(os.fspath(file)) if isinstance(file, (str, os.PathLike)) else "file"
    try:
        members = _read_members(file)
        stored = members.pop(_DIGEST, None)
        if stored is None or _DOCUMENT not in members:
            raise ValueError("it is not a file written by skbp.save")
        if stored.dtype != np.uint8 or bytes(stored).decode("ascii", "replace") != (
            _digest(members)
        ):
            raise ValueError(
                "it has been modified or corrupted since it was saved: its "
                "SHA-256 digest does not match its content"
            )
        return _build(members)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"Cannot load {where} as an skbp model: {exc}.") from exc


def _build(members):
    try:
        document = json.loads(bytes(members.pop(_DOCUMENT)).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"its document is malformed ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("it is not a file written by skbp.save")
    if document.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"it uses format version {document.get('format_version')!r}, and "
            f"this skbp reads version {FORMAT_VERSION}; load it with the skbp "
            f"version that saved it ({document.get('skbp_version')!r})"
        )
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
    params, attributes = document.get("params"), document.get("attributes")
    if not isinstance(params, dict) or not isinstance(attributes, dict):
        raise ValueError("its document is malformed")
    decoder = _Decoder(members)
    try:
        unknown = set(params) - set(cls._get_param_names())
        if unknown:
            raise ValueError(
                f"parameters {sorted(unknown)} are unknown to this skbp version"
            )
        estimator = cls(**{name: decoder.decode(v) for name, v in params.items()})
        estimator._validate_params()
        for name, value in attributes.items():
            _check_attribute_name(estimator, name)
            if name in params:
                raise ValueError(f"attribute {name!r} is a parameter")
            setattr(estimator, name, decoder.decode(value))
        unused = set(members) - decoder.used
        if unused:
            raise ValueError(f"arrays {sorted(unused)} are not referenced")
        _check_network(estimator)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"it does not describe a valid model: {exc}") from exc
    return estimator


def _check_network(estimator):
    """Check that a loaded model's attributes form a usable network."""
    if not hasattr(estimator, "coefs_"):
        return  # saved before fit
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    if not (
        isinstance(coefs, list)
        and isinstance(intercepts, list)
        and coefs
        and len(coefs) == len(intercepts)
    ):
        raise ValueError("coefs_ and intercepts_ must be lists of the same length")
    dtype = coefs[0].dtype if isinstance(coefs[0], np.ndarray) else None
    if dtype not in (np.float32, np.float64):
        raise ValueError("the weights must be float32 or float64 arrays")
    for W, b in zip(coefs, intercepts):
        if not (
            isinstance(W, np.ndarray)
            and isinstance(b, np.ndarray)
            and W.dtype == dtype
            and b.dtype == dtype
            and W.ndim == 2
            and b.shape == (W.shape[1],)
        ):
            raise ValueError("the weights' shapes or dtypes do not match")
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise ValueError("the weights are not finite")
    if any(a.shape[1] != b.shape[0] for a, b in zip(coefs[:-1], coefs[1:])):
        raise ValueError("consecutive layers' shapes do not match")
    if getattr(estimator, "n_features_in_", None) != coefs[0].shape[0]:
        raise ValueError("n_features_in_ does not match the first layer")
    if getattr(estimator, "n_outputs_", None) != coefs[-1].shape[1]:
        raise ValueError("n_outputs_ does not match the last layer")
    if getattr(estimator, "n_layers_", None) != len(coefs) + 1:
        raise ValueError("n_layers_ does not match the weights")
    if hasattr(type(estimator), "predict_proba"):
        classes = getattr(estimator, "classes_", None)
        binarizer = getattr(estimator, "_label_binarizer", None)
        if classes is None or binarizer is None:
            raise ValueError("a classifier needs classes_ and its label binarizer")
        n_classes = len(classes)
        expected = 1 if n_classes == 2 else n_classes
        if binarizer.y_type_.startswith("multilabel"):
            expected = n_classes
        if expected != coefs[-1].shape[1]:
            raise ValueError("classes_ does not match the output layer")
    if getattr(estimator, "out_activation_", None) != estimator._out_activation():
        raise ValueError("out_activation_ does not match the targets and loss")
    estimator._activations()  # the activation names and layer count agree
