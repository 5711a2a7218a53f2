"""Activation functions and their derivatives.

Each activation is one small object with the function and its derivative side
by side. Arrays have rows as samples: ``Z`` and ``A`` are
``(n_samples, n_units)``.

Convention, kept by every activation: ``derivative(Z, A)`` receives both the
pre-activation ``Z`` and the output ``A = f(Z)`` and uses whichever gives the
cheaper, numerically stable formula (``A`` for logistic and tanh, ``Z`` for
relu). ``A`` may be ``None``; it is then recomputed from ``Z``.

Wherever a parameter says ndarray, an array of any array-API library
(PyTorch, CuPy, array-api-strict, ...) works as well: the equations are
written once against ``xp``, the namespace of the input
(:mod:`skbp.core.namespace`), and results come back in the input's library,
dtype and device. For numpy arrays ``xp`` is numpy itself, so the numpy path
runs exactly numpy's calls, with their ``out=`` buffers.
"""

import functools
import math

import numpy as np

from .namespace import NUMPY, namespace_of

__all__ = [
    "Activation",
    "Identity",
    "Logistic",
    "Tanh",
    "ReLU",
    "Softmax",
    "Exp",
    "LeakyReLU",
    "ELU",
    "GELU",
    "Softplus",
    "SiLU",
    "ACTIVATIONS",
    "HIDDEN_ACTIVATIONS",
    "get_activation",
    "softplus",
    "max_shifted_exp",
    "log_sum_exp",
]


class Activation:
    r"""Base class: an elementwise function ``A = f(Z)`` and its derivative.

    Subclasses implement :meth:`forward` and :meth:`derivative`;
    :meth:`backward` (the chain rule ``dZ = dA * f'(Z)``) is shared.

    Attributes
    ----------
    derivative_from_output : bool
        True when ``f'`` can be read off the output ``A`` alone (identity:
        1; logistic: ``A (1 - A)``; tanh: ``1 - A**2``; relu, and leaky relu
        with a slope >= 0: ``[A > 0]``), so that :meth:`backward` gives the
        right answer even after ``A`` has overwritten ``Z``: a training
        workspace then keeps one buffer per such hidden layer instead of two
        (only without dropout, whose mask rescales the cached output).
    hidden : bool
        True when the estimators offer the activation for hidden layers
        (:data:`HIDDEN_ACTIVATIONS`); false for the output-only ones (softmax,
        which is not elementwise, and exp, the Poisson loss's log link).
    aliases : tuple of str
        Other names :func:`get_activation` accepts for the activation (the
        seed tutorials call the logistic ``"sigmoid"``). Not offered by the
        estimators, whose ``activation`` takes scikit-learn's names.
    init_factor : float
        Factor :math:`c` of the initialisation of the weights that feed the
        activation, drawn from :math:`U(-r, r)` with
        :math:`r = \sqrt{c / (n_{in} + n_{out})}`
        (:func:`~skbp.core.network.initialize_parameters`): 6 is Glorot &
        Bengio's, derived for tanh units. :class:`Logistic` takes 2,
        scikit-learn's own choice (a narrower range, while the usual advice
        for sigmoid units is one 4 times wider), kept so that both libraries
        draw the same numbers.
    """

    name = "activation"
    aliases = ()
    derivative_from_output = False
    hidden = True
    init_factor = 6.0

    def forward(self, Z, out=None):
        r"""Return :math:`A = f(Z)`, written into ``out`` when given.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_units)
            Pre-activation.
        out : ndarray of shape (n_samples, n_units), optional
            Buffer for the result; may be ``Z`` itself.

        Returns
        -------
        A : ndarray of shape (n_samples, n_units)
        """
        raise NotImplementedError

    def derivative(self, Z, A=None):
        r"""Return :math:`f'(Z)` elementwise, shape ``(n_samples, n_units)``."""
        raise NotImplementedError

    def backward(self, dA, Z, A=None, out=None):
        r"""Chain rule through the activation: :math:`dZ = dA \odot f'(Z)`.

        Parameters
        ----------
        dA : ndarray of shape (n_samples, n_units)
            Gradient of the loss with respect to the output ``A``.
        Z : ndarray of shape (n_samples, n_units)
            Pre-activation cached by the forward pass.
        A : ndarray of shape (n_samples, n_units), optional
            Output ``f(Z)`` when already at hand (saves recomputing it).
        out : ndarray of shape (n_samples, n_units), optional
            Buffer for the result; may be ``dA`` itself.

        Returns
        -------
        dZ : ndarray of shape (n_samples, n_units)
        """
        xp = namespace_of(dA)
        return xp.multiply(dA, self.derivative(Z, A), out=out)

    def __repr__(self):
        # The constants, as the constructor takes them: LeakyReLU(negative_slope=0.1).
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"

    # Activations hold no state beyond fixed constants: two instances of a
    # class with the same constants are equal, which keeps estimators that
    # hold them comparable and picklable.
    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash(type(self))


class Identity(Activation):
    r"""Identity: :math:`f(z) = z`, :math:`f'(z) = 1`."""

    name = "identity"
    derivative_from_output = True

    def forward(self, Z, out=None):
        r""":math:`A = Z` (``Z`` itself unless ``out`` is another buffer)."""
        if out is None or out is Z:  # the output layer of every regressor
            return Z
        out[...] = Z
        return out

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = 1`, elementwise."""
        xp = namespace_of(Z)
        return xp.ones_like(Z)

    def backward(self, dA, Z, A=None, out=None):
        r""":math:`dZ = dA`: with :math:`f' = 1` the gradient passes through."""
        return _same_or_copied(dA, out)


def _same_or_copied(X, out):
    """``X`` itself, or ``X`` copied into ``out`` when that is another buffer."""
    if out is None or out is X:
        return X
    out[...] = X
    return out


def _mask_factor(xp, mask, dtype):
    """A boolean ``mask`` ready to multiply an array of ``dtype``.

    numpy multiplies by booleans directly, with no float copy of the mask;
    the array-API standard does not mix booleans and floats in arithmetic,
    so other libraries get the mask cast to ``dtype``.
    """
    return mask if xp is NUMPY else xp.astype(mask, dtype)


class Logistic(Activation):
    r"""Logistic sigmoid: :math:`f(z) = 1 / (1 + e^{-z})`, :math:`f' = f (1 - f)`.

    Computed as written, in four in-place passes. Below :math:`z \approx -709`
    (-88 in float32) :math:`e^{-z}` overflows to ``inf``, and
    :math:`1 / (1 + \infty) = 0` is the right limit, so that overflow is
    expected and silenced rather than clipped away (a clip would cost a fifth
    pass). Small probabilities keep their relative precision: no ``1 - x``
    cancels.
    """

    name = "logistic"
    aliases = ("sigmoid",)  # the seed tutorials' name
    derivative_from_output = True
    init_factor = 2.0  # scikit-learn's (see Activation.init_factor)

    def forward(self, Z, out=None):
        r""":math:`A = \sigma(Z) = 1 / (1 + e^{-Z})`, elementwise."""
        xp = namespace_of(Z)
        out = xp.negative(Z, out=out)  # out may be Z itself
        with xp.errstate(over="ignore"):
            out = xp.exp(out, out=out)
        out += 1.0
        return xp.divide(1.0, out, out=out)

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = \sigma(z)\,(1 - \sigma(z)) = a (1 - a)`, from ``A``."""
        if A is None:
            A = self.forward(Z)
        return A * (1.0 - A)


class Tanh(Activation):
    r"""Hyperbolic tangent: :math:`f(z) = \tanh z`, :math:`f'(z) = 1 - f(z)^2`."""

    name = "tanh"
    derivative_from_output = True

    def forward(self, Z, out=None):
        r""":math:`A = \tanh Z`, elementwise."""
        xp = namespace_of(Z)
        return xp.tanh(Z, out=out)

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = 1 - \tanh^2 z = 1 - a^2`, from ``A``."""
        if A is None:
            A = self.forward(Z)
        return 1.0 - A * A


class ReLU(Activation):
    r"""Rectified linear unit: :math:`f(z) = \max(z, 0)`, :math:`f'(z) = [z > 0]`.

    The derivative at exactly 0 is taken as 0, as scikit-learn does.
    """

    name = "relu"
    # [A > 0] is [Z > 0]: backward reads Z > 0, which an overwritten Z
    # (holding A) still answers right.
    derivative_from_output = True

    def forward(self, Z, out=None):
        r""":math:`A = \max(Z, 0)`, elementwise."""
        xp = namespace_of(Z)
        return xp.maximum(Z, 0, out=out)

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = [z > 0]` (0 at :math:`z = 0`)."""
        xp = namespace_of(Z)
        return xp.astype(Z > 0, Z.dtype)

    def backward(self, dA, Z, A=None, out=None):
        r""":math:`dZ = dA \odot [Z > 0]`.

        Multiplying by the boolean mask avoids materialising ``f'`` as floats
        (``_mask_factor``).
        """
        xp = namespace_of(dA)
        return xp.multiply(dA, _mask_factor(xp, Z > 0, dA.dtype), out=out)


class Softmax(Activation):
    r"""Softmax over each row: :math:`f(z)_k = e^{z_k} / \sum_j e^{z_j}`.

    Not elementwise: its Jacobian is :math:`\mathrm{diag}(a) - a a^T` per row.
    It is only used as an output paired with the multiclass log-loss, whose
    gradient with respect to ``Z`` is computed directly (``A - Y``), so
    :meth:`backward` applies the Jacobian-vector product for completeness
    (and for the gradient check).
    """

    name = "softmax"
    hidden = False

    def forward(self, Z, out=None):
        r""":math:`A_{ik} = e^{z_{ik} - z^*} / \sum_j e^{z_{ij} - z^*}`, row by row.

        The shift :math:`z^*` (:func:`max_shifted_exp`) leaves the result
        unchanged and keeps every exponential finite.
        """
        out, sums, _ = max_shifted_exp(Z, out=out)
        out /= sums[:, None]
        return out

    def derivative(self, Z, A=None):
        raise NotImplementedError(
            "softmax has a full Jacobian per row; use backward() for dA -> dZ."
        )

    def backward(self, dA, Z, A=None, out=None):
        r""":math:`dZ = A \odot (dA - \sum_k dA_k A_k)`, row by row."""
        xp = namespace_of(dA)
        if A is None:
            A = self.forward(Z)
        inner = xp.sum(dA * A, axis=1, keepdims=True)
        out = xp.subtract(dA, inner, out=out)
        out *= A
        return out


class Exp(Activation):
    r"""Exponential (log link, for the Poisson loss): :math:`f(z) = e^z = f'(z)`.

    :math:`e^z` overflows to ``inf`` for :math:`z > \log(\text{max float})`,
    709.78 in float64 and 88.72 in float32. Nothing clips it: a network
    whose output pre-activation gets there has diverged (see
    :class:`~skbp.core.losses.PoissonLoss`).
    """

    name = "exp"
    hidden = False

    def forward(self, Z, out=None):
        r""":math:`A = e^Z`; ``inf`` where :math:`z > 709.78` (88.72 in float32)."""
        xp = namespace_of(Z)
        # Overflow gives inf, which the estimators report as divergence.
        with xp.errstate(over="ignore"):
            return xp.exp(Z, out=out)

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = e^z = a`, from ``A``."""
        return self.forward(Z) if A is None else A


def shifted_exp(Z, shift, out=None, *, xp=None):
    """``exp(Z - shift)``; rows beyond the dtype's range give 0, not a warning.

    ``Z`` and ``out`` of shape (n_samples, n_outputs), ``shift`` a scalar or
    of shape (n_samples, 1); ``xp``: ``Z``'s namespace when the caller knows
    it (:func:`~skbp.core.namespace.namespace_of` otherwise).
    """
    if xp is None:
        xp = namespace_of(Z)
    with xp.errstate(over="ignore"):
        out = xp.subtract(Z, shift, out=out)
    return xp.exp(out, out=out)


def row_sums(A, *, xp=None):
    """Sum of each row of ``A`` (n_samples, n_units), shape (n_samples,).

    On numpy, as a matrix-vector product: for the few columns of an output
    layer, BLAS is several times faster than numpy's reduction along the
    short axis. Other libraries reduce (``xp.sum``), which is what their
    devices do best. ``xp``: ``A``'s namespace when the caller knows it.
    """
    if xp is None:
        xp = namespace_of(A)
    if xp is NUMPY:
        return A @ np.ones(A.shape[1], dtype=A.dtype)
    return xp.sum(A, axis=1)


def _reduce(xp, how, x, axis=None, keepdims=False):
    """``xp.max`` or ``xp.min`` (``how``) of ``x``.

    numpy arrays use their own method, which skips the dispatch layer of
    ``np.max`` (over a microsecond a call on a batch's small arrays); the
    standard has the functions only.
    """
    if xp is NUMPY:
        return getattr(x, how)(axis=axis, keepdims=keepdims)
    return getattr(xp, how)(x, axis=axis, keepdims=keepdims)


@functools.lru_cache(maxsize=16)
def _underflow_limit(dtype, finfo=np.finfo):
    """``sqrt(tiny)`` of ``dtype``, made once per dtype (``finfo`` is slow).

    ``finfo`` is that of the dtype's library (``xp.finfo``). The result is a
    Python float, which combines with any library's arrays; it is exact
    (``tiny`` is a power of 2 with an even exponent).
    """
    return math.sqrt(float(finfo(dtype).smallest_normal))


def max_shifted_exp(Z, out=None, *, xp=None):
    r"""Exponentials shifted by the largest logit, and their row sums.

    .. math:: E_{ij} = e^{z_{ij} - z^*}, \qquad s_i = \sum_j E_{ij}

    Any shift :math:`z^*` leaves the softmax :math:`E_{ij} / s_i` unchanged
    and moves the log-sum-exp by exactly :math:`z^*`
    (:math:`\log \sum_j e^{z_{ij}} = z^* + \log s_i`), and the largest logit
    keeps every exponential at most 1, so none overflows. :math:`z^*` is the
    batch's largest logit: one maximum for the whole batch is much cheaper
    than one per row. When a row lies so far below it that its sum would
    underflow (:math:`\min_i s_i < \sqrt{\text{tiny}}`), the batch falls
    back to each row's own largest logit, :math:`z^*_i = \max_j z_{ij}`,
    so that every :math:`s_i \ge 1`. In place (``out`` is ``Z``) the result
    is the same: ``Z`` is copied first when its entries are spread far enough
    for the fallback to be possible.

    Used by :meth:`Softmax.forward` and
    :meth:`~skbp.core.losses.MulticlassLogLoss.per_sample` (through
    :func:`log_sum_exp`).

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_outputs)
        Logits.
    out : ndarray of shape (n_samples, n_outputs), optional
        Buffer for ``E``.
    xp : namespace, optional
        ``Z``'s (:func:`~skbp.core.namespace.namespace_of`), when the
        caller knows it.

    Returns
    -------
    E : ndarray of shape (n_samples, n_outputs)
        :math:`e^{Z - z^*}` (``out`` when given).
    sums : ndarray of shape (n_samples,)
        Row sums :math:`s_i`.
    shift : scalar or ndarray of shape (n_samples,)
        :math:`z^*`: the batch's largest logit, or each row's own (always,
        outside numpy: choosing would read the data, a wait for a GPU).
    """
    if xp is None:
        xp = namespace_of(Z)
    if xp is not NUMPY:
        # Choosing between the shifts reads the data, which would make the
        # host wait for a GPU on every batch: each row's own maximum, always.
        shift = xp.max(Z, axis=1, keepdims=True)
        out = shifted_exp(Z, shift, out=out, xp=xp)
        return out, row_sums(out, xp=xp), shift[:, 0]
    limit = _underflow_limit(Z.dtype, xp.finfo)
    shift = _reduce(xp, "max", Z)
    if out is Z and _reduce(xp, "min", Z) - shift < math.log(limit):
        # E overwrites Z, which the fallback needs. A row's sum is at least
        # e^(its largest logit - z*) >= e^(min Z - z*), so only a batch that
        # spread can fall back: then work from a copy.
        Z = xp.asarray(Z, copy=True)
    out = shifted_exp(Z, shift, out=out, xp=xp)
    sums = row_sums(out, xp=xp)
    if _reduce(xp, "min", sums) < limit:
        shift = _reduce(xp, "max", Z, axis=1, keepdims=True)
        out = shifted_exp(Z, shift, out=out, xp=xp)
        sums = row_sums(out, xp=xp)
        shift = shift[:, 0]
    return out, sums, shift


def log_sum_exp(Z, *, xp=None):
    r"""Log-sum-exp of each row, without overflow.

    .. math:: \log \sum_j e^{z_{ij}} = z^* + \log \sum_j e^{z_{ij} - z^*}

    with the shift :math:`z^*` of :func:`max_shifted_exp`.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_outputs)
        Logits.
    xp : namespace, optional
        ``Z``'s, when the caller knows it.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    if xp is None:
        xp = namespace_of(Z)
    _, sums, shift = max_shifted_exp(Z, xp=xp)
    return shift + xp.log(sums)


def softplus(Z, out=None, *, xp=None):
    r"""Softplus :math:`\log(1 + e^z)`, elementwise, without overflow.

    .. math:: \log(1 + e^z) = \max(z, 0) + \log(1 + e^{-|z|})

    The right-hand side never overflows (:math:`e^{-|z|} \le 1`) and is
    exact for either sign of :math:`z`. Used by :meth:`Softplus.forward`
    and :meth:`~skbp.core.losses.BinaryLogLoss.per_sample`.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_units)
    out : ndarray of shape (n_samples, n_units), optional
        Buffer for the result; may be ``Z`` itself.
    xp : namespace, optional
        ``Z``'s, when the caller knows it.

    Returns
    -------
    ndarray of shape (n_samples, n_units)
    """
    if xp is None:
        xp = namespace_of(Z)
    log_term = xp.log1p(xp.exp(-xp.abs(Z)))  # computed first: out may be Z
    out = xp.maximum(Z, 0, out=out)
    out += log_term
    return out


def _sigmoid(Z, out=None):
    """Logistic sigmoid without overflow (see :class:`Logistic`)."""
    return Logistic().forward(Z, out=out)


class LeakyReLU(Activation):
    r"""Leaky ReLU: :math:`f(z) = z` for :math:`z > 0`, :math:`\kappa z` otherwise.

    :math:`f'(z) = 1` for :math:`z > 0`, :math:`\kappa` otherwise
    (:math:`\kappa` is ``negative_slope``, 0.01 by default): negative units
    keep a small gradient instead of dying. With :math:`\kappa \ge 0`,
    :math:`[a > 0] = [z > 0]`, so ``f'`` can be read off the output
    (``derivative_from_output``).

    Being linear on either side of 0, the function and the chain rule are
    one selection: :math:`A = S(Z)` and :math:`dZ = S(dA)`, with
    :math:`S(X) = X` where :math:`Z > 0` and :math:`\kappa X` elsewhere.
    """

    name = "leaky_relu"

    def __init__(self, negative_slope=0.01):
        self.negative_slope = negative_slope

    @property
    def derivative_from_output(self):
        # [A > 0] is [Z > 0] unless a negative slope flips the sign.
        return self.negative_slope >= 0

    def _select(self, X, Z, out):
        """``X`` where ``Z > 0``, ``negative_slope * X`` elsewhere, into ``out``."""
        xp = namespace_of(X)
        # Both sides are computed before out (which may be X or Z) is written.
        selected = xp.where(Z > 0, X, self.negative_slope * X)
        return _same_or_copied(selected, out)

    def forward(self, Z, out=None):
        r""":math:`A = Z` where :math:`Z > 0`, :math:`\kappa Z` elsewhere."""
        return self._select(Z, Z, out)

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = 1` where :math:`z > 0`, :math:`\kappa` elsewhere."""
        xp = namespace_of(Z)
        return self._select(xp.ones_like(Z), Z, None)

    def backward(self, dA, Z, A=None, out=None):
        r""":math:`dZ = dA` where :math:`Z > 0`, :math:`\kappa\, dA` elsewhere."""
        return self._select(dA, Z, out)


class ELU(Activation):
    r"""Exponential linear unit, with :math:`\gamma` = ``alpha`` (1 by default).

    .. math:: f(z) = \begin{cases} z & z > 0 \\ \gamma (e^z - 1) & z \le 0
              \end{cases}, \qquad
              f'(z) = \begin{cases} 1 & z > 0 \\ \gamma e^z = f(z) + \gamma
              & z \le 0 \end{cases}

    ``expm1`` of ``min(z, 0)`` keeps precision near 0 and never overflows.
    (:math:`\gamma`, not :math:`\alpha`: in :doc:`/backprop` :math:`\alpha`
    is the L2 strength.)
    """

    name = "elu"

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def forward(self, Z, out=None):
        r""":math:`A = Z` where :math:`Z > 0`, :math:`\gamma (e^Z - 1)` elsewhere."""
        xp = namespace_of(Z)
        negative_part = xp.expm1(xp.minimum(Z, 0))
        negative_part *= self.alpha
        # Computed in full before out (which may be Z itself) is written.
        return _same_or_copied(xp.where(Z > 0, Z, negative_part), out)

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = 1` where :math:`z > 0`, :math:`\gamma e^z` elsewhere."""
        xp = namespace_of(Z)
        exp_part = xp.exp(xp.minimum(Z, 0))
        exp_part *= self.alpha
        return xp.where(Z > 0, 1.0, exp_part)


class GELU(Activation):
    r"""Gaussian error linear unit, in its tanh approximation.

    .. math:: f(z) = \tfrac12 z \,(1 + \tanh u), \qquad
              u = \sqrt{2/\pi}\,(z + 0.044715 z^3)

    .. math:: f'(z) = \tfrac12 (1 + \tanh u)
              + \tfrac12 z \,(1 - \tanh^2 u)\, u', \qquad
              u' = \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715 z^2)

    ``tanh`` saturates without overflow, so large ``|z|`` is safe (the cube
    stays far below float32's range for ``|z| <= 1e4``).
    """

    name = "gelu"
    _c = float(np.sqrt(2.0 / np.pi))
    _k = 0.044715

    # tanh(u) is exactly +-1 in float32 and float64 once |z| > 10 (u > 43):
    # clipping z there changes no result, and keeps z**3 from overflowing.
    _z_max = 10.0

    def _tanh_u(self, Z, xp):
        Z = xp.clip(Z, -self._z_max, self._z_max)
        return xp.tanh(self._c * (Z + self._k * Z * Z * Z))

    def forward(self, Z, out=None):
        r""":math:`A = \tfrac12 Z \odot (1 + \tanh u)`, elementwise.

        With :math:`u = \sqrt{2/\pi}\,(Z + 0.044715\, Z^3)`.
        """
        xp = namespace_of(Z)
        t = self._tanh_u(Z, xp)
        t += 1.0
        t *= 0.5
        return xp.multiply(Z, t, out=out)

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = \tfrac12 (1 + \tanh u) + \tfrac12 z (1 - \tanh^2 u)\, u'`."""
        xp = namespace_of(Z)
        Z = xp.clip(Z, -self._z_max, self._z_max)  # beyond, f' is exactly 1 or 0
        t = self._tanh_u(Z, xp)
        du = self._c * (1.0 + 3.0 * self._k * Z * Z)
        return 0.5 * (1.0 + t) + 0.5 * Z * (1.0 - t * t) * du


class Softplus(Activation):
    r"""Softplus: :math:`f(z) = \log(1 + e^z)`, :math:`f'(z) = \sigma(z)`.

    Computed without overflow by :func:`softplus`; its derivative is the
    logistic sigmoid.
    """

    name = "softplus"

    def forward(self, Z, out=None):
        r""":math:`A = \log(1 + e^Z)`, elementwise (:func:`softplus`)."""
        return softplus(Z, out=out)

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = \sigma(z)`."""
        return _sigmoid(Z)


class SiLU(Activation):
    r"""Sigmoid linear unit (swish): :math:`f(z) = z \, \sigma(z)`.

    .. math:: f'(z) = \sigma(z) + z \sigma(z) (1 - \sigma(z))
              = \sigma(z) \,(1 + z (1 - \sigma(z)))
    """

    name = "silu"

    def forward(self, Z, out=None):
        r""":math:`A = Z \odot \sigma(Z)`."""
        xp = namespace_of(Z)
        s = _sigmoid(Z)
        return xp.multiply(Z, s, out=out)

    def derivative(self, Z, A=None):
        r""":math:`f'(z) = \sigma(z)\,(1 + z (1 - \sigma(z)))`."""
        s = _sigmoid(Z)
        return s * (1.0 + Z * (1.0 - s))


#: Every activation by name.
ACTIVATIONS = {
    cls.name: cls
    for cls in (
        Identity,
        Logistic,
        Tanh,
        ReLU,
        Softmax,
        Exp,
        LeakyReLU,
        ELU,
        GELU,
        Softplus,
        SiLU,
    )
}

#: Names accepted for hidden layers: those whose class sets ``hidden``.
HIDDEN_ACTIVATIONS = tuple(name for name, cls in ACTIVATIONS.items() if cls.hidden)


# Each alias to its activation's name, read off the classes' ``aliases``.
_ALIASES = {alias: name for name, cls in ACTIVATIONS.items() for alias in cls.aliases}


def get_activation(activation):
    """Return an :class:`Activation` instance from a name or an instance.

    Parameters
    ----------
    activation : str or Activation
        A name from :data:`ACTIVATIONS` or one of the classes' ``aliases``
        (``"sigmoid"`` for ``"logistic"``), or an instance (returned as is).

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        For any other name or object, listing the names accepted.
    """
    if isinstance(activation, Activation):
        return activation
    try:
        return ACTIVATIONS[_ALIASES.get(activation, activation)]()
    except (KeyError, TypeError):
        names = sorted([*ACTIVATIONS, *_ALIASES])
        raise ValueError(
            f"Unknown activation {activation!r}; expected one of {names}."
        ) from None
