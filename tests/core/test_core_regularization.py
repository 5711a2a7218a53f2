"""skbp.core.regularization: the L2 penalty and its gradient, in every library.

Each test runs over the array libraries of ``NAMESPACES`` (numpy,
array-api-strict, PyTorch CPU): the weights are drawn in numpy and moved;
values come back as floats, gradients in place in the library's arrays.
"""

import numpy as np
import pytest
from namespaces import NAMESPACES

from skbp.core.regularization import add_l2_gradient, l2_penalty, squared_norm

SHAPES = [(3, 4), (4, 2), (2, 1)]
DTYPES = [np.float32, np.float64]


def _coefs(seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=s).astype(dtype) for s in SHAPES]


def _rtol(dtype):
    return 1e-6 if dtype == np.float32 else 1e-12


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_squared_norm_is_the_sum_of_squares(dtype, lib):
    W = _coefs(dtype=dtype)[0]
    for x in (W, W.T, W[:, ::2]):  # contiguous, transposed, strided
        value = lib.scalar(squared_norm(lib.to(x)))
        expected = float(np.sum(x.astype(np.float64) ** 2))
        np.testing.assert_allclose(value, expected, rtol=_rtol(dtype))
        np.testing.assert_allclose(value, squared_norm(x), rtol=_rtol(dtype))


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_l2_penalty_formula(dtype, lib):
    coefs = _coefs(dtype=dtype)
    alpha, n = 0.3, 7.5
    expected = 0.5 * alpha * sum(np.sum(W.astype(np.float64) ** 2) for W in coefs) / n
    moved = [lib.to(W) for W in coefs]
    value = lib.scalar(l2_penalty(moved, alpha, n))
    np.testing.assert_allclose(value, expected, rtol=_rtol(dtype))
    np.testing.assert_allclose(value, l2_penalty(coefs, alpha, n), rtol=_rtol(dtype))
    assert l2_penalty(moved, 0.0, n) == 0.0


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_add_l2_gradient_in_place(dtype, lib):
    coefs, grads = _coefs(0, dtype), _coefs(1, dtype)
    alpha, n = 0.3, 7.5
    expected = [dW + (alpha / n) * W for dW, W in zip(grads, coefs)]
    moved_grads = [lib.to(dW.copy()) for dW in grads]
    views = [dW[...] for dW in moved_grads]  # see the arrays' own memory
    result = add_l2_gradient(moved_grads, [lib.to(W) for W in coefs], alpha, n)
    assert result is moved_grads
    for dW, view, exact in zip(moved_grads, views, expected):
        assert type(dW) is type(view) and dW.dtype == view.dtype
        np.testing.assert_array_equal(lib.back(view), lib.back(dW))
        np.testing.assert_allclose(lib.back(dW), exact, rtol=_rtol(dtype))
    # The same step as numpy's own.
    add_l2_gradient(grads, coefs, alpha, n)
    for dW, numpy_dW in zip(moved_grads, grads):
        np.testing.assert_allclose(lib.back(dW), numpy_dW, rtol=_rtol(dtype))


@pytest.mark.parametrize("lib", NAMESPACES)
def test_add_l2_gradient_without_penalty_leaves_the_gradients(lib):
    grads = [lib.to(dW) for dW in _coefs(1)]
    before = [lib.back(dW).copy() for dW in grads]
    assert add_l2_gradient(grads, [lib.to(W) for W in _coefs(0)], 0.0, 3.0) is grads
    for dW, b in zip(grads, before):
        np.testing.assert_array_equal(lib.back(dW), b)
