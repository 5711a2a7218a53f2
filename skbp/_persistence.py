"""Keeping models safe: version stamps, rollback of failed fits, save and load.

Three independent parts, each used by the estimators or by users:

- **Version stamps** (:func:`stamp_version`, :func:`check_version`): the
  estimators' ``__getstate__`` records the skbp version, and
  ``__setstate__`` warns :class:`~skbp.exceptions.InconsistentVersionWarning`
  when a pickle (or a ``skops`` file) comes from another version.
- **Fitted state** (:func:`keeps_fitted_state`, :class:`EpochCheckpoint`): a
  ``fit`` or ``partial_fit`` that fails leaves the previous fitted state as it
  was; an interrupted fit (``KeyboardInterrupt``) keeps the weights of its
  last completed epoch and lets the interrupt propagate.
- **Plain-format files** (:func:`save`, :func:`load`): a ``.npz`` archive of
  the weights and a JSON document, read back with
  ``numpy.load(allow_pickle=False)``: loading an untrusted file runs no code,
  and a SHA-256 digest rejects files modified or truncated since saving.
"""

import functools
import hashlib
import json
import os
import re
import warnings

import numpy as np

from .exceptions import InconsistentVersionWarning, PersistenceWarning

__all__ = [
    "stamp_version",
    "check_version",
    "keeps_fitted_state",
    "EpochCheckpoint",
    "save",
    "load",
    "FORMAT",
    "FORMAT_VERSION",
]


def _skbp_version():
    # Looked up when needed: skbp/__init__.py defines it after importing us.
    import skbp

    return skbp.__version__


# ---------------------------------------------------------------------------
# Version stamps (pickle, joblib, skops)
# ---------------------------------------------------------------------------
_VERSION_KEY = "_skbp_version"


def stamp_version(state):
    """Return a copy of ``state`` (an estimator's ``__dict__``) with skbp's version.

    For ``__getstate__``.
    """
    return {**state, _VERSION_KEY: _skbp_version()}


def check_version(state, estimator_name):
    """Return ``state`` without its version stamp; warn if another version wrote it.

    For ``__setstate__``. A state without a stamp was pickled by an skbp
    version that did not record it, and is reported as ``"unknown"``.

    Parameters
    ----------
    state : dict
        What ``__getstate__`` returned when the model was pickled.
    estimator_name : str
        Name of the estimator's class, for the message.

    Returns
    -------
    dict
    """
    state = dict(state)
    original = state.pop(_VERSION_KEY, "unknown")
    current = _skbp_version()
    if original != current:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name,
                current_version=current,
                original_version=original,
            ),
            stacklevel=3,
        )
    return state


# ---------------------------------------------------------------------------
# Fitted state: rollback of failed fits, checkpoint of the last epoch
# ---------------------------------------------------------------------------
_KEEP_STATE = "_skbp_keeps_epoch_state"


def _copy_value(value):
    """A copy of a fitted attribute's value that a failed fit cannot change.

    Arrays are copied; lists, tuples, dicts and skbp's own objects (the
    optimizers, which fits update in place) are rebuilt around copies of
    their contents. Everything else is shared: immutable values, random
    generators (a fit draws its own from ``random_state``; a user's must
    stay the object the user holds), and objects a fit replaces rather than
    changes (label binarizers) or that others own (scikit-learn's callback
    contexts).
    """
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_copy_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_copy_value(item) for item in value)
    if isinstance(value, dict):
        return {key: _copy_value(item) for key, item in value.items()}
    if type(value).__module__.startswith("skbp.") and hasattr(value, "__dict__"):
        clone = object.__new__(type(value))
        clone.__dict__.update(_copy_value(vars(value)))
        return clone
    return value


@functools.cache
def _param_names(cls):
    return frozenset(cls._get_param_names())


class _Log:
    """An append-only list of numbers (a loss curve): its length, not a copy.

    Fits only append to these lists (or replace them), so truncating the
    list to its length restores it, at no cost per entry: a stream of many
    ``partial_fit`` calls does not copy its growing loss curve each time.
    """

    __slots__ = ("items", "length")

    def __init__(self, items):
        self.items, self.length = items, len(items)

    def restore(self):
        del self.items[self.length :]
        return self.items


_NUMBERS = (int, float, np.number)


def _snapshot(value):
    if (
        isinstance(value, list)
        and value
        and isinstance(value[0], _NUMBERS)
        and isinstance(value[-1], _NUMBERS)
    ):
        return _Log(value)
    return _copy_value(value)


def _fitted_state(estimator, param_names):
    return {
        name: _snapshot(value)
        for name, value in vars(estimator).items()
        if name not in param_names
    }


def _restore_fitted_state(estimator, state, param_names):
    attributes = vars(estimator)
    for name in list(attributes):
        if name not in param_names and name not in state:
            del attributes[name]
    for name, value in state.items():
        attributes[name] = value.restore() if isinstance(value, _Log) else value


def keeps_fitted_state(method):
    """Decorate ``fit``/``partial_fit``: on error, restore the state before the call.

    Every attribute that is not a constructor parameter is copied before the
    call; if the call raises, attributes it added are removed and the copies
    put back, so a fit that diverges or finds bad input late leaves the
    previously fitted model (or the unfitted estimator) as it was. The
    exception propagates unchanged.

    A ``KeyboardInterrupt`` that an :class:`EpochCheckpoint` has handled
    keeps the state of the last completed epoch instead.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        param_names = _param_names(type(self))
        state = _fitted_state(self, param_names)
        try:
            return method(self, *args, **kwargs)
        except BaseException as exc:
            if not getattr(exc, _KEEP_STATE, False):
                _restore_fitted_state(self, state, param_names)
            raise

    return wrapper


class EpochCheckpoint:
    """The weights and counters of an estimator at the end of its last epoch.

    Create one before the training loop, call :meth:`save` after each
    completed epoch (or L-BFGS iteration) and :meth:`restore` on
    ``KeyboardInterrupt`` before re-raising it: the estimator is then a
    consistent fitted model holding the weights of the last completed epoch,
    usable for ``predict`` and for continuing with ``warm_start`` or
    ``partial_fit`` (which start a fresh optimizer: the interrupted one's
    moments belong to a partial epoch).

    Saving writes into a spare set of buffers, allocated once, and then
    swaps it in with one assignment: an interrupt arriving while saving
    leaves the previous epoch intact, and no epoch allocates weights.

    Parameters
    ----------
    estimator : BaseBackprop
        An estimator with ``coefs_`` and ``intercepts_``.
    """

    _VALUES = (
        "n_iter_",
        "t_",
        "loss_",
        "best_loss_",
        "best_validation_score_",
        "_no_improvement_count",
        "_best_coefs",
        "_best_intercepts",
    )
    _LISTS = ("loss_curve_", "validation_scores_")

    def __init__(self, estimator):
        self._n_coefs = len(estimator.coefs_)
        arrays = (*estimator.coefs_, *estimator.intercepts_)
        self._spare = [np.array(a, copy=True) for a in arrays]
        self._state = None
        self.save(estimator)

    def save(self, estimator, flat=None):
        """Record the estimator's current weights and counters.

        Parameters
        ----------
        estimator : BaseBackprop
        flat : ndarray of shape (n_parameters,), optional
            The weights as one vector (weights then biases, the layout of
            :func:`skbp.core.pack`), e.g. an L-BFGS iterate; by default the
            estimator's ``coefs_`` and ``intercepts_``.
        """
        weights = self._spare
        if flat is None:
            for saved, array in zip(
                weights, (*estimator.coefs_, *estimator.intercepts_)
            ):
                np.copyto(saved, array)
        else:
            start = 0
            for saved in weights:
                stop = start + saved.size
                saved[...] = flat[start:stop].reshape(saved.shape)
                start = stop
        values = {
            name: getattr(estimator, name)
            for name in self._VALUES
            if hasattr(estimator, name)
        }
        lengths = {
            name: len(getattr(estimator, name))
            for name in self._LISTS
            if isinstance(getattr(estimator, name, None), list)
        }
        previous, self._state = self._state, (weights, values, lengths)  # atomic
        if previous is not None:
            self._spare = previous[0]
        else:
            self._spare = [w.copy() for w in weights]

    def restore(self, estimator, interrupt=None):
        """Put the saved epoch back into ``estimator``.

        Parameters
        ----------
        estimator : BaseBackprop
        interrupt : BaseException, optional
            The exception about to be re-raised: marked so that
            :func:`keeps_fitted_state` keeps the restored epoch rather than
            rolling back to the state before the call.
        """
        weights, values, lengths = self._state
        weights = [w.copy() for w in weights]
        estimator.coefs_ = weights[: self._n_coefs]
        estimator.intercepts_ = weights[self._n_coefs :]
        for name, value in values.items():
            setattr(estimator, name, value)
        for name, length in lengths.items():
            del getattr(estimator, name)[length:]
        estimator._optimizer = None
        if interrupt is not None:
            setattr(interrupt, _KEEP_STATE, True)


# ---------------------------------------------------------------------------
# save / load: numpy .npz without pickle, plus a JSON document
# ---------------------------------------------------------------------------
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
        "skbp_version": _skbp_version(),
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
    if original != _skbp_version():
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=cls.__name__,
                current_version=_skbp_version(),
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
