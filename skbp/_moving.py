"""Moving a fitted model between array libraries and devices.

A model fitted on a GPU holds its weights there. Three ways move it:

- ``sklearn.utils._array_api.move_estimator_to(model, xp, device)``
  (scikit-learn >= 1.9) calls the estimators' ``__sklearn_array_api_convert__``,
  which converts the arrays that live where the model lives (weights, best
  weights, optimizer moments, the dropout salt) and copies the rest.
- pickle (and joblib) store those arrays as numpy, with a note of their
  library and device. Unpickling moves them back there when this machine
  has that library and device, and keeps numpy with a warning when it has
  not: a GPU model loads on a machine without a GPU.
- :func:`skbp.save` stores numpy; :func:`skbp.load` gives a numpy model.
"""

import copy
import importlib
import warnings

from ._array_api import convert_arrays, copied, is_device_array
from .core.namespace import device, to_numpy

__all__ = [
    "PLACED_ATTRIBUTES",
    "converted",
    "placement_record",
    "host_state",
    "restored_state",
]

#: The fitted attributes whose arrays live where the model lives (its
#: library and device). Everything else (labels, loss curves, counters, the
#: random generator) is host data.
PLACED_ATTRIBUTES = frozenset(
    {
        "coefs_",
        "intercepts_",
        "_best_coefs",
        "_best_intercepts",
        "_optimizer",
        "_dropout_salt",
    }
)

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
        Shares no mutable state with ``estimator``.
    """

    def fresh(array):
        moved = converter(array)
        return copied(moved) if moved is array else moved

    new = object.__new__(type(estimator))
    for name, value in vars(estimator).items():
        if name in PLACED_ATTRIBUTES:
            value = convert_arrays(value, fresh)
        else:
            value = copy.deepcopy(value)
        setattr(new, name, value)
    return new


def placement_record(state):
    """``(library, device)`` of the first placed array of ``state`` that is
    not numpy's, or None for a numpy model."""
    found = []
    for name in sorted(PLACED_ATTRIBUTES & state.keys()):
        convert_arrays(state[name], lambda array: found.append(array) or array)
    for array in found:
        if is_device_array(array):
            library = type(array).__module__.split(".")[0]
            where = device(array)
            if library == "cupy":  # its Device object: stored by number
                where = int(getattr(where, "id", 0))
            return library, where
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


def restored_state(state, estimator_name):
    """``state`` from :func:`host_state`, its arrays moved back where they
    lived when this machine can hold them; numpy (with a warning) if not."""
    record = state.pop(_RECORD_KEY, None)
    if record is None:
        return state
    to_place = _placer(*record, estimator_name)
    if to_place is None:
        return state
    return {
        name: convert_arrays(value, to_place) if name in PLACED_ATTRIBUTES else value
        for name, value in state.items()
    }


def _placer(library, where, estimator_name):
    """A function moving numpy arrays to ``library`` on ``where``, or None."""
    try:
        import array_api_compat

        module = importlib.import_module(library)
        xp = array_api_compat.array_namespace(module.asarray(0))
        xp.asarray([0.0], device=where)  # the device exists here
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        warnings.warn(
            f"This {estimator_name} was fitted with {library} arrays on device "
            f"{where!r}, which this machine cannot hold ({type(exc).__name__}: "
            f"{exc}). Its weights were loaded as numpy arrays: predict takes "
            "numpy input (or move the model with scikit-learn's "
            "move_estimator_to).",
            UserWarning,
            stacklevel=4,
        )
        return None
    return lambda array: xp.asarray(array, device=where)
