"""The JSON document of :func:`skbp.save`: how values are written, and read back.

JSON keeps ``None``, booleans, ints, floats (``NaN`` and infinities as
Python's ``json`` writes them), strings and lists; everything else is a
one-key object: ``{"__array__": member}``, ``{"__floats__": member}`` (a
list of floats, such as a loss curve, kept as a float64 array),
``{"__tuple__": [...]}``, ``{"__dict__": [[key, value], ...]}``,
``{"__strings__": [...], "shape": [...]}`` (an object array of strings),
``{"__label_binarizer__": {...}}`` or ``{"__streaming_history__": {...}}``.

A document read from a file is surveyed before it is decoded
(:func:`survey`): its nesting, its number of containers and the length of
the parameters that grow with the number of layers are bounded, so that
the work of decoding it, and of checking what it decodes to, is linear in
bounds checked first. A 1 MB document of a million tiny lists or of a
350,000-layer ``hidden_layer_sizes`` is refused after a glance, not
decoded.
"""

import numpy as np
from sklearn.preprocessing import LabelBinarizer

from .._model.arrays import is_numpy_array
from .._model.attributes import BINARIZER_ATTRIBUTES, STREAMING_HISTORY_FIELDS, quote
from .._model.history import StreamingHistory

__all__ = [
    "Encoder",
    "Decoder",
    "survey",
    "MAX_HIDDEN_LAYERS",
    "MAX_CONTAINERS",
    "MAX_DEPTH",
]

#: The most hidden layers a file may describe (and :func:`skbp.save` write):
#: the archive's member count is bounded
#: (:data:`skbp._persistence.archive.MAX_MEMBERS`), and each layer takes two
#: members.
MAX_HIDDEN_LAYERS = 1000
#: The most JSON lists and objects a document may hold: a few per layer and
#: one per entry of a ``class_weight`` dict. Lists of plain values (strings
#: of labels, feature names) count as one.
MAX_CONTAINERS = 2**14
#: The deepest nesting a document may have (genuine ones reach 6).
MAX_DEPTH = 16
#: Parameters that hold one entry per hidden layer.
LAYER_PARAMETERS = ("hidden_layer_sizes", "activation", "dropout")
_ARRAY_KINDS = frozenset("biufUS")
_SCALARS = (type(None), bool, int, float, str)


class Encoder:
    """Turn Python values into JSON, moving arrays into named archive members.

    Attributes
    ----------
    arrays : dict of str to ndarray
        The members made so far: ``"a0"``, ``"a1"``, ...
    """

    def __init__(self, to_member):
        self.arrays = {}
        self._to_member = to_member  # makes an array what the archive holds

    def encode(self, value, where):
        """The JSON form of ``value``; ``where`` names it in errors."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return value.item()
        if is_numpy_array(value):
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
        if type(value) in (LabelBinarizer, StreamingHistory):
            tag = _TAGS[type(value).__name__]
            return {tag: {k: self.encode(v, where) for k, v in vars(value).items()}}
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
        if (
            value.dtype.kind not in _ARRAY_KINDS
            or value.dtype.fields is not None
            or value.dtype.itemsize == 0
        ):
            raise TypeError(
                f"skbp.save cannot store {where}: arrays of dtype {value.dtype} "
                "are not supported."
            )
        return {"__array__": self._add(value)}

    def _add(self, array):
        key = f"a{len(self.arrays)}"
        self.arrays[key] = self._to_member(array)
        return key


_TAGS = {
    "LabelBinarizer": "__label_binarizer__",
    "StreamingHistory": "__streaming_history__",
}
_ARRAY_TAGS = ("__array__", "__floats__")


def survey(sections, parameter_limit):
    """Bound a document's sections before any of it is decoded.

    Parameters
    ----------
    sections : dict of str to dict
        ``{"params": ..., "attributes": ...}`` as parsed from JSON.
    parameter_limit : int
        The most bytes an array held by a parameter may take.

    Returns
    -------
    fields : dict of str to str
        Archive member -> the field holding it, such as
        ``"coefs_[0] (member 'a2')"``.
    limits : dict of str to int
        Archive member -> the most bytes it may hold, for members that
        parameters hold (a parameter is a few numbers per layer, not a
        weight matrix).

    Raises
    ------
    ValueError
        If the document nests deeper than :data:`MAX_DEPTH`, holds more than
        :data:`MAX_CONTAINERS` lists and objects, or a parameter of
        :data:`LAYER_PARAMETERS` lists more than :data:`MAX_HIDDEN_LAYERS`
        entries.
    """
    fields, limits, budget = {}, {}, [MAX_CONTAINERS]
    for section, values in sections.items():
        for name, value in values.items():
            if section == "params" and name in LAYER_PARAMETERS:
                _check_layer_parameter(name, value)
            members = _walk(value, (name,), 1, budget, fields)
            if section == "params":
                limits.update(dict.fromkeys(members, parameter_limit))
    return fields, limits


def _check_layer_parameter(name, value):
    if isinstance(value, dict) and set(value) == {"__tuple__"}:
        value = value["__tuple__"]
    if isinstance(value, list) and len(value) > MAX_HIDDEN_LAYERS:
        raise ValueError(
            f"its {name} lists {len(value)} layers; skbp.save writes at most "
            f"{MAX_HIDDEN_LAYERS}"
        )


def _walk(value, path, depth, budget, fields):
    """Count ``value``'s containers against ``budget``; note its array members.

    Iterates lists of plain values at C speed: only containers cost Python
    work, and there are at most :data:`MAX_CONTAINERS` of them. ``path`` is
    a tuple (the name, then list indices), spelled out only for a member.
    """
    if isinstance(value, _SCALARS):
        return []
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(
            f"its document holds more than {MAX_CONTAINERS} lists and objects"
        )
    if depth > MAX_DEPTH:
        raise ValueError(f"its document nests deeper than {MAX_DEPTH} levels")
    found = []
    if isinstance(value, list):
        if all(isinstance(item, _SCALARS) for item in value):
            return found
        for i, item in enumerate(value):
            found += _walk(item, (*path, i), depth + 1, budget, fields)
        return found
    for tag in _ARRAY_TAGS:  # a JSON object
        key = value.get(tag)
        if isinstance(key, str):
            found.append(key)
            where = path[0] + "".join(f"[{i}]" for i in path[1:])
            fields.setdefault(key, f"{where} (member {key[:12]!r})")
    for item in value.values():
        found += _walk(item, path, depth + 1, budget, fields)
    return found


class Decoder:
    """Inverse of :class:`Encoder`; anything unexpected is a ``ValueError``.

    Run on a document :func:`survey` has bounded: lists of plain values are
    copied whole, so the work is linear in the document's size.

    Parameters
    ----------
    arrays : dict of str to ndarray
        The archive's members.
    """

    def __init__(self, arrays):
        self.arrays = arrays
        self.used = set()

    def decode(self, value):
        """The Python value of JSON ``value``."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            if all(isinstance(item, _SCALARS) for item in value):
                return list(value)
            return [self.decode(item) for item in value]
        if not isinstance(value, dict):
            raise ValueError(f"unexpected JSON value of type {type(value).__name__}")
        keys = set(value)
        if keys == {"__array__"}:
            return self._array(value["__array__"])
        if keys == {"__floats__"}:
            array = self._array(value["__floats__"])
            if array.dtype != np.float64 or array.ndim != 1:
                raise ValueError("__floats__ must refer to a 1-D float64 array")
            return array.tolist()
        if keys == {"__tuple__"}:
            return tuple(self.decode(self._list(value["__tuple__"])))
        if keys == {"__dict__"}:
            pairs = self._list(value["__dict__"])
            if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
                raise ValueError("malformed dict entry")
            return {self._key(k): self.decode(v) for k, v in pairs}
        if keys == {"__strings__", "shape"}:
            return self._strings(value)
        if keys == {"__label_binarizer__"}:
            return self._object(value["__label_binarizer__"], "LabelBinarizer")
        if keys == {"__streaming_history__"}:
            return self._object(value["__streaming_history__"], "StreamingHistory")
        shown = sorted(keys)[:4]
        raise ValueError(f"unexpected JSON object with keys {quote(shown)}")

    def _strings(self, value):
        strings = self._list(value["__strings__"])
        if not all(type(s) is str for s in strings):
            raise ValueError("__strings__ must hold strings")
        shape = self._list(value["shape"])
        if not (
            len(shape) <= 2
            and all(type(n) is int and n >= 0 for n in shape)
            and int(np.prod(shape)) == len(strings)
        ):
            raise ValueError(f"__strings__ of shape {quote(shape)}")
        return np.array(strings, dtype=object).reshape(shape)

    def _object(self, attributes, kind):
        """A LabelBinarizer or a StreamingHistory, from exactly its fields."""
        cls, names, what = {
            "LabelBinarizer": (LabelBinarizer, BINARIZER_ATTRIBUTES, "label binarizer"),
            "StreamingHistory": (
                StreamingHistory,
                frozenset(STREAMING_HISTORY_FIELDS),
                "streaming history",
            ),
        }[kind]
        if not isinstance(attributes, dict) or set(attributes) != names:
            raise ValueError(f"the {what} must hold {sorted(names)}")
        instance = object.__new__(cls)
        for name, item in attributes.items():
            setattr(instance, name, self.decode(item))
        return instance

    def _array(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            raise ValueError(f"reference to a missing array {quote(key)}")
        if key in self.used:
            raise ValueError(f"array {key!r} is referenced twice")
        self.used.add(key)
        return self.arrays[key]

    def _key(self, key):
        key = self.decode(key)
        if isinstance(key, (list, dict)) or is_numpy_array(key):
            raise ValueError("unhashable dict key")
        return key

    @staticmethod
    def _list(value):
        if not isinstance(value, list):
            raise ValueError(f"expected a JSON list, got {quote(value)}")
        return value
