"""Moving a fitted model between array libraries and devices.

A model fitted on a GPU holds its weights there. Three ways move it:

- ``sklearn.utils._array_api.move_estimator_to(model, xp, device)``
  (scikit-learn >= 1.9) calls the estimators' ``__sklearn_array_api_convert__``,
  which converts the arrays that live where the model lives (weights, best
  weights, optimizer moments, the dropout salt) and copies the rest.
- pickle (and joblib) store those arrays as numpy, with a note of their
  library and device, as plain data (a name, a device string or number).
  Unpickling moves them back there when this machine has that library and
  device, and keeps numpy with a warning when it has not: a GPU model loads
  on a machine without a GPU. The note is data read from a file, so it never
  names a module to import: the library is looked up in
  :data:`ARRAY_LIBRARIES`, a fixed table of the libraries skbp supports,
  and anything else loads as numpy with a warning.
- :func:`skbp.save` stores numpy; :func:`skbp.load` gives a numpy model.
"""

import copy
import importlib
import re
import sys
import warnings

from ..core.namespace import array_api_compat, device, to_numpy
from .arrays import convert_arrays, copied, is_device_array
from .attributes import PLACED_ATTRIBUTES, quote, short_message

__all__ = [
    "ARRAY_LIBRARIES",
    "PLACED_ATTRIBUTES",
    "converted",
    "placement_record",
    "host_state",
    "split_placement",
    "place",
]

#: The array libraries a model may live in, by the name a pickle records:
#: name -> (module imported by that fixed name, how a device is recorded,
#: how a recorded device is found again). scikit-learn's array API supports
#: these. A record names one of them or loads as numpy: nothing read from a
#: file names a module to import.
ARRAY_LIBRARIES = {
    "numpy": ("numpy", lambda device: None, lambda module, plain: None),
    "array_api_strict": (
        "array_api_strict",
        lambda device: device._device,  # its name: "CPU_DEVICE", "device1", ...
        lambda module, plain: module.Device(plain),
    ),
    "torch": ("torch", str, lambda module, plain: module.device(plain)),
    "cupy": (
        "cupy",
        lambda device: int(getattr(device, "id", 0)),
        lambda module, plain: module.cuda.Device(plain),
    ),
    "dpnp": ("dpnp", lambda device: None, lambda module, plain: None),
}
# A recorded device is plain data: None, a small int, or a short name.
_DEVICE_NAME = re.compile(r"[A-Za-z0-9_:.\-]{1,64}")

_RECORD_KEY = "_skbp_array_placement"


def converted(estimator, converter):
    """A new estimator: the placed arrays through ``converter``, the rest copied.

    Parameters
    ----------
    estimator : BaseBackprop
    converter : callable
        Takes an array, returns it in the target library and device.

    Returns
    -------
    BaseBackprop
        Shares no mutable state with ``estimator``: no array of it shares
        memory with one of ``estimator``.

    Notes
    -----
    Each array is copied where it lives before ``converter`` sees it.
    ``converter`` may hand back a view of its input: scikit-learn's
    ``move_to`` does, through DLPack, for a move to the same library and
    device named another way (PyTorch's ``"cpu"`` for ``torch.device("cpu")``,
    numpy without dispatch), and between numpy and PyTorch on the CPU. That
    view is not the input (``is`` misses it), so copying the input first is
    the one rule that holds for every converter.
    """
    new = object.__new__(type(estimator))
    for name, value in vars(estimator).items():
        if name in PLACED_ATTRIBUTES:
            value = convert_arrays(value, lambda array: converter(copied(array)))
        else:
            value = copy.deepcopy(value)
        setattr(new, name, value)
    return new


def placement_record(state):
    """``(library, device)`` of the first placed array of ``state`` that is
    not numpy's, or None for a numpy model; both plain data (the device as
    :data:`ARRAY_LIBRARIES` records it)."""
    found = []
    for name in sorted(PLACED_ATTRIBUTES & state.keys()):
        convert_arrays(state[name], lambda array: found.append(array) or array)
    for array in found:
        if is_device_array(array):
            library = type(array).__module__.split(".")[0]
            entry = ARRAY_LIBRARIES.get(library)
            return library, None if entry is None else entry[1](device(array))
    return None


def host_state(state):
    """``state`` (an estimator's ``__dict__``) with its placed arrays as
    numpy, plus the record of where they lived; for ``__getstate__``."""
    record = placement_record(state)
    if record is None:
        return state
    state = {
        name: convert_arrays(value, to_numpy) if name in PLACED_ATTRIBUTES else value
        for name, value in state.items()
    }
    state[_RECORD_KEY] = record
    return state


def split_placement(state):
    """``state`` without its placement record, and the record (or None)."""
    state = dict(state)
    return state, state.pop(_RECORD_KEY, None)


def place(estimator, record):
    """Move an unpickled numpy model's placed arrays to where ``record`` (from
    :func:`host_state`) says they lived, when this machine can hold them;
    keep numpy, with a warning, when it cannot or the record is not one of
    :data:`ARRAY_LIBRARIES`."""
    if record is None:
        return
    to_place = _placer(record, type(estimator).__name__)
    if to_place is None:
        return
    attributes = vars(estimator)
    for name in PLACED_ATTRIBUTES & attributes.keys():
        attributes[name] = convert_arrays(attributes[name], to_place)


def _placer(record, estimator_name):
    """A function moving numpy arrays to the record's library and device, or
    None (warned) when the record is unknown or this machine lacks them."""
    library, plain = record if _is_pair(record) else (None, None)
    entry = ARRAY_LIBRARIES.get(library) if isinstance(library, str) else None
    if entry is not None and type(plain).__module__.split(".")[0] == library:
        # skbp before 0.1's second trust round pickled the library's own
        # device object (a torch.device): already built by the pickle, it is
        # recorded as plain data the way the table records it.
        plain = entry[1](plain)
    if entry is None or not _plain_device(plain):
        warnings.warn(
            f"This {estimator_name} records its weights as living in "
            f"{quote(library)} on device {quote(plain)}, which is not an array "
            f"library skbp supports ({', '.join(ARRAY_LIBRARIES)}). Its weights "
            "were loaded as numpy arrays.",
            UserWarning,
            stacklevel=4,
        )
        return None
    module_name, _, find_device = entry
    try:
        # Imported by the table's fixed name, never by one read from the file.
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
        where = None if plain is None else find_device(module, plain)
        xp = array_api_compat().array_namespace(module.asarray(0))
        xp.asarray([0.0], device=where)  # the device exists here
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        warnings.warn(
            f"This {estimator_name} was fitted with {library} arrays on device "
            f"{plain!r}, which this machine cannot hold ({type(exc).__name__}: "
            f"{short_message(exc, 200)}). Its weights were loaded as numpy arrays: "
            "predict takes numpy input (or move the model with scikit-learn's "
            "move_estimator_to).",
            UserWarning,
            stacklevel=4,
        )
        return None
    return lambda array: xp.asarray(array, device=where)


def _is_pair(record):
    return type(record) in (tuple, list) and len(record) == 2


def _plain_device(plain):
    if plain is None:
        return True
    if type(plain) is int:
        return 0 <= plain < 2**16
    return type(plain) is str and _DEVICE_NAME.fullmatch(plain) is not None
