"""Which array library holds the arrays: numpy, or any array-API namespace.

The core's equations are written once, against a namespace ``xp`` that
:func:`namespace_of` returns for the arrays at hand:

- numpy arrays (and scipy sparse matrices, and Python scalars) get
  :data:`NUMPY`, a view of numpy itself: every call is numpy's own, with its
  ``out=`` buffers, ``np.dot`` and ``np.errstate``. This is the fast path,
  and it costs nothing: the equations run exactly as they did before any
  other library was supported.
- Arrays of another array-API library (PyTorch, CuPy, array-api-strict,
  ...) get an :class:`ArrayNamespace`: the library's standard namespace
  (through ``array_api_compat``: the package, else scikit-learn's copy,
  ``array_api_compat()``), plus the few numpy names the core uses
  beyond the standard, and an ``out=`` that every function accepts. The
  result is computed by the library, then written into ``out`` when one is
  given, so that code which relies on buffers being filled (the training
  workspace's gradient views) keeps working.

So the numpy-only conveniences (``out=``, ``dot``, ``errstate``,
``copyto``) live here, not in a second copy of the math.

The namespace is decided once per fit or prediction where that is known:
the whole-network functions of :mod:`skbp.core.network` ask
:func:`namespace_of` once and hand ``xp=`` down to the building blocks of
:mod:`skbp.core.layers`, :mod:`skbp.core.dropout` and
:mod:`skbp.core.regularization`, which ask themselves only when called
alone. Activations, losses and optimizers ask once per call (their methods
keep the signatures a subclass implements).
"""

import contextlib
import functools
import importlib
import types

import numpy as np
from numpy import ndarray

__all__ = [
    "NUMPY",
    "ArrayNamespace",
    "namespace_of",
    "get_namespace",
    "is_numpy",
    "host_scalar",
    "device",
    "to_numpy",
    "library_dtype",
]


def _numpy_namespace():
    """numpy, plus the array-API names an older numpy lacks."""
    # A module object, as numpy is: Python specialises attribute lookups on
    # modules (xp.exp costs what np.exp does), not on instances of a C type
    # such as SimpleNamespace, where each costs two dictionary searches.
    namespace = types.ModuleType(
        "numpy",
        "The namespace of numpy arrays: numpy's own functions, with their out= "
        "buffers (np.dot without its __array_function__ dispatch), and the "
        "array-API names an older numpy lacks.",
    )
    vars(namespace).update(
        (name, value) for name, value in vars(np).items() if not name.startswith("__")
    )

    # The array's own method, also where numpy >= 2.1 has np.astype: that
    # function's dispatch costs about 0.5 us more per call.
    def astype(x, dtype, /, *, copy=True, device=None):
        return x.astype(dtype, copy=copy)

    namespace.astype = astype
    # np.dot without its __array_function__ dispatch, which costs about
    # 0.3 us a call, ten calls a batch in a small network: what this
    # namespace holds is numpy arrays, which do not override it. (The core
    # multiplies a scipy sparse matrix with its own product, never np.dot.)
    namespace.dot = getattr(np.dot, "_implementation", np.dot)
    if not hasattr(np, "concat"):  # numpy < 2.0
        namespace.concat = np.concatenate
    return namespace


#: The namespace of numpy arrays: numpy itself, so every call is numpy's.
NUMPY = _numpy_namespace()


def is_numpy(xp):
    """Whether ``xp`` is :data:`NUMPY` (the fast path with ``out=`` buffers)."""
    return xp is NUMPY


def namespace_of(array=None, /, *arrays):
    """The namespace of the arrays: :data:`NUMPY` for numpy arrays.

    The one way the core (and the estimators) ask which library holds
    their arrays. A numpy array costs one type test (two or more numpy
    arrays, one each): the numpy path pays nothing for the other libraries.
    Arrays of one other type are looked up by that type: every array of a
    library shares its namespace, so :func:`get_namespace` (which knows
    scipy sparse matrices, scalars, ``None`` and every array-API library)
    is asked once per type, not once per call. Arrays of different types go
    to :func:`get_namespace` each time, which refuses arrays of different
    libraries.

    Parameters
    ----------
    array, *arrays : arrays of one library, scipy sparse matrices, scalars or None
        Typically one array of shape (n_samples, n_units) or a network's
        weights; ``None`` entries are ignored (none at all: numpy's).

    Returns
    -------
    xp : :data:`NUMPY` or ArrayNamespace
        :data:`NUMPY` for numpy arrays (and sparse matrices and scalars),
        else the library's :class:`ArrayNamespace`.

    Raises
    ------
    TypeError
        If the arrays come from different libraries, or from something that
        is not an array library.
    """
    if type(array) is ndarray and not arrays:  # the numpy path: one test
        return NUMPY
    kind = type(array)
    for other in arrays:
        if type(other) is not kind:
            return get_namespace(array, *arrays)
    if kind is ndarray:
        return NUMPY
    xp = _NAMESPACE_OF_TYPE.get(kind)
    if xp is None:
        # Not cached before it answers: what is not an array raises each time.
        xp = _NAMESPACE_OF_TYPE[kind] = get_namespace(array, *arrays)
    return xp


#: The namespace of each type of array :func:`namespace_of` has met, numpy's
#: apart (a library's arrays, on any device, share one namespace).
_NAMESPACE_OF_TYPE = {}


def get_namespace(*arrays):
    """The namespace of ``arrays`` (``None`` entries are ignored).

    What :func:`namespace_of` does, without its numpy fast path: the general
    case, which :func:`namespace_of` calls for anything but numpy arrays.

    Parameters
    ----------
    *arrays : arrays of one library, scipy sparse matrices, scalars or None

    Returns
    -------
    xp : :data:`NUMPY` or ArrayNamespace

    Raises
    ------
    TypeError
        If the arrays come from different libraries, or from something that
        is not an array library.
    """
    given = [a for a in arrays if a is not None]
    others = [a for a in given if not _is_numpy_like(a)]
    if not others:
        return NUMPY
    if len(others) < len(given):
        libraries = sorted({type(a).__module__.split(".")[0] for a in given})
        raise TypeError(
            f"Arrays from different libraries ({', '.join(libraries)}): move "
            "them to one library (and device) first."
        )
    return _array_api_namespace(*others)


def _is_numpy_like(a):
    if isinstance(a, (np.ndarray, np.generic, int, float, bool)):
        return True
    return type(a).__module__.startswith("scipy.sparse")


#: Where array_api_compat is found, in order: the package itself (the
#: ``array-api`` extra, whose version the user controls), then the copy
#: scikit-learn ships. Only the package's own API is used, which both have.
ARRAY_API_COMPAT = ("array_api_compat", "sklearn.externals.array_api_compat")


@functools.cache
def array_api_compat():
    """The ``array_api_compat`` module: the package, else scikit-learn's copy.

    So that computing on PyTorch or CuPy arrays needs only that library:
    scikit-learn vendors ``array_api_compat`` for its own array-API
    support. The core does not otherwise import scikit-learn (numpy alone
    runs it), so the copy is looked up by name, when first needed.

    Returns
    -------
    module

    Raises
    ------
    ImportError
        If neither is installed, saying what to install.
    """
    for name in ARRAY_API_COMPAT:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(
        "skbp needs the array-api-compat package (or scikit-learn, which ships a "
        "copy) to compute on arrays other than numpy's: pip install array-api-compat"
    )


def _array_api_namespace(*arrays):
    compat = array_api_compat()
    try:
        xp = compat.array_namespace(*arrays)
    except TypeError as exc:
        raise TypeError(
            f"{type(arrays[0]).__name__} is not an array of a library skbp can "
            f"compute with ({exc})."
        ) from exc
    return _wrapped(xp)


@functools.cache
def _wrapped(xp):
    return ArrayNamespace(xp)


class ArrayNamespace:
    """An array-API namespace with the numpy extras the core's equations use.

    Every function takes ``out=``: the library computes the result, which is
    then written into ``out`` (and ``out`` returned). Beyond the standard:
    ``dot`` (``matmul``), ``copyto``, ``errstate`` (a no-op: other
    libraries do not warn) and ``newaxis``. ``maximum`` and ``minimum``
    take a Python scalar for either argument (the standard allows it since
    its 2024.12 revision; older ``array_api_compat`` versions, such as the
    copy scikit-learn 1.9 ships, refuse it for PyTorch).

    Parameters
    ----------
    xp : module
        The library's array-API namespace (from ``array_api_compat``).
    """

    newaxis = None

    def __init__(self, xp):
        self.xp = xp
        self.__name__ = getattr(xp, "__name__", type(xp).__name__)

    def __repr__(self):
        return f"ArrayNamespace({self.__name__})"

    def __getattr__(self, name):
        attribute = getattr(self.xp, name)
        if callable(attribute) and not isinstance(attribute, type):
            attribute = _accepting_out(attribute)
        setattr(self, name, attribute)  # looked up once
        return attribute

    def dot(self, a, b, out=None):
        return _into(self.xp.matmul(a, b), out)

    def maximum(self, x1, x2, out=None):
        return _into(self.xp.maximum(*self._arrays(x1, x2)), out)

    def minimum(self, x1, x2, out=None):
        return _into(self.xp.minimum(*self._arrays(x1, x2)), out)

    def _arrays(self, x1, x2):
        """Both arguments as arrays: a Python scalar in the other's dtype,
        on its device (what the standard's scalar rule does)."""
        if isinstance(x2, (int, float)):
            x2 = self.xp.asarray(x2, dtype=x1.dtype, device=device(x1))
        elif isinstance(x1, (int, float)):
            x1 = self.xp.asarray(x1, dtype=x2.dtype, device=device(x2))
        return x1, x2

    def copyto(self, dst, src, casting=None):
        dst[...] = self.xp.astype(src, dst.dtype) if src.dtype != dst.dtype else src

    def errstate(self, **kwargs):
        return contextlib.nullcontext()


def _into(result, out):
    if out is None:
        return result
    out[...] = result
    return out


def _accepting_out(function):
    @functools.wraps(function)
    def with_out(*args, out=None, **kwargs):
        return _into(function(*args, **kwargs), out)

    return with_out


def host_scalar(xp, value):
    """A 0-d result as a Python float for numpy; left as it is otherwise.

    A loss is a number the training loop adds up. Turning a GPU's 0-d array
    into a float makes the host wait for the device, so outside numpy the
    value stays a 0-d array (it adds and multiplies like a number) until
    the caller needs the float, once per epoch.
    """
    return float(value) if xp is NUMPY else value


def device(x):
    """The device ``x`` lives on (``"cpu"`` for numpy)."""
    if _is_numpy_like(x):
        return "cpu"
    return array_api_compat().device(x)


def to_numpy(x):
    """``x`` as a numpy array (copied to the host when on a GPU)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get"):  # CuPy
        return x.get()
    if hasattr(x, "detach"):  # PyTorch
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except RuntimeError:
        # array-api-strict refuses off its CPU device: through the standard's
        # to_device, to the library's CPU device first.
        xp = array_api_compat().array_namespace(x)
        return np.asarray(x.to_device(xp.__array_namespace_info__().default_device()))


def library_dtype(xp, dtype):
    """``dtype`` as a dtype of ``xp``: numpy's names work for every library.

    So callers may say ``np.float32`` (or ``"float32"``) whatever the
    library, and also pass the library's own dtype (``torch.float32``).

    Parameters
    ----------
    xp : :data:`NUMPY` or ArrayNamespace
    dtype : numpy dtype, its name, or a dtype of ``xp``

    Returns
    -------
    dtype
        A numpy dtype for :data:`NUMPY`, else ``xp``'s dtype of that name.
    """
    if is_numpy(xp):
        return np.dtype(dtype)
    if isinstance(dtype, (np.dtype, type, str)):
        return getattr(xp, np.dtype(dtype).name)
    return dtype
