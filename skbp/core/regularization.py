r"""L2 penalty on the weights (not the biases).

.. math:: R(W) = \frac{\alpha}{2 n} \sum_l \lVert W_l \rVert_F^2, \qquad
          \frac{\partial R}{\partial W_l} = \frac{\alpha}{n} W_l

``n`` is the number of samples (or the sum of the sample weights,
:math:`n = \sum_i s_i`), so that the penalty keeps its strength relative to
the mean data loss, as in scikit-learn's MLP. Weights are therefore not
scale-free: multiplying every :math:`s_i` by :math:`c` leaves the weighted
mean loss as it is and divides the penalty by :math:`c`, which is what makes
a row of weight :math:`q` count exactly as :math:`q` copies of it.

The weights are ndarrays or arrays of another array-API library (PyTorch,
CuPy, ...), all of one library (:mod:`skbp.core.namespace`). Each function
takes that library's namespace as ``xp`` when the caller knows it
(:func:`skbp.core.network.backprop` does), and asks
:func:`~skbp.core.namespace.namespace_of` otherwise.
"""

from .namespace import NUMPY, namespace_of

__all__ = ["l2_penalty", "add_l2_gradient", "squared_norm"]


def squared_norm(x, *, xp=None):
    r"""Sum of the squares of every entry, :math:`\lVert x \rVert^2`.

    One dot product of ``x`` flattened with itself. Shared by
    :func:`l2_penalty` and :meth:`skbp.core.losses.SquaredError.value`.

    Parameters
    ----------
    x : ndarray of any shape
    xp : namespace, optional
        ``x``'s (:func:`~skbp.core.namespace.namespace_of`).

    Returns
    -------
    float or 0-d array
        A Python float for numpy, a 0-d array of ``x``'s library otherwise
        (see :func:`~skbp.core.host_scalar`).
    """
    if xp is None:
        xp = namespace_of(x)
    if xp is NUMPY:
        # ravel (a view when contiguous) costs 0.5 us less than np.reshape;
        # the float is host_scalar's, without its call (three per batch).
        flat = x.ravel()
        return float(xp.dot(flat, flat))
    flat = xp.reshape(x, (-1,))
    return xp.dot(flat, flat)


def l2_penalty(coefs, alpha, n, *, xp=None):
    r"""Value of the L2 penalty, :math:`\frac{\alpha}{2n} \sum_l \lVert W_l \rVert_F^2`.

    Parameters
    ----------
    coefs : list of ndarray of shape (n_in, n_out)
    alpha : float
    n : float or 0-d array
        Number of samples, or sum of sample weights.
    xp : namespace, optional
        The weights' (:func:`~skbp.core.namespace.namespace_of`).

    Returns
    -------
    float or 0-d array
        A Python float for numpy (or ``alpha == 0``), a 0-d array of the
        weights' library otherwise (see :func:`~skbp.core.host_scalar`).
    """
    if alpha == 0:
        return 0.0
    if xp is None:
        xp = namespace_of(coefs[0])
    squares = 0.0
    for W in coefs:  # a loop, not sum() of a list: no frame per call
        squares += squared_norm(W, xp=xp)
    return 0.5 * alpha * squares / n


def add_l2_gradient(coef_grads, coefs, alpha, n, *, xp=None):
    r"""Add the penalty's gradient :math:`\alpha W_l / n` to each ``dW_l``, in place.

    Parameters
    ----------
    coef_grads : list of ndarray of shape (n_in, n_out)
        The data part of each ``dW_l``; the penalty's part is added to it.
    coefs, alpha, n, xp
        As in :func:`l2_penalty`.

    Returns
    -------
    coef_grads : list of ndarray
        The same arrays.
    """
    if alpha == 0:
        return coef_grads
    scale = alpha / n
    if not isinstance(scale, float):
        # n is a 0-d array on a device (a sum of weights): in the weights'
        # dtype, as a Python float would leave them.
        if xp is None:
            xp = namespace_of(scale)
        scale = xp.astype(scale, coefs[0].dtype)
    for dW, W in zip(coef_grads, coefs):
        dW += scale * W
    return coef_grads
