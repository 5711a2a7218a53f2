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

:func:`activation_error` and :func:`loss_error` check one piece of math on
its own, an :class:`~skbp.core.activations.Activation` or a
:class:`~skbp.core.losses.Loss` written by hand: the estimators run them on
a user's objects before training (their ``check_gradients`` parameter).
Both run entirely in float64 numpy.
"""

import numpy as np
import scipy.sparse

from .namespace import to_numpy
from .network import backprop

__all__ = [
    "numerical_gradients",
    "relative_error",
    "gradient_check",
    "activation_error",
    "loss_error",
]

#: Kink test of :func:`_smooth_entries`: an entry whose one-sided slopes
#: differ by more than this share of their size has a kink (or a jump)
#: within ``eps`` of it.
KINK_TOLERANCE = 0.1
#: :func:`_resolution`'s rounding estimate times this is the default
#: ``floor`` of :func:`activation_error` and :func:`loss_error`: rounding
#: alone then gives a relative error of at most about ``1 / NOISE_MARGIN``.
NOISE_MARGIN = 1e5


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
        plus, minus = _nudged_values(loss_fn, param, eps)
        grads.append((plus - minus) / (2 * eps))
    return grads


def _nudged_values(loss_fn, param, eps):
    r"""``loss_fn()`` with each entry of ``param`` nudged by :math:`\pm` ``eps``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn() -> float``.
    param : ndarray
        Nudged in place, one entry at a time, and restored.
    eps : float

    Returns
    -------
    plus, minus : numpy.ndarray of float64, shape of ``param``
        :math:`J(\theta + \varepsilon e_j)` and
        :math:`J(\theta - \varepsilon e_j)` for each entry :math:`j`.
    """
    plus = np.empty(tuple(param.shape), dtype=np.float64)
    minus = np.empty_like(plus)
    # A host copy: the original values, read in the array's dtype.
    values = np.array(to_numpy(param))
    for idx in np.ndindex(values.shape):
        original = values[idx]
        param[idx] = float(original + eps)  # exact: already in the dtype
        plus[idx] = loss_fn()
        param[idx] = float(original - eps)
        minus[idx] = loss_fn()
        param[idx] = float(original)
    return plus, minus


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


def activation_error(activation, Z, dA, eps=1e-6, floor=None):
    r"""Check an activation's :meth:`~skbp.core.activations.Activation.backward`.

    With :math:`A = f(Z)` and a fixed upstream gradient :math:`dA`, the
    scalar

    .. math:: J(Z) = \sum_{ik} dA_{ik}\, \bigl(f(Z)_{ik} - A_{ik}\bigr)

    has the gradient :math:`\partial J / \partial Z = dZ`, what
    ``backward(dA, Z, A)`` returns: :math:`dA \odot f'(Z)` for an
    elementwise :math:`f`, the Jacobian-vector product row by row for one
    that is not (a softmax). The central differences of :math:`J`
    (:func:`numerical_gradients`) are compared with it by
    :func:`relative_error`. Subtracting the constant :math:`A` changes no
    derivative; it keeps :math:`J` near 0, so that an entry's nudge is not
    lost in the rounding of a large sum.

    ``backward`` is called as training calls it: with ``A``, with
    ``A=None`` (dropout), and, when the activation says
    ``derivative_from_output``, with ``A`` in place of ``Z`` (the buffer of
    ``Z`` then holds the output); the worst of these is returned.

    Entries within ``eps`` of a kink (relu's 0), where the one-sided
    slopes :math:`(J(Z + \varepsilon e_j) - J(Z)) / \varepsilon` and
    :math:`(J(Z) - J(Z - \varepsilon e_j)) / \varepsilon` disagree by more
    than ``KINK_TOLERANCE`` (0.1) of their size, are left out: any value
    between the two slopes is a right derivative there.

    Everything runs in float64 numpy; ``Z`` and ``dA`` may be arrays of
    any array-API library (copied to the host).

    Parameters
    ----------
    activation : Activation
    Z : ndarray of shape (n_samples, n_units)
        Pre-activations at which to check (not modified).
    dA : ndarray of shape (n_samples, n_units)
        Upstream gradient (random values check every entry of the
        Jacobian-vector product).
    eps : float, default=1e-6
    floor : float, optional
        Smallest denominator of :func:`relative_error`. By default
        ``NOISE_MARGIN`` (1e5) times the rounding error of the differences
        (about :math:`10^{-16} \sum_k |dA_{ik} A_{ik}| / \varepsilon` per
        entry): gradients smaller than that count as zero.

    Returns
    -------
    float
        The relative error: about ``1e-9`` for a right derivative, of order
        1 for a wrong one; ``inf`` where ``backward`` returns non-finite
        values at finite inputs.

    Raises
    ------
    ValueError
        If ``backward`` returns an array of another shape than ``Z``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbp.core import Tanh, activation_error
    >>> rng = np.random.default_rng(0)
    >>> Z, dA = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    >>> activation_error(Tanh(), Z, dA) < 1e-8
    True
    """
    Z = np.array(to_numpy(Z), dtype=np.float64)
    dA = np.array(to_numpy(dA), dtype=np.float64)

    def output(Z):
        return np.asarray(to_numpy(activation.forward(Z.copy())), dtype=np.float64)

    A = output(Z)

    def J():
        return float(np.sum(dA * (output(Z) - A)))

    calls = [(Z, A), (Z, None)]
    if activation.derivative_from_output:
        calls.append((A, A))
    analytic = [
        _host_array(
            activation.backward(dA.copy(), z.copy(), None if a is None else a.copy()),
            Z.shape,
            f"{activation!r}.backward",
        )
        for z, a in calls
    ]
    row_scale = np.sum(np.abs(dA * A), axis=1, keepdims=True)
    return _compared(J, Z, analytic, eps, row_scale, floor)


def loss_error(loss, Y, Z, eps=1e-6, floor=None):
    r"""Check a loss's :meth:`~skbp.core.losses.Loss.per_sample_gradient`.

    With the output activation :math:`g` (``loss.output_activation``), the
    scalar

    .. math:: J(Z) = \sum_i \bigl(\ell_i(Y, Z, g(Z)) - \ell_i^0\bigr)

    (:math:`\ell_i` = ``loss.per_sample``, :math:`\ell_i^0` its values at
    the given ``Z``: a constant that keeps :math:`J` near 0) has the
    gradient :math:`\partial \ell_i / \partial z_i` row by row, what
    ``per_sample_gradient(Y, Z, g(Z))`` returns. Its central differences
    (:func:`numerical_gradients`) are compared with it by
    :func:`relative_error`; entries at a kink (the absolute error at
    :math:`z = y`) are left out, as in :func:`activation_error`. Only the
    pair the training uses is checked: :math:`g`'s own derivative is never
    used, since the loss hands the backward pass :math:`\partial \ell /
    \partial z` itself.

    Everything runs in float64 numpy; ``Y`` and ``Z`` may be arrays of any
    array-API library (copied to the host).

    Parameters
    ----------
    loss : Loss
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, as the estimator encodes them.
    Z : ndarray of shape (n_samples, n_outputs)
        Output pre-activations at which to check (not modified).
    eps : float, default=1e-6
    floor : float, optional
        Smallest denominator of :func:`relative_error`; by default
        ``NOISE_MARGIN`` (1e5) times the rounding error of the differences
        (about :math:`10^{-16} |\ell_i^0| / \varepsilon` per entry).

    Returns
    -------
    float
        The relative error (``inf`` for non-finite gradients).

    Raises
    ------
    ValueError
        If ``per_sample_gradient`` returns an array of another shape than
        ``Z``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbp.core import SquaredError, loss_error
    >>> rng = np.random.default_rng(0)
    >>> Y, Z = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    >>> loss_error(SquaredError(), Y, Z) < 1e-8
    True
    """
    Y = np.array(to_numpy(Y), dtype=np.float64)
    Z = np.array(to_numpy(Z), dtype=np.float64)
    g = loss.output_activation

    def row_losses(Z):
        Z = Z.copy()  # the identity returns Z itself as A
        A = np.asarray(to_numpy(g.forward(Z.copy())), dtype=np.float64)
        return np.asarray(to_numpy(loss.per_sample(Y, Z, A)), dtype=np.float64)

    L0 = row_losses(Z)

    def J():
        return float(np.sum(row_losses(Z) - L0))

    A = np.asarray(to_numpy(g.forward(Z.copy())), dtype=np.float64)
    analytic = _host_array(
        loss.per_sample_gradient(Y.copy(), Z.copy(), A.copy()),
        Z.shape,
        f"{loss!r}.per_sample_gradient",
    )
    row_scale = np.abs(L0).reshape(-1, 1)
    return _compared(J, Z, [analytic], eps, row_scale, floor)


def _host_array(value, shape, what):
    """``value`` as a float64 numpy array of ``shape``; a clear ValueError
    naming ``what`` for another shape."""
    value = np.asarray(to_numpy(value), dtype=np.float64)
    if value.shape != shape:
        raise ValueError(
            f"{what} returned an array of shape {value.shape}; expected {shape}, "
            "the shape of Z."
        )
    return value


def _compared(J, Z, analytic, eps, row_scale, floor):
    """The worst :func:`relative_error` of the ``analytic`` gradients of
    ``J`` against its central differences at ``Z`` (nudged in place),
    leaving out the entries at a kink.

    ``row_scale`` (shape ``(n_samples, 1)``) is the size of what ``J``
    sums in each row: the differences' rounding error is about
    ``finfo.eps * row_scale / eps`` per entry, which sets the default
    ``floor`` and the smallest slope gap counted as a kink.
    """
    J0 = J()
    plus, minus = _nudged_values(J, Z, eps)
    numerical = (plus - minus) / (2 * eps)
    rounding = np.finfo(np.float64).eps * np.abs(row_scale) / eps
    rounding = np.broadcast_to(rounding, Z.shape)
    smooth = _smooth_entries(plus, minus, J0, eps, rounding)
    if floor is None:
        floor = max(NOISE_MARGIN * float(np.linalg.norm(rounding)), 1e-300)
    worst = 0.0
    for a in analytic:
        if not np.isfinite(a).all():
            return float("inf")
        worst = max(worst, relative_error([a[smooth]], [numerical[smooth]], floor))
    return worst


def _smooth_entries(plus, minus, J0, eps, rounding):
    r"""Boolean mask of the entries with no kink within ``eps``.

    The one-sided slopes :math:`s_+ = (J_+ - J_0) / \varepsilon` and
    :math:`s_- = (J_0 - J_-) / \varepsilon` agree to :math:`O(\varepsilon)`
    where :math:`J` is smooth; a kink in between makes them differ by the
    jump of the slope. An entry is left out where :math:`|s_+ - s_-|`
    exceeds both ``KINK_TOLERANCE`` (0.1) times :math:`|s_+| + |s_-|` and a
    hundred times its ``rounding`` error (slopes that differ by rounding
    alone are no kink).
    """
    forward = (plus - J0) / eps
    backward = (J0 - minus) / eps
    gap = np.abs(forward - backward)
    kink = (gap > KINK_TOLERANCE * (np.abs(forward) + np.abs(backward))) & (
        gap > 100 * rounding
    )
    return ~kink
