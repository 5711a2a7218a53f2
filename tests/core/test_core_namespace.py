"""skbp.core.namespace: numpy is numpy itself; other libraries get out=."""

import sys

import numpy as np
import pytest
from namespaces import NAMESPACES

import skbp.core
import skbp.core.namespace as namespace_module
from skbp.core.activations import ACTIVATIONS
from skbp.core.losses import LOSSES
from skbp.core.namespace import (
    NUMPY,
    ArrayNamespace,
    get_namespace,
    is_numpy,
    library_dtype,
    namespace_of,
    to_numpy,
)


def test_numpy_arrays_get_numpy_itself():
    xp = get_namespace(np.ones(3), None, 2.0)
    assert is_numpy(xp)
    assert xp.multiply is np.multiply and xp.errstate is np.errstate
    # np.dot's own C function, without the __array_function__ dispatch.
    assert xp.dot is getattr(np.dot, "_implementation", np.dot)
    a, b, out = np.ones((3, 2)), np.arange(8.0).reshape(2, 4), np.empty((3, 4))
    assert xp.dot(a, b, out=out) is out
    np.testing.assert_array_equal(out, np.dot(a, b))
    # A module, as numpy is (attribute lookups on modules are specialised).
    assert type(xp) is type(np) and xp.__name__ == "numpy"
    assert xp.astype(np.ones(2, np.float32), np.float64).dtype == np.float64


def test_sparse_matrices_are_numpy():
    from scipy import sparse

    assert get_namespace(sparse.csr_matrix(np.eye(3))) is NUMPY


@pytest.mark.parametrize("lib", NAMESPACES)
def test_every_function_accepts_out(lib):
    a, b = lib.to(np.arange(6.0).reshape(2, 3)), lib.to(np.ones((2, 3)))
    xp = get_namespace(a, b)
    out = lib.to(np.zeros((2, 3)))
    result = xp.multiply(a, b, out=out)
    assert result is out
    np.testing.assert_array_equal(lib.back(out), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(
        lib.back(xp.exp(a)), np.exp(np.arange(6.0)).reshape(2, 3)
    )


@pytest.mark.parametrize("lib", NAMESPACES)
def test_numpy_extras(lib):
    a = lib.to(np.arange(6.0).reshape(2, 3))
    xp = get_namespace(a)
    product = xp.dot(a, xp.permute_dims(a, (1, 0)) if not is_numpy(xp) else a.T)
    expected = np.arange(6.0).reshape(2, 3) @ np.arange(6.0).reshape(2, 3).T
    np.testing.assert_array_equal(lib.back(product), expected)
    destination = lib.to(np.zeros((2, 3)))
    xp.copyto(destination, a)
    np.testing.assert_array_equal(lib.back(destination), lib.back(a))
    with xp.errstate(over="ignore"):
        pass


@pytest.mark.parametrize("lib", NAMESPACES[1:])
def test_mixed_libraries_are_refused(lib):
    with pytest.raises(TypeError, match="different libraries"):
        get_namespace(np.ones(2), lib.to(np.ones(2)))


def test_not_an_array_is_refused():
    pytest.importorskip("array_api_compat")
    with pytest.raises(TypeError, match="not an array"):
        get_namespace(object())


@pytest.mark.parametrize("lib", NAMESPACES)
def test_to_numpy(lib):
    np.testing.assert_array_equal(to_numpy(lib.to(np.arange(3.0))), np.arange(3.0))


@pytest.mark.parametrize("lib", NAMESPACES)
def test_library_dtype_takes_numpy_names(lib):
    xp = get_namespace(lib.to(np.zeros(1)))
    float32 = lib.to(np.zeros(1, np.float32)).dtype
    for name in (np.float32, np.dtype(np.float32), "float32", float32):
        assert library_dtype(xp, name) == float32


# namespace_of: the one way the core asks which library holds its arrays.


def test_namespace_of_numpy_arrays_is_numpy():
    a, b = np.ones((2, 3)), np.zeros(3, np.float32)
    assert namespace_of(a) is NUMPY
    assert namespace_of(a, b) is NUMPY
    assert namespace_of(a, b, a.T) is NUMPY
    # What get_namespace also takes: none at all, None, scalars, subclasses.
    assert namespace_of() is NUMPY
    assert namespace_of(None) is NUMPY
    assert namespace_of(a, None, 2.0) is NUMPY
    assert namespace_of(np.float64(1.0)) is NUMPY
    assert namespace_of(np.ma.masked_array([1.0])) is NUMPY


def test_namespace_of_sparse_matrices_is_numpy():
    from scipy import sparse

    S = sparse.csr_matrix(np.eye(3))
    assert namespace_of(S) is NUMPY
    assert namespace_of(S, np.ones((3, 2))) is NUMPY


def test_namespace_of_array_api_strict_is_its_compat_namespace():
    strict = pytest.importorskip("array_api_strict")
    array_api_compat = pytest.importorskip("array_api_compat")
    a = strict.asarray([[1.0, 2.0]])
    xp = namespace_of(a)
    assert isinstance(xp, ArrayNamespace) and not is_numpy(xp)
    assert xp.xp is array_api_compat.array_namespace(a)
    # One object per library, the same as get_namespace's.
    assert namespace_of(a, strict.ones(2)) is xp is get_namespace(a)
    assert xp.sum(a) == 3.0


@pytest.mark.parametrize("lib", NAMESPACES[1:])
@pytest.mark.parametrize("numpy_first", [True, False])
def test_namespace_of_mixed_libraries_raises(lib, numpy_first):
    arrays = [np.ones(2), lib.to(np.ones(2))]
    if not numpy_first:
        arrays.reverse()
    with pytest.raises(TypeError, match="different libraries"):
        namespace_of(*arrays)
    with pytest.raises(TypeError, match="different libraries"):
        namespace_of(np.ones(2), np.ones(2), lib.to(np.ones(2)))


def test_namespace_of_not_an_array_is_refused():
    pytest.importorskip("array_api_compat")
    with pytest.raises(TypeError, match="not an array"):
        namespace_of(object())


def test_namespace_of_is_exported_with_the_core_namespace_names():
    assert skbp.core.namespace_of is namespace_of
    assert "namespace_of" in skbp.core.__all__
    assert skbp.core.get_namespace is get_namespace  # still public


def test_one_spelling_of_the_namespace_test_in_the_core():
    # Every module of the core asks namespace_of (only namespace.py itself
    # tests the type), and none calls get_namespace directly.
    from pathlib import Path

    for path in Path(skbp.core.__file__).parent.glob("*.py"):
        if path.name in ("namespace.py", "__init__.py"):
            continue
        source = path.read_text()
        assert "is ndarray" not in source, path.name
        assert "is not ndarray" not in source, path.name
        assert "get_namespace" not in source, path.name


@pytest.mark.parametrize("lib", NAMESPACES[1:])
def test_namespace_of_asks_once_per_type(lib, monkeypatch):
    a, b = lib.to(np.ones((2, 3))), lib.to(np.zeros(3))
    expected = get_namespace(a)
    asked = []

    def counted(*arrays):
        asked.append(len(arrays))
        return get_namespace(*arrays)

    monkeypatch.setattr(namespace_module, "_NAMESPACE_OF_TYPE", {})
    monkeypatch.setattr(namespace_module, "get_namespace", counted)
    for _ in range(3):
        assert namespace_of(a) is expected
        assert namespace_of(a, b) is expected
    assert asked == [1]  # the first call; then by the arrays' type
    # Mixed libraries are refused however often the types were met.
    with pytest.raises(TypeError, match="different libraries"):
        namespace_of(a, np.ones(3))
    with pytest.raises(TypeError, match="different libraries"):
        namespace_of(np.ones(3), a)


def test_namespace_of_refuses_a_non_array_every_time():
    pytest.importorskip("array_api_compat")
    for _ in range(2):
        with pytest.raises(TypeError, match="not an array"):
            namespace_of(object())


# ---------------------------------------------------------------------------
# array_api_compat: the package, else scikit-learn's copy
# ---------------------------------------------------------------------------
@pytest.fixture
def fresh_compat(monkeypatch):
    """array_api_compat() looked up anew, and forgotten after the test."""
    namespace_module.array_api_compat.cache_clear()
    # Namespaces already built (once per array type) came from the first one.
    monkeypatch.setattr(namespace_module, "_NAMESPACE_OF_TYPE", {})
    yield monkeypatch
    namespace_module.array_api_compat.cache_clear()


def test_the_array_api_compat_package_comes_first(fresh_compat):
    pytest.importorskip("array_api_compat")
    assert namespace_module.array_api_compat().__name__ == "array_api_compat"


def test_without_the_package_scikit_learns_copy_is_used(fresh_compat):
    pytest.importorskip("sklearn")
    fresh_compat.setitem(sys.modules, "array_api_compat", None)  # not installed
    compat = namespace_module.array_api_compat()
    assert compat.__name__ == "sklearn.externals.array_api_compat"
    strict = pytest.importorskip("array_api_strict")
    x = strict.asarray([1.0, 2.0])
    xp = namespace_module.namespace_of(x)
    assert xp.xp is compat.array_namespace(x)  # the copy's namespace
    assert float(xp.sum(x)) == 3.0


def test_without_either_the_error_says_what_to_install(fresh_compat):
    for name in namespace_module.ARRAY_API_COMPAT:
        fresh_compat.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match="pip install array-api-compat"):
        namespace_module.array_api_compat()


@pytest.mark.parametrize("lib", NAMESPACES[1:])
def test_every_activation_and_loss_runs_on_scikit_learns_copy(lib, fresh_compat):
    # scikit-learn 1.9 ships an older array_api_compat: the core's calls must
    # work through it too (PyTorch's maximum refused Python scalars there).
    pytest.importorskip("sklearn")
    fresh_compat.setitem(sys.modules, "array_api_compat", None)
    rng = np.random.RandomState(0)
    Z, dA = rng.randn(6, 3), rng.randn(6, 3)
    for name, cls in sorted(ACTIVATIONS.items()):
        activation = cls()
        A = activation.forward(lib.to(Z))
        np.testing.assert_allclose(lib.back(A), activation.forward(Z), rtol=1e-12)
        dZ = activation.backward(lib.to(dA), lib.to(Z), A)
        expected = activation.backward(dA, Z, activation.forward(Z))
        np.testing.assert_allclose(lib.back(dZ), expected, rtol=1e-12, err_msg=name)
    Y = (rng.rand(6, 3) > 0.5).astype(float)
    for name, cls in sorted(LOSSES.items()):
        loss = cls()
        A = loss.output_activation.forward(Z)
        value = lib.scalar(loss.value(lib.to(Y), lib.to(Z), lib.to(A)))
        expected = loss.value(Y, Z, A)
        np.testing.assert_allclose(value, expected, rtol=1e-12, err_msg=name)
        gradient = lib.back(loss.gradient(lib.to(Y), lib.to(Z), lib.to(A)))
        expected = loss.gradient(Y, Z, A)
        np.testing.assert_allclose(gradient, expected, rtol=1e-12, err_msg=name)
