"""skbp.core.losses: values, gradients, sample weights, stability.

Parametrized over the registry (``LOSSES``), so a loss added later is covered
automatically; targets are drawn according to the loss's output activation.
Most tests also run over the array libraries of ``NAMESPACES`` (numpy,
array-api-strict, PyTorch CPU): the problems are drawn in numpy, moved to the
library, and the results must come back in it, equal to numpy's.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.special
from namespaces import NAMESPACES
from sklearn.metrics import (
    log_loss,
    mean_absolute_error,
    mean_pinball_loss,
    mean_poisson_deviance,
    mean_squared_error,
)

from skbp.core.activations import (
    ACTIVATIONS,
    Activation,
    Exp,
    Identity,
    Logistic,
    Softmax,
)
from skbp.core.losses import LOSSES, REGRESSION_LOSSES, Loss, get_loss

ALL = sorted(LOSSES)
DTYPES = [np.float32, np.float64]


def _n_outputs(name, loss):
    if name == "binary_log_loss":
        return 1
    return 3 if isinstance(loss.output_activation, Softmax) else 2


def make_targets(name, m, rng, n_outputs=None):
    """Targets valid for the loss: one-hot, 0/1, counts or reals."""
    loss = get_loss(name)
    k = _n_outputs(name, loss) if n_outputs is None else n_outputs
    g = loss.output_activation
    if isinstance(g, Softmax):
        return np.eye(k)[rng.randint(k, size=m)]
    if isinstance(g, Logistic):
        return rng.randint(2, size=(m, k)).astype(np.float64)
    if isinstance(g, Exp):
        return rng.poisson(1.5, size=(m, k)).astype(np.float64)
    return rng.normal(size=(m, k))


def _make_problem(name, m=7, seed=0, scale=1.5):
    rng = np.random.RandomState(seed)
    Y = make_targets(name, m, rng)
    Z = rng.normal(scale=scale, size=Y.shape)
    loss = get_loss(name)
    A = loss.output_activation.forward(Z.copy())
    return loss, Y, Z, A


def _weights(m, seed=1):
    return np.random.RandomState(seed).uniform(0.2, 3.0, size=m)


def _lib_dtype(lib, dtype):
    """``dtype`` as the library ``lib`` spells it."""
    return lib.to(np.zeros(0, dtype)).dtype


def _to(lib, *arrays):
    """The numpy ``arrays`` moved to ``lib`` (None stays None)."""
    return [None if a is None else lib.to(a) for a in arrays]


def _softplus(z):
    return np.logaddexp(0.0, z)


def _huber(r, delta=1.0):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


#: Independent per-row formulas, float64, written from the pre-activation Z.
REFERENCE = {
    "squared_error": lambda Y, Z: 0.5 * np.sum((Z - Y) ** 2, axis=1),
    "poisson": lambda Y, Z: np.sum(
        scipy.special.xlogy(Y, Y) - Y - Y * Z + np.exp(Z), axis=1
    ),
    "log_loss": lambda Y, Z: -np.sum(Y * scipy.special.log_softmax(Z, axis=1), axis=1),
    "binary_log_loss": lambda Y, Z: np.sum(_softplus(Z) - Y * Z, axis=1),
    "multilabel_log_loss": lambda Y, Z: (
        -np.sum(
            Y * scipy.special.log_expit(Z) + (1 - Y) * scipy.special.log_expit(-Z),
            axis=1,
        )
    ),
    "huber": lambda Y, Z: np.sum(_huber(Z - Y), axis=1),
    "absolute_error": lambda Y, Z: np.sum(np.abs(Z - Y), axis=1),
    # get_loss("quantile") is the median's: tau = 0.5.
    "quantile": lambda Y, Z: np.sum(
        np.where(Y >= Z, 0.5 * (Y - Z), (1 - 0.5) * (Z - Y)), axis=1
    ),
}


def _reference(name):
    if name not in REFERENCE:
        pytest.fail(
            f"loss {name!r} has no reference formula in tests/core: add one to "
            "REFERENCE in test_core_losses.py"
        )
    return REFERENCE[name]


def _sklearn_value(name, Y, A, sample_weight):
    """The same mean loss from scikit-learn's metrics (documented conventions).

    skbp sums over outputs and halves squared error and the Poisson deviance;
    scikit-learn averages over outputs and uses the full deviance.
    """
    k = Y.shape[1]
    sw = sample_weight
    if name == "squared_error":
        return 0.5 * k * mean_squared_error(Y, A, sample_weight=sw)
    if name == "absolute_error":
        return k * mean_absolute_error(Y, A, sample_weight=sw)
    if name == "quantile":
        return k * mean_pinball_loss(Y, A, alpha=0.5, sample_weight=sw)
    if name == "poisson":
        return 0.5 * sum(
            mean_poisson_deviance(Y[:, j], A[:, j], sample_weight=sw) for j in range(k)
        )
    if name == "log_loss":
        labels = Y.argmax(axis=1)
        return log_loss(labels, A, labels=np.arange(k), sample_weight=sw)
    if name in ("binary_log_loss", "multilabel_log_loss"):
        return sum(
            log_loss(Y[:, j], A[:, j], labels=[0, 1], sample_weight=sw)
            for j in range(k)
        )
    raise KeyError(name)


SKLEARN_COMPARABLE = [
    name
    for name in ALL
    if name
    in (
        "squared_error",
        "absolute_error",
        "quantile",
        "poisson",
        "log_loss",
        "binary_log_loss",
        "multilabel_log_loss",
    )
]


class _Strict:
    """Warnings and floating-point errors raise (underflow to 0 is fine)."""

    def __enter__(self):
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("error")
        self._errstate = np.errstate(all="raise", under="ignore")
        self._errstate.__enter__()

    def __exit__(self, *exc):
        self._errstate.__exit__(*exc)
        self._warnings.__exit__(*exc)


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_registry_and_output_activation(name):
    loss = get_loss(name)
    assert isinstance(loss, Loss)
    assert isinstance(loss, LOSSES[name])
    assert get_loss(loss) is loss
    g = loss.output_activation
    assert isinstance(g, Activation)
    assert g.name in ACTIVATIONS


def test_regression_losses_are_the_classes_that_say_regression():
    # Read off the classes, in registry order; the log-losses are the
    # classifier's.
    assert REGRESSION_LOSSES == tuple(
        name for name, cls in LOSSES.items() if cls.regression
    )
    assert {"squared_error", "poisson", "huber", "absolute_error"} <= set(
        REGRESSION_LOSSES
    )
    assert {"log_loss", "binary_log_loss", "multilabel_log_loss"}.isdisjoint(
        REGRESSION_LOSSES
    )


@pytest.mark.parametrize("bad", ["no_such_loss", None])
def test_unknown_loss_raises(bad):
    with pytest.raises(ValueError, match="Unknown loss"):
        get_loss(bad)


@pytest.mark.parametrize("name", ALL)
def test_equality_and_pickle(name):
    loss = get_loss(name)
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss and hash(clone) == hash(loss)
    assert repr(clone) == repr(loss)


def test_canonical_pairings():
    expected = {
        "squared_error": Identity,
        "poisson": Exp,
        "log_loss": Softmax,
        "binary_log_loss": Logistic,
        "multilabel_log_loss": Logistic,
    }
    for name, activation in expected.items():
        assert type(get_loss(name).output_activation) is activation


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("weighted", [False, True])
def test_value_matches_reference_formula(name, weighted, lib):
    loss, Y, Z, A = _make_problem(name)
    per_row = _reference(name)(Y, Z)
    sw = _weights(len(Y)) if weighted else None
    expected = np.average(per_row, weights=sw)
    Y, Z, A, sw = _to(lib, Y, Z, A, sw)
    value = lib.scalar(loss.value(Y, Z, A, sample_weight=sw))
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    per_sample = loss.per_sample(Y, Z, A)
    assert type(per_sample) is type(A)
    np.testing.assert_allclose(lib.back(per_sample), per_row, rtol=1e-12)


@pytest.mark.parametrize("name", SKLEARN_COMPARABLE)
@pytest.mark.parametrize("weighted", [False, True])
def test_value_matches_sklearn_metrics(name, weighted):
    loss, Y, Z, A = _make_problem(name, m=11, seed=3)
    sw = _weights(len(Y), seed=4) if weighted else None
    expected = _sklearn_value(name, Y, A, sw)
    np.testing.assert_allclose(loss.value(Y, Z, A, sw), expected, rtol=1e-10)


def test_huber_delta():
    loss = get_loss("huber", delta=0.3)
    assert loss == get_loss("huber", delta=0.3) and loss != get_loss("huber")
    Y = np.array([[0.0, 0.0, 0.0, 1.0]])
    Z = np.array([[0.1, -0.2, 2.0, -1.0]])
    # 0.5 r^2 inside delta, delta * (|r| - delta / 2) outside.
    expected = 0.5 * 0.01 + 0.5 * 0.04 + 0.3 * (2.0 - 0.15) + 0.3 * (2.0 - 0.15)
    np.testing.assert_allclose(loss.value(Y, Z, Z), expected, rtol=1e-14)
    np.testing.assert_allclose(loss.gradient(Y, Z, Z), [[0.1, -0.2, 0.3, -0.3]])


# ---------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(name, weighted):
    """Mean over rows of ``gradient`` is dJ/dZ: gradient / m = FD of value."""
    loss, Y, Z, A = _make_problem(name, m=5, seed=5)
    sw = _weights(len(Y), seed=6) if weighted else None
    g = loss.output_activation

    def J(Z):
        return loss.value(Y, Z, g.forward(Z.copy()), sample_weight=sw)

    h = 1e-6
    numerical = np.empty_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += h
        Zm[idx] -= h
        numerical[idx] = (J(Zp) - J(Zm)) / (2 * h)
    analytic = loss.gradient(Y, Z, A, sample_weight=sw) / len(Y)
    np.testing.assert_allclose(analytic, numerical, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_out_buffer_and_dtype(name, dtype, lib):
    # The weights stay float64 whatever the dtype: the gradient keeps A's.
    loss, Y, Z, A = _make_problem(name)
    sw = _weights(len(Y))
    Y, Z, A = _to(lib, Y.astype(dtype), Z.astype(dtype), A.astype(dtype))
    sw, buf = _to(lib, sw, np.full(A.shape, np.nan, dtype))
    dtype = _lib_dtype(lib, dtype)
    expected = loss.gradient(Y, Z, A, sample_weight=sw)
    assert type(expected) is type(A)
    assert expected.dtype == dtype
    assert loss.gradient(Y, Z, A).dtype == dtype
    result = loss.gradient(Y, Z, A, sample_weight=sw, out=buf)
    assert result is buf
    np.testing.assert_array_equal(lib.back(buf), lib.back(expected))
    assert loss.per_sample(Y, Z, A).dtype == dtype
    lib.scalar(loss.value(Y, Z, A))
    lib.scalar(loss.value(Y, Z, A, sample_weight=sw))


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_in_every_library_equal_numpy(name, weighted, lib):
    loss, Y, Z, A = _make_problem(name, m=9, seed=11)
    sw = _weights(len(Y), seed=12) if weighted else None
    per_sample = loss.per_sample_gradient(Y, Z, A)
    expected = loss.gradient(Y, Z, A, sample_weight=sw)
    Y, Z, A, sw = _to(lib, Y, Z, A, sw)
    for ours, numpys in (
        (loss.per_sample_gradient(Y, Z, A), per_sample),
        (loss.gradient(Y, Z, A, sample_weight=sw), expected),
    ):
        assert type(ours) is type(A) and ours.dtype == A.dtype
        np.testing.assert_allclose(lib.back(ours), numpys, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_values_in_every_library_equal_numpy(name, dtype, lib):
    loss, Y, Z, A = _make_problem(name, m=9, seed=13)
    Y, Z, A = Y.astype(dtype), Z.astype(dtype), A.astype(dtype)
    sw = _weights(len(Y), seed=14)  # float64: a float32 loss meets it
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    expected = loss.per_sample(Y, Z, A)
    values = [loss.value(Y, Z, A), loss.value(Y, Z, A, sample_weight=sw)]
    Y, Z, A, sw = _to(lib, Y, Z, A, sw)
    per_sample = loss.per_sample(Y, Z, A)
    assert type(per_sample) is type(A) and per_sample.dtype == A.dtype
    np.testing.assert_allclose(lib.back(per_sample), expected, rtol=rtol)
    ours = [loss.value(Y, Z, A), loss.value(Y, Z, A, sample_weight=sw)]
    ours = [lib.scalar(v) for v in ours]
    np.testing.assert_allclose(ours, values, rtol=rtol)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
def test_gradient_does_not_modify_inputs(name, lib):
    loss, Y, Z, A = _make_problem(name)
    copies = [a.copy() for a in (Y, Z, A)]
    sw = lib.to(_weights(len(Y)))
    Y, Z, A = _to(lib, Y, Z, A)
    loss.gradient(Y, Z, A, sample_weight=sw)
    loss.value(Y, Z, A, sample_weight=sw)
    for before, after in zip(copies, (Y, Z, A)):
        np.testing.assert_array_equal(before, lib.back(after))


# ---------------------------------------------------------------------------
# Sample weights
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
def test_weight_two_equals_duplicated_row(name, lib):
    loss, Y, Z, A = _make_problem(name, m=6, seed=7)
    sw = np.ones(len(Y))
    sw[[1, 4]] = 2.0
    dup = np.r_[np.arange(len(Y)), [1, 4]]
    Yd, Zd, Ad = _to(lib, Y[dup], Z[dup], A[dup])
    Y, Z, A, sw = _to(lib, Y, Z, A, sw)
    np.testing.assert_allclose(loss.value(Y, Z, A, sw), loss.value(Yd, Zd, Ad))

    # dJ/dZ_i = gradient_i / m: a weight-2 row carries the gradient of both copies.
    g_w = lib.back(loss.gradient(Y, Z, A, sw)) / Y.shape[0]
    g_d = lib.back(loss.gradient(Yd, Zd, Ad)) / Yd.shape[0]
    expected = g_d[: Y.shape[0]].copy()
    expected[[1, 4]] += g_d[Y.shape[0] :]
    np.testing.assert_allclose(g_w, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
def test_zero_weight_equals_dropped_row(name, lib):
    loss, Y, Z, A = _make_problem(name, m=6, seed=8)
    sw = np.ones(len(Y))
    sw[[0, 3]] = 0.0
    keep = sw > 0
    Yk, Zk, Ak = _to(lib, Y[keep], Z[keep], A[keep])
    Y, Z, A, sw = _to(lib, Y, Z, A, sw)
    np.testing.assert_allclose(loss.value(Y, Z, A, sw), loss.value(Yk, Zk, Ak))
    g_w = lib.back(loss.gradient(Y, Z, A, sw)) / Y.shape[0]
    g_k = lib.back(loss.gradient(Yk, Zk, Ak)) / keep.sum()
    np.testing.assert_array_equal(g_w[~keep], 0.0)
    np.testing.assert_allclose(g_w[keep], g_k, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
def test_uniform_weights_change_nothing(name, lib):
    loss, Y, Z, A = _make_problem(name, seed=9)
    Y, Z, A, sw = _to(lib, Y, Z, A, np.full(len(Y), 3.7))
    np.testing.assert_allclose(loss.value(Y, Z, A, sw), loss.value(Y, Z, A))
    np.testing.assert_allclose(
        lib.back(loss.gradient(Y, Z, A, sw)), lib.back(loss.gradient(Y, Z, A))
    )


# ---------------------------------------------------------------------------
# Stability at huge logits
# ---------------------------------------------------------------------------

HUGE = np.array([-1e4, -1e3, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e3, 1e4])


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", DTYPES)
def test_stable_at_huge_logits(name, dtype, lib):
    """Finite loss wherever the true loss fits the dtype, and no warnings."""
    loss = get_loss(name)
    rng = np.random.RandomState(10)
    m = 2 * len(HUGE)
    Y = make_targets(name, m, rng)
    k = Y.shape[1]
    idx = (np.arange(m)[:, None] + 4 * np.arange(k)[None, :]) % len(HUGE)
    Z64 = HUGE[idx]
    Z, Yd = Z64.astype(dtype), Y.astype(dtype)
    with np.errstate(all="ignore"):
        ref = _reference(name)(Y, Z64)
    representable = np.abs(ref) <= np.finfo(dtype).max

    with _Strict():
        A = loss.output_activation.forward(Z.copy())
    rows = [a[representable] for a in (Yd, Z, A)]
    Yd, Z, A, sw = _to(lib, Yd, Z, A, _weights(m))
    with _Strict():
        per_row = loss.per_sample(Yd, Z, A)
        grad = loss.gradient(Yd, Z, A, sample_weight=sw)
        value_rep = loss.value(*_to(lib, *rows))

    assert per_row.dtype == grad.dtype == _lib_dtype(lib, dtype)
    per_row, grad = lib.back(per_row), lib.back(grad)
    assert not np.isnan(per_row).any() and not np.isnan(grad).any()
    assert np.isfinite(per_row[representable]).all()
    assert np.isfinite(grad[representable]).all()
    assert np.isfinite(lib.scalar(value_rep))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(
        per_row[representable], ref[representable], rtol=rtol, atol=1e-6
    )
    # Only an exp-output loss may overflow at all in this range.
    if not isinstance(loss.output_activation, Exp):
        assert representable.all()
