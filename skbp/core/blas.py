r"""In-place vector updates in one pass, through BLAS where the arrays allow it.

The optimizers and the L2 penalty update arrays as ``y += a * x``. Written in
numpy that is two passes over memory and a temporary the size of ``x``
(``a * x``, then the addition); BLAS's ``axpy`` does it in one pass with no
temporary, which matters when ``x`` holds every parameter of the network and
the update runs after every batch.

``axpy`` may fuse the multiply and the add (one rounding instead of two), so
results can differ from the numpy expression in the last bit.
"""

import numpy as np
from scipy.linalg import blas

__all__ = ["axpy"]

_AXPY = {np.dtype(np.float32): blas.saxpy, np.dtype(np.float64): blas.daxpy}


def axpy(a, x, y):
    """``y += a * x``, in place; returns ``y``.

    Parameters
    ----------
    a : float
    x : ndarray
    y : ndarray of the shape of ``x``
        Updated in place.

    Returns
    -------
    y : ndarray

    Notes
    -----
    BLAS is used for C-contiguous, non-empty float32 or float64 arrays of one
    dtype (``ravel`` is then a view, which BLAS updates in place); anything
    else takes the numpy expression.
    """
    routine = _AXPY.get(y.dtype)
    if (
        routine is not None
        and x.dtype == y.dtype
        and x.shape == y.shape
        and y.size
        and x.flags.c_contiguous
        and y.flags.c_contiguous
        and y.flags.writeable
    ):
        routine(x.ravel(), y.ravel(), a=a)
    else:
        y += a * x
    return y
