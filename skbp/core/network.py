r"""A whole network: initialisation, forward pass, backward pass, loss and gradients.

A network of ``L`` layers is held as three lists of length ``L``:
``coefs`` (``W_l`` of shape ``(n_{l-1}, n_l)``), ``intercepts`` (``b_l`` of
shape ``(n_l,)``) and ``activations`` (:class:`~skbp.core.activations.Activation`
objects, the last one being the output activation paired with the loss).
An activation may also be given by name, as the seed tutorials do
(``"relu"``, ``"sigmoid"``; see :func:`~skbp.core.activations.get_activation`).
``L = 1`` (no hidden layer) is a linear or generalised linear model.

Every equation lives in the building blocks of :mod:`skbp.core.layers`; this
module only chains them, layer after layer.

The arrays are numpy arrays or arrays of another array-API library
(PyTorch, CuPy, ...; "ndarray" below means either): the passes run in the
library of ``X`` and the parameters, on their device, and return arrays of
it. Only the initial weights are drawn in numpy, then moved (``like=``), so
that one ``random_state`` gives one model in every library.

Each pass decides the namespace once (:func:`~skbp.core.namespace.namespace_of`),
not once per layer: it hands ``xp`` to every building block. A caller that
already knows it (a training loop, once per fit) passes it as ``xp=``.
"""

import numpy as np

from .activations import get_activation
from .dropout import dropout_backward, dropout_forward
from .layers import (
    _layer_namespace,
    linear_activation_backward,
    linear_activation_forward,
    linear_backward,
    linear_forward,
)
from .namespace import NUMPY, device, host_scalar, namespace_of
from .regularization import add_l2_gradient, l2_penalty

__all__ = [
    "initialize_parameters",
    "parameters_like",
    "L_model_forward",
    "L_model_backward",
    "forward_output",
    "backprop",
    "forward_loss",
]


def initialize_parameters(
    layer_units, random_state, dtype=np.float64, factor=6.0, like=None
):
    r"""Glorot-uniform initialisation, drawn as scikit-learn's MLP draws it.

    For each layer, weights then biases are drawn from
    :math:`U(-r, r)` with :math:`r = \sqrt{\text{factor} / (n_{in} + n_{out})}`.
    ``factor=6`` is Glorot & Bengio's range (derived for tanh units);
    scikit-learn uses ``factor=2`` for logistic units, a narrower range (the
    usual advice for sigmoid units is a range 4 times wider, not narrower),
    and the estimators keep that choice so that both libraries draw the same
    numbers. One factor per layer when the layers' activations differ.

    The numbers are always drawn in numpy, in float64, then cast to
    ``dtype`` and, with ``like``, moved to ``like``'s library and device:
    the same ``random_state`` gives the same parameters in every library.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, n_hidden_1, ..., n_outputs]``.
    random_state : numpy.random.RandomState or numpy.random.Generator
        Source of randomness (anything with ``uniform(low, high, size)``).
    dtype : dtype, default=np.float64
        A numpy dtype (or its name); with ``like``, also the library's own
        (``torch.float32``).
    factor : float or sequence of float, default=6.0
        One value for every layer, or one per layer (``len(layer_units) - 1``).
    like : ndarray, optional
        An array (typically the training data) whose library and device the
        parameters are put in; by default numpy.

    Returns
    -------
    coefs : list of ndarray of shape (n_in, n_out)
    intercepts : list of ndarray of shape (n_out,)
    """
    n_layers = len(layer_units) - 1
    factors = np.broadcast_to(np.asarray(factor, dtype=float), (n_layers,))
    coefs, intercepts = [], []
    for fan_in, fan_out, f in zip(layer_units[:-1], layer_units[1:], factors):
        bound = np.sqrt(f / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(random_state.uniform(-bound, bound, fan_out))
    return parameters_like(coefs, like, dtype), parameters_like(intercepts, like, dtype)


def parameters_like(arrays, like=None, dtype=None):
    """numpy arrays cast to ``dtype`` and moved to ``like``'s library and device.

    How parameters drawn (or loaded) in numpy reach another library: the
    values are the same, so a model is the same model in every library.

    Parameters
    ----------
    arrays : list of numpy.ndarray
    like : ndarray or sparse matrix, optional
        An array of the target library and device; by default (and for a
        sparse matrix) numpy.
    dtype : dtype, optional
        A numpy dtype (or its name), or one of ``like``'s library; by default
        each array's own.

    Returns
    -------
    list of ndarray
        For numpy, the arrays themselves where they already have ``dtype``.
    """
    xp = namespace_of(like)
    if xp is NUMPY:
        return [a if dtype is None else a.astype(dtype, copy=False) for a in arrays]
    if dtype is not None and isinstance(dtype, (np.dtype, type, str)):
        # numpy's name of the dtype: cast on the host (as without like), then
        # move (half the bytes in float32).
        arrays = [a.astype(dtype, copy=False) for a in arrays]
        dtype = None
    where = device(like)
    return [xp.asarray(a, dtype=dtype, device=where, copy=True) for a in arrays]


def L_model_forward(
    X, coefs, intercepts, activations, out=None, masks=None, *, xp=None
):
    """Forward pass through every layer, keeping what backward needs.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (m, n_features)
    coefs, intercepts : lists of ndarray, length L
    activations : list of (Activation or str), length L
    out : list of (Z, A) buffer pairs, length L, optional
        Preallocated arrays of shape ``(m, n_l)`` (views of larger buffers
        are fine). Saves allocating them on every batch.
    masks : list of (ndarray or None), length L, optional
        Dropout masks (:func:`skbp.core.dropout.dropout_masks`): layer
        ``l``'s output is multiplied by ``masks[l]`` before the next layer
        reads it. ``None`` entries (and ``masks=None``) drop nothing.
    xp : namespace, optional
        That of ``X`` and the parameters, when the caller knows it; by
        default decided here, once for every layer.

    Returns
    -------
    AL : ndarray of shape (m, n_outputs)
        Output of the last layer.
    caches : list of LayerCache, length L
        Each layer's ``(A_prev, W, Z)``
        (:class:`~skbp.core.layers.LayerCache`).
    """
    if xp is None:
        xp = _layer_namespace(X, coefs[0])
    A = X
    caches = []
    for layer, (W, b, activation) in enumerate(zip(coefs, intercepts, activations)):
        buffers = None if out is None else out[layer]
        A, cache = linear_activation_forward(A, W, b, activation, out=buffers, xp=xp)
        if masks is not None and masks[layer] is not None:
            A = dropout_forward(A, masks[layer], out=A, xp=xp)
        caches.append(cache)
    return A, caches


def _averaged(dZL, overwrite):
    """``dZL / m``, in place when ``overwrite``.

    Every gradient is a mean over the m rows. Dividing the output's dZ by m
    once carries through every layer (each later dZ is linear in it), so
    the building blocks need not divide each dW and db again.
    """
    if overwrite:
        dZL *= 1.0 / dZL.shape[0]
        return dZL
    return dZL * (1.0 / dZL.shape[0])


def L_model_backward(
    dZL, caches, activations, out=None, masks=None, overwrite_dZL=False, *, xp=None
):
    """Backward pass from the output pre-activation gradient to every layer.

    Parameters
    ----------
    dZL : ndarray of shape (m, n_outputs)
        Gradient of each row's loss with respect to the output
        pre-activation (from :meth:`skbp.core.losses.Loss.gradient`).
    caches : list of LayerCache, length L
        Each layer's ``(A_prev, W, Z)``, from :func:`L_model_forward`.
    activations : list of (Activation or str), length L
    out : tuple (coef_grads, intercept_grads, dA_buffers), optional
        Preallocated gradient arrays (shapes of ``coefs`` and ``intercepts``)
        and, per layer ``l >= 1``, a buffer of shape ``(m, n_{l-1})`` for the
        gradient flowing into layer ``l - 1``.
    masks : list of (ndarray or None), length L, optional
        The dropout masks the forward pass used.
    overwrite_dZL : bool, default=False
        ``dZL`` is the caller's scratch: it may be divided by ``m`` in place
        instead of into a new array.
    xp : namespace, optional
        That of ``dZL``, when the caller knows it; by default decided here,
        once for every layer.

    Returns
    -------
    coef_grads : list of ndarray of shape (n_in, n_out)
    intercept_grads : list of ndarray of shape (n_out,)
    """
    if xp is None:
        xp = namespace_of(dZL)
    n_layers = len(caches)
    if out is None:
        coef_grads, intercept_grads = [None] * n_layers, [None] * n_layers
        dA_buffers = [None] * n_layers
    else:
        coef_grads, intercept_grads, dA_buffers = out

    dZ = _averaged(dZL, overwrite_dZL)
    # Output layer: the loss already gave dZ, so only the affine part remains.
    A_prev, W, _ = caches[-1]
    dA, coef_grads[-1], intercept_grads[-1] = linear_backward(
        dZ,
        A_prev,
        W,
        out=(dA_buffers[-1], coef_grads[-1], intercept_grads[-1]),
        compute_dA_prev=n_layers > 1,
        averaged=True,
        xp=xp,
    )
    for layer in range(n_layers - 2, -1, -1):
        A = caches[layer + 1].A_prev  # this layer's output is the next one's input
        mask = None if masks is None else masks[layer]
        if mask is not None:
            dA = dropout_backward(dA, mask, out=dA, xp=xp)
            A = None  # the cached output is masked: f'(Z) must come from Z
        # dA is ours alone, so dZ may overwrite it.
        dA, coef_grads[layer], intercept_grads[layer] = linear_activation_backward(
            dA,
            caches[layer],
            activations[layer],
            A=A,
            out=(dA, dA_buffers[layer], coef_grads[layer], intercept_grads[layer]),
            compute_dA_prev=layer > 0,
            averaged=True,
            xp=xp,
        )
    return coef_grads, intercept_grads


def forward_output(X, coefs, intercepts, activations, block_rows=2048, *, xp=None):
    """Output of the network, keeping no cache (for prediction).

    Rows go through the network in blocks of ``block_rows``, so that each
    block's activations stay in the CPU cache between layers instead of
    streaming whole ``(m, n_l)`` matrices through memory. The buffers are
    local to the call and nothing shared is written, so a fitted network can
    predict from several threads at once.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (m, n_features)
    coefs, intercepts, activations : lists of length L
        ``activations`` holds Activation objects or names.
    block_rows : int, default=2048
    xp : namespace, optional
        That of ``X`` and the parameters, when the caller knows it; by
        default decided here, once for every layer and block.

    Returns
    -------
    AL : ndarray of shape (m, n_outputs)
    """
    for activation in activations:
        if isinstance(activation, str):  # a name: looked up once, here
            activations = [get_activation(a) for a in activations]
            break
    if xp is None:
        xp = _layer_namespace(X, coefs[0])
    m = X.shape[0]
    if m <= block_rows:
        A = X
        for W, b, activation in zip(coefs, intercepts, activations):
            Z = linear_forward(A, W, b, xp=xp)
            A = activation.forward(Z, out=Z)  # Z is not needed again: reuse it
        return A
    # X may be sparse: the weights say which device computes.
    dtype, where = xp.result_type(X.dtype, *coefs), device(coefs[0])
    buffers = [
        xp.empty((block_rows, W.shape[1]), dtype=dtype, device=where) for W in coefs
    ]
    output = xp.empty((m, coefs[-1].shape[1]), dtype=dtype, device=where)
    for start in range(0, m, block_rows):
        stop = min(start + block_rows, m)
        A = X[start:stop, :]
        for W, b, activation, Z in zip(coefs, intercepts, activations, buffers):
            Z = linear_forward(A, W, b, out=Z[: stop - start, :], xp=xp)
            A = activation.forward(Z, out=Z)
        output[start:stop, :] = A
    return output


def backprop(
    X,
    Y,
    coefs,
    intercepts,
    activations,
    loss,
    alpha=0.0,
    sample_weight=None,
    workspace=None,
    dropout_masks=None,
    *,
    xp=None,
):
    r"""Loss of the network on ``(X, Y)`` and its gradient for every parameter.

    .. math:: J = \frac{\sum_i s_i \ell(y_i, z_{L,i})}{\sum_i s_i}
              + \frac{\alpha}{2 n} \sum_l \lVert W_l \rVert_F^2,
              \qquad n = \sum_i s_i

    (:math:`s_i = 1` without sample weights, so :math:`n = m`.) Each
    :math:`dW_l` is the data term of :func:`L_model_backward` plus the L2
    term :math:`\alpha W_l / n`.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (m, n_features)
    Y : ndarray of shape (m, n_outputs)
    coefs, intercepts : lists of ndarray, length L
    activations : list of (Activation or str), length L
        The last must be ``loss.output_activation`` (or its name).
    loss : Loss
    alpha : float, default=0.0
        L2 penalty strength.
    sample_weight : ndarray of shape (m,), optional
        Non-negative, with a positive sum.
    workspace : Workspace, optional
        Preallocated buffers (see :class:`skbp.core.workspace.Workspace`).
    dropout_masks : list of (ndarray or None), length L, optional
        Masks from :func:`skbp.core.dropout.dropout_masks` (training only).
    xp : namespace, optional
        That of ``X`` and the parameters, when the caller knows it (a
        training loop: once per fit); by default decided here, once for the
        whole pass.

    Returns
    -------
    J : float
    coef_grads : list of ndarray, shapes of ``coefs``
    intercept_grads : list of ndarray, shapes of ``intercepts``
    """
    if xp is None:
        xp = _layer_namespace(X, coefs[0])
    m = X.shape[0]
    forward_out = backward_out = dZ_out = None
    if workspace is not None:
        forward_out, backward_out, dZ_out = workspace.views(m)
    AL, caches = L_model_forward(
        X, coefs, intercepts, activations, out=forward_out, masks=dropout_masks, xp=xp
    )
    ZL = caches[-1].Z
    n = m if sample_weight is None else _total(sample_weight, xp)
    J = loss.value(Y, ZL, AL, sample_weight) + l2_penalty(coefs, alpha, n, xp=xp)
    dZL = loss.gradient(Y, ZL, AL, sample_weight, out=dZ_out)
    coef_grads, intercept_grads = L_model_backward(
        dZL,
        caches,
        activations,
        out=backward_out,
        masks=dropout_masks,
        overwrite_dZL=True,  # dZL is this call's own array
        xp=xp,
    )
    add_l2_gradient(coef_grads, coefs, alpha, n, xp=xp)
    return J, coef_grads, intercept_grads


def forward_loss(
    X, Y, coefs, intercepts, activations, loss, sample_weight=None, *, xp=None
):
    r"""Output of the network on held-out rows, and their data loss.

    .. math:: J_\text{data} = \frac{\sum_i s_i \ell(y_i, z_{L,i})}{\sum_i s_i}

    The first term of :func:`backprop`'s :math:`J`, without the L2 penalty
    (a property of the weights, not of the rows), and without dropout: the
    loss of the network as it predicts. Nothing is cached and nothing shared
    is written, as in :func:`forward_output`.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (m, n_features)
    Y : ndarray of shape (m, n_outputs)
    coefs, intercepts : lists of ndarray, length L
    activations : list of (Activation or str), length L
        The last must be ``loss.output_activation`` (or its name).
    loss : Loss
    sample_weight : ndarray of shape (m,), optional
    xp : namespace, optional
        As in :func:`forward_output`.

    Returns
    -------
    AL : ndarray of shape (m, n_outputs)
        The output layer's activations (what :func:`forward_output` returns).
    J : float
        A 0-d array outside numpy (:func:`~skbp.core.host_scalar`).
    """
    if xp is None:
        xp = _layer_namespace(X, coefs[0])
    A = X
    if len(coefs) > 1:
        A = forward_output(X, coefs[:-1], intercepts[:-1], activations[:-1], xp=xp)
    # The output layer apart: the loss reads its pre-activation ZL (the
    # log-losses are computed stably from it, not from AL).
    ZL = linear_forward(A, coefs[-1], intercepts[-1], xp=xp)
    AL = get_activation(activations[-1]).forward(ZL)
    return AL, loss.value(Y, ZL, AL, sample_weight)


def _total(sample_weight, xp):
    """The sum of the weights (the L2 term's ``n``; ``xp`` their namespace):
    a Python float for numpy, a 0-d array on the weights' device otherwise."""
    return host_scalar(xp, xp.sum(sample_weight))
