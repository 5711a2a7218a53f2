"""L-BFGS on the flattened parameters, through ``scipy.optimize.minimize``.

L-BFGS works on one vector; the network on lists of arrays. :func:`pack` and
:func:`unpack` convert between the two (weights first, then biases, each
flattened in C order, as scikit-learn's MLP does).
"""

import numpy as np
import scipy.optimize

__all__ = ["pack", "unpack", "packed_views", "minimize_lbfgs"]


def pack(coefs, intercepts):
    r"""Concatenate weights then biases into one flat vector :math:`\theta`.

    .. math:: \theta = \big(\operatorname{vec} W_1, \dots,
              \operatorname{vec} W_L,\ b_1, \dots, b_L\big)

    Each array flattened in C order (row by row), as scikit-learn does.
    """
    return np.concatenate([a.ravel() for a in (*coefs, *intercepts)])


def unpack(theta, coefs, intercepts):
    r"""Copy the flat vector ``theta`` into ``coefs`` and ``intercepts`` in place.

    The inverse of :func:`pack`: :math:`\theta` is cut back into
    :math:`W_1, \dots, W_L, b_1, \dots, b_L`.

    Parameters
    ----------
    theta : ndarray of shape (n_parameters,)
    coefs, intercepts : lists of ndarray
        Arrays whose shapes define the layout; overwritten.
    """
    start = 0
    for array in (*coefs, *intercepts):
        stop = start + array.size
        array[...] = theta[start:stop].reshape(array.shape)
        start = stop
    if start != theta.size:
        raise ValueError(f"expected {start} parameters, got {theta.size}")


def packed_views(coefs, intercepts):
    """Copy the parameters into one flat vector and return views into it.

    The stochastic optimizers then update every parameter with one
    operation per step on the flat vector, instead of one per array.

    Parameters
    ----------
    coefs, intercepts : lists of ndarray

    Returns
    -------
    flat : ndarray of shape (n_parameters,)
        The layout of :func:`pack`.
    coef_views, intercept_views : lists of ndarray
        Views of ``flat`` with the shapes of ``coefs`` and ``intercepts``.
    """
    flat = pack(coefs, intercepts)
    views, start = [], 0
    for array in (*coefs, *intercepts):
        views.append(flat[start : start + array.size].reshape(array.shape))
        start += array.size
    return flat, views[: len(coefs)], views[len(coefs) :]


def minimize_lbfgs(
    loss_and_grads, coefs, intercepts, max_iter, max_fun, tol, callback=None
):
    r"""Minimise :math:`J(\theta)` with L-BFGS-B, updating the parameters in place.

    scipy takes quasi-Newton steps along the gradient, with :math:`H_k`
    approximating the inverse Hessian and :math:`\lambda_k` from a line
    search:

    .. math:: \theta_{k+1} = \theta_k - \lambda_k H_k \nabla J(\theta_k)

    It stops at the first of: the largest gradient component at most
    ``tol`` (scipy's ``gtol``); a relative decrease
    :math:`(J_k - J_{k+1}) / \max(|J_k|, |J_{k+1}|, 1)` at most scipy's
    ``ftol`` (:math:`2.2 \times 10^{-9}` by default, left as scikit-learn
    leaves it); ``max_iter`` iterations; ``max_fun`` evaluations of
    :math:`J`.

    Parameters
    ----------
    loss_and_grads : callable
        ``loss_and_grads() -> (J, coef_grads, intercept_grads)`` evaluated at
        the current contents of ``coefs`` and ``intercepts``.
    coefs, intercepts : lists of ndarray
        Starting point; hold the solution on return.
    max_iter, max_fun : int
        Limits on iterations and on loss evaluations.
    tol : float
        Projected-gradient tolerance (scipy's ``gtol``).
    callback : callable, optional
        Called after each iteration with the flat parameter vector.

    Returns
    -------
    scipy.optimize.OptimizeResult
    """
    dtype = coefs[0].dtype

    def fun(theta):
        unpack(theta, coefs, intercepts)
        J, coef_grads, intercept_grads = loss_and_grads()
        # scipy's L-BFGS-B works in float64 whatever the parameters' dtype.
        return J, pack(coef_grads, intercept_grads).astype(np.float64)

    options = {"maxfun": max_fun, "maxiter": max_iter, "gtol": tol}
    result = scipy.optimize.minimize(
        fun,
        pack(coefs, intercepts).astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options=options,
        callback=callback,
    )
    unpack(result.x.astype(dtype, copy=False), coefs, intercepts)
    return result
