r"""Inverted dropout: randomly silenced hidden units while training.

While training, each hidden unit of each row is kept with probability
:math:`1 - p` and silenced otherwise; kept units are scaled by
:math:`1 / (1 - p)` so that a unit's expected output is unchanged. Prediction
then uses the network as it is, with no mask and no rescaling ("inverted"
dropout), which is why :func:`skbp.core.network.forward_output` never sees a
mask.

.. math::

    M_{ij} = \frac{[u_{ij} \ge p]}{1 - p}, \qquad
    \tilde A = A \odot M, \qquad
    \frac{\partial \ell}{\partial A} = \frac{\partial \ell}{\partial \tilde A}
    \odot M

``A`` is a hidden layer's output, ``(n_samples, n_units)``; the mask has the
same shape and is drawn afresh for every training step.

Where the uniforms :math:`u_{ij}` come from
-------------------------------------------
Not from a stream of random numbers consumed row after row, but from a hash
of (the row's content, the unit, the training step, a seed): a
counter-based generator. Identical rows therefore get identical masks within
a step, so a row with ``sample_weight=k`` is trained exactly like ``k``
copies of it, dropout included (scikit-learn's sample-weight contract). The
row's content enters through one integer key per row (:func:`row_keys`); the
hash is SplitMix64, whose outputs pass the usual statistical test batteries.

Other array libraries
---------------------
The keys and uniforms are always computed with numpy, on the host, so that
every library and device gets the same masks for the same seed. A mask for
arrays of another library (``like=``) is moved there as booleans, then
scaled on the device: :math:`1 / (1 - p)` is correctly rounded in every
library, so the masks are equal bit for bit. :func:`row_keys` copies
non-numpy input to the host; as a row's key depends on nothing but its
values, a fit can compute the keys of all its rows once, on the host copy
of ``X``, and take each batch's rows from them. :func:`dropout_forward`
and :func:`dropout_backward` take arrays of any library (``ndarray`` in
their parameters stands for them too) and compute in it.
"""

import numpy as np

from .namespace import NUMPY, device, library_dtype, namespace_of, to_numpy

__all__ = [
    "row_keys",
    "uniform_hash",
    "dropout_mask",
    "dropout_masks",
    "dropout_forward",
    "dropout_backward",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(z):
    """SplitMix64's finaliser on a uint64 array (wrapping arithmetic)."""
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def row_keys(X, salt):
    """One uint64 key per row that depends only on the row's values.

    Each nonzero entry ``x_ij`` contributes ``splitmix64(bits(x_ij) ^
    salt[j])`` and the contributions are added modulo 2**64. Integer
    addition is exact and order-free, so equal rows get equal keys wherever
    they sit in a batch (a float projection computed by BLAS would not: its
    rounding can depend on the row's position). Zeros contribute nothing, so
    sparse and dense input agree; values are taken in float64, so float32
    and float64 input agree too.

    Parameters
    ----------
    X : {ndarray, sparse matrix, array} of shape (n_samples, n_features)
        Arrays of other libraries than numpy are copied to the host first.
    salt : ndarray of shape (n_features,), uint64
        Drawn once per fit.

    Returns
    -------
    numpy.ndarray of shape (n_samples,), uint64
    """
    if namespace_of(X) is not NUMPY:
        X = to_numpy(X)  # hashed on the host, where the masks are drawn
    if isinstance(X, np.ndarray):
        values = np.asarray(X, dtype=np.float64)
        columns = np.arange(X.shape[1])
    else:  # scipy sparse: the stored entries of each row
        X = X.tocsr()
        values = np.asarray(X.data, dtype=np.float64)
        columns = X.indices
    contributions = _splitmix64(values.view(np.uint64) ^ salt[columns])
    contributions[values == 0] = 0
    if isinstance(X, np.ndarray):
        return contributions.sum(axis=1, dtype=np.uint64)
    keys = np.zeros(X.shape[0], dtype=np.uint64)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    np.add.at(keys, rows, contributions)
    return keys


def uniform_hash(keys, n_units, counter):
    """Uniforms in ``[0, 1)`` of shape ``(n_samples, n_units)`` from hashes.

    Entry ``(i, j)`` depends only on ``keys[i]``, ``j`` and ``counter``.

    Parameters
    ----------
    keys : ndarray of shape (n_samples,), uint64
        From :func:`row_keys`.
    n_units : int
    counter : int
        Distinct for every (seed, step, layer); see :func:`dropout_masks`.

    Returns
    -------
    ndarray of shape (n_samples, n_units), float64
    """
    row = _splitmix64(keys ^ np.uint64(counter))
    unit = np.arange(1, n_units + 1, dtype=np.uint64) * _GOLDEN
    bits = _splitmix64(row[:, np.newaxis] + unit)
    # The top 53 bits as a double in [0, 1).
    return (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53


def dropout_mask(keys, n_units, rate, counter, dtype=None, like=None):
    r"""One inverted-dropout mask, :math:`M_{ij} = [u_{ij} \ge p] / (1 - p)`.

    :math:`u_{ij}` from :func:`uniform_hash`, :math:`p` = ``rate``.

    Parameters
    ----------
    keys : numpy.ndarray of shape (n_samples,)
        Row keys from :func:`row_keys`.
    n_units : int
    rate : float in [0, 1)
        Probability ``p`` of silencing a unit.
    counter : int
    dtype : dtype, optional
        A dtype of the mask's library (``like``'s, or numpy). Default:
        ``like``'s dtype, or float64 without ``like``.
    like : array, optional
        An array of the library and device the mask is for (numpy when
        omitted). The mask is drawn with numpy all the same, then moved.

    Returns
    -------
    mask : array of shape (n_samples, n_units)
        ``0`` for silenced units, ``1 / (1 - p)`` for kept ones; in ``like``'s
        library and on its device.
    """
    keep = uniform_hash(keys, n_units, counter) >= rate
    xp = NUMPY
    if like is not None:
        if dtype is None:
            dtype = like.dtype
        xp = namespace_of(like)
        if xp is not NUMPY:
            # Moved as booleans (an eighth of float64's bytes) and scaled
            # there: 1 / (1 - p) is correctly rounded in every library.
            keep = xp.asarray(keep, device=device(like))
    mask = xp.astype(keep, library_dtype(xp, np.float64 if dtype is None else dtype))
    mask /= 1.0 - rate
    return mask


def dropout_masks(keys, hidden_units, rates, seed, step, dtype=None, like=None):
    r"""One mask :math:`M_l` per layer of a network (``None`` where nothing is dropped).

    Each from :func:`dropout_mask` with its layer's rate :math:`p_l`, and
    fresh at every training step.

    Parameters
    ----------
    keys : numpy.ndarray of shape (n_samples,)
        Row keys of the batch (:func:`row_keys`).
    hidden_units : sequence of int
        Width of each hidden layer.
    rates : sequence of float
        Dropout rate of each hidden layer (same length as ``hidden_units``).
    seed : int
        Drawn once per fit from the estimator's ``random_state``.
    step : int
        Training step (batch) number: a fresh mask every step.
    dtype, like
        As in :func:`dropout_mask`: the masks' dtype, library and device.

    Returns
    -------
    list
        ``len(hidden_units) + 1`` entries, one per layer, the output layer's
        (last) always ``None``: the format :func:`skbp.core.network.backprop`
        takes.
    """
    n_layers = len(hidden_units)
    masks = []
    for layer, (units, rate) in enumerate(zip(hidden_units, rates)):
        counter = (seed + step * (n_layers + 1) + layer) % 2**64
        mask = dropout_mask(keys, units, rate, counter, dtype, like) if rate else None
        masks.append(mask)
    return [*masks, None]


def dropout_forward(A, mask, out=None, *, xp=None):
    r"""Silence and rescale: :math:`\tilde A = A \odot M`.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_units)
    mask : ndarray of shape (n_samples, n_units)
        From :func:`dropout_mask`.
    out : ndarray of shape (n_samples, n_units), optional
        May be ``A`` itself.
    xp : namespace, optional
        ``A``'s (:func:`~skbp.core.namespace.namespace_of`), when the caller
        knows it.

    Returns
    -------
    ndarray of shape (n_samples, n_units)
    """
    if xp is None:
        xp = namespace_of(A)
    return xp.multiply(A, mask, out=out)


def dropout_backward(dA_tilde, mask, out=None, *, xp=None):
    r"""Chain rule through the mask: :math:`dA = d\tilde A \odot M`.

    Silenced units get no gradient; kept ones get it scaled by
    :math:`1/(1-p)`, exactly as their output was.

    Parameters
    ----------
    dA_tilde : ndarray of shape (n_samples, n_units)
        Gradient with respect to the masked output.
    mask, out, xp
        As in :func:`dropout_forward` (``out`` may be ``dA_tilde`` itself).

    Returns
    -------
    dA : ndarray of shape (n_samples, n_units)
    """
    if xp is None:
        xp = namespace_of(dA_tilde)
    return xp.multiply(dA_tilde, mask, out=out)
