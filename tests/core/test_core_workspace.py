"""skbp.core.workspace: preallocated buffers, and backprop through them."""

import numpy as np
import pytest
import scipy.sparse
from namespaces import NAMESPACES

from skbp.core.activations import Exp, Logistic, Softmax, get_activation
from skbp.core.dropout import dropout_masks
from skbp.core.losses import LOSSES, get_loss
from skbp.core.network import backprop, initialize_parameters
from skbp.core.workspace import Workspace

DTYPES = [np.float32, np.float64]


def _targets(loss, m, rng):
    g = loss.output_activation
    if isinstance(g, Softmax):
        return np.eye(3)[rng.randint(3, size=m)]
    if isinstance(g, Logistic):
        return rng.randint(2, size=(m, 2)).astype(np.float64)
    if isinstance(g, Exp):
        return rng.poisson(1.0, size=(m, 2)).astype(np.float64)
    return rng.normal(size=(m, 2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_views_shapes_and_dtype(dtype):
    units = [4, 6, 5, 3]
    ws = Workspace(units, max_rows=10, dtype=dtype)
    for m in (10, 7, 1):
        forward_out, (coef_grads, intercept_grads, dA), dZL = ws.views(m)
        assert [(Z.shape, A.shape) for Z, A in forward_out] == [
            ((m, n), (m, n)) for n in units[1:]
        ]
        assert [W.shape for W in coef_grads] == [(4, 6), (6, 5), (5, 3)]
        assert [b.shape for b in intercept_grads] == [(6,), (5,), (3,)]
        # dA[l] holds the gradient flowing into layer l - 1: layer l's input.
        assert dA[0] is None
        assert [a.shape for a in dA[1:]] == [(m, 6), (m, 5)]
        assert dZL.shape == (m, 3)
        arrays = [*coef_grads, *intercept_grads, *dA[1:], dZL]
        arrays += [a for pair in forward_out for a in pair]
        for a in arrays:
            assert a.dtype == dtype
            assert a.flags.c_contiguous


def test_views_reuse_the_same_memory():
    ws = Workspace([3, 4, 2], max_rows=8, dtype=np.float64)
    first = ws.views(8)
    second = ws.views(5)
    for (Z1, A1), (Z2, A2) in zip(first[0], second[0]):
        assert np.shares_memory(Z1, Z2) and np.shares_memory(A1, A2)
        assert not np.shares_memory(Z1, A1)
    assert np.shares_memory(first[2], second[2])
    assert np.shares_memory(first[1][2][1], second[1][2][1])
    for g1, g2 in zip(first[1][0] + first[1][1], second[1][0] + second[1][1]):
        assert g1 is g2


def test_views_reject_too_many_rows():
    ws = Workspace([3, 2], max_rows=4, dtype=np.float64)
    with pytest.raises(ValueError, match="exceeds"):
        ws.views(5)


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("depth", [0, 1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_backprop_with_workspace_equals_without(loss_name, depth, dtype):
    rng = np.random.RandomState(0)
    loss = get_loss(loss_name)
    max_rows = 9
    X = rng.normal(size=(max_rows, 3)).astype(dtype)
    Y = _targets(loss, max_rows, rng).astype(dtype)
    units = [3, *[5, 4][:depth], Y.shape[1]]
    coefs, intercepts = initialize_parameters(units, rng, dtype=dtype)
    acts = [get_activation("tanh")] * depth + [loss.output_activation]
    sw = rng.uniform(0.5, 2.0, size=max_rows)
    ws = Workspace(units, max_rows=max_rows, dtype=dtype)
    rtol = 1e-6 if dtype == np.float32 else 1e-13

    # Full batch, then smaller ones (stale rows must not leak), then full again.
    for m in (9, 4, 1, 9, 6):
        args = (X[:m], Y[:m], coefs, intercepts, acts, loss, 0.3, sw[:m])
        J_ref, g_ref, h_ref = backprop(*args)
        J, g, h = backprop(*args, workspace=ws)
        np.testing.assert_allclose(J, J_ref, rtol=rtol)
        for a, b in zip((*g, *h), (*g_ref, *h_ref)):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
        # The gradients live in the workspace (no new arrays per batch).
        assert all(a is b for a, b in zip(g, ws.coef_grads))
        assert all(a is b for a, b in zip(h, ws.intercept_grads))


def test_backprop_with_workspace_sparse_and_dropout():
    rng = np.random.RandomState(1)
    loss = get_loss("log_loss")
    X = rng.normal(size=(8, 5))
    X[np.abs(X) < 0.8] = 0.0
    Xs = scipy.sparse.csr_matrix(X)
    Y = np.eye(3)[rng.randint(3, size=8)]
    units = [5, 6, 4, 3]
    coefs, intercepts = initialize_parameters(units, rng)
    acts = [get_activation("relu")] * 2 + [loss.output_activation]
    masks = dropout_masks(np.arange(8, dtype=np.uint64), [6, 4], [0.5, 0.25], 3, 0)
    # Sparse data asks for numpy buffers.
    ws = Workspace(units, max_rows=8, dtype=np.float64, like=Xs)
    assert type(ws.flat_grads) is np.ndarray and type(ws.views(8)[2]) is np.ndarray
    J_ref, g_ref, h_ref = backprop(X, Y, coefs, intercepts, acts, loss, 0.1)
    J, g, h = backprop(Xs, Y, coefs, intercepts, acts, loss, 0.1, workspace=ws)
    np.testing.assert_allclose(J, J_ref, rtol=1e-13)
    for a, b in zip((*g, *h), (*g_ref, *h_ref)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)

    args = (Xs, Y, coefs, intercepts, acts, loss, 0.1)
    J_ref, g_ref, h_ref = backprop(*args, dropout_masks=masks)
    J, g, h = backprop(*args, workspace=ws, dropout_masks=masks)
    np.testing.assert_allclose(J, J_ref, rtol=1e-13)
    for a, b in zip((*g, *h), (*g_ref, *h_ref)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


HIDDEN = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu"]


@pytest.mark.parametrize("name", HIDDEN)
def test_in_place_layers_give_the_same_gradients(name):
    # A layer whose activation overwrites Z must still backpropagate right:
    # allowed only where the activation says f' comes from A alone.
    activation = get_activation(name)
    rng = np.random.RandomState(2)
    loss = get_loss("log_loss")
    X = rng.normal(size=(12, 4))
    Y = np.eye(3)[rng.randint(3, size=12)]
    units = [4, 7, 5, 3]
    coefs, intercepts = initialize_parameters(units, rng)
    acts = [activation, activation, loss.output_activation]
    args = (X, Y, coefs, intercepts, acts, loss, 0.2)
    J_ref, g_ref, h_ref = backprop(*args, workspace=Workspace(units, 12, np.float64))
    g_ref, h_ref = [a.copy() for a in g_ref], [a.copy() for a in h_ref]
    in_place = [True, True, False]
    ws = Workspace(units, 12, np.float64, in_place=in_place)
    forward_out = ws.views(12)[0]
    # One buffer, not two.
    assert [np.shares_memory(Z, A) for Z, A in forward_out] == in_place
    J, g, h = backprop(*args, workspace=ws)
    same = J == J_ref and all(
        np.array_equal(a, b) for a, b in zip((*g, *h), (*g_ref, *h_ref))
    )
    # Exactly equal for the activations that claim it; the others do need Z
    # (which is why they must not claim it).
    assert same == activation.derivative_from_output


def test_in_place_needs_one_flag_per_layer():
    with pytest.raises(ValueError, match="one flag per layer"):
        Workspace([3, 4, 2], 5, np.float64, in_place=[True])


@pytest.mark.parametrize("loss_name", ["squared_error", "huber", "absolute_error"])
def test_identity_output_in_place_gives_the_same_loss_and_gradients(loss_name):
    # The losses read Z, which an identity output leaves equal to A.
    rng = np.random.RandomState(3)
    loss = get_loss(loss_name)
    X, Y = rng.normal(size=(10, 4)), rng.normal(size=(10, 2))
    units = [4, 6, 2]
    coefs, intercepts = initialize_parameters(units, rng)
    acts = [get_activation("relu"), loss.output_activation]
    args = (X, Y, coefs, intercepts, acts, loss, 0.1)
    J_ref, g_ref, h_ref = backprop(*args, workspace=Workspace(units, 10, np.float64))
    g_ref, h_ref = [a.copy() for a in g_ref], [a.copy() for a in h_ref]
    ws = Workspace(units, 10, np.float64, in_place=[True, True])
    J, g, h = backprop(*args, workspace=ws)
    assert J == J_ref
    for a, b in zip((*g, *h), (*g_ref, *h_ref)):
        np.testing.assert_array_equal(a, b)


def test_leaky_relu_with_a_negative_slope_needs_z():
    from skbp.core.activations import LeakyReLU

    assert LeakyReLU(0.1).derivative_from_output
    assert not LeakyReLU(-0.5).derivative_from_output


# ---------------------------------------------------------------------------
# Every array library: buffers in the data's library and device
# ---------------------------------------------------------------------------


def _of_library(lib, x):
    return type(x) is type(lib.to(np.zeros(1)))


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_buffers_in_the_data_library(lib, dtype):
    units = [4, 6, 5, 3]
    X = lib.to(np.zeros((10, 4), dtype))
    for requested in (dtype, X.dtype):
        ws = Workspace(units, max_rows=10, dtype=requested, like=X, in_place=[1, 0, 0])
        assert _of_library(lib, ws.flat_grads)
        assert lib.back(ws.flat_grads).dtype == dtype
    forward_out, (coef_grads, intercept_grads, dA), dZL = ws.views(7)
    arrays = [*coef_grads, *intercept_grads, *dA[1:], dZL]
    arrays += [a for pair in forward_out for a in pair]
    for a in arrays:
        assert _of_library(lib, a) and lib.back(a).dtype == dtype
    assert [tuple(Z.shape) for Z, _ in forward_out] == [(7, n) for n in units[1:]]
    assert tuple(dZL.shape) == (7, 3)
    # The gradients are views of the flat vector; A is Z where in place.
    ws.flat_grads[...] = lib.to(np.arange(ws.layout.size, dtype=dtype))
    np.testing.assert_array_equal(
        lib.back(coef_grads[0]), np.arange(24, dtype=dtype).reshape(4, 6)
    )
    (Z0, A0), (Z1, A1) = forward_out[:2]
    Z0[...] = 1.0
    Z1[...] = 1.0
    A1[...] = 2.0
    assert np.all(lib.back(A0) == 1.0) and np.all(lib.back(Z1) == 1.0)
    # Smaller batches are leading rows of the same buffers.
    dZL[...] = 3.0
    assert np.all(lib.back(ws.views(2)[2]) == 3.0)


@pytest.mark.parametrize("loss_name", ["squared_error", "log_loss"])
@pytest.mark.parametrize(
    "lib",
    NAMESPACES,
)
def test_backprop_with_workspace_in_every_library(lib, loss_name):
    rng = np.random.RandomState(0)
    loss = get_loss(loss_name)
    X = rng.normal(size=(9, 3))
    Y = _targets(loss, 9, rng)
    units = [3, 5, Y.shape[1]]
    coefs, intercepts = initialize_parameters(units, rng)
    acts = [get_activation("tanh"), loss.output_activation]
    sw = rng.uniform(0.5, 2.0, size=9)
    Xx = lib.to(X)
    coefs_x = [lib.to(W) for W in coefs]
    intercepts_x = [lib.to(b) for b in intercepts]
    ws = Workspace(units, max_rows=9, dtype=np.float64, like=Xx)
    for m in (9, 4, 9):
        J_ref, g_ref, h_ref = backprop(
            X[:m], Y[:m], coefs, intercepts, acts, loss, 0.3, sw[:m]
        )
        args = (Xx[:m, :], lib.to(Y[:m]), coefs_x, intercepts_x, acts, loss, 0.3)
        J, g, h = backprop(*args, lib.to(sw[:m]), workspace=ws)
        np.testing.assert_allclose(J, J_ref, rtol=1e-12)
        for a, b, w in zip(
            (*g, *h), (*g_ref, *h_ref), (*ws.coef_grads, *ws.intercept_grads)
        ):
            assert a is w
            np.testing.assert_allclose(lib.back(a), b, rtol=1e-12, atol=1e-14)
