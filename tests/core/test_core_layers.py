"""skbp.core.layers: one layer's forward and backward building blocks."""

import numpy as np
import pytest
import scipy.sparse
from namespaces import NAMESPACES

from skbp.core.activations import HIDDEN_ACTIVATIONS, get_activation
from skbp.core.layers import (
    LayerCache,
    linear_activation_backward,
    linear_activation_forward,
    linear_backward,
    linear_forward,
)

DTYPES = [np.float32, np.float64]
SPARSE = [scipy.sparse.csr_matrix, scipy.sparse.csr_array]


def _layer(m=6, n_in=4, n_out=3, seed=0, dtype=np.float64, density=None):
    rng = np.random.RandomState(seed)
    A_prev = rng.normal(size=(m, n_in))
    if density is not None:
        A_prev[rng.uniform(size=A_prev.shape) > density] = 0.0
    W = rng.normal(size=(n_in, n_out))
    b = rng.normal(size=n_out)
    dZ = rng.normal(size=(m, n_out))
    return tuple(a.astype(dtype) for a in (A_prev, W, b, dZ))


def _explicit_affine(A_prev, W, b):
    m, n_in = A_prev.shape
    Z = np.empty((m, W.shape[1]))
    for i in range(m):
        for j in range(W.shape[1]):
            Z[i, j] = b[j] + sum(A_prev[i, k] * W[k, j] for k in range(n_in))
    return Z


# ---------------------------------------------------------------------------
# linear_forward / linear_backward
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_forward_matches_explicit_sum(dtype):
    A_prev, W, b, _ = _layer(dtype=dtype)
    Z = linear_forward(A_prev, W, b)
    assert Z.shape == (6, 3) and Z.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(Z, _explicit_affine(A_prev, W, b), rtol=rtol, atol=rtol)


def test_linear_forward_out_buffer():
    A_prev, W, b, _ = _layer()
    A_before = A_prev.copy()
    buf = np.full((6, 3), np.nan)
    result = linear_forward(A_prev, W, b, out=buf)
    assert result is buf
    np.testing.assert_allclose(buf, A_prev @ W + b, rtol=1e-14)
    np.testing.assert_array_equal(A_prev, A_before)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_backward_matches_formulas(dtype):
    A_prev, W, b, dZ = _layer(dtype=dtype)
    m = A_prev.shape[0]
    dA_prev, dW, db = linear_backward(dZ, A_prev, W)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    # Explicit sums over the rows (not a rewritten matrix product).
    dW_expected = sum(np.outer(A_prev[i], dZ[i]) for i in range(m)) / m
    db_expected = sum(dZ[i] for i in range(m)) / m
    dA_expected = np.array(
        [[dZ[i] @ W[k] for k in range(W.shape[0])] for i in range(m)]
    )
    np.testing.assert_allclose(dW, dW_expected, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(db, db_expected, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(dA_prev, dA_expected, rtol=rtol, atol=rtol)
    assert dW.shape == W.shape and db.shape == b.shape and dA_prev.shape == A_prev.shape
    assert dW.dtype == db.dtype == dA_prev.dtype == dtype


def test_linear_backward_out_buffers_and_skip_dA_prev():
    A_prev, W, b, dZ = _layer()
    expected = linear_backward(dZ, A_prev, W)
    bufs = (np.full(A_prev.shape, np.nan), np.full(W.shape, np.nan), np.full(3, np.nan))
    result = linear_backward(dZ, A_prev, W, out=bufs)
    for r, buf, e in zip(result, bufs, expected):
        assert r is buf
        np.testing.assert_allclose(buf, e, rtol=1e-14)

    dA_prev, dW, db = linear_backward(dZ, A_prev, W, compute_dA_prev=False)
    assert dA_prev is None
    np.testing.assert_allclose(dW, expected[1], rtol=1e-14)
    np.testing.assert_allclose(db, expected[2], rtol=1e-14)


def test_linear_backward_is_gradient_of_mean_row_loss():
    # With J = (1/m) sum_i <dZ_i, Z_i> and Z = A_prev W + b, the exact
    # gradients are the documented formulas: check by finite differences.
    A_prev, W, b, dZ = _layer(m=4, n_in=3, n_out=2, seed=1)
    m = A_prev.shape[0]

    def J(A_prev, W, b):
        return np.sum(dZ * (A_prev @ W + b)) / m

    def fd(f, x, h=1e-6):
        g = np.empty_like(x)
        for idx in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[idx] += h
            xm[idx] -= h
            g[idx] = (f(xp) - f(xm)) / (2 * h)
        return g

    dA_prev, dW, db = linear_backward(dZ, A_prev, W)
    np.testing.assert_allclose(dW, fd(lambda w: J(A_prev, w, b), W), rtol=1e-7)
    np.testing.assert_allclose(db, fd(lambda v: J(A_prev, W, v), b), rtol=1e-7)
    # dA_prev is per row (not averaged): it is m times dJ/dA_prev.
    np.testing.assert_allclose(dA_prev, m * fd(lambda a: J(a, W, b), A_prev), rtol=1e-7)


# ---------------------------------------------------------------------------
# Sparse input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("sparse", SPARSE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_input_matches_dense(sparse, dtype):
    A_prev, W, b, dZ = _layer(m=8, n_in=5, density=0.4, dtype=dtype)
    S = sparse(A_prev)
    rtol = 1e-5 if dtype == np.float32 else 1e-13

    Z_dense = linear_forward(A_prev, W, b)
    Z_sparse = linear_forward(S, W, b)
    assert isinstance(Z_sparse, np.ndarray) and not isinstance(Z_sparse, np.matrix)
    assert Z_sparse.shape == Z_dense.shape and Z_sparse.dtype == dtype
    np.testing.assert_allclose(Z_sparse, Z_dense, rtol=rtol, atol=rtol)

    buf = np.full(Z_dense.shape, np.nan, dtype=dtype)
    assert linear_forward(S, W, b, out=buf) is buf
    np.testing.assert_allclose(buf, Z_dense, rtol=rtol, atol=rtol)

    dense_grads = linear_backward(dZ, A_prev, W)
    sparse_grads = linear_backward(dZ, S, W)
    for g_s, g_d in zip(sparse_grads, dense_grads):
        assert isinstance(g_s, np.ndarray) and not isinstance(g_s, np.matrix)
        assert g_s.shape == g_d.shape and g_s.dtype == dtype
        np.testing.assert_allclose(g_s, g_d, rtol=rtol, atol=rtol)

    bufs = tuple(np.full(g.shape, np.nan, dtype=dtype) for g in dense_grads)
    result = linear_backward(dZ, S, W, out=(None, *bufs[1:]), compute_dA_prev=False)
    assert result[0] is None
    assert result[1] is bufs[1] and result[2] is bufs[2]
    np.testing.assert_allclose(bufs[1], dense_grads[1], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(bufs[2], dense_grads[2], rtol=rtol, atol=rtol)


# ---------------------------------------------------------------------------
# linear_activation_forward / linear_activation_backward
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_linear_activation_forward_and_cache(name):
    act = get_activation(name)
    A_prev, W, b, _ = _layer()
    A, cache = linear_activation_forward(A_prev, W, b, act)
    c_A_prev, c_W, Z = cache
    assert c_A_prev is A_prev and c_W is W
    np.testing.assert_allclose(Z, A_prev @ W + b, rtol=1e-14)
    np.testing.assert_allclose(A, act.forward(A_prev @ W + b), rtol=1e-14)


def test_layer_cache_is_named_A_prev_W_Z():
    # A layer caches exactly what its backward step reads: no bias.
    assert issubclass(LayerCache, tuple)
    assert LayerCache._fields == ("A_prev", "W", "Z")
    A_prev, W, b, _ = _layer()
    _, cache = linear_activation_forward(A_prev, W, b, get_activation("tanh"))
    assert type(cache) is LayerCache
    assert cache.A_prev is A_prev and cache.W is W
    assert cache.Z is cache[2]


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_linear_activation_backward_reads_only_the_cache(name):
    # A cache put together by hand from A_prev, W and Z (the biases nowhere)
    # gives the same gradients as the forward pass's own cache.
    act = get_activation(name)
    A_prev, W, b, dA = _layer(seed=4)
    _, cache = linear_activation_forward(A_prev, W, b, act)
    by_hand = LayerCache(A_prev=A_prev.copy(), W=W.copy(), Z=A_prev @ W + b)
    expected = linear_activation_backward(dA.copy(), cache, act)
    result = linear_activation_backward(dA.copy(), by_hand, act)
    for r, e in zip(result, expected):
        np.testing.assert_allclose(r, e, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_linear_activation_forward_out_buffers(name):
    act = get_activation(name)
    A_prev, W, b, _ = _layer()
    A_expected, _ = linear_activation_forward(A_prev, W, b, act)
    Z_buf, A_buf = np.full((6, 3), np.nan), np.full((6, 3), np.nan)
    A, (_, _, Z) = linear_activation_forward(A_prev, W, b, act, out=(Z_buf, A_buf))
    assert A is A_buf and Z is Z_buf
    np.testing.assert_allclose(Z_buf, A_prev @ W + b, rtol=1e-14)
    np.testing.assert_allclose(A_buf, A_expected, rtol=1e-14)


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_activation_backward(name, dtype):
    act = get_activation(name)
    A_prev, W, b, dA = _layer(dtype=dtype, seed=2)
    A, cache = linear_activation_forward(A_prev, W, b, act)
    Z = cache.Z
    m = A_prev.shape[0]
    dZ = dA * act.derivative(Z.copy())
    expected = (dZ @ W.T, A_prev.T @ dZ / m, dZ.sum(axis=0) / m)
    rtol = 1e-5 if dtype == np.float32 else 1e-12

    for given_A in (None, A):
        result = linear_activation_backward(dA.copy(), cache, act, A=given_A)
        for r, e in zip(result, expected):
            assert r.dtype == dtype
            np.testing.assert_allclose(r, e, rtol=rtol, atol=rtol)

    # Buffers, with dZ written over dA itself (as the network does).
    dA_work = dA.copy()
    bufs = (np.empty_like(A_prev), np.empty_like(W), np.empty_like(b))
    result = linear_activation_backward(dA_work, cache, act, A=A, out=(dA_work, *bufs))
    for r, buf, e in zip(result, bufs, expected):
        assert r is buf
        np.testing.assert_allclose(buf, e, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(dA_work, dZ, rtol=rtol, atol=rtol)

    no_dA = linear_activation_backward(dA.copy(), cache, act, compute_dA_prev=False)
    assert no_dA[0] is None


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_linear_activation_backward_by_finite_differences(name):
    # J = (1/m) sum(G * f(A_prev W + b)): its gradient is what the layer's
    # backward returns (dA_prev per row, hence m times dJ/dA_prev).
    act = get_activation(name)
    A_prev, W, b, G = _layer(m=4, n_in=3, n_out=2, seed=3)
    m = A_prev.shape[0]

    def J(A_prev, W, b):
        return np.sum(G * act.forward(A_prev @ W + b)) / m

    def fd(f, x, h=1e-6):
        g = np.empty_like(x)
        for idx in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[idx] += h
            xm[idx] -= h
            g[idx] = (f(xp) - f(xm)) / (2 * h)
        return g

    _, cache = linear_activation_forward(A_prev, W, b, act)
    dA_prev, dW, db = linear_activation_backward(G.copy(), cache, act)
    np.testing.assert_allclose(dW, fd(lambda w: J(A_prev, w, b), W), atol=1e-8)
    np.testing.assert_allclose(db, fd(lambda v: J(A_prev, W, v), b), atol=1e-8)
    np.testing.assert_allclose(dA_prev, m * fd(lambda a: J(a, W, b), A_prev), atol=1e-7)


# ---------------------------------------------------------------------------
# Every array library: results in the input's library, equal to numpy's
# ---------------------------------------------------------------------------

#: Relative tolerance against the numpy result, per dtype.
LIBRARY_RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def _of_library(lib, x):
    return type(x) is type(lib.to(np.zeros(1)))


def _assert_same(lib, result, expected, dtype=np.float64):
    assert _of_library(lib, result), type(result)
    got = lib.back(result)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    rtol = LIBRARY_RTOL[dtype]
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_forward_in_every_library(lib, dtype):
    A_prev, W, b, _ = _layer(dtype=dtype)
    expected = linear_forward(A_prev, W, b)
    _assert_same(
        lib, linear_forward(lib.to(A_prev), lib.to(W), lib.to(b)), expected, dtype
    )
    buf = lib.to(np.full((6, 3), np.nan, dtype=dtype))
    assert linear_forward(lib.to(A_prev), lib.to(W), lib.to(b), out=buf) is buf
    _assert_same(lib, buf, expected, dtype)
    # A leading row slice of a larger buffer, as the workspace passes.
    big = lib.to(np.full((9, 3), np.nan, dtype=dtype))
    linear_forward(lib.to(A_prev), lib.to(W), lib.to(b), out=big[:6, :])
    _assert_same(lib, big[:6, :], expected, dtype)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("averaged", [False, True])
def test_linear_backward_in_every_library(lib, dtype, averaged):
    A_prev, W, _, dZ = _layer(dtype=dtype)
    expected = linear_backward(dZ, A_prev, W, averaged=averaged)
    args = (lib.to(dZ), lib.to(A_prev), lib.to(W))
    for r, e in zip(linear_backward(*args, averaged=averaged), expected):
        _assert_same(lib, r, e, dtype)

    bufs = tuple(lib.to(np.full(e.shape, np.nan, dtype=dtype)) for e in expected)
    result = linear_backward(*args, out=bufs, averaged=averaged)
    for r, buf, e in zip(result, bufs, expected):
        assert r is buf
        _assert_same(lib, buf, e, dtype)

    dA_prev, dW, db = linear_backward(*args, compute_dA_prev=False, averaged=averaged)
    assert dA_prev is None
    _assert_same(lib, dW, expected[1], dtype)
    _assert_same(lib, db, expected[2], dtype)


@pytest.mark.parametrize("lib", NAMESPACES[1:])
def test_sparse_input_needs_numpy_weights(lib):
    A_prev, W, b, _ = _layer(density=0.4)
    with pytest.raises(TypeError, match="Sparse input works with numpy arrays only"):
        linear_forward(scipy.sparse.csr_matrix(A_prev), lib.to(W), lib.to(b))


def _library_cases():
    """Every library with every hidden activation."""
    for lib in NAMESPACES:
        for name in HIDDEN_ACTIVATIONS:
            yield pytest.param(
                lib.values[0], name, id=f"{lib.id}-{name}", marks=lib.marks
            )


@pytest.mark.parametrize(("lib", "name"), list(_library_cases()))
def test_linear_activation_forward_and_backward_in_every_library(lib, name):
    act = get_activation(name)
    A_prev, W, b, dA = _layer(seed=2)
    A_expected, cache_expected = linear_activation_forward(A_prev, W, b, act)
    grads_expected = linear_activation_backward(dA.copy(), cache_expected, act)

    A_prev_x, W_x = lib.to(A_prev), lib.to(W)
    A, cache = linear_activation_forward(A_prev_x, W_x, lib.to(b), act)
    assert type(cache) is LayerCache
    assert cache.A_prev is A_prev_x and cache.W is W_x
    _assert_same(lib, A, A_expected)
    _assert_same(lib, cache.Z, cache_expected.Z)
    for r, e in zip(
        linear_activation_backward(lib.to(dA), cache, act, A=A), grads_expected
    ):
        _assert_same(lib, r, e)

    # Buffers, with dZ written over dA itself (as the network does).
    Z_buf, A_buf = (lib.to(np.full((6, 3), np.nan)) for _ in range(2))
    A, cache = linear_activation_forward(
        A_prev_x, W_x, lib.to(b), act, out=(Z_buf, A_buf)
    )
    assert A is A_buf and cache.Z is Z_buf
    _assert_same(lib, A_buf, A_expected)
    dA_work = lib.to(dA)
    bufs = tuple(lib.to(np.full(e.shape, np.nan)) for e in grads_expected)
    result = linear_activation_backward(dA_work, cache, act, out=(dA_work, *bufs))
    for r, buf, e in zip(result, bufs, grads_expected):
        assert r is buf
        _assert_same(lib, buf, e)


# ---------------------------------------------------------------------------
# The seed tutorial's calls, activations by name (seed 003)
# ---------------------------------------------------------------------------
# Seed 003's test cases (np.random.seed(2), columns are samples there) and
# the numbers it prints, transposed to skbp's rows-are-samples layout.


def _seed_forward_case():
    rng = np.random.RandomState(2)
    A_prev, W, b = rng.randn(3, 2), rng.randn(1, 3), rng.randn(1, 1)
    return A_prev.T, W.T, b.ravel()


def _seed_backward_case():
    rng = np.random.RandomState(2)
    dA, A_prev, W = rng.randn(1, 2), rng.randn(3, 2), rng.randn(1, 3)
    rng.randn(1, 1)  # the seed's b, which no gradient reads
    Z = rng.randn(1, 2)
    return dA.T, LayerCache(A_prev=A_prev.T, W=W.T, Z=Z.T)


SEED_FORWARD = {
    "sigmoid": [[0.96890023, 0.11013289]],
    "relu": [[3.43896131, 0.0]],
}
SEED_BACKWARD = {
    "sigmoid": (
        [
            [0.11017994, 0.01105339],
            [0.09466817, 0.00949723],
            [-0.05743092, -0.00576154],
        ],
        [[0.10266786, 0.09778551, -0.01968084]],
        [-0.05729622],
    ),
    "relu": (
        [[0.44090989, 0.0], [0.37883606, 0.0], [-0.2298228, 0.0]],
        [[0.44513824, 0.37371418, -0.10478989]],
        [-0.20837892],
    ),
}


@pytest.mark.parametrize("name", sorted(SEED_FORWARD))
def test_seed_linear_activation_forward_call_by_name(name):
    # The seed's call: linear_activation_forward(A_prev, W, b, "sigmoid").
    A_prev, W, b = _seed_forward_case()
    A, cache = linear_activation_forward(A_prev, W, b, name)
    np.testing.assert_allclose(A.T, SEED_FORWARD[name], atol=1e-8)
    A_obj, cache_obj = linear_activation_forward(A_prev, W, b, get_activation(name))
    np.testing.assert_array_equal(A, A_obj)
    np.testing.assert_array_equal(cache.Z, cache_obj.Z)


@pytest.mark.parametrize("name", sorted(SEED_BACKWARD))
def test_seed_linear_activation_backward_call_by_name(name):
    # The seed's call: linear_activation_backward(dA, cache, "relu").
    dA, cache = _seed_backward_case()
    result = linear_activation_backward(dA, cache, name)
    for r, e in zip((result[0].T, result[1].T, result[2]), SEED_BACKWARD[name]):
        np.testing.assert_allclose(r, e, atol=1e-8)
    by_object = linear_activation_backward(dA, cache, get_activation(name))
    for r, e in zip(result, by_object):
        np.testing.assert_array_equal(r, e)


def test_unknown_activation_name_in_a_layer_raises_listing_the_names():
    A_prev, W, b = _seed_forward_case()
    with pytest.raises(ValueError, match=r"Unknown activation 'sigmod'.*'sigmoid'"):
        linear_activation_forward(A_prev, W, b, "sigmod")
    dA, cache = _seed_backward_case()
    with pytest.raises(ValueError, match=r"Unknown activation 'Relu'.*'relu'"):
        linear_activation_backward(dA, cache, "Relu")


# ---------------------------------------------------------------------------
# The seed tutorial's own call shapes (seed 003): its caches, its column layout
# ---------------------------------------------------------------------------
# testCases.linear_forward_test_case / linear_backward_test_case draw from
# np.random.seed(1), columns being samples: A (3, 2), W (1, 3), b (1, 1), and
# dZ (1, 2) first for the backward case. The tutorial prints these numbers.
SEED_Z = [[3.26295337, -1.23429987]]
SEED_LINEAR_BACKWARD = (
    [[0.51822968, -0.19517421], [-0.40506361, 0.15255393], [2.37496825, -0.89445391]],
    [[-0.10076895, 1.40685096, 1.64992505]],
    [[0.50629448]],
)


def _tutorial_arrays(*shapes):
    rng = np.random.RandomState(1)
    return [rng.randn(*shape) for shape in shapes]


def test_tutorial_linear_forward_with_the_arrays_transposed_prints_its_numbers():
    A, W, b = _tutorial_arrays((3, 2), (1, 3), (1, 1))
    Z = linear_forward(A.T, W.T, b.ravel())
    np.testing.assert_allclose(Z.T, SEED_Z, atol=1e-8)


def test_tutorial_column_layout_gets_an_error_that_says_to_transpose():
    A, W, b = _tutorial_arrays((3, 2), (1, 3), (1, 1))
    expected = r"rows are samples.*column layout.*pass A\.T, W\.T, dZ\.T and b\.ravel"
    with pytest.raises(ValueError, match=expected) as error:
        linear_forward(A, W, b)
    # The message names every array's shape, as given.
    assert "A_prev (3, 2), W (1, 3), b (1, 1)" in str(error.value)
    with pytest.raises(ValueError, match=expected):
        linear_activation_forward(A, W, b, "sigmoid")
    dZ, A, W, b = _tutorial_arrays((1, 2), (3, 2), (1, 3), (1, 1))
    with pytest.raises(ValueError, match=expected):
        linear_backward(dZ, (A, W, b))
    Z = A.T @ W.T  # any pre-activation of the right size, in the column layout
    with pytest.raises(ValueError, match=expected):
        linear_activation_backward(dZ, ((A, W, b), Z.T), "relu")


def test_shapes_that_do_not_chain_either_way_get_no_transpose_advice():
    A, W, b = np.ones((4, 3)), np.ones((2, 5)), np.ones(5)
    with pytest.raises(
        ValueError, match=r"do not chain: A_prev \(4, 3\), W \(2, 5\)"
    ) as e:
        linear_forward(A, W, b)
    assert "column layout" not in str(e.value)
    # A column b in the rows layout (a forgotten ravel) is named too.
    with pytest.raises(ValueError, match=r"b \(5, 1\).*b is \(n_out,\)"):
        linear_forward(np.ones((4, 2)), np.ones((2, 5)), np.ones((5, 1)))


def test_a_failure_that_is_not_about_shapes_is_left_as_it_was():
    A, W, b = np.ones((4, 2)), np.ones((2, 3)), np.ones(3)
    wrong_buffer = np.empty((4, 3), dtype=np.float32)  # np.dot wants float64
    with pytest.raises(ValueError, match="output array"):
        linear_forward(A, W, b, out=wrong_buffer)


def test_tutorial_linear_backward_takes_its_cache_and_prints_its_numbers():
    dZ, A, W, b = _tutorial_arrays((1, 2), (3, 2), (1, 3), (1, 1))
    cache = (A.T, W.T, b.ravel())  # the tutorial's (A_prev, W, b), rows layout
    dA_prev, dW, db = linear_backward(dZ.T, cache)
    for result, expected in zip((dA_prev.T, dW.T, db[None, :]), SEED_LINEAR_BACKWARD):
        np.testing.assert_allclose(result, expected, atol=1e-8)
    np.testing.assert_array_equal(dW, linear_backward(dZ.T, A.T, W.T)[1])


@pytest.mark.parametrize("name", sorted(SEED_BACKWARD))
def test_tutorial_linear_activation_backward_takes_its_nested_cache(name):
    # The tutorial's cache is ((A_prev, W, b), Z): linear_cache, activation_cache.
    dA, cache = _seed_backward_case()
    b = np.zeros(1)  # the tutorial's b: no gradient reads it
    tutorial_cache = ((cache.A_prev, cache.W, b), cache.Z)
    result = linear_activation_backward(dA, tutorial_cache, name)
    for r, e in zip((result[0].T, result[1].T, result[2]), SEED_BACKWARD[name]):
        np.testing.assert_allclose(r, e, atol=1e-8)
    for r, e in zip(result, linear_activation_backward(dA, cache, name)):
        np.testing.assert_array_equal(r, e)


@pytest.mark.parametrize("lib", NAMESPACES)
def test_column_layout_error_in_every_array_library(lib):
    # numpy raises ValueError on misaligned products, PyTorch RuntimeError:
    # both become the same message.
    A, W, b = (lib.to(a) for a in _tutorial_arrays((3, 2), (1, 3), (1, 1)))
    with pytest.raises(ValueError, match=r"column layout.*pass A\.T"):
        linear_forward(A, W, b)
