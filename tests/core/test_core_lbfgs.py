"""skbp.core.lbfgs: flat parameter vectors and L-BFGS on a network's loss."""

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.neural_network._multilayer_perceptron import _pack as sklearn_pack

from skbp.core.activations import get_activation
from skbp.core.lbfgs import minimize_lbfgs, pack, unpack
from skbp.core.losses import get_loss
from skbp.core.network import backprop, initialize_parameters


def _net_params(units, seed=0, dtype=np.float64):
    return initialize_parameters(units, np.random.RandomState(seed), dtype=dtype)


def test_pack_layout_matches_sklearn():
    coefs, intercepts = _net_params([3, 4, 2])
    theta = pack(coefs, intercepts)
    np.testing.assert_array_equal(theta, sklearn_pack(coefs, intercepts))
    # Weights first (C order), then biases.
    np.testing.assert_array_equal(theta[:12], coefs[0].ravel())
    np.testing.assert_array_equal(theta[12:20], coefs[1].ravel())
    np.testing.assert_array_equal(theta[20:24], intercepts[0])
    np.testing.assert_array_equal(theta[24:], intercepts[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unpack_writes_in_place(dtype):
    coefs, intercepts = _net_params([3, 4, 2], dtype=dtype)
    ids = [id(a) for a in (*coefs, *intercepts)]
    theta = np.arange(26, dtype=np.float64) / 7.0
    unpack(theta, coefs, intercepts)
    assert [id(a) for a in (*coefs, *intercepts)] == ids
    for a in (*coefs, *intercepts):
        assert a.dtype == dtype
    np.testing.assert_allclose(pack(coefs, intercepts), theta, rtol=1e-7)
    np.testing.assert_array_equal(
        coefs[0], (np.arange(12) / 7.0).reshape(3, 4).astype(dtype)
    )


@pytest.mark.parametrize("size", [25, 27, 0])
def test_unpack_rejects_wrong_size(size):
    coefs, intercepts = _net_params([3, 4, 2])
    with pytest.raises(ValueError):
        unpack(np.zeros(size), coefs, intercepts)


_SHAPES = st.lists(
    st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=4
)


@settings(max_examples=50, deadline=None)
@given(shapes=_SHAPES, seed=st.integers(0, 2**32 - 1))
def test_pack_unpack_round_trip(shapes, seed):
    rng = np.random.RandomState(seed)
    coefs = [rng.normal(size=s) for s in shapes]
    intercepts = [rng.normal(size=s[1]) for s in shapes]
    theta = pack(coefs, intercepts)
    assert theta.shape == (sum(W.size + b.size for W, b in zip(coefs, intercepts)),)
    np.testing.assert_array_equal(theta, sklearn_pack(coefs, intercepts))
    new_coefs = [np.zeros_like(W) for W in coefs]
    new_intercepts = [np.zeros_like(b) for b in intercepts]
    unpack(theta, new_coefs, new_intercepts)
    for a, b in zip((*coefs, *intercepts), (*new_coefs, *new_intercepts)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(pack(new_coefs, new_intercepts), theta)


def _problem(dtype=np.float64, hidden=(), seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(40, 3))
    W_true = np.array([[1.0, -2.0], [0.5, 0.0], [-1.5, 3.0]])
    b_true = np.array([0.3, -0.7])
    Y = X @ W_true + b_true
    if hidden:
        Y = np.sin(Y)
    units = [3, *hidden, 2]
    coefs, intercepts = initialize_parameters(units, rng, dtype=dtype)
    acts = [get_activation("tanh")] * len(hidden) + [get_activation("identity")]
    loss = get_loss("squared_error")

    def loss_and_grads():
        return backprop(X.astype(dtype), Y.astype(dtype), coefs, intercepts, acts, loss)

    return X, Y, W_true, b_true, coefs, intercepts, loss_and_grads


def test_lbfgs_recovers_linear_map():
    X, Y, W_true, b_true, coefs, intercepts, loss_and_grads = _problem()
    J0 = loss_and_grads()[0]
    calls = []
    result = minimize_lbfgs(
        loss_and_grads,
        coefs,
        intercepts,
        max_iter=200,
        max_fun=15000,
        tol=1e-12,
        callback=calls.append,
    )
    np.testing.assert_allclose(coefs[0], W_true, atol=1e-6)
    np.testing.assert_allclose(intercepts[0], b_true, atol=1e-6)
    assert result.fun < 1e-12 < J0
    assert len(calls) == result.nit >= 1
    assert all(isinstance(theta, np.ndarray) and theta.shape == (8,) for theta in calls)


def test_lbfgs_reaches_scipy_minimum_on_small_network():
    *_, coefs, intercepts, loss_and_grads = _problem(hidden=(4,))
    J0 = loss_and_grads()[0]
    coefs0 = [W.copy() for W in coefs]
    intercepts0 = [b.copy() for b in intercepts]

    # scipy on the same objective, flattened independently of skbp.core.lbfgs.
    shapes = [a.shape for a in (*coefs0, *intercepts0)]
    sizes = [int(np.prod(s)) for s in shapes]

    def fun(theta):
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        cs = [p.reshape(s) for p, s in zip(parts[:2], shapes[:2])]
        bs = [p.reshape(s) for p, s in zip(parts[2:], shapes[2:])]
        for dst, src in zip((*coefs, *intercepts), (*cs, *bs)):
            dst[...] = src
        J, g, h = loss_and_grads()
        return J, np.concatenate([a.ravel() for a in (*g, *h)])

    theta0 = np.concatenate([a.ravel() for a in (*coefs0, *intercepts0)])
    reference = scipy.optimize.minimize(
        fun,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 300, "maxfun": 15000, "gtol": 1e-10},
    )

    for dst, src in zip((*coefs, *intercepts), (*coefs0, *intercepts0)):
        dst[...] = src
    result = minimize_lbfgs(
        loss_and_grads, coefs, intercepts, max_iter=300, max_fun=15000, tol=1e-10
    )
    assert result.fun < 0.5 * J0
    np.testing.assert_allclose(result.fun, reference.fun, rtol=1e-3, atol=1e-8)
    # The parameters hold the solution: the loss there is result.fun.
    np.testing.assert_allclose(loss_and_grads()[0], result.fun, rtol=1e-12)
    assert result.nit <= 300


def test_lbfgs_respects_max_iter_and_keeps_float32():
    *_, coefs, intercepts, loss_and_grads = _problem(dtype=np.float32, hidden=(3,))
    ids = [id(a) for a in (*coefs, *intercepts)]
    J0 = loss_and_grads()[0]
    result = minimize_lbfgs(loss_and_grads, coefs, intercepts, 5, 15000, 1e-12)
    assert result.nit <= 5
    assert [id(a) for a in (*coefs, *intercepts)] == ids
    assert all(a.dtype == np.float32 for a in (*coefs, *intercepts))
    assert loss_and_grads()[0] < J0
