"""skbp.core.network and gradient_check: whole-network forward and backward.

The central test is the gradient check over every hidden activation, every
loss (with its output activation), depths 0/1/2, float32 and float64, with
and without L2 and sample weights. Other tests check the chaining against an
explicit loop written here, independently of ``network.py``.
"""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from namespaces import NAMESPACES
from sklearn.neural_network import MLPRegressor

import skbp.core.network as network_module
from skbp.core.activations import (
    HIDDEN_ACTIVATIONS,
    Exp,
    Logistic,
    Softmax,
    Tanh,
    get_activation,
)
from skbp.core.dropout import dropout_masks
from skbp.core.gradient_check import (
    gradient_check,
    numerical_gradients,
    relative_error,
)
from skbp.core.layers import LayerCache, linear_activation_backward
from skbp.core.losses import LOSSES, Loss, get_loss
from skbp.core.namespace import get_namespace
from skbp.core.network import (
    L_model_backward,
    L_model_forward,
    backprop,
    forward_loss,
    forward_output,
    initialize_parameters,
    parameters_like,
)
from skbp.core.workspace import Workspace

DTYPES = [np.float32, np.float64]
#: Relative error of backprop against float64 finite differences.
TOLERANCE = {np.float32: 1e-4, np.float64: 1e-6}
#: Distinct widths, so that a layer reading the wrong input fails loudly.
HIDDEN_WIDTHS = [4, 5, 3]
VARIANTS = {
    "plain": (0.0, False),
    "l2": (0.7, False),
    "weights": (0.0, True),
    "l2+weights": (0.7, True),
}


def make_targets(name, m, rng):
    """Targets valid for the loss: one-hot, 0/1, counts or reals."""
    loss = get_loss(name)
    g = loss.output_activation
    if isinstance(g, Softmax):
        return np.eye(3)[rng.randint(3, size=m)]
    k = 1 if name == "binary_log_loss" else 2
    if isinstance(g, Logistic):
        return rng.randint(2, size=(m, k)).astype(np.float64)
    if isinstance(g, Exp):
        return rng.poisson(1.5, size=(m, k)).astype(np.float64)
    return rng.normal(size=(m, k))


def make_network(
    loss_name,
    hidden,
    depth,
    dtype=np.float64,
    m=6,
    n_features=3,
    seed=0,
    alpha=0.0,
    weighted=False,
    widths=None,
):
    rng = np.random.RandomState(seed)
    loss = get_loss(loss_name)
    Y = make_targets(loss_name, m, rng)
    X = rng.normal(size=(m, n_features))
    widths = HIDDEN_WIDTHS[:depth] if widths is None else widths
    units = [n_features, *widths, Y.shape[1]]
    coefs, intercepts = initialize_parameters(units, rng, dtype=dtype)
    activations = [get_activation(hidden)] * len(widths) + [loss.output_activation]
    sw = None
    if weighted:
        sw = rng.uniform(0.3, 2.5, size=m)
        sw[0] = 0.0  # a zero weight is allowed
    return dict(
        X=X.astype(dtype),
        Y=Y.astype(dtype),
        coefs=coefs,
        intercepts=intercepts,
        activations=activations,
        loss=loss,
        alpha=alpha,
        sample_weight=sw,
    )


def reference_forward(X, coefs, intercepts, activations):
    """Explicit loop: each layer reads the previous layer's output."""
    A, As, Zs = X, [], []
    for W, b, act in zip(coefs, intercepts, activations):
        Z = A @ W + b
        A = act.forward(np.array(Z))
        Zs.append(Z)
        As.append(A)
    return As, Zs


def reference_loss(X, Y, coefs, intercepts, activations, loss, alpha, sample_weight):
    As, Zs = reference_forward(X, coefs, intercepts, activations)
    n = len(X) if sample_weight is None else np.sum(sample_weight)
    penalty = 0.5 * alpha / n * sum(np.sum(W**2) for W in coefs)
    return loss.value(Y, Zs[-1], As[-1], sample_weight) + penalty


def reference_gradients(net, h=1e-6):
    """Central differences of ``reference_loss``, float64, written here."""
    coefs = [np.array(W, dtype=np.float64) for W in net["coefs"]]
    intercepts = [np.array(b, dtype=np.float64) for b in net["intercepts"]]
    X, Y = np.asarray(net["X"], np.float64), np.asarray(net["Y"], np.float64)
    args = (net["activations"], net["loss"], net["alpha"], net["sample_weight"])
    grads = []
    for p in (*coefs, *intercepts):
        g = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            orig = p[idx]
            p[idx] = orig + h
            plus = reference_loss(X, Y, coefs, intercepts, *args)
            p[idx] = orig - h
            minus = reference_loss(X, Y, coefs, intercepts, *args)
            p[idx] = orig
            g[idx] = (plus - minus) / (2 * h)
        grads.append(g)
    return grads


def _check(net, **kwargs):
    return gradient_check(
        net["X"],
        net["Y"],
        net["coefs"],
        net["intercepts"],
        net["activations"],
        net["loss"],
        alpha=net["alpha"],
        sample_weight=net["sample_weight"],
        **kwargs,
    )


def _backprop(net, **kwargs):
    return backprop(
        net["X"],
        net["Y"],
        net["coefs"],
        net["intercepts"],
        net["activations"],
        net["loss"],
        alpha=net["alpha"],
        sample_weight=net["sample_weight"],
        **kwargs,
    )


# ---------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------


def _sklearn_init(units, activation, seed, dtype):
    mlp = MLPRegressor(activation=activation)
    mlp._random_state = np.random.RandomState(seed)
    pairs = [mlp._init_coef(a, b, dtype) for a, b in zip(units[:-1], units[1:])]
    return [W for W, _ in pairs], [b for _, b in pairs]


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_initialize_parameters_draws_as_sklearn(activation, dtype):
    units = [5, 7, 3, 2]
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = initialize_parameters(
        units, np.random.RandomState(42), dtype=dtype, factor=factor
    )
    sk_coefs, sk_intercepts = _sklearn_init(units, activation, 42, dtype)
    assert len(coefs) == len(intercepts) == len(units) - 1
    for ours, theirs in zip((*coefs, *intercepts), (*sk_coefs, *sk_intercepts)):
        assert ours.dtype == dtype
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("factor", [2.0, 6.0])
def test_initialize_parameters_glorot_bounds(factor):
    units = [40, 30, 20]
    coefs, intercepts = initialize_parameters(
        units, np.random.RandomState(0), factor=factor
    )
    for (fan_in, fan_out), W, b in zip(zip(units[:-1], units[1:]), coefs, intercepts):
        assert W.shape == (fan_in, fan_out) and b.shape == (fan_out,)
        bound = np.sqrt(factor / (fan_in + fan_out))
        assert np.abs(W).max() <= bound and np.abs(b).max() <= bound
        # Uniform on the whole symmetric interval (not all positive, as the
        # seed's np.random.random was; not a narrower range).
        assert W.min() < -0.9 * bound and W.max() > 0.9 * bound
        assert abs(W.mean()) < 0.1 * bound


def test_initialize_parameters_per_layer_factor():
    units = [30, 30, 30]
    coefs, _ = initialize_parameters(units, np.random.RandomState(0), factor=[2.0, 6.0])
    assert np.abs(coefs[0]).max() <= np.sqrt(2.0 / 60)
    assert np.abs(coefs[1]).max() > np.sqrt(2.0 / 60)
    assert np.abs(coefs[1]).max() <= np.sqrt(6.0 / 60)


@pytest.mark.parametrize(
    "make_rng", [np.random.RandomState, np.random.default_rng], ids=["rs", "gen"]
)
def test_initialize_parameters_reproducible(make_rng):
    units = [3, 4, 2]
    first = initialize_parameters(units, make_rng(7))
    again = initialize_parameters(units, make_rng(7))
    other = initialize_parameters(units, make_rng(8))
    for a, b, c in zip(first[0] + first[1], again[0] + again[1], other[0] + other[1]):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


# ---------------------------------------------------------------------------
# Forward pass
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
@pytest.mark.parametrize("hidden", ["tanh", "relu", "logistic"])
@pytest.mark.parametrize("loss_name", ["squared_error", "log_loss"])
def test_L_model_forward_matches_explicit_loop(depth, hidden, loss_name):
    net = make_network(loss_name, hidden, depth)
    As, Zs = reference_forward(
        net["X"], net["coefs"], net["intercepts"], net["activations"]
    )
    AL, caches = L_model_forward(
        net["X"], net["coefs"], net["intercepts"], net["activations"]
    )
    assert len(caches) == depth + 1
    np.testing.assert_allclose(AL, As[-1], rtol=1e-13)
    inputs = [net["X"], *As[:-1]]
    for layer, (A_prev, W, Z) in enumerate(caches):
        assert W is net["coefs"][layer]
        np.testing.assert_allclose(A_prev, inputs[layer], rtol=1e-13)
        np.testing.assert_allclose(Z, Zs[layer], rtol=1e-13)
    assert caches[0].A_prev is net["X"]


def test_hidden_layers_read_previous_activation():
    # The seed tutorials multiplied the raw input x in every hidden layer.
    # With distinct widths that cannot even run; here it must, and layer 2's
    # input must be layer 1's output.
    net = make_network("squared_error", "tanh", 2, widths=[5, 4], n_features=3)
    X, coefs, intercepts, acts = (
        net["X"],
        net["coefs"],
        net["intercepts"],
        net["activations"],
    )
    assert [W.shape for W in coefs] == [(3, 5), (5, 4), (4, 2)]
    AL, caches = L_model_forward(X, coefs, intercepts, acts)
    A1 = np.tanh(X @ coefs[0] + intercepts[0])
    A2 = np.tanh(A1 @ coefs[1] + intercepts[1])
    np.testing.assert_allclose(caches[1].A_prev, A1, rtol=1e-14)
    np.testing.assert_allclose(caches[2].A_prev, A2, rtol=1e-14)
    np.testing.assert_allclose(AL, A2 @ coefs[2] + intercepts[2], rtol=1e-13)

    # The output depends on the second hidden layer's weights and biases.
    for param in (coefs[1], intercepts[1]):
        param.flat[0] += 0.5
        changed = forward_output(X, coefs, intercepts, acts)
        param.flat[0] -= 0.5
        assert np.abs(changed - AL).max() > 1e-3
    # ... and so does its gradient.
    _, coef_grads, intercept_grads = _backprop(net)
    assert np.abs(coef_grads[1]).max() > 1e-6
    assert np.abs(intercept_grads[1]).max() > 1e-6


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_output_equals_L_model_forward(depth, loss_name, dtype):
    net = make_network(loss_name, "relu", depth, dtype=dtype)
    args = (net["X"], net["coefs"], net["intercepts"], net["activations"])
    AL, _ = L_model_forward(*args)
    out = forward_output(*args)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, AL)


@pytest.mark.parametrize("depth", [0, 1, 2])
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("sparse", [False, True])
def test_forward_output_writes_nothing(depth, hidden, sparse):
    for loss_name in ("squared_error", "log_loss"):
        net = make_network(loss_name, hidden, depth)
        X = scipy.sparse.csr_matrix(net["X"]) if sparse else net["X"]
        arrays = [*net["coefs"], *net["intercepts"]]
        if not sparse:
            arrays.append(X)
        copies = [a.copy() for a in arrays]
        for a in arrays:
            a.flags.writeable = False  # any write raises
        out = forward_output(X, net["coefs"], net["intercepts"], net["activations"])
        for a, c in zip(arrays, copies):
            np.testing.assert_array_equal(a, c)
            assert not np.shares_memory(out, a)
        expected, _ = L_model_forward(
            X, net["coefs"], net["intercepts"], net["activations"]
        )
        np.testing.assert_allclose(out, expected, rtol=1e-14)


# ---------------------------------------------------------------------------
# Backward pass against independent finite differences
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
@pytest.mark.parametrize("hidden", ["tanh", "relu", "logistic", "identity"])
@pytest.mark.parametrize("loss_name", ["squared_error", "log_loss", "poisson"])
def test_backprop_matches_independent_finite_differences(depth, hidden, loss_name):
    net = make_network(loss_name, hidden, depth, alpha=0.3, weighted=True, m=5)
    J, coef_grads, intercept_grads = _backprop(net)
    J_ref = reference_loss(
        net["X"],
        net["Y"],
        net["coefs"],
        net["intercepts"],
        net["activations"],
        net["loss"],
        net["alpha"],
        net["sample_weight"],
    )
    np.testing.assert_allclose(J, J_ref, rtol=1e-13)
    numerical = reference_gradients(net)
    assert relative_error([*coef_grads, *intercept_grads], numerical) < 1e-7


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_L_model_backward_matches_backprop(depth):
    net = make_network("squared_error", "tanh", depth)
    AL, caches = L_model_forward(
        net["X"], net["coefs"], net["intercepts"], net["activations"]
    )
    dZL = net["loss"].gradient(net["Y"], caches[-1].Z, AL)
    coef_grads, intercept_grads = L_model_backward(dZL, caches, net["activations"])
    _, coef_ref, intercept_ref = _backprop(net)
    assert len(coef_grads) == len(intercept_grads) == depth + 1
    for g, r, p in zip(
        (*coef_grads, *intercept_grads),
        (*coef_ref, *intercept_ref),
        (*net["coefs"], *net["intercepts"]),
    ):
        assert g.shape == p.shape
        np.testing.assert_allclose(g, r, rtol=1e-14)


@pytest.mark.parametrize("depth", [0, 2])
def test_L_model_backward_reads_only_A_prev_W_Z(depth):
    # Every cache is a LayerCache; caches rebuilt by hand from copies of
    # A_prev, W and Z alone give the same gradients.
    net = make_network("log_loss", "logistic", depth)
    AL, caches = L_model_forward(
        net["X"], net["coefs"], net["intercepts"], net["activations"]
    )
    assert all(type(cache) is LayerCache for cache in caches)
    dZL = net["loss"].gradient(net["Y"], caches[-1].Z, AL)
    expected = L_model_backward(dZL.copy(), caches, net["activations"])
    by_hand = [LayerCache(*(np.copy(part) for part in cache)) for cache in caches]
    result = L_model_backward(dZL.copy(), by_hand, net["activations"])
    for g, e in zip([*result[0], *result[1]], [*expected[0], *expected[1]]):
        np.testing.assert_array_equal(g, e)


# ---------------------------------------------------------------------------
# The gradient check
# ---------------------------------------------------------------------------

_GRID = [
    pytest.param(hidden, depth, id=f"{hidden}-d{depth}")
    for depth in (1, 2)
    for hidden in HIDDEN_ACTIVATIONS
] + [pytest.param("identity", 0, id="d0")]


@pytest.mark.parametrize(("hidden", "depth"), _GRID)
@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_gradient_check(hidden, depth, loss_name, dtype, variant):
    alpha, weighted = VARIANTS[variant]
    net = make_network(
        loss_name, hidden, depth, dtype=dtype, alpha=alpha, weighted=weighted, seed=1
    )
    before = [p.copy() for p in (*net["coefs"], *net["intercepts"])]
    error = _check(net)
    assert error < TOLERANCE[dtype]
    # The check leaves the parameters as it found them.
    for p, b in zip((*net["coefs"], *net["intercepts"]), before):
        assert p.dtype == dtype
        np.testing.assert_array_equal(p, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_check_sparse_input(dtype):
    net = make_network("log_loss", "relu", 2, dtype=dtype, alpha=0.2, weighted=True)
    X = net["X"].copy()
    X[np.abs(X) < 0.7] = 0.0
    net["X"] = scipy.sparse.csr_matrix(X)
    assert _check(net) < TOLERANCE[dtype]
    J_sparse, g_sparse, h_sparse = _backprop(net)
    net["X"] = X
    J_dense, g_dense, h_dense = _backprop(net)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(J_sparse, J_dense, rtol=rtol)
    for a, b in zip((*g_sparse, *h_sparse), (*g_dense, *h_dense)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


# Deliberately broken backward passes must be caught: the check can fail.


def test_gradient_check_detects_wrong_derivative(monkeypatch):
    net = make_network("squared_error", "tanh", 2, seed=2)
    assert _check(net) < 1e-6
    monkeypatch.setattr(Tanh, "derivative", lambda self, Z, A=None: 1.0 - np.abs(A))
    assert _check(net) > 1e-2


def test_gradient_check_detects_missing_l2_gradient(monkeypatch):
    net = make_network("squared_error", "relu", 1, alpha=1.0, seed=3)
    assert _check(net) < 1e-6
    monkeypatch.setattr(
        network_module, "add_l2_gradient", lambda grads, *args, **kwargs: grads
    )
    assert _check(net) > 1e-2


def test_gradient_check_detects_ignored_sample_weights(monkeypatch):
    net = make_network("log_loss", "tanh", 1, weighted=True, seed=4)
    assert _check(net) < 1e-6
    original = Loss.gradient

    def unweighted(self, Y, Z, A, sample_weight=None, out=None):
        return original(self, Y, Z, A, None, out)

    monkeypatch.setattr(Loss, "gradient", unweighted)
    assert _check(net) > 1e-2


def test_gradient_check_detects_wrong_layer_input(monkeypatch):
    # A backward pass that uses the wrong cached input for dW.
    net = make_network("squared_error", "tanh", 2, widths=[4, 4], seed=5)
    assert _check(net) < 1e-6
    original = network_module.linear_activation_backward

    def shuffled(dA, cache, *args, **kwargs):
        return original(dA, cache._replace(A_prev=cache.A_prev[::-1]), *args, **kwargs)

    monkeypatch.setattr(network_module, "linear_activation_backward", shuffled)
    assert _check(net) > 1e-2


def test_numerical_gradients_and_relative_error():
    rng = np.random.RandomState(0)
    params = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    c = [rng.uniform(1, 2, size=p.shape) for p in params]
    before = [p.copy() for p in params]

    def f():
        return sum(float(np.sum(ci * p**2 + p)) for ci, p in zip(c, params))

    grads = numerical_gradients(f, params)
    for g, p, ci, b in zip(grads, params, c, before):
        assert g.shape == p.shape and g.dtype == np.float64
        np.testing.assert_allclose(g, 2 * ci * p + 1, rtol=1e-8)
        np.testing.assert_array_equal(p, b)  # restored

    assert relative_error([np.array([3.0, 4.0])], [np.array([3.0, 4.0])]) == 0.0
    np.testing.assert_allclose(
        relative_error([np.array([3.0, 4.0])], [np.zeros(2)]), 1.0
    )
    # Worst over the list; the floor keeps all-zero gradients from dividing by 0.
    worst = relative_error(
        [np.zeros(2), np.array([1.0, 0.0])], [np.zeros(2), np.array([0.0, 1.0])]
    )
    np.testing.assert_allclose(worst, np.sqrt(2) / 2)


# ---------------------------------------------------------------------------
# Loss value, L2 and sample weights through the whole network
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_backprop_loss_value_includes_l2(loss_name):
    net = make_network(loss_name, "tanh", 1, alpha=0.9, weighted=True)
    J, _, _ = _backprop(net)
    AL, caches = L_model_forward(
        net["X"], net["coefs"], net["intercepts"], net["activations"]
    )
    sw = net["sample_weight"]
    data = net["loss"].value(net["Y"], caches[-1].Z, AL, sw)
    penalty = 0.5 * 0.9 / sw.sum() * sum(np.sum(W * W) for W in net["coefs"])
    np.testing.assert_allclose(J, data + penalty, rtol=1e-13)


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_backprop_sample_weights_duplicate_and_drop(loss_name):
    net = make_network(loss_name, "tanh", 2, alpha=0.5, m=7, seed=6)
    X, Y = net["X"], net["Y"]
    sw = np.ones(len(X))
    sw[[0, 5]] = 2.0
    sw[[2, 3]] = 0.0
    rows = [i for i in range(len(X)) for _ in range(int(sw[i]))]

    weighted = _backprop({**net, "sample_weight": sw})
    expanded = _backprop({**net, "X": X[rows], "Y": Y[rows], "sample_weight": None})
    np.testing.assert_allclose(weighted[0], expanded[0], rtol=1e-12)
    for a, b in zip((*weighted[1], *weighted[2]), (*expanded[1], *expanded[2])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------
# Dropout masks through backprop
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_gradient_check_with_dropout(hidden, dtype):
    net = make_network("squared_error", hidden, 2, dtype=dtype, alpha=0.3, seed=7)
    keys = np.arange(1, len(net["X"]) + 1, dtype=np.uint64)
    masks = dropout_masks(keys, HIDDEN_WIDTHS[:2], [0.4, 0.3], 1, 0, dtype)
    assert _check(net, dropout_masks=masks) < TOLERANCE[dtype]
    ones = [None if M is None else np.ones_like(M) for M in masks]
    J_ones, g_ones, h_ones = _backprop(net, dropout_masks=ones)
    J_none, g_none, h_none = _backprop(net)
    J_drop, _, _ = _backprop(net, dropout_masks=masks)
    np.testing.assert_allclose(J_ones, J_none, rtol=1e-6)
    for a, b in zip((*g_ones, *h_ones), (*g_none, *h_none)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert J_drop != J_none


# ---------------------------------------------------------------------------
# Property-based gradient check
# ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    widths=st.lists(st.integers(1, 4), min_size=0, max_size=2),
    n_features=st.integers(1, 4),
    m=st.integers(1, 5),
    hidden=st.sampled_from(HIDDEN_ACTIVATIONS),
    loss_name=st.sampled_from(sorted(LOSSES)),
    dtype=st.sampled_from(DTYPES),
    alpha=st.sampled_from([0.0, 0.4]),
    weighted=st.booleans(),
)
def test_gradient_check_random_networks(
    seed, widths, n_features, m, hidden, loss_name, dtype, alpha, weighted
):
    net = make_network(
        loss_name,
        hidden,
        len(widths),
        dtype=dtype,
        m=m,
        n_features=n_features,
        seed=seed,
        alpha=alpha,
        widths=widths,
    )
    if weighted:
        net["sample_weight"] = np.random.RandomState(seed).uniform(0.1, 3.0, size=m)
    # gradient_check's relative error has a floor of 1e-8: a gradient array
    # that is (nearly) zero, e.g. balanced signs of absolute_error, then
    # compares finite-difference noise (~1e-10) with 1e-8. Random networks
    # hit that, so the same check is assembled here with a floor of 1e-2
    # (still an absolute accuracy of 1e-8 in float64 for tiny gradients).
    _, coef_grads, intercept_grads = _backprop(net)
    analytic = [np.array(g) for g in (*coef_grads, *intercept_grads)]
    net64 = {
        **net,
        "X": net["X"].astype(np.float64),
        "Y": net["Y"].astype(np.float64),
        "coefs": [W.astype(np.float64) for W in net["coefs"]],
        "intercepts": [b.astype(np.float64) for b in net["intercepts"]],
    }
    numerical = numerical_gradients(
        lambda: _backprop(net64)[0], [*net64["coefs"], *net64["intercepts"]]
    )
    assert relative_error(analytic, numerical, floor=1e-2) < TOLERANCE[dtype]


# ---------------------------------------------------------------------------
# Every array library: the same network, computed in the input's library
# ---------------------------------------------------------------------------


def _waiting(libraries=NAMESPACES):
    """The libraries (every core module now computes in each of them)."""
    yield from libraries


def _of_library(lib, x):
    return type(x) is type(lib.to(np.zeros(1)))


def _assert_same(lib, result, expected, rtol=1e-12):
    assert _of_library(lib, result), type(result)
    got = lib.back(result)
    assert got.dtype == np.asarray(expected).dtype
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


def _in_library(lib, net):
    """``net`` with every array converted to ``lib`` (the same numbers)."""
    moved = {**net}
    for key in ("X", "Y", "sample_weight"):
        if net[key] is not None:
            moved[key] = lib.to(net[key])
    moved["coefs"] = [lib.to(W) for W in net["coefs"]]
    moved["intercepts"] = [lib.to(b) for b in net["intercepts"]]
    return moved


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_initialize_parameters_like_draws_the_same_numbers(lib, dtype):
    units = [5, 7, 3, 2]
    expected = initialize_parameters(units, np.random.RandomState(42), dtype=dtype)
    like = lib.to(np.zeros((2, 5)))
    dtypes = [dtype, np.dtype(dtype).name]
    if lib.name != "numpy":
        dtypes.append(lib.to(np.zeros(1, dtype)).dtype)  # the library's own
    for requested in dtypes:
        coefs, intercepts = initialize_parameters(
            units, np.random.RandomState(42), dtype=requested, like=like
        )
        for ours, theirs in zip((*coefs, *intercepts), (*expected[0], *expected[1])):
            assert _of_library(lib, ours)
            np.testing.assert_array_equal(lib.back(ours), theirs)
            assert lib.back(ours).dtype == dtype


@pytest.mark.parametrize("lib", NAMESPACES)
def test_parameters_like_copies_into_the_library(lib):
    arrays = [np.arange(6.0).reshape(2, 3), np.ones(3)]
    moved = parameters_like(arrays, lib.to(np.zeros(1)))
    for a, m in zip(arrays, moved):
        assert _of_library(lib, m)
        np.testing.assert_array_equal(lib.back(m), a)
    if lib.name == "numpy":
        assert all(m is a for a, m in zip(arrays, moved))  # nothing to do
    else:
        arrays[0][0, 0] = 99.0  # the moved arrays share no memory
        assert lib.back(moved[0])[0, 0] == 0.0
    moved32 = parameters_like(arrays, lib.to(np.zeros(1)), dtype=np.float32)
    assert all(lib.back(m).dtype == np.float32 for m in moved32)
    assert parameters_like(arrays, dtype=np.float32)[0].dtype == np.float32


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("depth", [0, 1, 2])
def test_forward_and_backward_chain_in_every_library(lib, depth):
    # Identity layers and a given dZL: the chaining, on layers.py alone.
    net = make_network("squared_error", "identity", depth, m=7)
    identity = get_activation("identity")
    acts = [identity] * (depth + 1)
    AL, caches = L_model_forward(net["X"], net["coefs"], net["intercepts"], acts)
    dZL = np.random.RandomState(1).normal(size=AL.shape)
    expected = L_model_backward(dZL.copy(), caches, acts)

    moved = _in_library(lib, net)
    AL_x, caches_x = L_model_forward(
        moved["X"], moved["coefs"], moved["intercepts"], acts
    )
    _assert_same(lib, AL_x, AL)
    for cache, cache_x in zip(caches, caches_x):
        _assert_same(lib, cache_x.Z, cache.Z)
    for overwrite in (False, True):
        dZL_x = lib.to(dZL.copy())
        grads = L_model_backward(dZL_x, caches_x, acts, overwrite_dZL=overwrite)
        for g, e in zip((*grads[0], *grads[1]), (*expected[0], *expected[1])):
            _assert_same(lib, g, e)
        # dZL is the caller's unless it may be overwritten.
        assert np.array_equal(lib.back(dZL_x), dZL) != overwrite

    # Buffers, as the workspace passes them.
    ws = Workspace([3, *HIDDEN_WIDTHS[:depth], 2], 9, np.float64, like=moved["X"])
    forward_out, backward_out, _ = ws.views(7)
    AL_x, caches_x = L_model_forward(
        moved["X"], moved["coefs"], moved["intercepts"], acts, out=forward_out
    )
    assert AL_x is forward_out[-1][1]
    grads = L_model_backward(lib.to(dZL), caches_x, acts, out=backward_out)
    for g, w, e in zip(
        (*grads[0], *grads[1]),
        (*ws.coef_grads, *ws.intercept_grads),
        (*expected[0], *expected[1]),
    ):
        assert g is w
        _assert_same(lib, g, e)


def _forward_cases():
    for lib in NAMESPACES:
        for hidden in ("identity", "relu", "tanh"):
            yield pytest.param(
                lib.values[0], hidden, id=f"{lib.id}-{hidden}", marks=lib.marks
            )


@pytest.mark.parametrize(("lib", "hidden"), list(_forward_cases()))
@pytest.mark.parametrize("block_rows", [2048, 3])
def test_forward_output_in_every_library(lib, hidden, block_rows):
    net = make_network("squared_error", hidden, 2, m=8)
    args = (net["coefs"], net["intercepts"], net["activations"])
    expected = forward_output(net["X"], *args)
    moved = _in_library(lib, net)
    out = forward_output(
        moved["X"], moved["coefs"], moved["intercepts"], net["activations"], block_rows
    )
    _assert_same(lib, out, expected)


@pytest.mark.parametrize("lib", NAMESPACES[1:])
def test_forward_output_refuses_sparse_input_with_other_libraries(lib):
    net = _in_library(lib, make_network("squared_error", "identity", 1))
    X = scipy.sparse.csr_matrix(make_network("squared_error", "identity", 1)["X"])
    with pytest.raises(TypeError, match="Sparse input works with numpy arrays only"):
        forward_output(X, net["coefs"], net["intercepts"], net["activations"])


@pytest.mark.parametrize("lib", list(_waiting()))
@pytest.mark.parametrize("loss_name", ["squared_error", "log_loss", "poisson"])
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
@pytest.mark.parametrize("variant", ["plain", "l2+weights"])
def test_backprop_in_every_library(lib, loss_name, hidden, variant):
    alpha, weighted = VARIANTS[variant]
    net = make_network(loss_name, hidden, 2, alpha=alpha, weighted=weighted)
    J, coef_grads, intercept_grads = _backprop(net)
    moved = _in_library(lib, net)
    for workspace in (
        None,
        Workspace([3, 4, 5, net["Y"].shape[1]], 6, np.float64, like=moved["X"]),
    ):
        J_x, g_x, h_x = _backprop(moved, workspace=workspace)
        J_x = lib.scalar(J_x)
        np.testing.assert_allclose(J_x, J, rtol=1e-12)
        for g, e in zip((*g_x, *h_x), (*coef_grads, *intercept_grads)):
            _assert_same(lib, g, e)


@pytest.mark.parametrize("lib", list(_waiting()))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_gradient_check_in_every_library(lib, dtype):
    net = make_network("log_loss", "tanh", 2, dtype=dtype, alpha=0.3, weighted=True)
    moved = _in_library(lib, net)
    before = [lib.back(p).copy() for p in (*moved["coefs"], *moved["intercepts"])]
    error = _check(moved)
    assert error < TOLERANCE[dtype]
    for p, b in zip((*moved["coefs"], *moved["intercepts"]), before):
        np.testing.assert_array_equal(lib.back(p), b)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_numerical_gradients_in_every_library(lib, dtype):
    # The finite differences nudge the library's arrays in place and return
    # float64 numpy: the same numbers as on numpy arrays.
    rng = np.random.RandomState(0)
    values = [rng.normal(size=(3, 2)).astype(dtype), rng.normal(size=4).astype(dtype)]
    weights = [rng.uniform(1, 2, size=v.shape).astype(dtype) for v in values]

    def gradients(to):
        params, c = [to(v.copy()) for v in values], [to(w) for w in weights]

        def f():
            xp = get_namespace(*params)
            return sum(float(xp.sum(ci * p * p + p)) for ci, p in zip(c, params))

        # float32 sums differ between libraries by an ulp: a wide step.
        grads = numerical_gradients(
            f, params, eps=1e-2 if dtype == np.float32 else 1e-6
        )
        for p, v in zip(params, values):
            np.testing.assert_array_equal(lib.back(p), v)  # restored
        return grads

    for g, e in zip(gradients(lib.to), gradients(np.asarray)):
        assert type(g) is np.ndarray and g.dtype == np.float64
        np.testing.assert_allclose(g, e, rtol=1e-3 if dtype == np.float32 else 1e-9)
    assert relative_error([lib.to(np.array([3.0, 4.0]))], [np.zeros(2)]) == 1.0


class _HalfSquares:
    """A stand-in loss written for any library: what backprop chains with.

    :math:`\\tfrac12 \\lVert a - y \\rVert^2` per row, weighted mean; its
    gradient per row is :math:`(a - y)\\, s_i m / \\sum s`.
    """

    output_activation = get_activation("identity")

    def value(self, Y, Z, A, sample_weight=None):
        xp = get_namespace(A)
        per_row = xp.sum((A - Y) ** 2, axis=1) / 2
        if sample_weight is None:
            return float(xp.mean(per_row))
        return float(xp.sum(per_row * sample_weight) / xp.sum(sample_weight))

    def gradient(self, Y, Z, A, sample_weight=None, out=None):
        xp = get_namespace(A)
        G = A - Y
        if sample_weight is not None:
            scale = sample_weight * (A.shape[0] / xp.sum(sample_weight))
            G = G * scale[:, None]
        if out is None:
            return G
        out[...] = G
        return out


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("with_workspace", [False, True])
def test_backprop_chains_in_every_library(lib, weighted, with_workspace):
    # Identity layers and a stand-in loss written for any library: backprop's
    # own chaining (weights' total, workspace buffers, the 1/m scaling) runs
    # in the input's library and gives numpy's numbers.
    net = make_network("squared_error", "identity", 2, m=7, weighted=weighted)
    net["loss"] = _HalfSquares()
    net["activations"] = [get_activation("identity")] * 3
    units = [3, *HIDDEN_WIDTHS[:2], 2]
    J, coef_grads, intercept_grads = _backprop(net)
    moved = _in_library(lib, net)
    workspace = (
        Workspace(units, 9, np.float64, like=moved["X"]) if with_workspace else None
    )
    J_x, g_x, h_x = _backprop(moved, workspace=workspace)
    np.testing.assert_allclose(J_x, J, rtol=1e-12)
    for g, e in zip((*g_x, *h_x), (*coef_grads, *intercept_grads)):
        _assert_same(lib, g, e)
    if with_workspace:
        assert all(g is w for g, w in zip(g_x, workspace.coef_grads))


# ---------------------------------------------------------------------------
# Activations by name, as the seed tutorials pass them
# ---------------------------------------------------------------------------


def test_network_functions_take_activation_names():
    # The seed's [LINEAR->RELU] x 2 -> LINEAR->SIGMOID, by name and by object.
    net = make_network("binary_log_loss", "relu", 2, m=7, seed=5)
    names = ["relu", "relu", "sigmoid"]
    objects = net["activations"]
    X, Y, coefs, intercepts = net["X"], net["Y"], net["coefs"], net["intercepts"]

    AL, caches = L_model_forward(X, coefs, intercepts, names)
    AL_obj, caches_obj = L_model_forward(X, coefs, intercepts, objects)
    np.testing.assert_array_equal(AL, AL_obj)

    dZL = net["loss"].gradient(Y, caches[-1].Z, AL)
    grads = L_model_backward(dZL.copy(), caches, names)
    grads_obj = L_model_backward(dZL.copy(), caches_obj, objects)
    for g, e in zip([*grads[0], *grads[1]], [*grads_obj[0], *grads_obj[1]]):
        np.testing.assert_array_equal(g, e)

    J, *grads = backprop(X, Y, coefs, intercepts, names, net["loss"])
    J_obj, *grads_obj = backprop(X, Y, coefs, intercepts, objects, net["loss"])
    assert J == J_obj
    for g, e in zip([*grads[0], *grads[1]], [*grads_obj[0], *grads_obj[1]]):
        np.testing.assert_array_equal(g, e)

    error = gradient_check(X, Y, coefs, intercepts, names, net["loss"])
    assert error < TOLERANCE[np.float64]


@pytest.mark.parametrize("block_rows", [2048, 3])  # one block, then several
def test_forward_output_takes_activation_names(block_rows):
    net = make_network("binary_log_loss", "tanh", 1, m=7, seed=6)
    X, coefs, intercepts = net["X"], net["coefs"], net["intercepts"]
    by_name = forward_output(X, coefs, intercepts, ["tanh", "sigmoid"], block_rows)
    expected = forward_output(X, coefs, intercepts, net["activations"], block_rows)
    np.testing.assert_array_equal(by_name, expected)
    with pytest.raises(ValueError, match="Unknown activation 'sigmoidal'"):
        forward_output(X, coefs, intercepts, ["tanh", "sigmoidal"], block_rows)


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("depth", [0, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_forward_loss_is_the_data_term_of_backprop(loss_name, depth, weighted):
    # With alpha = 0, backprop's J is the data loss alone: forward_loss must
    # give it (and forward_output's AL), with no cache and no penalty.
    net = make_network(loss_name, "tanh", depth, m=9, seed=3, weighted=weighted)
    args = (net["X"], net["Y"], net["coefs"], net["intercepts"], net["activations"])
    AL, J = forward_loss(*args, net["loss"], net["sample_weight"])
    J_backprop, *_ = backprop(*args, net["loss"], 0.0, net["sample_weight"])
    np.testing.assert_allclose(J, J_backprop, rtol=1e-13)
    np.testing.assert_array_equal(
        AL, forward_output(net["X"], net["coefs"], net["intercepts"], args[-1])
    )
    # The L2 penalty is not in it.
    J_penalised, *_ = backprop(*args, net["loss"], 3.0, net["sample_weight"])
    assert J_penalised > J


def test_forward_loss_takes_activation_names():
    net = make_network("binary_log_loss", "relu", 2, m=7, seed=5)
    args = (net["X"], net["Y"], net["coefs"], net["intercepts"])
    by_name = forward_loss(*args, ["relu", "relu", "sigmoid"], net["loss"])
    by_object = forward_loss(*args, net["activations"], net["loss"])
    np.testing.assert_array_equal(by_name[0], by_object[0])
    assert by_name[1] == by_object[1]


# ---------------------------------------------------------------------------
# The namespace: decided once per pass, not once per building block
# ---------------------------------------------------------------------------

_BLOCK_MODULES = ("layers", "dropout", "regularization", "network")
#: The layers' rule (skbp.core.layers._layer_namespace): X's namespace, and
#: for another library than numpy, that of X with the first weights.
_ONE_DECISION = {
    "numpy": ["layers"],
    "array_api_strict": ["layers", "layers"],
    "torch": ["layers", "layers"],
}


def _count_namespace_decisions(monkeypatch):
    """Count every namespace_of call made by the network and the layer,
    dropout and L2 building blocks (not the activations and losses, whose
    methods keep the signatures a subclass implements)."""
    import importlib

    calls = []
    for name in _BLOCK_MODULES:
        module = importlib.import_module(f"skbp.core.{name}")
        original = module.namespace_of

        def counted(*arrays, _original=original, _name=name):
            calls.append(_name)
            return _original(*arrays)

        monkeypatch.setattr(module, "namespace_of", counted)
    return calls


@pytest.mark.parametrize("lib", NAMESPACES)
def test_backprop_decides_the_namespace_once(lib, monkeypatch):
    net = make_network("squared_error", "relu", 3, alpha=0.5, weighted=True)
    keys = np.arange(1, len(net["X"]) + 1, dtype=np.uint64)
    masks = dropout_masks(keys, HIDDEN_WIDTHS, [0.4, 0.3, 0.2], 1, 0)
    expected = _backprop(net, dropout_masks=masks)
    moved = _in_library(lib, net)
    moved_masks = [None if M is None else lib.to(M) for M in masks]
    args = (moved["X"], moved["Y"], moved["coefs"], moved["intercepts"])
    rest = (net["activations"], net["loss"], net["alpha"], moved["sample_weight"])
    calls = _count_namespace_decisions(monkeypatch)
    result = backprop(*args, *rest, dropout_masks=moved_masks)
    # Three hidden layers with dropout, L2 and weights: one decision.
    assert calls == _ONE_DECISION[lib.name]
    xp = get_namespace(moved["X"])
    del calls[:]
    again = backprop(*args, *rest, dropout_masks=moved_masks, xp=xp)
    assert calls == []  # the caller's, once per fit
    for got in (result, again):
        assert lib.scalar(got[0]) == pytest.approx(expected[0], rel=1e-12)
        for a, b in zip((*got[1], *got[2]), (*expected[1], *expected[2])):
            np.testing.assert_allclose(lib.back(a), b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("block_rows", [2048, 4])
def test_forward_output_decides_the_namespace_once(lib, block_rows, monkeypatch):
    net = make_network("squared_error", "tanh", 3, m=10)
    expected = forward_output(
        net["X"], net["coefs"], net["intercepts"], net["activations"]
    )
    moved = _in_library(lib, net)
    args = (moved["X"], moved["coefs"], moved["intercepts"], net["activations"])
    calls = _count_namespace_decisions(monkeypatch)
    output = forward_output(*args, block_rows)
    assert calls == _ONE_DECISION[lib.name]
    del calls[:]
    given = forward_output(*args, block_rows, xp=get_namespace(moved["X"]))
    assert calls == []
    for got in (output, given):
        np.testing.assert_allclose(lib.back(got), expected, rtol=1e-12)


# ---------------------------------------------------------------------------
# The seed tutorial's whole-network numbers, through its own call shapes
# ---------------------------------------------------------------------------
# Seed 003's testCases (columns are samples there), transposed to skbp's rows
# as the layers' error message says: A.T, W.T, b.ravel().


def _rows(cache):
    """The tutorial's cache ((A_prev, W, b), Z) in skbp's rows layout."""
    (A_prev, W, b), Z = cache
    return (A_prev.T, W.T, b.ravel()), Z.T


def test_tutorial_L_model_forward_and_compute_cost_print_their_numbers():
    rng = np.random.RandomState(1)  # L_model_forward_test_case
    X, W1, b1, W2, b2 = (
        rng.randn(*s) for s in [(4, 2), (3, 4), (3, 1), (1, 3), (1, 1)]
    )
    AL, caches = L_model_forward(
        X.T, [W1.T, W2.T], [b1.ravel(), b2.ravel()], ["relu", "sigmoid"]
    )
    np.testing.assert_allclose(AL.T, [[0.17007265, 0.2524272]], atol=1e-8)
    assert len(caches) == 2  # "caches 的长度为 = 2"
    # compute_cost_test_case: Y = [[1, 1, 1]], AL = [[0.8, 0.9, 0.4]].
    Y, AL = np.array([[1.0, 1.0, 1.0]]), np.array([[0.8, 0.9, 0.4]])
    Z = np.log(AL / (1 - AL))  # the loss reads the logits, for stability
    cost = get_loss("binary_log_loss").value(Y.T, Z.T, AL.T)
    np.testing.assert_allclose(cost, 0.414931599615397, rtol=1e-12)


def test_tutorial_L_model_backward_loop_prints_its_numbers():
    # L_model_backward_test_case (seed 3), and the tutorial's loop: dAL from
    # the cross-entropy, then linear_activation_backward with its caches.
    rng = np.random.RandomState(3)
    AL, Y = rng.randn(1, 2), np.array([[1.0, 0.0]])
    caches = [
        ((rng.randn(4, 2), rng.randn(3, 4), rng.randn(3, 1)), rng.randn(3, 2)),
        ((rng.randn(3, 2), rng.randn(1, 3), rng.randn(1, 1)), rng.randn(1, 2)),
    ]
    dAL = -(Y / AL - (1 - Y) / (1 - AL))
    dA1, _, _ = linear_activation_backward(dAL.T, _rows(caches[1]), "sigmoid")
    dA0, dW1, db1 = linear_activation_backward(dA1, _rows(caches[0]), "relu")
    expected_dW1 = [
        [0.41010002, 0.07807203, 0.13798444, 0.10502167],
        [0.0, 0.0, 0.0, 0.0],
        [0.05283652, 0.01005865, 0.01777766, 0.0135308],
    ]
    np.testing.assert_allclose(dW1.T, expected_dW1, atol=1e-8)
    np.testing.assert_allclose(db1, [-0.22007063, 0.0, -0.02835349], atol=1e-8)
    expected_dA1 = [
        [0.0, 0.52257901],
        [0.0, -0.3269206],
        [0.0, -0.32070404],
        [0.0, -0.74079187],
    ]
    np.testing.assert_allclose(dA0.T, expected_dA1, atol=1e-8)  # grads["dA1"]
