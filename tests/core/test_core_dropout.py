"""Dropout building blocks: hashed masks, forward and backward."""

import numpy as np
import pytest
import scipy.sparse
from namespaces import NAMESPACES

from skbp.core.dropout import (
    dropout_backward,
    dropout_forward,
    dropout_mask,
    dropout_masks,
    row_keys,
    uniform_hash,
)


def _salt(n_features, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randint(0, 2**62, size=n_features, dtype=np.int64).astype(np.uint64)


def test_row_keys_equal_rows_equal_keys_anywhere_in_the_batch():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 7))
    X[[5, 17, 39]] = X[3]
    keys = row_keys(X, _salt(7))
    assert keys.dtype == np.uint64 and keys.shape == (40,)
    assert keys[3] == keys[5] == keys[17] == keys[39]
    assert len(np.unique(keys)) == 37  # every other row has its own key
    # The same rows in another order, or in another batch, keep their keys.
    perm = rng.permutation(40)
    np.testing.assert_array_equal(row_keys(X[perm], _salt(7)), keys[perm])
    np.testing.assert_array_equal(row_keys(X[:4], _salt(7)), keys[:4])


@pytest.mark.parametrize(
    "container", [scipy.sparse.csr_matrix, scipy.sparse.csc_array, np.float32]
)
def test_row_keys_sparse_and_float32_agree_with_dense(container):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30, 6)).astype(np.float32).astype(np.float64)
    X[np.abs(X) < 0.7] = 0.0
    X[4, :] = 0.0  # an empty row
    dense = row_keys(X, _salt(6))
    other = X.astype(np.float32) if container is np.float32 else container(X)
    np.testing.assert_array_equal(row_keys(other, _salt(6)), dense)


def test_row_keys_depend_on_the_salt():
    X = np.random.RandomState(2).normal(size=(10, 3))
    assert not np.array_equal(row_keys(X, _salt(3, 0)), row_keys(X, _salt(3, 1)))


def test_uniform_hash_is_uniform_and_independent():
    keys = row_keys(np.random.RandomState(3).normal(size=(4000, 5)), _salt(5))
    u = uniform_hash(keys, 64, counter=12345)
    assert u.shape == (4000, 64) and u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005
    assert abs(u.var() - 1 / 12) < 0.002
    # Neighbouring units, and the next counter, are uncorrelated.
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 0.05
    u_next = uniform_hash(keys, 64, counter=12346)
    assert abs(np.corrcoef(u.ravel(), u_next.ravel())[0, 1]) < 0.01
    # Deterministic.
    np.testing.assert_array_equal(u, uniform_hash(keys, 64, counter=12345))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rate", [0.0, 0.3, 0.9])
def test_dropout_mask_values(rate, dtype):
    keys = np.arange(1, 501, dtype=np.uint64)
    mask = dropout_mask(keys, 80, rate, counter=7, dtype=dtype)
    assert mask.shape == (500, 80) and mask.dtype == dtype
    kept = mask > 0
    np.testing.assert_allclose(mask[kept], 1.0 / (1.0 - rate), rtol=1e-6)
    assert np.all(mask[~kept] == 0)
    assert abs(kept.mean() - (1.0 - rate)) < 0.01
    # Inverted dropout keeps each unit's expected output: E[M] = 1.
    assert abs(mask.mean() - 1.0) < 0.05


def test_dropout_masks_per_layer_and_per_step():
    keys = np.arange(1, 33, dtype=np.uint64)
    masks = dropout_masks(keys, [16, 8, 4], [0.5, 0.0, 0.25], seed=3, step=0)
    assert len(masks) == 4 and masks[1] is None and masks[3] is None
    assert masks[0].shape == (32, 16) and masks[2].shape == (32, 4)
    again = dropout_masks(keys, [16, 8, 4], [0.5, 0.0, 0.25], seed=3, step=0)
    np.testing.assert_array_equal(masks[0], again[0])
    following = dropout_masks(keys, [16, 8, 4], [0.5, 0.0, 0.25], seed=3, step=1)
    assert not np.array_equal(masks[0], following[0])
    other_seed = dropout_masks(keys, [16, 8, 4], [0.5, 0.0, 0.25], seed=4, step=0)
    assert not np.array_equal(masks[0], other_seed[0])


def test_dropout_forward_and_backward_multiply_by_the_mask_in_place():
    rng = np.random.RandomState(4)
    A, dA = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    mask = dropout_mask(np.arange(6, dtype=np.uint64), 5, 0.5, counter=1)
    np.testing.assert_array_equal(dropout_forward(A, mask), A * mask)
    np.testing.assert_array_equal(dropout_backward(dA, mask), dA * mask)
    buffer = A.copy()
    assert dropout_forward(buffer, mask, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, A * mask)


# ---------------------------------------------------------------------------
# Other array libraries: masks drawn with numpy, then moved
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masks_for_every_library_are_numpys_bit_for_bit(dtype, lib):
    # The same seed gives the same model in every library: the masks are
    # numpy's, moved to the library of `like` (with its dtype by default).
    keys = row_keys(np.random.RandomState(5).normal(size=(40, 3)), _salt(3))
    like = lib.to(np.zeros((1, 1), dtype))
    expected = dropout_masks(keys, [16, 8, 4], [0.5, 0.0, 0.3], 3, 7, dtype)
    masks = dropout_masks(keys, [16, 8, 4], [0.5, 0.0, 0.3], 3, 7, like=like)
    assert len(masks) == 4 and masks[1] is None and masks[3] is None
    for mask, numpy_mask in zip(masks[::2], expected[::2]):
        assert type(mask) is type(like) and mask.dtype == like.dtype
        np.testing.assert_array_equal(lib.back(mask), numpy_mask)
        assert lib.back(mask).dtype == dtype
    # An explicit dtype (of the library) wins over like's.
    other = np.float64 if dtype == np.float32 else np.float32
    other_dtype = lib.to(np.zeros(1, other)).dtype
    mask = dropout_mask(keys, 6, 0.25, counter=2, dtype=other_dtype, like=like)
    assert mask.dtype == other_dtype
    np.testing.assert_array_equal(
        lib.back(mask), dropout_mask(keys, 6, 0.25, counter=2, dtype=other)
    )


@pytest.mark.parametrize("lib", NAMESPACES)
def test_row_keys_of_any_library_are_the_numpy_keys(lib):
    X = np.random.RandomState(6).normal(size=(12, 4))
    keys = row_keys(lib.to(X.copy()), _salt(4))
    assert isinstance(keys, np.ndarray)  # hashed on the host
    np.testing.assert_array_equal(keys, row_keys(X, _salt(4)))


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_forward_and_backward_in_every_library(dtype, lib):
    rng = np.random.RandomState(7)
    A, dA = rng.normal(size=(6, 5)).astype(dtype), rng.normal(size=(6, 5)).astype(dtype)
    like = lib.to(np.zeros((1, 1), dtype))
    keys = np.arange(6, dtype=np.uint64)
    mask = dropout_mask(keys, 5, 0.5, counter=1, like=like)
    numpy_mask = dropout_mask(keys, 5, 0.5, counter=1, dtype=dtype)
    for function, X in ((dropout_forward, A), (dropout_backward, dA)):
        result = function(lib.to(X.copy()), mask)
        assert type(result) is type(like) and result.dtype == like.dtype
        np.testing.assert_array_equal(lib.back(result), X * numpy_mask)
        buffer = lib.to(np.full_like(X, np.nan))
        assert function(lib.to(X.copy()), mask, out=buffer) is buffer
        np.testing.assert_array_equal(lib.back(buffer), X * numpy_mask)
        in_place = lib.to(X.copy())
        assert function(in_place, mask, out=in_place) is in_place
        np.testing.assert_array_equal(lib.back(in_place), X * numpy_mask)
