"""Numerical extremes: finite outputs or a clear error, never NaN (issue 7).

Huge and tiny feature scales in float32 and float64, huge logits and
saturated activations: predictions are finite, probabilities lie in [0, 1]
and sum to one. Data that overflow at the starting weights fail the fit at
once, with every solver, with the one not-finite-loss ValueError; a fit
that diverges later raises the non-finite-weights ValueError instead of
returning NaN weights; an input so large that the fitted network
overflows raises a ValueError saying so. Every call runs under
``np.errstate(over/invalid/divide="raise")``: no numpy warning or
FloatingPointError either.
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import skbp._data.memory
import skbp._engine.solvers
from skbp import BPClassifier, BPRegressor
from skbp.core import HIDDEN_ACTIVATIONS, LOSSES, get_activation, get_loss

NON_FINITE = "Solver produced non-finite parameter weights"
OVERFLOW = "not finite"
# The error of a training loss that is not finite (data that overflow).
LOSS = r"The training loss is not finite \((nan|inf)\)"
BAD_DATA = LOSS + r" at the starting weights: X or y holds values too large"
CLEAR_ERRORS = f"{NON_FINITE}|{LOSS}"

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
        assert re.match(f"{CLEAR_ERRORS}|.*infinity", str(result)), result
        return
    assert np.isfinite(est.loss_)
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
        assert re.match(CLEAR_ERRORS, str(result)), result
        return
    pred = _strict(lambda: est.predict(X))
    assert not isinstance(pred, ValueError) and np.isfinite(pred).all()


def _count_backprop(monkeypatch):
    """Count the fit's backprop calls (batches, L-BFGS evaluations)."""
    original = skbp._data.memory.backprop
    calls = []

    def backprop(*args, **kwargs):
        calls.append(None)
        return original(*args, **kwargs)

    # The stochastic solvers call it from the training step, L-BFGS from _base.
    monkeypatch.setattr(skbp._data.memory, "backprop", backprop)
    return calls


def _overflowing(cls, where, dtype=np.float64):
    """Data whose loss overflows at the starting weights: ``X`` near the
    dtype's largest float, so that the first layer's products overflow
    (20 features: every row has hidden units past it), or ``y`` there."""
    rng = np.random.RandomState(0)
    X = rng.randn(20, 20).astype(dtype)
    y = np.arange(20) % 2 if cls is BPClassifier else rng.randn(20).astype(dtype)
    top = np.finfo(dtype).max
    if where == "X":
        X = (top * rng.uniform(0.5, 1, size=X.shape)).astype(dtype)
    else:
        y = np.full(20, top / 2, dtype=dtype)  # 1e308: its square overflows
    return X, y


OVERFLOWING = [
    (cls, where, dtype)
    for cls in (BPClassifier, BPRegressor)
    for where in ("X", "y")
    for dtype in (np.float64, np.float32)
    if where == "X" or cls is BPRegressor  # class labels cannot overflow
]


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize(
    "cls, where, dtype",
    OVERFLOWING,
    ids=[f"{c.__name__}-{w}-{np.dtype(d)}" for c, w, d in OVERFLOWING],
)
def test_overflowing_data_fail_at_the_starting_weights(
    monkeypatch, cls, where, dtype, solver
):
    # Every solver raises the one clear error at the first loss it computes
    # (the first batch, the first L-BFGS evaluation), naming the dtype; no
    # max_iter epochs of NaN, no untrained model with loss_ = nan.
    X, y = _overflowing(cls, where, dtype)
    est = cls(solver=solver, random_state=0, max_iter=20)
    calls = _count_backprop(monkeypatch)
    result = _strict(lambda: est.fit(X, y))
    assert isinstance(result, ValueError), est.loss_
    assert re.match(BAD_DATA, str(result)), result
    assert f"too large for {np.dtype(dtype)} arithmetic" in str(result)
    assert "StandardScaler" in str(result)
    assert len(calls) == 1
    assert not [name for name in vars(est) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        est.predict(X)


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_overflowing_data_fail_partial_fit_at_once(monkeypatch, cls):
    X, y = _overflowing(cls, "X")
    kwargs = {"classes": [0, 1]} if cls is BPClassifier else {}
    est = cls(batch_size=5, random_state=0)
    calls = _count_backprop(monkeypatch)
    result = _strict(lambda: est.partial_fit(X, y, **kwargs))
    assert isinstance(result, ValueError) and re.match(BAD_DATA, str(result))
    assert len(calls) == 1  # the first of the epoch's four batches
    assert not [name for name in vars(est) if name.endswith("_")]


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_overflowing_dask_data_fail_at_the_starting_weights(cls, solver):
    # Rows in chunks (Dask's local scheduler): the same check, the same error.
    da = pytest.importorskip("dask.array")
    X, y = _overflowing(cls, "X")
    est = cls(solver=solver, batch_size=5, random_state=0)
    result = _strict(
        lambda: est.fit(da.from_array(X, chunks=(10, 20)), da.from_array(y, chunks=10))
    )
    assert isinstance(result, ValueError) and re.match(BAD_DATA, str(result)), result
    assert not [name for name in vars(est) if name.endswith("_")]


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_near_overflow_inputs_fit_finite_or_fail_clearly(solver, cls):
    # Two features near the largest float: the regressor's loss overflows at
    # the starting weights; the classifier's (a log-loss, of logits near
    # 1e307) does not, but its first step does.
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.randint(0, 2, 10) if cls is BPClassifier else rng.randn(10)
    est = cls(solver=solver, random_state=0, max_iter=20)
    result = _strict(lambda: est.fit(X, y))
    if cls is BPRegressor:
        assert isinstance(result, ValueError) and re.match(BAD_DATA, str(result))
    if solver == "lbfgs":  # never an untrained model with loss_ = nan
        assert isinstance(result, ValueError) and re.match(LOSS, str(result))
    if isinstance(result, ValueError):
        assert re.match(CLEAR_ERRORS, str(result)), result
        assert not hasattr(est, "coefs_")
        return
    assert np.isfinite(est.loss_) and np.isfinite(est.loss_curve_).all()
    assert all(np.isfinite(W).all() for W in (*est.coefs_, *est.intercepts_))
    pred = _strict(lambda: est.predict(X))
    assert isinstance(pred, ValueError) or np.isfinite(np.asarray(pred, float)).all()


def test_lbfgs_whose_every_step_overflows_fails_clearly():
    # The loss at the starting weights is finite (about 4e306), but the
    # gradient is so large that every step the line search tries overflows:
    # scipy then stops with the last trial's loss, NaN, as its result.
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    est = BPClassifier(solver="lbfgs", random_state=0, max_iter=20)
    result = _strict(lambda: est.fit(X, np.arange(10) % 2))
    assert isinstance(result, ValueError), est.loss_
    assert re.match(LOSS + " at the last point L-BFGS evaluated", str(result))
    assert not hasattr(est, "coefs_")


def test_lbfgs_raises_at_an_iterate_whose_loss_is_not_finite(monkeypatch):
    # scipy's line search accepts only points of lower loss, so this is a
    # guard: an iterate reported with a non-finite loss is an error, not a
    # point of loss_curve_.
    original = skbp._engine.solvers.minimize_lbfgs

    def minimize_lbfgs(*args, callback, **kwargs):
        iterations = []

        def corrupted(intermediate_result):
            iterations.append(None)
            if len(iterations) == 3:
                intermediate_result.fun = np.inf
            return callback(intermediate_result)

        return original(*args, callback=corrupted, **kwargs)

    monkeypatch.setattr(skbp._engine.solvers, "minimize_lbfgs", minimize_lbfgs)
    X, y = _data(np.float64)
    est = BPClassifier(solver="lbfgs", max_iter=10, random_state=0)
    result = _strict(lambda: est.fit(X, y))
    assert isinstance(result, ValueError), est.loss_curve_
    assert re.match(LOSS + " at L-BFGS iteration 3:", str(result)), result
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_diverging_fit_raises_the_clear_error(monkeypatch, solver):
    # The loss at the starting weights is finite, the first step overflows
    # the weights: the fit stops at the next epoch, whose loss is NaN, with
    # the one clear message, not after max_iter epochs of NaN (nor with NaN
    # weights or numpy warnings).
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    est = BPClassifier(solver=solver, random_state=0, max_iter=20)
    calls = _count_backprop(monkeypatch)
    result = _strict(lambda: est.fit(X, rng.randint(0, 2, 10)))
    if solver == "adam":  # steps bounded by the learning rate: no overflow
        assert not isinstance(result, ValueError), result
        assert np.isfinite(est.loss_curve_).all() and len(est.loss_curve_) == 20
        return
    assert isinstance(result, ValueError) and NON_FINITE in str(result)
    assert len(calls) == 2  # one batch per epoch
    assert not hasattr(est, "coefs_")  # no NaN weights left behind


@pytest.mark.parametrize("keep", ["early_stopping", "restore_best_weights"])
def test_diverging_fit_with_best_weights_keeps_them(keep):
    # Documented, as in scikit-learn: the best finite weights are the model.
    X, _ = _data(np.float64)
    y = X[:, 0] * 100
    est = BPRegressor(
        solver="sgd",
        learning_rate_init=10.0,
        max_iter=20,
        n_iter_no_change=20,
        random_state=0,
        **{keep: True},
    )
    result = _strict(lambda: est.fit(X * 100, y))
    assert not isinstance(result, ValueError), result
    assert not np.isfinite(est.loss_curve_[-1])  # it diverged
    assert all(np.isfinite(W).all() for W in (*est.coefs_, *est.intercepts_))


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
