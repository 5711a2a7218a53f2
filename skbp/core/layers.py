r"""The building blocks of one fully connected layer (the seed's names).

Rows are samples: ``A_prev`` is ``(m, n_in)``, ``W`` is ``(n_in, n_out)``,
``b`` is ``(n_out,)`` and ``Z``, ``A`` are ``(m, n_out)``.

Forward:  :math:`Z = A_{prev} W + b`, then :math:`A = f(Z)`.

Backward, given :math:`dZ = \partial \ell / \partial Z` row by row:

.. math::

    dW = A_{prev}^T \, dZ / m, \qquad
    db = \textstyle\sum_i dZ_i / m, \qquad
    dA_{prev} = dZ \, W^T

Every array is a numpy array or an array of another array-API library
(PyTorch, CuPy, ...): "ndarray" below means either. The results are in the
inputs' library, on their device (see :mod:`skbp.core.namespace`).

``A_prev`` may be a scipy sparse matrix (the input layer), with numpy
weights only; no other array is. ``out=`` buffers must be C-contiguous
arrays of the result's dtype (leading row slices of a larger C-contiguous
buffer are).

The seed tutorial (seed 003) lays arrays out the other way, columns
being samples (``A`` of shape ``(n_in, m)``, ``W`` of ``(n_out, n_in)``,
``b`` of ``(n_out, 1)``). Its calls work here with the arrays transposed:
``linear_forward(A.T, W.T, b.ravel())``; its cache ``((A_prev, W, b), Z)``
is accepted beside :class:`LayerCache`, and ``linear_backward(dZ, cache)``
beside ``linear_backward(dZ, A_prev, W)``. Arrays left in the column
layout get a ValueError that says so (:func:`check_layer_shapes`), not
numpy's "shapes not aligned".

Each block takes an optional ``xp``, the namespace of its arrays
(:func:`~skbp.core.namespace.namespace_of`): the whole-network passes of
:mod:`skbp.core.network` decide it once and pass it to every layer; a block
called alone decides it itself.

The products are ``xp.dot``, which for numpy is ``np.dot``, not ``@``: both
call the same BLAS routine on large arrays, but ``np.dot`` reaches it with
less overhead on the small and thin products of tiny networks and one-row
batches (up to 4x faster on an outer product such as ``(m, 1) @ (1, n)``).
Other libraries get their ``matmul``.
"""

import functools
from typing import NamedTuple

import numpy as np
from numpy import ndarray

from .activations import get_activation
from .namespace import NUMPY, namespace_of

__all__ = [
    "LayerCache",
    "linear_forward",
    "linear_backward",
    "linear_activation_forward",
    "linear_activation_backward",
    "check_layer_shapes",
]


class LayerCache(NamedTuple):
    r"""What one layer's forward pass keeps for its backward pass.

    Exactly what :func:`linear_activation_backward` reads: the layer's input
    and weights for the affine part (:math:`dW = A_{prev}^\top dZ / m`,
    :math:`dA_{prev} = dZ\, W^\top`) and its pre-activation for
    :math:`f'(Z)`. The biases are not kept: no gradient reads them.
    A named tuple: ``A_prev, W, Z = cache`` unpacks it.

    Parameters
    ----------
    A_prev : ndarray or sparse matrix of shape (m, n_in)
        The layer's input: the previous layer's output, or ``X``.
    W : ndarray of shape (n_in, n_out)
        The layer's weights.
    Z : ndarray of shape (m, n_out)
        The layer's pre-activation :math:`A_{prev} W + b`.
    """

    #: The layer's input, shape (m, n_in).
    A_prev: object
    #: The layer's weights, shape (n_in, n_out).
    W: object
    #: The layer's pre-activation, shape (m, n_out).
    Z: object


# LayerCache(A_prev, W, Z) without the named tuple's Python-level __new__:
# half the cost, on a path taken once per layer per batch.
_new_cache = functools.partial(tuple.__new__, LayerCache)


def _layer_namespace(A_prev, W):
    """The namespace of a layer's input and weights.

    A numpy ``A_prev`` gives :data:`~skbp.core.namespace.NUMPY` after one
    type test (a scipy sparse one too, after a few more: its product then
    checks that ``W`` is numpy's). An ``A_prev`` of another library needs
    ``W`` in that library.

    Parameters
    ----------
    A_prev : ndarray or sparse matrix of shape (m, n_in)
    W : ndarray of shape (n_in, n_out)

    Returns
    -------
    xp : :data:`~skbp.core.namespace.NUMPY` or ArrayNamespace

    Raises
    ------
    TypeError
        For an ``A_prev`` and a ``W`` of two libraries, other than numpy.
    """
    xp = namespace_of(A_prev)
    return xp if xp is NUMPY else namespace_of(A_prev, W)


def check_layer_shapes(A_prev, W, b=None, dZ=None):
    """Check that a layer's arrays chain in skbp's layout; say why not.

    Rows are samples: ``A_prev`` is ``(m, n_in)``, ``W`` ``(n_in, n_out)``,
    ``b`` ``(n_out,)`` and ``dZ`` ``(m, n_out)``. The building blocks call
    this only after a product failed (a check on every call would cost the
    hot loop), to replace the library's "shapes not aligned" with a message
    that names the arrays, and that recognises the seed tutorial's column
    layout (every array transposed, ``b`` a column).

    Parameters
    ----------
    A_prev : ndarray or sparse matrix
    W : ndarray
    b, dZ : ndarray, optional
        Checked when given.

    Raises
    ------
    ValueError
        If the shapes do not chain.
    """
    shapes = {"A_prev": A_prev.shape, "W": W.shape}
    if b is not None:
        shapes["b"] = b.shape
    if dZ is not None:
        shapes["dZ"] = dZ.shape
    if _chain(**shapes):
        return
    named = ", ".join(f"{name} {tuple(shape)}" for name, shape in shapes.items())
    message = (
        f"The layer's arrays do not chain: {named}. skbp's rows are samples: "
        "A_prev is (m, n_in), W is (n_in, n_out), b is (n_out,) and dZ is "
        "(m, n_out)."
    )
    transposed = {name: tuple(reversed(shape)) for name, shape in shapes.items()}
    # A vector b reversed is itself: the tutorial's b is a column, (n_out, 1).
    if _chain(**transposed):
        message += (
            " These are the seed tutorial's column layout (columns are "
            "samples): pass A.T, W.T, dZ.T and b.ravel() (rows are samples)."
        )
    raise ValueError(message)


def _chain(A_prev, W, b=None, dZ=None):
    """Whether a layer's shapes chain in the rows-are-samples layout.

    ``b`` may be ``(n_out,)`` or a row ``(1, n_out)``: both broadcast over
    the rows (the column layout's ``b``, ``(n_out, 1)``, reversed is a row).
    """
    if len(A_prev) != 2 or len(W) != 2 or A_prev[1] != W[0]:
        return False
    n_out = W[1]
    if b is not None and tuple(b) not in ((n_out,), (1, n_out)):
        return False
    return dZ is None or tuple(dZ) == (A_prev[0], n_out)


def _sparse_product(S, B, out=None):
    """``S @ B`` for a scipy sparse ``S``, as an ndarray (into ``out``).

    ``B`` must be a numpy array: sparse input works with numpy weights only.
    """
    if not isinstance(B, ndarray):
        raise TypeError(
            "Sparse input works with numpy arrays only: got a scipy sparse "
            f"matrix with {type(B).__module__.split('.')[0]} weights. Densify "
            "the input (and move it to that library) or train on numpy."
        )
    product = np.asarray(S @ B)
    if out is None:
        return product
    out[...] = product
    return out


@functools.lru_cache(maxsize=8)
def _ones(m, dtype):
    """A read-only vector of ``m`` ones, made once per (m, dtype).

    An epoch has at most two batch sizes, so the vector is cached rather than
    allocated on every batch. Read-only, so sharing it between threads is
    safe.
    """
    ones = np.ones(m, dtype)
    ones.flags.writeable = False
    return ones


def linear_forward(A_prev, W, b, out=None, *, xp=None):
    r"""Affine part of a layer: :math:`Z = A_{prev} W + \mathbf 1_m b^\top`.

    ``A_prev @ W + b``, the biases broadcast over the ``m`` rows.

    Parameters
    ----------
    A_prev : ndarray or sparse matrix of shape (m, n_in)
        Previous layer's activations (or the input ``X``).
    W : ndarray of shape (n_in, n_out)
    b : ndarray of shape (n_out,)
    out : ndarray of shape (m, n_out), optional
        Buffer for ``Z``.
    xp : namespace, optional
        That of ``A_prev`` and ``W``, when the caller knows it (numpy's,
        :data:`~skbp.core.namespace.NUMPY`, for a sparse ``A_prev``).

    Returns
    -------
    Z : ndarray of shape (m, n_out)
    """
    if xp is None:
        xp = _layer_namespace(A_prev, W)
    try:  # free unless it raises: the shapes are checked after a failure
        if isinstance(A_prev, ndarray) or xp is not NUMPY:  # dense numpy: one test
            Z = xp.dot(A_prev, W, out=out)
        else:  # scipy sparse
            Z = _sparse_product(A_prev, W, out=out)
        Z += b
    except (ValueError, RuntimeError):  # numpy's, and other libraries'
        check_layer_shapes(A_prev, W, b)
        raise
    return Z


def linear_backward(
    dZ, A_prev, W=None, out=None, compute_dA_prev=True, averaged=False, *, xp=None
):
    r"""Gradients of the affine part, averaged over the ``m`` rows.

    .. math:: dW = \tfrac1m A_{prev}^\top dZ, \qquad
              db = \tfrac1m \mathbf 1_m^\top dZ, \qquad
              dA_{prev} = dZ\, W^\top

    ``dW`` is the data term only: :func:`skbp.core.network.backprop` adds
    the L2 term (:func:`skbp.core.regularization.add_l2_gradient`).

    Parameters
    ----------
    dZ : ndarray of shape (m, n_out)
        Gradient of each row's loss with respect to ``Z``.
    A_prev : ndarray or sparse matrix of shape (m, n_in), or tuple
        The layer's input; or, in the seed tutorial's call
        ``linear_backward(dZ, cache)``, its cache ``(A_prev, W, b)``.
    W : ndarray of shape (n_in, n_out)
        Required unless ``A_prev`` is the tutorial's cache.
    out : tuple (dA_prev, dW, db) of ndarrays, optional
        Buffers for the results (``dA_prev`` may be ``None``).
    compute_dA_prev : bool, default=True
        The input layer's ``dA_prev`` is never used: skipping it saves one
        matrix product per batch.
    averaged : bool, default=False
        ``dZ`` is already divided by ``m`` (the whole network's backward pass
        divides once, at the output, since every later ``dZ`` is linear in
        it), so ``dW`` and ``db`` need no division; ``dA_prev`` then comes
        out divided by ``m`` too.
    xp : namespace, optional
        That of ``dZ`` (:func:`~skbp.core.namespace.namespace_of`), when
        the caller knows it.

    Returns
    -------
    dA_prev : ndarray of shape (m, n_in), or None
    dW : ndarray of shape (n_in, n_out)
    db : ndarray of shape (n_out,)
    """
    if W is None:  # the seed tutorial's call: linear_backward(dZ, cache)
        A_prev, W, _ = A_prev
    if xp is None:
        xp = namespace_of(dZ)
    dA_prev_out, dW_out, db_out = (None, None, None) if out is None else out
    m = dZ.shape[0]
    try:  # free unless it raises: the shapes are checked after a failure
        if xp is NUMPY and not isinstance(A_prev, ndarray):
            dW = _sparse_product(A_prev.T, dZ, out=dW_out)
        else:
            dW = xp.dot(A_prev.T, dZ, out=dW_out)
    except (ValueError, RuntimeError):
        check_layer_shapes(A_prev, W, dZ=dZ)
        raise
    # db = 1^T dZ: numpy as the product ones @ dZ (BLAS beats sum(axis=0));
    # other libraries reduce (a reduction is what a GPU does well).
    if xp is NUMPY:
        db = xp.dot(_ones(m, dZ.dtype), dZ, out=db_out)
    else:
        db = xp.sum(dZ, axis=0, out=db_out)
    if not averaged:
        dW /= m
        db /= m
    dA_prev = xp.dot(dZ, W.T, out=dA_prev_out) if compute_dA_prev else None
    return dA_prev, dW, db


def linear_activation_forward(A_prev, W, b, activation, out=None, *, xp=None):
    """One layer: ``Z = A_prev @ W + b`` then ``A = f(Z)``.

    Parameters
    ----------
    A_prev : ndarray or sparse matrix of shape (m, n_in)
    W : ndarray of shape (n_in, n_out)
    b : ndarray of shape (n_out,)
    activation : Activation or str
        The activation :math:`f`, or its name as the seed tutorials pass it
        (``"relu"``, ``"sigmoid"``; see
        :func:`~skbp.core.activations.get_activation`).
    out : tuple (Z, A) of ndarrays of shape (m, n_out), optional
    xp : namespace, optional
        As in :func:`linear_forward`.

    Returns
    -------
    A : ndarray of shape (m, n_out)
    cache : LayerCache
        ``(A_prev, W, Z)``: exactly what the backward pass reads.
    """
    if isinstance(activation, str):  # a name: one type test for an Activation
        activation = get_activation(activation)
    Z_out, A_out = (None, None) if out is None else out
    Z = linear_forward(A_prev, W, b, out=Z_out, xp=xp)
    A = activation.forward(Z, out=A_out)
    return A, _new_cache((A_prev, W, Z))


def linear_activation_backward(
    dA,
    cache,
    activation,
    A=None,
    out=None,
    compute_dA_prev=True,
    averaged=False,
    *,
    xp=None,
):
    """Backward through one layer: ``dZ = dA * f'(Z)``, then the affine part.

    Parameters
    ----------
    dA : ndarray of shape (m, n_out)
        Gradient of each row's loss with respect to this layer's output.
    cache : LayerCache or tuple
        ``(A_prev, W, Z)`` from :func:`linear_activation_forward`, or the
        seed tutorial's cache ``((A_prev, W, b), Z)``.
    activation : Activation or str
        The activation of the forward pass, or its name (``"relu"``,
        ``"sigmoid"``; see :func:`~skbp.core.activations.get_activation`).
    A : ndarray of shape (m, n_out), optional
        This layer's output ``f(Z)`` when at hand (it is the next layer's
        ``A_prev``); saves recomputing it for logistic and tanh.
    out : tuple (dZ, dA_prev, dW, db) of ndarrays, optional
        Buffers; ``dZ`` may be ``dA`` itself.
    compute_dA_prev : bool, default=True
    averaged : bool, default=False
        ``dA`` is already divided by ``m`` (see :func:`linear_backward`).
    xp : namespace, optional
        That of ``dA``, when the caller knows it.

    Returns
    -------
    dA_prev : ndarray of shape (m, n_in), or None
    dW : ndarray of shape (n_in, n_out)
    db : ndarray of shape (n_out,)
    """
    if isinstance(activation, str):
        activation = get_activation(activation)
    try:
        A_prev, W, Z = cache
    except ValueError:  # not three: the tutorial's ((A_prev, W, b), Z)
        (A_prev, W, _), Z = cache
    dZ_out, grad_out = (None, None) if out is None else (out[0], out[1:])
    dZ = activation.backward(dA, Z, A, out=dZ_out)
    return linear_backward(
        dZ,
        A_prev,
        W,
        out=grad_out,
        compute_dA_prev=compute_dA_prev,
        averaged=averaged,
        xp=xp,
    )
