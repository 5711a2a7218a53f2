"""Numerical extremes: finite outputs or a clear error, never NaN (issue 7).

Huge and tiny feature scales in float32 and float64, huge logits and
saturated activations: predictions are finite, probabilities lie in [0, 1]
and sum to one. A fit that diverges raises the non-finite-weights
ValueError instead of returning NaN weights; an input so large that the
fitted network overflows raises a ValueError saying so. Every call runs
under ``np.errstate(over/invalid/divide="raise")``: no numpy warning or
FloatingPointError either.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier, BPRegressor
from skbp.core import HIDDEN_ACTIVATIONS, LOSSES, get_activation, get_loss

NON_FINITE = "Solver produced non-finite parameter weights"
OVERFLOW = "not finite"

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _strict(call):
    """``call()`` under strict numerics; ValueError is returned, not raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            try:
                return call()
            except ValueError as exc:
                return exc


def _assert_valid_proba(proba, n_rows):
    assert proba.shape[0] == n_rows
    assert np.isfinite(proba).all(), proba
    assert ((proba >= 0) & (proba <= 1)).all(), proba
    tol = 1e-5 if proba.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=0, atol=tol)


def _data(dtype, n_classes=3, n=30, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4).astype(dtype)
    y = np.arange(n) % n_classes
    return X, y


# ---------------------------------------------------------------------------
# Fitting at extreme feature scales
# ---------------------------------------------------------------------------
@SETTINGS
@given(
    activation=st.sampled_from(HIDDEN_ACTIVATIONS),
    dtype=st.sampled_from([np.float32, np.float64]),
    exponent=st.sampled_from([-300, -30, -10, 10, 30, 300]),
    solver=st.sampled_from(["adam", "sgd", "lbfgs"]),
    n_classes=st.sampled_from([2, 3]),
)
def test_fit_at_extreme_scales_is_finite_or_a_clear_error(
    activation, dtype, exponent, solver, n_classes
):
    X, y = _data(np.float64, n_classes)
    with np.errstate(over="ignore", under="ignore"):
        X = (X * 10.0**exponent).astype(dtype)  # 1e300 overflows float32: inf
    est = BPClassifier(
        hidden_layer_sizes=(5,),
        activation=activation,
        solver=solver,
        max_iter=5,
        random_state=0,
    )
    result = _strict(lambda: est.fit(X, y))
    if isinstance(result, ValueError):
        assert NON_FINITE in str(result) or "infinity" in str(result), result
        return
    for array in (*est.coefs_, *est.intercepts_):
        assert array.dtype == dtype and np.isfinite(array).all()
    proba = _strict(lambda: est.predict_proba(X))
    if isinstance(proba, ValueError):
        assert OVERFLOW in str(proba)
    else:
        _assert_valid_proba(proba, len(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [-30, 30])
def test_regressor_at_extreme_scales(dtype, exponent):
    X, _ = _data(np.float64)
    y = X[:, 0] * 10.0**exponent
    X = (X * 10.0**exponent).astype(dtype)
    est = BPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    result = _strict(lambda: est.fit(X, y.astype(dtype)))
    if isinstance(result, ValueError):
        assert NON_FINITE in str(result)
        return
    pred = _strict(lambda: est.predict(X))
    assert not isinstance(pred, ValueError) and np.isfinite(pred).all()


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_diverging_fit_raises_the_clear_error(solver):
    # Inputs near the largest float make the stochastic solvers overflow:
    # the fit reports it with the one clear message, not NaN weights or numpy
    # warnings.
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    est = BPRegressor(solver=solver, random_state=0, max_iter=20)
    result = _strict(lambda: est.fit(X, rng.randn(10)))
    assert isinstance(result, ValueError) and NON_FINITE in str(result)
    assert not hasattr(est, "coefs_")  # no NaN weights left behind


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_near_overflow_inputs_fit_finite_or_fail_clearly(solver, cls):
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.randint(0, 2, 10) if cls is BPClassifier else rng.randn(10)
    est = cls(solver=solver, random_state=0, max_iter=20)
    result = _strict(lambda: est.fit(X, y))
    if isinstance(result, ValueError):
        assert NON_FINITE in str(result)
        assert not hasattr(est, "coefs_")
        return
    assert all(np.isfinite(W).all() for W in (*est.coefs_, *est.intercepts_))
    pred = _strict(lambda: est.predict(X))
    assert isinstance(pred, ValueError) or np.isfinite(np.asarray(pred, float)).all()


@pytest.mark.parametrize("learning_rate_init", [1e10, 1e300])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_huge_learning_rate_diverges_clearly(learning_rate_init, solver):
    X, _ = _data(np.float64)
    est = BPRegressor(
        solver=solver,
        learning_rate_init=learning_rate_init,
        max_iter=50,
        random_state=0,
    )
    result = _strict(lambda: est.fit(X * 100, X[:, 0] * 1e6))
    if isinstance(result, ValueError):
        assert NON_FINITE in str(result)
    else:  # adam's steps are bounded by the rate: huge but finite is fine
        assert all(np.isfinite(W).all() for W in est.coefs_)


def test_invscaling_with_huge_power_t_stops_learning():
    # (t + 1) ** power_t overflows: the learning rate is 0, not an error.
    X, y = _data(np.float64)
    est = BPClassifier(
        solver="sgd",
        learning_rate="invscaling",
        power_t=1e300,
        max_iter=3,
        random_state=0,
    )
    result = _strict(lambda: est.fit(X, y))
    assert not isinstance(result, ValueError), result
    assert est._optimizer.learning_rate == 0.0


# ---------------------------------------------------------------------------
# Predicting on extreme inputs, huge logits, saturated activations
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["f32", "f64"])
def classifiers(request):
    dtype = request.param
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for activation in HIDDEN_ACTIVATIONS:
            for n_classes in (2, 3):
                X, y = _data(dtype, n_classes)
                models[activation, n_classes] = BPClassifier(
                    hidden_layer_sizes=(6,),
                    activation=activation,
                    max_iter=20,
                    random_state=0,
                ).fit(X, y)
    return dtype, models


@pytest.mark.parametrize("scale", [1e-38, 1e-10, 1e10, 1e30, "max"])
def test_predict_proba_at_extreme_inputs(classifiers, scale):
    dtype, models = classifiers
    X, _ = _data(dtype)
    top = float(np.finfo(dtype).max) / 8
    factor = top if scale == "max" else min(scale, top)
    with np.errstate(under="ignore"):
        X = (X.astype(np.float64) * factor).astype(dtype)
    for (activation, _), est in models.items():
        proba = _strict(lambda est=est: est.predict_proba(X))
        if isinstance(proba, ValueError):
            # Only unbounded units can overflow, and only into a clear error.
            assert activation not in ("tanh", "logistic"), proba
            assert OVERFLOW in str(proba)
            continue
        _assert_valid_proba(proba, len(X))
        labels = _strict(lambda est=est: est.predict(X))
        assert set(labels) <= set(est.classes_)
        log_proba = _strict(lambda est=est: est.predict_log_proba(X))
        assert not np.isnan(log_proba).any()


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_give_certain_finite_probabilities(n_classes, dtype):
    X, y = _data(dtype, n_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
        est.fit(X, y)
    huge = np.finfo(dtype).max / 4
    # The output layer ignores the hidden units; class 1 gets a huge logit,
    # the others a huge negative one (near the end of the dtype's range).
    est.coefs_[-1] = np.zeros_like(est.coefs_[-1])
    b = np.full(est.intercepts_[-1].shape, -huge, dtype=dtype)
    b[min(1, b.size - 1)] = huge
    est.intercepts_[-1] = b
    proba = _strict(lambda: est.predict_proba(X))
    _assert_valid_proba(proba, len(X))
    np.testing.assert_array_equal(proba.argmax(axis=1), 1)
    np.testing.assert_array_equal(proba[:, 1], 1.0)
    assert (est.predict(X) == est.classes_[1]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_whose_logits_are_far_apart_get_their_own_probabilities(dtype):
    # One batch, logits thousands apart between rows (not within a row): each
    # row's probabilities are those it gets alone, never a uniform 1/K.
    X, y = _data(dtype, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BPClassifier(hidden_layer_sizes=(), max_iter=5, random_state=0)
        est.fit(X, y)
    # Logits x_0 + [0, 1, 2]: both rows below have the softmax of [0, 1, 2].
    est.coefs_[0] = np.zeros((X.shape[1], 3), dtype=dtype)
    est.coefs_[0][0] = 1.0
    est.intercepts_[0] = np.array([0.0, 1.0, 2.0], dtype=dtype)
    rows = np.zeros((2, X.shape[1]), dtype=dtype)
    rows[1, 0] = -1000.0 if dtype == np.float32 else -3000.0
    proba = _strict(lambda: est.predict_proba(rows))
    expected = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    np.testing.assert_allclose(proba, [expected, expected], rtol=1e-5)


@pytest.mark.parametrize("activation", ["tanh", "logistic", "relu", "silu", "gelu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_hidden_units(activation, dtype):
    X, y = _data(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BPClassifier(
            hidden_layer_sizes=(4,), activation=activation, max_iter=5, random_state=0
        ).fit(X, y)
    # Hidden pre-activations of +-1e30 (float32: 1e30 < 3.4e38).
    est.coefs_[0] = (np.sign(est.coefs_[0]) * 1e30).astype(dtype)
    est.coefs_[-1] = (est.coefs_[-1] * 1e-30).astype(dtype)
    proba = _strict(lambda: est.predict_proba(X))
    if isinstance(proba, ValueError):
        assert activation not in ("tanh", "logistic") and OVERFLOW in str(proba)
    else:
        _assert_valid_proba(proba, len(X))


def test_poisson_overflow_is_a_clear_error():
    X, _ = _data(np.float32)
    est = BPRegressor(loss="poisson", hidden_layer_sizes=(4,), max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, np.abs(X[:, 0]))
    est.intercepts_[-1] = np.full_like(est.intercepts_[-1], 1e3)  # exp(1000)
    result = _strict(lambda: est.predict(X))
    assert isinstance(result, ValueError) and OVERFLOW in str(result)


# ---------------------------------------------------------------------------
# The core at the ends of the float range
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_stay_finite_at_the_ends_of_the_range(name, dtype):
    top = np.finfo(dtype).max
    Z = np.array([[-top, -1e30, -50, -1e-30, 0, 1e-30, 50, 1e30, top]])
    Z = Z.astype(dtype) if dtype == np.float64 else np.clip(Z, -top, top).astype(dtype)
    activation = get_activation(name)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        A = activation.forward(Z.copy())
        dA = activation.derivative(Z.copy(), A)
    assert A.dtype == dtype and dA.dtype == dtype
    assert np.isfinite(A).all(), A
    assert np.isfinite(dA).all(), dA


@pytest.mark.parametrize("name", ["binary_log_loss", "log_loss"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_losses_of_huge_logits_are_finite(name, dtype):
    if name not in LOSSES:
        pytest.skip(f"no loss named {name}")
    loss = get_loss(name)
    huge = np.finfo(dtype).max / 4
    n_out = 1 if name == "binary_log_loss" else 3
    Z = np.full((2, n_out), -huge, dtype=dtype)
    Z[0, 0] = huge  # row 0: certain and right
    if n_out > 1:
        Z[1, 1] = huge  # row 1: certain and wrong
    Y = np.zeros((2, n_out), dtype=dtype)
    Y[:, 0] = 1
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        A = loss.output_activation.forward(Z.copy())
        per_sample = loss.per_sample(Y, Z, A)
    assert np.isfinite(A).all() and np.isfinite(per_sample).all()
    assert per_sample[0] == 0
    assert per_sample[1] >= huge
