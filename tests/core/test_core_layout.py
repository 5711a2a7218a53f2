"""skbp.core.layout: one flat vector for all weights and biases."""

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from namespaces import NAMESPACES
from sklearn.neural_network._multilayer_perceptron import _pack as sklearn_pack

import skbp.core
import skbp.core.layout
import skbp.core.lbfgs
from skbp.core.layout import ParameterLayout, pack, packed_views, unpack
from skbp.core.network import initialize_parameters
from skbp.core.workspace import Workspace

DTYPES = [np.float32, np.float64]
UNITS = [3, 4, 2]  # W_1 (3, 4), W_2 (4, 2), b_1 (4,), b_2 (2,): 26 parameters


def _net_params(units=UNITS, seed=0, dtype=np.float64):
    return initialize_parameters(units, np.random.RandomState(seed), dtype=dtype)


def test_layout_of_a_network():
    layout = ParameterLayout.from_layer_units(UNITS)
    assert layout.n_layers == 2
    assert layout.shapes == ((3, 4), (4, 2), (4,), (2,))
    assert layout.offsets == (0, 12, 20, 24, 26)
    assert layout.size == 26
    assert layout == ParameterLayout.of(*_net_params())
    assert hash(layout) == hash(ParameterLayout.of(*_net_params()))
    assert layout != ParameterLayout.from_layer_units([3, 2, 4])
    assert repr(layout) == "ParameterLayout([(3, 4), (4, 2)], [(4,), (2,)])"


def test_weights_then_biases_in_c_order():
    coefs, intercepts = _net_params()
    theta = ParameterLayout.of(coefs, intercepts).pack(coefs, intercepts)
    np.testing.assert_array_equal(theta, sklearn_pack(coefs, intercepts))
    np.testing.assert_array_equal(theta[:12], coefs[0].ravel())
    np.testing.assert_array_equal(theta[12:20], coefs[1].ravel())
    np.testing.assert_array_equal(theta[20:24], intercepts[0])
    np.testing.assert_array_equal(theta[24:], intercepts[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_views_share_memory_with_the_flat_vector(dtype):
    layout = ParameterLayout.from_layer_units(UNITS)
    flat = layout.empty(dtype)
    assert flat.shape == (26,) and flat.dtype == dtype
    coefs, intercepts = layout.views(flat)
    assert [W.shape for W in coefs] == [(3, 4), (4, 2)]
    assert [b.shape for b in intercepts] == [(4,), (2,)]
    for a in (*coefs, *intercepts):
        assert a.dtype == dtype and a.flags.c_contiguous
        assert np.shares_memory(a, flat)
    flat[...] = np.arange(26)
    np.testing.assert_array_equal(coefs[1], np.arange(12, 20).reshape(4, 2))
    np.testing.assert_array_equal(intercepts[0], np.arange(20, 24))
    # Writing through a view writes the flat vector: one update steps all.
    intercepts[1][...] = -1
    np.testing.assert_array_equal(flat[24:], [-1, -1])
    flat *= 2
    assert coefs[0][2, 3] == 22


@pytest.mark.parametrize("dtype", DTYPES)
def test_pack_keeps_the_dtype_and_fills_out(dtype):
    coefs, intercepts = _net_params(dtype=dtype)
    layout = ParameterLayout.of(coefs, intercepts)
    theta = layout.pack(coefs, intercepts)
    assert theta.dtype == dtype
    out = np.full(layout.size, np.nan, dtype)
    assert layout.pack(coefs, intercepts, out=out) is out
    np.testing.assert_array_equal(out, theta)
    wide = layout.pack(coefs, intercepts, dtype=np.float64)
    assert wide.dtype == np.float64
    np.testing.assert_array_equal(wide, theta.astype(np.float64))
    # A float64 source written into a float32 buffer is rounded, as astype does.
    narrow = np.empty(layout.size, np.float32)
    layout.pack(*_net_params(), out=narrow)
    np.testing.assert_array_equal(narrow, pack(*_net_params()).astype(np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_unpack_copies_or_fills_out(dtype):
    layout = ParameterLayout.from_layer_units(UNITS)
    theta = np.arange(26, dtype=np.float64) / 7.0
    coefs, intercepts = layout.unpack(theta)
    for a, shape in zip((*coefs, *intercepts), layout.shapes):
        assert a.shape == shape and a.dtype == np.float64
        assert not np.shares_memory(a, theta)
    np.testing.assert_array_equal(layout.pack(coefs, intercepts), theta)

    out = _net_params(dtype=dtype)
    ids = [id(a) for a in (*out[0], *out[1])]
    assert layout.unpack(theta, out=out) is out
    assert [id(a) for a in (*out[0], *out[1])] == ids
    for a in (*out[0], *out[1]):
        assert a.dtype == dtype
    np.testing.assert_array_equal(
        out[0][0], (np.arange(12) / 7.0).reshape(3, 4).astype(dtype)
    )
    np.testing.assert_array_equal(layout.pack(*out), theta.astype(dtype))


@pytest.mark.parametrize("size", [25, 27, 0])
def test_wrong_sizes_are_rejected(size):
    layout = ParameterLayout.from_layer_units(UNITS)
    message = rf"expected 26 parameters, got an array of shape \({size},\)"
    with pytest.raises(ValueError, match=message):
        layout.views(np.zeros(size))
    with pytest.raises(ValueError, match="expected 26 parameters"):
        layout.unpack(np.zeros(size))
    with pytest.raises(ValueError):
        layout.pack(*_net_params(), out=np.zeros(size))
    with pytest.raises(ValueError, match="expected 26 parameters"):
        layout.views(np.zeros((2, 13)))


def test_arrays_of_other_shapes_are_rejected():
    layout = ParameterLayout.from_layer_units(UNITS)
    coefs, intercepts = _net_params([3, 2, 4])
    with pytest.raises(ValueError, match="do not fit"):
        layout.pack(coefs, intercepts)
    with pytest.raises(ValueError, match="do not fit"):
        layout.unpack(np.zeros(26), out=(coefs, intercepts))
    # The same shapes, split differently between weights and biases.
    coefs, intercepts = _net_params()
    with pytest.raises(ValueError, match="do not fit"):
        layout.pack(coefs[:1], [coefs[1], *intercepts])
    with pytest.raises(ValueError, match="one bias per weight matrix"):
        ParameterLayout([(3, 4)], [])


_SHAPES = st.lists(
    st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=4
)


@settings(max_examples=50, deadline=None)
@given(shapes=_SHAPES, seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from(DTYPES))
def test_pack_views_unpack_round_trip(shapes, seed, dtype):
    rng = np.random.RandomState(seed)
    coefs = [rng.normal(size=s).astype(dtype) for s in shapes]
    intercepts = [rng.normal(size=s[1]).astype(dtype) for s in shapes]
    layout = ParameterLayout.of(coefs, intercepts)
    theta = layout.pack(coefs, intercepts)
    assert theta.shape == (layout.size,) and theta.dtype == dtype
    np.testing.assert_array_equal(theta, sklearn_pack(coefs, intercepts))
    for copies in (layout.views(theta), layout.unpack(theta)):
        for a, b in zip((*coefs, *intercepts), (*copies[0], *copies[1])):
            np.testing.assert_array_equal(a, b)
            assert a.shape == b.shape and b.dtype == dtype


def test_the_functions_are_the_layouts():
    coefs, intercepts = _net_params()
    flat, coef_views, intercept_views = packed_views(coefs, intercepts)
    np.testing.assert_array_equal(flat, pack(coefs, intercepts))
    for view, array in zip((*coef_views, *intercept_views), (*coefs, *intercepts)):
        assert np.shares_memory(view, flat) and not np.shares_memory(array, flat)
        np.testing.assert_array_equal(view, array)
    copies = [np.zeros_like(a) for a in (*coefs, *intercepts)]
    unpack(flat, copies[:2], copies[2:])
    np.testing.assert_array_equal(pack(copies[:2], copies[2:]), flat)
    # One implementation, importable from the core and from its first home.
    for name in ("pack", "unpack", "packed_views"):
        function = getattr(skbp.core.layout, name)
        assert getattr(skbp.core, name) is function
        assert getattr(skbp.core.lbfgs, name) is function


@pytest.mark.parametrize("dtype", DTYPES)
def test_workspace_gradients_are_views_in_the_layout(dtype):
    ws = Workspace(UNITS, max_rows=5, dtype=dtype)
    assert ws.layout == ParameterLayout.from_layer_units(UNITS)
    assert ws.flat_grads.shape == (ws.layout.size,) and ws.flat_grads.dtype == dtype
    ws.flat_grads[...] = np.arange(ws.layout.size)
    coefs, intercepts = ws.layout.views(ws.flat_grads)
    for a, b in zip((*ws.coef_grads, *ws.intercept_grads), (*coefs, *intercepts)):
        assert np.shares_memory(a, ws.flat_grads)
        np.testing.assert_array_equal(a, b)


def test_docstring_example_runs():
    result = doctest.testmod(skbp.core.layout)
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------------------
# Every array library: the flat vector in the parameters' library
# ---------------------------------------------------------------------------


def _of_library(lib, x):
    return type(x) is type(lib.to(np.zeros(1)))


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_layout_in_every_library(lib, dtype):
    coefs, intercepts = _net_params(dtype=dtype)
    layout = ParameterLayout.of(coefs, intercepts)
    expected = layout.pack(coefs, intercepts)
    coefs_x, intercepts_x = [lib.to(W) for W in coefs], [lib.to(b) for b in intercepts]

    theta = layout.pack(coefs_x, intercepts_x)
    assert _of_library(lib, theta)
    np.testing.assert_array_equal(lib.back(theta), expected)
    wide = layout.pack(coefs_x, intercepts_x, dtype=np.float64)
    assert _of_library(lib, wide) and lib.back(wide).dtype == np.float64
    np.testing.assert_array_equal(lib.back(wide), expected.astype(np.float64))
    out = lib.to(np.full(layout.size, np.nan, dtype))
    assert layout.pack(coefs_x, intercepts_x, out=out) is out
    np.testing.assert_array_equal(lib.back(out), expected)

    copies = layout.unpack(theta)
    for a, e in zip((*copies[0], *copies[1]), (*coefs, *intercepts)):
        assert _of_library(lib, a)
        np.testing.assert_array_equal(lib.back(a), e)
    # Copies: writing the vector leaves them as they were.
    theta[...] = 0.0
    np.testing.assert_array_equal(lib.back(copies[0][0]), coefs[0])

    # Into arrays of the library, cast to their dtype.
    wide64 = lib.to(np.arange(26, dtype=np.float64) / 7.0)
    target = (coefs_x, intercepts_x)
    assert layout.unpack(wide64, out=target) is target
    np.testing.assert_array_equal(
        lib.back(layout.pack(coefs_x, intercepts_x)),
        (np.arange(26) / 7.0).astype(dtype),
    )


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_views_and_empty_in_every_library(lib, dtype):
    layout = ParameterLayout.from_layer_units(UNITS)
    like = lib.to(np.zeros(2, dtype))
    for requested in (dtype, like.dtype):
        flat = layout.empty(requested, like=like)
        assert _of_library(lib, flat) and lib.back(flat).dtype == dtype
        assert tuple(flat.shape) == (26,)
    flat = lib.to(np.zeros(26, dtype))
    coefs, intercepts = layout.views(flat)
    assert [tuple(a.shape) for a in (*coefs, *intercepts)] == list(layout.shapes)
    assert all(_of_library(lib, a) for a in (*coefs, *intercepts))
    # Views: writing one writes the vector, and back.
    intercepts[1][...] = -1.0
    coefs[0][2, 3] = 5.0
    np.testing.assert_array_equal(lib.back(flat)[24:], [-1, -1])
    assert lib.back(flat)[11] == 5.0
    flat[...] = lib.to(np.arange(26, dtype=dtype))
    np.testing.assert_array_equal(lib.back(coefs[1]), np.arange(12, 20).reshape(4, 2))


@pytest.mark.parametrize("lib", NAMESPACES[1:])
def test_pack_into_a_buffer_of_another_size_is_refused(lib):
    coefs, intercepts = _net_params()
    layout = ParameterLayout.of(coefs, intercepts)
    with pytest.raises(ValueError, match="parameters need"):
        layout.pack(
            [lib.to(W) for W in coefs],
            [lib.to(b) for b in intercepts],
            out=lib.to(np.zeros(25)),
        )
