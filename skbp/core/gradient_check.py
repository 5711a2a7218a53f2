r"""Finite-difference check of the hand-written backward pass.

Each parameter :math:`\theta_j` is nudged both ways and the loss difference
compared with backprop's gradient:

.. math:: \frac{\partial J}{\partial \theta_j} \approx
          \frac{J(\theta + \varepsilon e_j) - J(\theta - \varepsilon e_j)}
          {2 \varepsilon}

The numerical side always runs in float64 numpy, on the host (finite
differences in float32 are too coarse to check anything, and a loop of
single-entry nudges is no work for a GPU); the analytic side runs in the
parameters' own dtype, library and device, so a float32 network on PyTorch
is checked as it trains. Arrays of any array-API library are accepted:
they are converted to numpy for the numerical side and the comparison.
"""

import numpy as np
import scipy.sparse

from .namespace import to_numpy
from .network import backprop

__all__ = ["numerical_gradients", "relative_error", "gradient_check"]


def numerical_gradients(loss_fn, params, eps=1e-6):
    r"""Central finite differences of ``loss_fn()`` for every entry of ``params``.

    .. math:: \frac{\partial J}{\partial \theta_j} \approx
              \frac{J(\theta + \varepsilon e_j) - J(\theta - \varepsilon e_j)}
              {2 \varepsilon}

    with :math:`J` = ``loss_fn()`` and :math:`\varepsilon` = ``eps``;
    returned in float64 numpy, whatever the dtype or library of ``params``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn() -> float``, evaluated at the current contents of
        ``params``.
    params : list of ndarray
        Arrays nudged in place (and restored), of any library: each nudged
        value is computed on the host in the array's dtype, then written.
    eps : float, default=1e-6

    Returns
    -------
    list of numpy.ndarray, shapes of ``params``
    """
    grads = []
    for param in params:
        grad = np.empty(tuple(param.shape), dtype=np.float64)
        # A host copy: the original values, read in the array's dtype.
        values = np.array(to_numpy(param))
        for idx in np.ndindex(values.shape):
            original = values[idx]
            param[idx] = float(original + eps)  # exact: already in the dtype
            plus = loss_fn()
            param[idx] = float(original - eps)
            minus = loss_fn()
            param[idx] = float(original)
            grad[idx] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def relative_error(analytic, numerical, floor=1e-8):
    r"""Largest relative error over a list of gradient arrays.

    Per pair of arrays, :math:`D_{bp}` from ``analytic`` (backprop) and
    :math:`D_{fd}` from ``numerical`` (finite differences):

    .. math:: \frac{\lVert D_{bp} - D_{fd} \rVert}
              {\max(\lVert D_{bp} \rVert + \lVert D_{fd} \rVert, \text{floor})}

    (norms over the whole array, so near-zero entries do not dominate),
    computed in float64 numpy: arrays of other libraries are converted.

    Returns
    -------
    float
    """
    worst = 0.0
    for a, n in zip(analytic, numerical):
        a = np.asarray(to_numpy(a), dtype=np.float64)
        n = np.asarray(to_numpy(n), dtype=np.float64)
        denom = max(np.linalg.norm(a) + np.linalg.norm(n), floor)
        worst = max(worst, float(np.linalg.norm(a - n) / denom))
    return worst


def gradient_check(
    X,
    Y,
    coefs,
    intercepts,
    activations,
    loss,
    alpha=0.0,
    sample_weight=None,
    eps=1e-6,
    dropout_masks=None,
    floor=1e-8,
):
    r"""Compare :func:`skbp.core.network.backprop` with finite differences.

    Returns the :func:`relative_error` of :math:`D_{bp}`, backprop's
    gradient computed in the parameters' own dtype, against
    :math:`D_{fd}`, the finite differences of :func:`numerical_gradients`
    computed in float64.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (m, n_features)
    Y : ndarray of shape (m, n_outputs)
    coefs, intercepts : lists of ndarray
        The point at which to check (not modified). Of any array-API
        library: backprop runs there, the finite differences in numpy.
    activations : list of (Activation or str)
    loss : Loss
    alpha : float, default=0.0
    sample_weight : ndarray of shape (m,), optional
    eps : float, default=1e-6
    dropout_masks : list of (ndarray or None), optional
        Fixed dropout masks, the same for every evaluation (see
        :func:`skbp.core.dropout.dropout_masks`).
    floor : float, default=1e-8
        Smallest denominator of :func:`relative_error`: raise it when true
        gradients are (near) zero, where finite-difference noise of order
        ``1e-10`` would otherwise look like a relative error.

    Returns
    -------
    float
        The largest relative error (see :func:`relative_error`): about 1e-7
        or less in float64 and 1e-3 or less in float32 when backprop is right.
    """
    _, coef_grads, intercept_grads = backprop(
        X,
        Y,
        coefs,
        intercepts,
        activations,
        loss,
        alpha,
        sample_weight,
        dropout_masks=dropout_masks,
    )
    analytic = [np.array(to_numpy(g)) for g in (*coef_grads, *intercept_grads)]
    X64, Y64, coefs64, intercepts64, masks64 = _float64_copies(
        X, Y, coefs, intercepts, dropout_masks
    )
    if sample_weight is not None:
        sample_weight = to_numpy(sample_weight)

    def loss_fn():
        J, _, _ = backprop(
            X64,
            Y64,
            coefs64,
            intercepts64,
            activations,
            loss,
            alpha,
            sample_weight,
            dropout_masks=masks64,
        )
        return J

    numerical = numerical_gradients(loss_fn, [*coefs64, *intercepts64], eps)
    return relative_error(analytic, numerical, floor=floor)


def _float64_copies(X, Y, coefs, intercepts, dropout_masks):
    """Host float64 copies of the data, weights and masks: the finite
    differences' own arrays (the checked ones are never modified).

    Returns ``X64, Y64, coefs64, intercepts64, masks64`` (a sparse ``X``
    stays sparse; ``masks64`` is None without masks).
    """

    def as64(arrays):
        return [np.array(to_numpy(a), dtype=np.float64) for a in arrays]

    X64 = X.astype(np.float64) if scipy.sparse.issparse(X) else as64([X])[0]
    Y64 = np.asarray(to_numpy(Y), dtype=np.float64)
    masks64 = None
    if dropout_masks is not None:
        masks64 = [None if M is None else as64([M])[0] for M in dropout_masks]
    return X64, Y64, as64(coefs), as64(intercepts), masks64
