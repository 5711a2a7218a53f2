"""skbp.core.lbfgs: flat parameter vectors and L-BFGS on a network's loss."""

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from namespaces import NAMESPACES
from sklearn.neural_network._multilayer_perceptron import _pack as sklearn_pack

from skbp.core.activations import get_activation
from skbp.core.lbfgs import minimize_lbfgs, pack, unpack
from skbp.core.losses import get_loss
from skbp.core.namespace import get_namespace
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


# ---------------------------------------------------------------------------
# Every array library: the objective on the device, L-BFGS-B on the host
# ---------------------------------------------------------------------------


def _of_library(lib, x):
    return type(x) is type(lib.to(np.zeros(1)))


def _quadratic(lib, dtype=np.float64):
    r"""A toy objective over every weight and bias, in the arrays' library.

    :math:`J = \sum_p \tfrac12 c_p (p - t_p)^2 + \tfrac14 (p - t_p)^4`.
    """
    coefs, intercepts = _net_params([3, 4, 2], seed=1, dtype=dtype)
    rng = np.random.RandomState(2)
    params = [lib.to(a) for a in (*coefs, *intercepts)]
    targets = [lib.to(rng.normal(size=a.shape).astype(dtype)) for a in params]
    curvatures = [lib.to(rng.uniform(0.5, 5.0, a.shape).astype(dtype)) for a in params]
    seen = []

    def loss_and_grads():
        seen.append(all(_of_library(lib, p) for p in params))
        J, grads = 0.0, []
        for p, t, c in zip(params, targets, curvatures):
            xp = get_namespace(p)
            d = p - t
            J += float(xp.sum(0.5 * c * d * d + 0.25 * d**4))
            grads.append(c * d + d**3)
        return J, grads[:2], grads[2:]

    return params[:2], params[2:], loss_and_grads, seen


@pytest.mark.parametrize("lib", NAMESPACES)
def test_lbfgs_in_every_library_equals_numpy(lib):
    coefs, intercepts, loss_and_grads, _ = _quadratic(NAMESPACES[0].values[0])
    expected = minimize_lbfgs(loss_and_grads, coefs, intercepts, 200, 15000, 1e-12)
    coefs_x, intercepts_x, loss_and_grads_x, seen = _quadratic(lib)
    ids = [id(a) for a in (*coefs_x, *intercepts_x)]
    thetas = []
    result = minimize_lbfgs(
        loss_and_grads_x,
        coefs_x,
        intercepts_x,
        200,
        15000,
        1e-12,
        callback=lambda intermediate_result: thetas.append(intermediate_result.x),
    )
    # The objective saw the library's arrays, scipy float64 numpy vectors.
    assert all(seen) and len(seen) == result.nfev
    assert all(type(x) is np.ndarray and x.dtype == np.float64 for x in thetas)
    assert type(result.x) is np.ndarray and result.x.dtype == np.float64
    assert result.nit == expected.nit > 3
    np.testing.assert_allclose(result.x, expected.x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result.fun, expected.fun, rtol=1e-10, atol=1e-14)
    # The parameters hold the solution, in place, in their library.
    assert [id(a) for a in (*coefs_x, *intercepts_x)] == ids
    for a, e in zip((*coefs_x, *intercepts_x), (*coefs, *intercepts)):
        assert _of_library(lib, a)
        np.testing.assert_allclose(lib.back(a), e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lib", NAMESPACES)
def test_lbfgs_in_every_library_keeps_float32(lib):
    coefs, intercepts, loss_and_grads, _ = _quadratic(lib, dtype=np.float32)
    J0 = loss_and_grads()[0]
    result = minimize_lbfgs(loss_and_grads, coefs, intercepts, 5, 15000, 1e-12)
    assert result.nit <= 5
    for a in (*coefs, *intercepts):
        assert _of_library(lib, a) and lib.back(a).dtype == np.float32
    assert loss_and_grads()[0] < J0


@pytest.mark.parametrize(
    "lib",
    NAMESPACES,
)
def test_lbfgs_on_a_network_in_every_library(lib):
    *_, coefs, intercepts, loss_and_grads = _problem(hidden=(4,))
    # 20 iterations: along this non-convex path an ulp of difference in the
    # first gradients grows ~10x every 10 iterations (1e-12 in x after 20).
    expected = minimize_lbfgs(loss_and_grads, coefs, intercepts, 20, 15000, 1e-10)
    X, Y, _, _, coefs0, intercepts0, _ = _problem(hidden=(4,))  # the same draw
    X, Y = lib.to(X), lib.to(Y)
    coefs_x = [lib.to(W) for W in coefs0]
    intercepts_x = [lib.to(b) for b in intercepts0]
    acts = [get_activation("tanh"), get_activation("identity")]
    loss = get_loss("squared_error")

    def loss_and_grads_x():
        return backprop(X, Y, coefs_x, intercepts_x, acts, loss)

    result = minimize_lbfgs(loss_and_grads_x, coefs_x, intercepts_x, 20, 15000, 1e-10)
    assert result.nit == expected.nit
    np.testing.assert_allclose(result.x, expected.x, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(result.fun, expected.fun, rtol=1e-10)
