"""L-BFGS on the flattened parameters, through ``scipy.optimize.minimize``.

L-BFGS works on one vector; the network on lists of arrays.
:class:`~skbp.core.layout.ParameterLayout` converts between the two (weights
first, then biases, each flattened in C order, as scikit-learn's MLP does).

The parameters may be arrays of any array-API library, on any device (a
GPU): the loss and its gradient are computed there, while scipy's L-BFGS-B
runs on the host, in float64 numpy. Per evaluation one flat vector goes to
the device (the point to evaluate) and one comes back (the gradient), as in
scikit-learn's array-API LogisticRegression.
"""

import numpy as np
import scipy.optimize

from .layout import ParameterLayout

# pack, unpack and packed_views were defined here first: still importable
# from this module, defined (once) in skbp.core.layout.
from .layout import pack as pack
from .layout import packed_views as packed_views
from .layout import unpack as unpack
from .namespace import NUMPY, device, namespace_of, to_numpy

__all__ = ["minimize_lbfgs"]


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
        the current contents of ``coefs`` and ``intercepts``; ``J`` a float
        (or a 0-d array), the gradients in the parameters' library.
    coefs, intercepts : lists of ndarray
        Starting point; hold the solution on return. numpy arrays, or arrays
        of another array-API library on any device, written in place there.
    max_iter, max_fun : int
        Limits on iterations and on loss evaluations.
    tol : float
        Projected-gradient tolerance (scipy's ``gtol``).
    callback : callable, optional
        Called after each iteration with the flat parameter vector (scipy's:
        a float64 numpy vector on the host).

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x`` and ``jac`` are float64 numpy vectors, whatever the library.
    """
    layout = ParameterLayout.of(coefs, intercepts)
    xp = namespace_of(*coefs, *intercepts)
    where = device(coefs[0])

    def to_device(theta):
        return theta if xp is NUMPY else xp.asarray(theta, device=where)

    def fun(theta):
        layout.unpack(to_device(theta), out=(coefs, intercepts))
        J, coef_grads, intercept_grads = loss_and_grads()
        # scipy's L-BFGS-B works in float64 whatever the parameters' dtype:
        # the gradient is packed (and cast) on the device, one vector back.
        grad = layout.pack(coef_grads, intercept_grads, dtype=np.float64)
        return float(J), to_numpy(grad)

    options = {"maxfun": max_fun, "maxiter": max_iter, "gtol": tol}
    result = scipy.optimize.minimize(
        fun,
        to_numpy(layout.pack(coefs, intercepts, dtype=np.float64)),
        method="L-BFGS-B",
        jac=True,
        options=options,
        callback=callback,
    )
    layout.unpack(to_device(result.x), out=(coefs, intercepts))
    return result
