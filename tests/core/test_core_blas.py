"""skbp.core.blas: y += a x in place, BLAS or numpy, same result."""

import numpy as np
import pytest

from skbp.core.blas import axpy


def _cases():
    rng = np.random.RandomState(0)
    for dtype in (np.float32, np.float64):
        x = rng.normal(size=(5, 7)).astype(dtype)
        yield f"contiguous-{dtype.__name__}", x, rng.normal(size=(5, 7)).astype(dtype)
    x = rng.normal(size=(7, 5))
    yield "transposed", x.T, rng.normal(size=(5, 7))  # numpy fallback
    yield "strided", rng.normal(size=(10, 7))[::2], rng.normal(size=(5, 7))
    yield "mixed-dtypes", rng.normal(size=9).astype(np.float32), rng.normal(size=9)
    yield "empty", np.empty((0, 3)), np.empty((0, 3))


@pytest.mark.parametrize("name, x, y", list(_cases()), ids=[c[0] for c in _cases()])
def test_axpy_updates_y_in_place(name, x, y):
    expected = y + np.float64(-0.37) * x
    out = axpy(-0.37, x, y)
    assert out is y  # in place: the caller's array holds the result
    rtol = 1e-6 if np.float32 in (x.dtype, y.dtype) else 1e-14
    np.testing.assert_allclose(y, expected.astype(y.dtype), rtol=rtol, atol=rtol)


def test_axpy_on_a_view_updates_the_base():
    # The optimizers step views of one flat parameter vector.
    flat = np.zeros(12)
    view = flat[4:10].reshape(2, 3)
    axpy(2.0, np.ones((2, 3)), view)
    np.testing.assert_array_equal(flat, [0] * 4 + [2] * 6 + [0] * 2)
