"""skbp.core.activations: values, derivatives, chain rule, buffers, stability.

Every test is parametrized over the registry (``ACTIVATIONS``), so an
activation added later is covered automatically. Tests that need an
independent formula read it from ``REFERENCE`` below and fail with a clear
message for an activation that has none yet; an activation whose constructor
takes parameters must likewise list non-default values in ``PARAMETER_VALUES``.

Where the array library matters, tests also run over ``NAMESPACES`` (numpy,
array-api-strict, PyTorch on the CPU): results must come back in the input's
library and dtype and agree with numpy's.
"""

import inspect
import pickle
import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from namespaces import NAMESPACES, Library

from skbp.core.activations import (
    ACTIVATIONS,
    HIDDEN_ACTIVATIONS,
    Activation,
    Logistic,
    get_activation,
    log_sum_exp,
    max_shifted_exp,
    row_sums,
    shifted_exp,
    softplus,
)
from skbp.core.namespace import get_namespace

ALL = sorted(ACTIVATIONS)
DTYPES = [np.float32, np.float64]


def _gelu_tanh(z):
    c = np.sqrt(2.0 / np.pi)
    return 0.5 * z * (1.0 + np.tanh(c * (z + 0.044715 * z**3)))


def _exp(z):
    with np.errstate(over="ignore"):
        return np.exp(z)


#: Independent float64 formulas (scipy's stable versions where they exist).
REFERENCE = {
    "identity": lambda z: z,
    "logistic": scipy.special.expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "softmax": lambda z: scipy.special.softmax(z, axis=1),
    "exp": _exp,
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "gelu": _gelu_tanh,
    "softplus": lambda z: np.logaddexp(0.0, z),
    "silu": lambda z: z * scipy.special.expit(z),
}

#: Non-default constructor parameters of every parameterised activation, each
#: with its independent float64 formula: the defaults can hide a dropped
#: parameter (ELU's derivative without ``alpha`` is right at ``alpha=1``).
PARAMETER_VALUES = {
    "leaky_relu": [
        ({"negative_slope": 0.3}, lambda z: np.where(z > 0, z, 0.3 * z)),
        ({"negative_slope": -0.5}, lambda z: np.where(z > 0, z, -0.5 * z)),
    ],
    "elu": [
        ({"alpha": 0.5}, lambda z: np.where(z > 0, z, 0.5 * np.expm1(z))),
        ({"alpha": 2.5}, lambda z: np.where(z > 0, z, 2.5 * np.expm1(z))),
    ],
}

#: Hand-computed values at a few points: (input row, expected output row).
KNOWN_VALUES = {
    "identity": ([2.5, -1.5, 0.0], [2.5, -1.5, 0.0]),
    "logistic": ([0.0, 1.0, -1.0], [0.5, 0.7310585786300049, 0.2689414213699951]),
    "tanh": ([0.0, 1.0, -1.0], [0.0, 0.7615941559557649, -0.7615941559557649]),
    "relu": ([-2.0, 3.0, 0.0], [0.0, 3.0, 0.0]),
    "softmax": ([0.0, np.log(3.0)], [0.25, 0.75]),
    "exp": ([0.0, 1.0, -1.0], [1.0, np.e, 1.0 / np.e]),
    "leaky_relu": ([-2.0, 3.0, 0.0], [-0.02, 3.0, 0.0]),
    "elu": ([-1.0, 2.0, 0.0], [-0.6321205588285577, 2.0, 0.0]),
    "gelu": ([0.0, 1.0], [0.0, 0.8411919906082768]),
    "softplus": ([0.0, 1.0], [np.log(2.0), 1.3132616875182228]),
    "silu": ([0.0, 1.0, -1.0], [0.0, 0.7310585786300049, -0.2689414213699951]),
}

# Points well away from the kinks of relu-like activations (finite differences
# across a kink are meaningless).
Z_SMOOTH = np.array(
    [
        [-3.1, -1.3, -0.4, 0.15],
        [-0.07, 0.11, 0.6, -2.2],
        [1.7, 2.9, 4.2, -0.9],
    ]
)

HUGE = [-1e4, -1e3, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e3, 1e4]


def _huge_grid():
    """Rows mixing tiny, moderate and huge values (softmax reads whole rows)."""
    rows = [np.roll(HUGE, 3 * k)[:5] for k in range(len(HUGE))]
    rows += [[1e4] * 5, [-1e4] * 5]
    return np.array(rows)


def _reference(name):
    if name not in REFERENCE:
        pytest.fail(
            f"activation {name!r} has no reference formula in tests/core: add one "
            "to REFERENCE (and KNOWN_VALUES) in test_core_activations.py"
        )
    return REFERENCE[name]


def _is_elementwise(name):
    """Elementwise activations have a ``derivative``; softmax refuses it."""
    try:
        ACTIVATIONS[name]().derivative(np.zeros((1, 2)))
    except NotImplementedError:
        return False
    return True


ELEMENTWISE = [name for name in ALL if _is_elementwise(name)]


def _on(lib, array):
    """A copy of the numpy ``array`` in ``lib``, sharing no memory with it."""
    return lib.to(np.array(array))


def _assert_in_library(result, like):
    """``result`` is an array of ``like``'s library, with ``like``'s dtype."""
    assert type(result) is type(like)
    assert result.dtype == like.dtype


class _Strict:
    """Warnings and floating-point errors raise (underflow to 0 is fine).

    array-api-strict computes with numpy underneath, where the overflows the
    core expects (and silences with ``xp.errstate`` on numpy) still signal:
    for it, overflow is left to the checks on the values.
    """

    def __init__(self, lib=None):
        on_numpy = getattr(lib, "name", "") == "array_api_strict"
        self._over = "ignore" if on_numpy else None

    def __enter__(self):
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("error")
        self._errstate = np.errstate(all="raise", under="ignore", over=self._over)
        self._errstate.__enter__()

    def __exit__(self, *exc):
        self._errstate.__exit__(*exc)
        self._warnings.__exit__(*exc)


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_registry_names_and_lookup(name):
    act = get_activation(name)
    assert isinstance(act, Activation)
    assert isinstance(act, ACTIVATIONS[name])
    assert act.name == name
    assert get_activation(act) is act


def test_hidden_activations_are_registered_and_elementwise():
    assert set(HIDDEN_ACTIVATIONS) <= set(ACTIVATIONS)
    assert "softmax" not in HIDDEN_ACTIVATIONS
    for name in HIDDEN_ACTIVATIONS:
        assert name in ELEMENTWISE


def test_hidden_activations_are_the_classes_that_say_hidden():
    # Read off the classes, in registry order; the output-only ones are out.
    assert HIDDEN_ACTIVATIONS == tuple(
        name for name, cls in ACTIVATIONS.items() if cls.hidden
    )
    assert {"softmax", "exp"}.isdisjoint(HIDDEN_ACTIVATIONS)


@pytest.mark.parametrize("name", ALL)
def test_init_factor_is_scikit_learns(name):
    # Glorot & Bengio's 6, but 2 for logistic units as in scikit-learn, so
    # that both libraries draw the same initial weights.
    expected = 2.0 if name == "logistic" else 6.0
    assert ACTIVATIONS[name].init_factor == get_activation(name).init_factor
    assert get_activation(name).init_factor == expected


@pytest.mark.parametrize("bad", ["no_such_activation", None, 3])
def test_unknown_activation_raises(bad):
    with pytest.raises(ValueError, match="Unknown activation"):
        get_activation(bad)


@pytest.mark.parametrize("name", ALL)
def test_equality_hash_and_pickle(name):
    a, b = ACTIVATIONS[name](), ACTIVATIONS[name]()
    assert a == b and hash(a) == hash(b)
    clone = pickle.loads(pickle.dumps(a))
    assert clone == a and hash(clone) == hash(a)
    others = [ACTIVATIONS[n]() for n in ALL if n != name]
    assert all(a != other for other in others)


# ---------------------------------------------------------------------------
# Forward values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_forward_known_values(name):
    if name not in KNOWN_VALUES:
        pytest.fail(f"activation {name!r} has no KNOWN_VALUES entry in tests/core")
    z, expected = KNOWN_VALUES[name]
    A = ACTIVATIONS[name]().forward(np.array([z], dtype=np.float64))
    np.testing.assert_allclose(A, [expected], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
def test_forward_matches_reference_formula(name, lib):
    ref = _reference(name)
    rng = np.random.RandomState(0)
    Z_np = np.concatenate([Z_SMOOTH, rng.normal(scale=3.0, size=(5, 4))])
    Z = _on(lib, Z_np)
    A = ACTIVATIONS[name]().forward(Z)
    _assert_in_library(A, Z)
    assert A.shape == Z.shape
    np.testing.assert_allclose(lib.back(A), ref(Z_np), rtol=1e-12, atol=1e-14)
    # out=None never writes into Z
    np.testing.assert_array_equal(lib.back(Z), Z_np)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_really_is_elementwise(name):
    # An elementwise function of a column slice is the slice of the function.
    act = ACTIVATIONS[name]()
    A = act.forward(Z_SMOOTH.copy())
    np.testing.assert_allclose(act.forward(Z_SMOOTH[:, :1].copy()), A[:, :1])
    np.testing.assert_allclose(act.forward(Z_SMOOTH[::-1].copy()), A[::-1])


# ---------------------------------------------------------------------------
# Derivatives and the chain rule
# ---------------------------------------------------------------------------


def _central_difference(f, Z, h=1e-6):
    return (f(Z + h) - f(Z - h)) / (2 * h)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_finite_differences(name, lib):
    act = ACTIVATIONS[name]()
    numerical = _central_difference(
        lambda z: lib.back(act.forward(_on(lib, z))), Z_SMOOTH
    )
    Z = _on(lib, Z_SMOOTH)
    A = act.forward(_on(lib, Z_SMOOTH))
    derivative = act.derivative(Z, A)
    _assert_in_library(derivative, Z)
    np.testing.assert_allclose(lib.back(derivative), numerical, rtol=1e-6, atol=1e-8)
    # A=None recomputes A from Z: same result.
    np.testing.assert_allclose(
        lib.back(act.derivative(Z)), lib.back(act.derivative(Z, A)), rtol=1e-14
    )


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
def test_backward_is_vector_jacobian_product(name, lib):
    # dZ_ij = d/dZ_ij sum(dA * f(Z)), checked entry by entry with central
    # differences; valid for elementwise and row-wise (softmax) activations.
    act = ACTIVATIONS[name]()
    rng = np.random.RandomState(1)
    Z = Z_SMOOTH.copy()
    dA = rng.normal(size=Z.shape)
    h = 1e-6

    def f(z):
        return lib.back(act.forward(_on(lib, z)))

    numerical = np.empty_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += h
        Zm[idx] -= h
        numerical[idx] = np.sum(dA * (f(Zp) - f(Zm))) / (2 * h)
    Z, dA = _on(lib, Z), _on(lib, dA)
    A = act.forward(_on(lib, Z_SMOOTH))
    for dZ in (act.backward(dA, Z, A), act.backward(dA, Z)):
        _assert_in_library(dZ, Z)
        np.testing.assert_allclose(lib.back(dZ), numerical, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_equals_dA_times_derivative(name, dtype, lib):
    act = ACTIVATIONS[name]()
    rng = np.random.RandomState(2)
    Z = _on(lib, Z_SMOOTH.astype(dtype))
    dA = _on(lib, rng.normal(size=Z.shape).astype(dtype))
    A = act.forward(_on(lib, Z_SMOOTH.astype(dtype)))
    expected = lib.back(dA * act.derivative(Z, A))
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(lib.back(act.backward(dA, Z, A)), expected, rtol=rtol)
    np.testing.assert_allclose(lib.back(act.backward(dA, Z)), expected, rtol=rtol)


@pytest.mark.parametrize("lib", NAMESPACES)
def test_softmax_backward_matches_explicit_jacobian(lib):
    act = ACTIVATIONS["softmax"]()
    rng = np.random.RandomState(3)
    Z = rng.normal(scale=2.0, size=(4, 5))
    dA = rng.normal(size=Z.shape)
    A = act.forward(Z.copy())
    expected = np.empty_like(Z)
    for i in range(Z.shape[0]):
        a = A[i]
        jacobian = np.diag(a) - np.outer(a, a)  # d a_k / d z_j
        expected[i] = jacobian.T @ dA[i]
    Z, dA, A = _on(lib, Z), _on(lib, dA), _on(lib, A)
    np.testing.assert_allclose(lib.back(act.backward(dA, Z, A)), expected, rtol=1e-12)
    np.testing.assert_allclose(lib.back(act.backward(dA, Z)), expected, rtol=1e-12)
    with pytest.raises(NotImplementedError):
        act.derivative(Z, A)


@pytest.mark.parametrize("lib", NAMESPACES)
def test_relu_derivative_at_zero_is_zero(lib):
    # Documented convention (as scikit-learn): f'(0) = 0.
    relu = ACTIVATIONS["relu"]()
    Z = _on(lib, np.array([[0.0, -1.0, 2.0]]))
    np.testing.assert_array_equal(lib.back(relu.derivative(Z)), [[0.0, 0.0, 1.0]])
    dZ = relu.backward(_on(lib, np.full((1, 3), 5.0)), Z)
    np.testing.assert_array_equal(lib.back(dZ), [[0, 0, 5]])


def _constructor_defaults(name):
    """``{parameter: default}`` of an activation's constructor."""
    parameters = inspect.signature(ACTIVATIONS[name]).parameters.values()
    return {p.name: p.default for p in parameters}


@pytest.mark.parametrize("name", ALL)
def test_parameterised_activations_have_non_default_values(name):
    defaults = _constructor_defaults(name)
    if not defaults:
        assert name not in PARAMETER_VALUES
        return
    untested = {
        parameter
        for parameter, default in defaults.items()
        if all(
            params.get(parameter, default) == default
            for params, _ in PARAMETER_VALUES.get(name, [])
        )
    }
    if untested:
        pytest.fail(
            f"activation {name!r} takes {sorted(untested)} but PARAMETER_VALUES in "
            "tests/core/test_core_activations.py gives no non-default value for "
            "them: add some (with the reference formula)"
        )


PARAMETERISED = [
    pytest.param(name, params, reference, id=f"{name}-{params}")
    for name in sorted(PARAMETER_VALUES)
    for params, reference in PARAMETER_VALUES[name]
]


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name, params, reference", PARAMETERISED)
def test_non_default_parameters_forward_and_derivative(name, params, reference, lib):
    act = ACTIVATIONS[name](**params)
    assert act != ACTIVATIONS[name]()
    rng = np.random.RandomState(5)
    Z = _on(lib, Z_SMOOTH)
    A = act.forward(_on(lib, Z_SMOOTH))
    A_np = lib.back(A)
    np.testing.assert_allclose(A_np, reference(Z_SMOOTH), rtol=1e-12, atol=1e-14)

    numerical = _central_difference(reference, Z_SMOOTH)
    for derivative in (act.derivative(Z, A), act.derivative(Z)):
        np.testing.assert_allclose(
            lib.back(derivative), numerical, rtol=1e-6, atol=1e-8
        )
    dA = rng.normal(size=Z_SMOOTH.shape)
    expected = dA * numerical
    np.testing.assert_allclose(
        lib.back(act.backward(_on(lib, dA), Z, A)), expected, rtol=1e-6, atol=1e-8
    )
    if act.derivative_from_output:
        # The claim lets a training workspace overwrite Z with A: backward
        # must then give the same gradient from A alone.
        dZ = act.backward(_on(lib, dA), _on(lib, A_np), A)
        np.testing.assert_allclose(lib.back(dZ), expected, rtol=1e-6, atol=1e-8)


def test_leaky_relu_slope_parameter():
    cls = ACTIVATIONS["leaky_relu"]
    act = cls(negative_slope=0.2)
    Z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(act.forward(Z), [[-0.4, 0.0, 3.0]])
    np.testing.assert_allclose(act.derivative(Z), [[0.2, 0.2, 1.0]])
    assert act != cls() and act == cls(negative_slope=0.2)


# ---------------------------------------------------------------------------
# out= buffers and dtypes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_out_buffer(name, dtype, lib):
    act = ACTIVATIONS[name]()
    Z_np = Z_SMOOTH.astype(dtype)
    Z = _on(lib, Z_np)
    expected = lib.back(act.forward(_on(lib, Z_np)))

    buf = _on(lib, np.full_like(Z_np, np.nan))
    result = act.forward(Z, out=buf)
    assert result is buf
    np.testing.assert_array_equal(lib.back(buf), expected)

    Z_inplace = _on(lib, Z_np)  # out may be Z itself
    result = act.forward(Z_inplace, out=Z_inplace)
    assert result is Z_inplace
    np.testing.assert_array_equal(lib.back(Z_inplace), expected)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_out_buffer(name, dtype, lib):
    act = ACTIVATIONS[name]()
    rng = np.random.RandomState(4)
    Z_np = Z_SMOOTH.astype(dtype)
    Z = _on(lib, Z_np)
    A = act.forward(_on(lib, Z_np))
    dA_before = rng.normal(size=Z_np.shape).astype(dtype)
    dA = _on(lib, dA_before)
    expected = lib.back(act.backward(_on(lib, dA_before), Z, A))

    buf = _on(lib, np.full_like(Z_np, np.nan))
    result = act.backward(dA, Z, A, out=buf)
    assert result is buf
    np.testing.assert_array_equal(lib.back(buf), expected)
    # not written without out=dA
    np.testing.assert_array_equal(lib.back(dA), dA_before)

    result = act.backward(dA, Z, A, out=dA)  # out may be dA itself
    assert result is dA
    np.testing.assert_array_equal(lib.back(dA), expected)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_preserved(name, dtype, lib):
    act = ACTIVATIONS[name]()
    Z = _on(lib, Z_SMOOTH.astype(dtype))
    ones = _on(lib, np.ones(Z_SMOOTH.shape, dtype))
    A = act.forward(_on(lib, Z_SMOOTH.astype(dtype)))
    assert lib.back(A).dtype == dtype
    results = [A, act.backward(ones, Z, A), act.backward(ones, Z)]
    if name in ELEMENTWISE:
        results += [act.derivative(Z, A), act.derivative(Z)]
    for result in results:
        _assert_in_library(result, Z)
        assert lib.back(result).dtype == dtype


# ---------------------------------------------------------------------------
# Every array library computes what numpy computes
# ---------------------------------------------------------------------------

#: Every activation with its default parameters, and with the others.
INSTANCES = [pytest.param(name, {}, id=name) for name in ALL] + [
    pytest.param(name, params, id=f"{name}-{params}")
    for name in sorted(PARAMETER_VALUES)
    for params, _ in PARAMETER_VALUES[name]
]


def _library_tolerance(dtype):
    # torch's exp and tanh may differ from numpy's by a few ulps, which
    # cancellation (gelu's 1 + tanh u for z < 0) makes absolute, not relative.
    if dtype == np.float64:
        return {"rtol": 1e-12, "atol": 1e-13}
    return {"rtol": 1e-5, "atol": 1e-6}


def _every_path(act, name, Z, dA, lib):
    """Every path through ``act`` on numpy ``Z`` and ``dA``, computed in ``lib``.

    Returns ``{path: result}`` (results in ``lib``) and the ``lib`` copy of
    ``Z`` they were computed from.
    """
    Z_lib, dA_lib = _on(lib, Z), _on(lib, dA)
    A = act.forward(_on(lib, Z))
    results = {"forward": A}
    buffer = _on(lib, np.full_like(Z, np.nan))
    results["forward(out=buffer)"] = act.forward(Z_lib, out=buffer)
    assert results["forward(out=buffer)"] is buffer
    in_place = _on(lib, Z)
    results["forward(out=Z)"] = act.forward(in_place, out=in_place)
    assert results["forward(out=Z)"] is in_place
    results["backward"] = act.backward(dA_lib, Z_lib, A)
    results["backward(A=None)"] = act.backward(dA_lib, Z_lib)
    in_place = _on(lib, dA)
    results["backward(out=dA)"] = act.backward(in_place, Z_lib, A, out=in_place)
    assert results["backward(out=dA)"] is in_place
    if act.derivative_from_output:
        # Z overwritten by A, as a training workspace does.
        results["backward from A"] = act.backward(dA_lib, _on(lib, lib.back(A)), A)
    if name in ELEMENTWISE:
        results["derivative"] = act.derivative(Z_lib, A)
        results["derivative(A=None)"] = act.derivative(Z_lib)
    return results, Z_lib


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, params", INSTANCES)
def test_every_path_in_every_library_equals_numpy(name, params, dtype, lib):
    act = ACTIVATIONS[name](**params)
    rng = np.random.RandomState(6)
    Z = rng.normal(scale=3.0, size=(7, 5)).astype(dtype)
    Z[0, :2] = 0.0  # the kink of relu-like activations, on every library
    dA = rng.normal(size=Z.shape).astype(dtype)
    expected, _ = _every_path(act, name, Z, dA, Library("numpy"))
    results, Z_lib = _every_path(act, name, Z, dA, lib)
    assert results.keys() == expected.keys()
    for path, result in results.items():
        _assert_in_library(result, Z_lib)
        np.testing.assert_allclose(
            lib.back(result),
            expected[path],
            err_msg=f"{name}: {path}",
            **_library_tolerance(dtype),
        )


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_shared_helpers_in_every_library_equal_numpy(dtype, lib):
    rng = np.random.RandomState(7)
    tolerance = _library_tolerance(dtype)
    for Z in (rng.normal(scale=3.0, size=(6, 4)).astype(dtype), _far_apart_rows(dtype)):
        Z_lib = _on(lib, Z)
        computed = {
            "row_sums": (row_sums(Z_lib), row_sums(Z)),
            "shifted_exp": (shifted_exp(Z_lib, 1.5), shifted_exp(Z, 1.5)),
            "log_sum_exp": (log_sum_exp(Z_lib), log_sum_exp(Z)),
            "softplus": (softplus(Z_lib), softplus(Z)),
        }
        # Outside numpy the shift is always each row's maximum (no branch on
        # the data), so E, the sums and the shift may differ from numpy's:
        # what they stand for, the softmax and log-sum-exp, may not.
        E, sums, shift = max_shifted_exp(Z_lib)
        E_np, sums_np, shift_np = max_shifted_exp(Z)
        computed["max_shifted_exp softmax"] = (
            E / sums[:, None],
            E_np / sums_np[:, None],
        )
        xp = get_namespace(sums)
        computed["max_shifted_exp lse"] = (
            shift + xp.log(sums),
            shift_np + np.log(sums_np),
        )
        for helper, (result, numpy_result) in computed.items():
            _assert_in_library(result, Z_lib)
            np.testing.assert_allclose(
                lib.back(result), numpy_result, err_msg=helper, **tolerance
            )
        # out= is filled and returned, Z itself included.
        for helper, call in (
            ("shifted_exp", lambda z, out: shifted_exp(z, 1.5, out=out)),
            ("softplus", softplus),
            ("max_shifted_exp", lambda z, out: max_shifted_exp(z, out=out)[0]),
        ):
            expected = lib.back(call(_on(lib, Z), None))
            buffer = _on(lib, np.full_like(Z, np.nan))
            assert call(_on(lib, Z), buffer) is buffer, helper
            np.testing.assert_array_equal(lib.back(buffer), expected, err_msg=helper)
            in_place = _on(lib, Z)
            assert call(in_place, in_place) is in_place, helper
            np.testing.assert_array_equal(lib.back(in_place), expected, err_msg=helper)


# ---------------------------------------------------------------------------
# Numerical stability
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_stable_at_huge_inputs(name, dtype, lib):
    """No warning, no NaN, and inf only where the true value overflows dtype."""
    act = ACTIVATIONS[name]()
    Z_np = _huge_grid().astype(dtype)
    with np.errstate(all="ignore"):
        ref = _reference(name)(Z_np.astype(np.float64))
    representable = np.abs(ref) <= np.finfo(dtype).max

    Z, ones = _on(lib, Z_np), _on(lib, np.ones_like(Z_np))
    with _Strict(lib):
        A = act.forward(_on(lib, Z_np))
        A_buf = act.forward(Z, out=_on(lib, np.empty_like(Z_np)))
        dZ = act.backward(ones, Z, A)
        dZ_recomputed = act.backward(ones, Z)
        derivatives = []
        if name in ELEMENTWISE:
            derivatives = [act.derivative(Z, A), act.derivative(Z)]

    results = [A, A_buf, dZ, dZ_recomputed, *derivatives]
    A, A_buf, dZ, dZ_recomputed, *derivatives = [lib.back(r) for r in results]
    for out in (A, A_buf, dZ, dZ_recomputed, *derivatives):
        assert out.dtype == dtype
        assert not np.isnan(out).any()
        assert np.isfinite(out[representable]).all()
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    atol = 10 * np.finfo(dtype).tiny
    np.testing.assert_allclose(A[representable], ref[representable], rtol, atol)
    np.testing.assert_array_equal(A, A_buf)


# ---------------------------------------------------------------------------
# Properties for arbitrary finite floats
# ---------------------------------------------------------------------------


def _finite_arrays(dtype):
    width = 32 if dtype == np.float32 else 64
    elements = st.floats(allow_nan=False, allow_infinity=False, width=width)
    shapes = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6)
    return hnp.arrays(dtype, shapes, elements=elements)


_F64_MAX = np.finfo(np.float64).max
_F32_MAX = float(np.finfo(np.float32).max)


@settings(max_examples=60, deadline=None)
@given(Z=st.one_of(_finite_arrays(np.float32), _finite_arrays(np.float64)))
@example(Z=np.array([[_F64_MAX, -_F64_MAX]]))
@example(Z=np.array([[_F32_MAX, 0.0, -_F32_MAX]], dtype=np.float32))
def test_softmax_rows_sum_to_one_for_any_finite_input(Z):
    with _Strict():
        A = ACTIVATIONS["softmax"]().forward(Z.copy())
    assert A.dtype == Z.dtype
    assert np.all((A >= 0) & (A <= 1))
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=10 * np.finfo(Z.dtype).eps)
    # The largest entry of each row gets the largest probability.
    rows = np.arange(Z.shape[0])
    assert np.all(A[rows, Z.argmax(axis=1)] == A.max(axis=1))


@settings(max_examples=60, deadline=None)
@given(Z=st.one_of(_finite_arrays(np.float32), _finite_arrays(np.float64)))
@example(Z=np.array([[_F64_MAX, -_F64_MAX, 0.0]]))
def test_logistic_in_unit_interval_for_any_finite_input(Z):
    act = ACTIVATIONS["logistic"]()
    with _Strict():
        A = act.forward(Z.copy())
        D = act.derivative(Z, A)
    assert A.dtype == Z.dtype
    assert np.all((A >= 0) & (A <= 1))
    assert np.all((D >= 0) & (D <= 0.25))
    # Symmetry sigma(-z) = 1 - sigma(z), up to rounding.
    with _Strict():
        A_neg = act.forward(-Z)
    np.testing.assert_allclose(A + A_neg, 1.0, rtol=0, atol=4 * np.finfo(Z.dtype).eps)
    # Monotone: order of Z is the order of A (ties allowed by rounding).
    flat_z, flat_a = Z.ravel(), A.ravel()
    order = np.argsort(flat_z, kind="stable")
    assert np.all(np.diff(flat_a[order]) >= 0)


# ---------------------------------------------------------------------------
# The stable helpers shared with the losses
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_matches_formula_and_never_overflows(dtype, lib):
    Z = _on(lib, _huge_grid().astype(dtype))
    with _Strict(lib):
        A = softplus(Z)
    _assert_in_library(A, Z)
    A = lib.back(A)
    assert A.dtype == dtype
    assert np.isfinite(A).all()  # log(1 + e^z) <= max(z, 0) + log 2
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    atol = 10 * np.finfo(dtype).tiny
    expected = np.logaddexp(0.0, _huge_grid().astype(dtype).astype(np.float64))
    np.testing.assert_allclose(A, expected, rtol=rtol, atol=atol)
    # Large z: log(1 + e^z) = z to rounding; very negative z: e^z.
    z = np.array([[800.0, 1e30, -800.0, -40.0]], dtype)
    with _Strict(lib):
        a = lib.back(softplus(_on(lib, z)))
    np.testing.assert_array_equal(a[0, :2], z[0, :2])
    np.testing.assert_allclose(a[0, 2:], np.exp(z[0, 2:].astype(np.float64)), rtol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_is_the_activation_and_the_loss_formula_bit_for_bit(dtype):
    # One implementation: the activation is it, and it gives exactly what the
    # binary log-loss computed before it moved here (out= changes nothing).
    Z = _huge_grid().astype(dtype)
    before = np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z)))
    np.testing.assert_array_equal(softplus(Z), before)
    np.testing.assert_array_equal(ACTIVATIONS["softplus"]().forward(Z), before)
    in_place = Z.copy()
    assert softplus(in_place, out=in_place) is in_place
    np.testing.assert_array_equal(in_place, before)


def _far_apart_rows(dtype):
    # The second row lies ~2000 below the first: shifted by the batch maximum
    # its exponentials all underflow, so the shift must fall back to per row.
    return np.array([[0.0, 1.0, 2.0], [-2000.0, -1999.0, -1998.0]], dtype)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_shifted_exp_shift_and_fallback(dtype, lib):
    rng = np.random.RandomState(0)
    Z = _on(lib, rng.normal(scale=3.0, size=(5, 4)).astype(dtype))
    xp = get_namespace(Z)
    E, sums, shift = max_shifted_exp(Z)
    _assert_in_library(E, Z)
    _assert_in_library(sums, Z)
    if lib.name == "numpy":
        # one shift for the batch
        assert float(shift) == float(xp.max(Z)) and np.ndim(lib.back(shift)) == 0
        np.testing.assert_array_equal(lib.back(E), lib.back(xp.exp(Z - xp.max(Z))))
    else:
        # each row's own, always: choosing would make the host wait for the data
        np.testing.assert_array_equal(lib.back(shift), lib.back(xp.max(Z, axis=1)))
        expected = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
        np.testing.assert_array_equal(lib.back(E), lib.back(expected))
    np.testing.assert_allclose(
        lib.back(sums), lib.back(E).sum(axis=1), rtol=10 * np.finfo(dtype).eps
    )
    assert lib.back(E).dtype == lib.back(sums).dtype == dtype
    assert sums.shape == (5,)

    Z = _on(lib, _far_apart_rows(dtype))
    buffer = _on(lib, np.empty((2, 3), dtype))
    with _Strict(lib):
        E, sums, shift = max_shifted_exp(Z, out=buffer)
    assert E is buffer
    # each row's own
    np.testing.assert_array_equal(lib.back(shift), lib.back(xp.max(Z, axis=1)))
    expected = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
    np.testing.assert_array_equal(lib.back(E), lib.back(expected))
    assert np.all(lib.back(sums) >= 1)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_log_sum_exp_matches_formula_and_never_overflows(dtype, lib):
    rows = [Z for Z in (_huge_grid(), _far_apart_rows(np.float64))]
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for Z in rows:
        Z = Z.astype(dtype)
        with _Strict(lib):
            lse = log_sum_exp(_on(lib, Z))
        _assert_in_library(lse, _on(lib, Z))
        lse = lib.back(lse)
        assert lse.dtype == dtype and lse.shape == (Z.shape[0],)
        assert np.isfinite(lse).all()
        expected = scipy.special.logsumexp(Z.astype(np.float64), axis=1)
        np.testing.assert_allclose(lse, expected, rtol=rtol)
    # Huge logits of both signs: still finite, the largest one wins.
    Z = np.array([[_F64_MAX, -_F64_MAX, 0.0], [1e300, 1e300, -1e300]])
    with _Strict(lib):
        lse = lib.back(log_sum_exp(_on(lib, Z)))
    np.testing.assert_allclose(lse, [_F64_MAX, 1e300], rtol=1e-15)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_max_shifted_exp_over_its_sums(dtype, lib):
    # The same shift (and fallback) as log_sum_exp: rows far below the batch
    # maximum get their own softmax, not an underflow.
    for Z in (_huge_grid().astype(dtype), _far_apart_rows(dtype)):
        with _Strict(lib):
            A = ACTIVATIONS["softmax"]().forward(_on(lib, Z))
            E, sums, _ = max_shifted_exp(_on(lib, Z))
        np.testing.assert_array_equal(lib.back(A), lib.back(E / sums[:, None]))
    A = lib.back(ACTIVATIONS["softmax"]().forward(_on(lib, _far_apart_rows(dtype))))
    np.testing.assert_allclose(A[1], A[0], rtol=10 * np.finfo(dtype).eps)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_in_place_on_rows_far_apart(dtype, lib):
    # In place (as prediction computes it), Z is gone once the exponentials
    # overwrite it: each row must still get its own softmax, not 1/K.
    Z = _on(lib, _far_apart_rows(dtype))
    softmax = ACTIVATIONS["softmax"]()
    expected = lib.back(softmax.forward(_on(lib, _far_apart_rows(dtype))))
    with _Strict(lib):
        A = softmax.forward(Z, out=Z)
    assert A is Z
    A = lib.back(A)
    np.testing.assert_allclose(A, expected, rtol=10 * np.finfo(dtype).eps)
    np.testing.assert_allclose(A[1], A[0], rtol=10 * np.finfo(dtype).eps)


# ---------------------------------------------------------------------------
# Aliases: the seed tutorials' names
# ---------------------------------------------------------------------------


def test_sigmoid_is_another_name_for_logistic():
    # The seed tutorials say "sigmoid"; the registry keeps scikit-learn's name.
    act = get_activation("sigmoid")
    assert type(act) is Logistic
    assert act.name == "logistic"
    assert act == get_activation("logistic")
    assert "sigmoid" not in ACTIVATIONS and "sigmoid" not in HIDDEN_ACTIVATIONS


@pytest.mark.parametrize("name", ALL)
def test_every_alias_names_its_class_and_no_other(name):
    cls = ACTIVATIONS[name]
    for alias in cls.aliases:
        assert alias not in ACTIVATIONS, f"alias {alias!r} shadows a registry name"
        assert type(get_activation(alias)) is cls


def test_unknown_activation_lists_every_accepted_name():
    with pytest.raises(ValueError) as error:
        get_activation("sigmoidd")
    message = str(error.value)
    assert "'sigmoidd'" in message
    for name in [*ALL, "sigmoid"]:
        assert f"'{name}'" in message
