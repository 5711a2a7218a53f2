"""Where the data lives: the estimators' side of the array API.

With ``sklearn.set_config(array_api_dispatch=True)``, ``fit`` takes arrays of
any library scikit-learn supports (PyTorch on CPU, CUDA or MPS, CuPy,
array-api-strict, ...) and trains where ``X`` lives. The rules are
scikit-learn's (1.9):

- everything follows ``X``: regression targets and ``sample_weight`` are
  moved to ``X``'s library and device; class labels go to the host, where
  the label bookkeeping (which may hold strings) is done once per fit;
- fitted weights live in ``X``'s library and device, and ``predict`` takes
  inputs from that library and device only (scikit-learn's
  ``check_same_namespace`` error otherwise);
- sparse input stays numpy's; float16 is refused on other libraries.

No math here: the equations run in :mod:`skbp.core` on whatever library
holds the arrays.
"""

from typing import NamedTuple

import numpy as np
from sklearn import get_config
from sklearn.externals.array_api_compat import is_array_api_obj
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    get_namespace,
    get_namespace_and_device,
    supported_float_dtypes,
)

# namespace_of: the core's namespace of any array (numpy's: NUMPY), whatever
# the dispatch setting, which scikit-learn's get_namespace follows.
from ..core.namespace import device as xp_device
from ..core.namespace import get_namespace as namespace_of
from ..core.namespace import to_numpy

try:  # scikit-learn >= 1.8
    from sklearn.utils._array_api import move_to
except ImportError:  # pragma: no cover - older scikit-learn
    move_to = None
try:  # scikit-learn >= 1.9
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # pragma: no cover - older scikit-learn
    check_same_namespace = None

__all__ = [
    "Placement",
    "placement",
    "follow",
    "to_host",
    "host_dtype",
    "cast_like",
    "check_device_input",
    "check_fitted_placement",
    "copied",
    "all_finite",
    "take_rows",
    "float_dtypes",
    "is_numpy_array",
    "is_device_array",
    "namespace_of",
    "convert_arrays",
]


class Placement(NamedTuple):
    """The library and device of ``X``, as scikit-learn's helpers name them.

    Attributes
    ----------
    xp : module
        scikit-learn's namespace of ``X`` (``array_api_compat``'s).
    device : object
        ``X``'s device (None for numpy input without dispatch).
    on_host : bool
        True for numpy (and sparse, and array-like) input: the numpy path,
        with its ``out=`` buffers and fast paths, exactly as without
        dispatch.
    """

    xp: object
    device: object
    on_host: bool

    def put(self, array, dtype=None):
        """A numpy ``array`` moved to this library and device (cast to
        ``dtype``, one of this library's); anything else as it is."""
        if self.on_host or not is_numpy_array(array):
            return array
        return self.xp.asarray(array, dtype=dtype, device=self.device)


def placement(X):
    """The :class:`Placement` of ``X`` (numpy's unless dispatch is on)."""
    xp, _, device = get_namespace_and_device(X)
    return Placement(xp, device, _is_numpy_namespace(xp))


def follow(where, *arrays):
    """``arrays`` moved to ``X``'s library and device (None stays None).

    scikit-learn 1.9's rule for ``y`` and ``sample_weight``. With an older
    scikit-learn, inputs of mixed libraries get its own error instead.
    """
    if move_to is not None:
        moved = move_to(*arrays, xp=where.xp, device=where.device)
        return moved if len(arrays) > 1 else (moved,)
    get_namespace(*arrays)  # pragma: no cover - raises for mixed inputs
    return arrays  # pragma: no cover


def to_host(array):
    """``array`` as numpy when it is an array of another library; else as is
    (lists, pandas objects, sparse matrices and numpy arrays)."""
    return to_numpy(array) if is_device_array(array) else array


def cast_like(array, template):
    """``array`` in the dtype, library and device of the array ``template``
    (no copy when it is there already, for numpy)."""
    if is_numpy_array(template):
        return array.astype(template.dtype, copy=False)
    xp = namespace_of(template)
    return xp.asarray(array, dtype=template.dtype, device=xp_device(template))


def host_dtype(dtype):
    """The numpy dtype of a library's float dtype (``torch.float32`` ...)."""
    if isinstance(dtype, np.dtype):
        return dtype
    return np.dtype(str(dtype).rsplit(".", 1)[-1])


def float_dtypes(where):
    """The float dtypes ``validate_data`` keeps: float64 (where the device
    has it) and float32; anything else is converted to the first."""
    if where.on_host:
        return (np.float64, np.float32)
    return tuple(
        dtype
        for dtype in supported_float_dtypes(where.xp, where.device)
        if dtype != getattr(where.xp, "float16", None)
    )


def check_device_input(X, where):
    """Refuse what only the numpy path takes: sparse tensors and float16.

    Raises
    ------
    TypeError
        For a sparse array of another library than scipy.
    ValueError
        For float16 arrays of another library (numpy's float16 is cast to
        float64, as scikit-learn's MLP does).
    """
    if where.on_host:
        return
    if getattr(X, "is_sparse", False) or "sparse" in type(X).__module__:
        raise TypeError(
            f"Sparse input of {where.xp.__name__} is not supported: skbp trains "
            "on sparse data with scipy.sparse matrices (numpy) only. Pass a "
            "dense array, or a scipy.sparse matrix without array_api_dispatch."
        )
    if getattr(X, "dtype", None) == getattr(where.xp, "float16", object()):
        raise ValueError(
            "float16 input is not supported: its 11-bit mantissa cannot hold "
            "the small gradient steps of training. Cast X to float32 first."
        )


def check_fitted_placement(X, estimator, method):
    """scikit-learn's error when ``X`` is not where the weights live.

    ``estimator._fitted_array`` is one of its weight arrays (``coefs_`` is
    a list, which scikit-learn's check does not read as an array).
    """
    weights = estimator._fitted_array
    if is_device_array(weights) and not get_config()["array_api_dispatch"]:
        raise ValueError(
            f"{type(estimator).__name__}.{method}() needs array_api_dispatch: "
            f"this model's weights are {type(weights).__module__.split('.')[0]} "
            f"arrays on device {xp_device(weights)!r}. Call it within "
            "sklearn.config_context(array_api_dispatch=True) with X on that "
            "device, or move the model to numpy first (scikit-learn's "
            "move_estimator_to, or skbp.save and skbp.load)."
        )
    if check_same_namespace is not None:
        check_same_namespace(X, estimator, attribute="_fitted_array", method=method)


def copied(array):
    """A copy of ``array`` in its own library and device."""
    if is_numpy_array(array):
        return array.copy()
    return namespace_of(array).asarray(array, copy=True)


def take_rows(array, rows):
    """The ``rows`` (numpy indices) of ``array`` (any library, a sparse
    matrix, or None), where ``array`` lives."""
    if array is None:
        return None
    if not is_device_array(array):
        return array[rows]
    xp = namespace_of(array)
    return xp.take(array, xp.asarray(rows, device=xp_device(array)), axis=0)


def all_finite(array):
    """Whether every entry of ``array`` (any library) is finite."""
    if is_numpy_array(array):
        return bool(np.isfinite(array).all())
    xp = namespace_of(array)
    return bool(xp.all(xp.isfinite(array)))


def is_numpy_array(value):
    """True for a numpy array: one on the host, which numpy's own functions,
    methods and ``out=`` buffers take as they are.

    The one test of "is it numpy" outside the data interface (and the core,
    whose :func:`skbp.core.namespace_of` answers "which library"). Subclasses
    of ``numpy.ndarray`` count; numpy scalars (``numpy.generic``) do not.
    """
    return isinstance(value, np.ndarray)


def is_device_array(value):
    """True for an array of another library than numpy."""
    if is_numpy_array(value) or isinstance(value, np.generic):
        return False
    return is_array_api_obj(value)


def convert_arrays(value, converter):
    """``value`` with every array inside it (lists, tuples, dicts, skbp's
    own objects such as optimizers) replaced by ``converter(array)``.

    Used to move a model between libraries and devices: its weights, best
    weights and optimizer state. Numbers, strings and other objects are
    shared, not copied.
    """
    if is_numpy_array(value) or is_device_array(value):
        return converter(value)
    if isinstance(value, (list, tuple)):
        return type(value)(convert_arrays(item, converter) for item in value)
    if isinstance(value, dict):
        return {key: convert_arrays(item, converter) for key, item in value.items()}
    if type(value).__module__.startswith("skbp.") and hasattr(value, "__dict__"):
        clone = object.__new__(type(value))
        clone.__dict__.update(convert_arrays(vars(value), converter))
        return clone
    return value
