"""Nothing lost, nothing random, nothing leaked (issue 7).

- A ``fit`` or ``partial_fit`` that fails (divergence, bad input found late)
  leaves the previously fitted model, or the unfitted estimator, exactly as
  it was.
- ``KeyboardInterrupt`` during a fit propagates (scripts stop), and leaves a
  consistent fitted model holding the weights of the last completed epoch,
  usable for ``predict`` and for continuing with ``warm_start`` or
  ``partial_fit``.
- The same ``random_state``, data and thread count give the same weights,
  bit for bit, across runs and across processes; 8 threads predicting at
  once get the sequential results; grid searches on the threading and loky
  backends equal ``n_jobs=1``.
- Thousands of ``partial_fit`` calls keep memory flat.
"""

import _thread
import copy
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

import skbp
import skbp._data.memory
import skbp._estimators.base
from skbp import BPClassifier, BPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NON_FINITE = "Solver produced non-finite parameter weights"
BAD_DATA = r"The training loss is not finite \((nan|inf)\) at the starting weights"


def _data(n=40, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features)
    return X, np.arange(n) % 3, X[:, 0] - 2 * X[:, 1]


def _target(est, data):
    return data[1] if isinstance(est, BPClassifier) else data[2]


def _fitted_state(est):
    """A deep copy of every attribute that is not a constructor parameter."""
    params = set(est.get_params(deep=False))
    return copy.deepcopy({k: v for k, v in vars(est).items() if k not in params})


def _assert_same(a, b, path="state"):
    """Recursive equality, bit for bit for arrays (NaN equal to NaN)."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), path
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), path
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: {sorted(a)} != {sorted(b)}"
        for key in a:
            _assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, np.random.RandomState):
        _assert_same(a.get_state(), b.get_state(), path)
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), path
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert type(a) is type(b), path
        _assert_same(vars(a), vars(b), path)
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def _same_weights(a, b):
    return all(
        np.array_equal(p, q)
        for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)
    )


ESTIMATORS = [
    BPClassifier(hidden_layer_sizes=(6,), solver="adam", max_iter=5, random_state=0),
    BPClassifier(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=5, random_state=0),
    BPRegressor(hidden_layer_sizes=(6,), solver="sgd", max_iter=5, random_state=0),
    BPRegressor(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=5, random_state=0),
]
IDS = ["clf-adam", "clf-lbfgs", "reg-sgd", "reg-lbfgs"]


# ---------------------------------------------------------------------------
# A failed fit loses nothing
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("warm_start", [True, False])
def test_diverging_fit_keeps_the_previous_model(solver, warm_start):
    data = _data()
    X, _, y = data
    est = BPRegressor(hidden_layer_sizes=(6,), solver=solver, max_iter=5)
    est.set_params(random_state=0).fit(X, y)
    before, pred = _fitted_state(est), est.predict(X)

    learning_rate_init = 1e10 if solver == "sgd" else 1e300  # adam's steps are lr
    est.set_params(
        warm_start=warm_start, learning_rate_init=learning_rate_init, max_iter=20
    )
    with pytest.raises(ValueError, match=NON_FINITE):
        est.fit(X * 1e3, y * 1e6)
    _assert_same(before, _fitted_state(est))
    np.testing.assert_array_equal(est.predict(X), pred)

    # The kept model goes on training.
    est.set_params(warm_start=True, learning_rate_init=1e-3).fit(X, y)
    assert all(np.isfinite(W).all() for W in est.coefs_)


OVERFLOW_CASES = [
    (cls, solver, how, where)
    for cls in (BPClassifier, BPRegressor)
    for solver in ("sgd", "adam", "lbfgs")
    for how in ("fit", "warm_start", "partial_fit")
    for where in ("X", "y")
    if (where == "X" or cls is BPRegressor)  # class labels cannot overflow
    # partial_fit: the stochastic solvers, and the regressor's L-BFGS
    if how != "partial_fit" or solver != "lbfgs" or cls is BPRegressor
]


@pytest.mark.parametrize(
    "cls, solver, how, where",
    OVERFLOW_CASES,
    ids=["-".join([c.__name__, *rest]) for c, *rest in OVERFLOW_CASES],
)
def test_overflowing_data_keep_the_previous_model(cls, solver, how, where):
    # Data whose loss overflows at the starting weights (the new ones of a
    # refit, the fitted ones of a warm start or partial_fit) fail the call
    # with the clear error, and the fitted model is bit for bit as before:
    # weights, optimizer state, loss_, loss_curve_, n_iter_, best_loss_...
    rng = np.random.RandomState(0)
    X = rng.randn(40, 20)  # 20 features: the first layer's products overflow
    y = np.arange(40) % 3 if cls is BPClassifier else X[:, 0] - X[:, 1]
    est = cls(hidden_layer_sizes=(6,), solver=solver, batch_size=10, max_iter=5)
    est.set_params(random_state=0).fit(X, y)
    before, prediction = _fitted_state(est), est.predict(X)
    X_bad, y_bad = X, y
    if where == "X":
        X_bad = np.finfo(np.float64).max * rng.uniform(0.5, 1, size=X.shape)
    else:
        y_bad = np.full(len(y), 1e308)
    est.set_params(random_state=1, warm_start=how == "warm_start")
    call = est.partial_fit if how == "partial_fit" else est.fit
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        with pytest.raises(ValueError, match=BAD_DATA):
            call(X_bad, y_bad)
    _assert_same(before, _fitted_state(est))
    np.testing.assert_array_equal(est.predict(X), prediction)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_bad_input_found_late_keeps_the_previous_model(est):
    # The new X is fine and is checked first (which records its width); the
    # sample weights, checked later, are not.
    data = _data()
    X, y = data[0], _target(est, data)
    est = clone(est).fit(X, y)
    before, pred = _fitted_state(est), est.predict(X)
    X_wide = np.hstack([X, X])
    for kwargs in ({"sample_weight": -np.ones(len(X))}, {"sample_weight": [1.0]}):
        with pytest.raises(ValueError, match="sample_weight"):
            est.fit(X_wide, y, **kwargs)
        _assert_same(before, _fitted_state(est))
        assert est.n_features_in_ == X.shape[1]
        np.testing.assert_array_equal(est.predict(X), pred)


@pytest.mark.parametrize(
    "first, then",
    [
        ({"early_stopping": True}, {"early_stopping": False}),
        ({"early_stopping": False}, {"early_stopping": True}),
        ({"solver": "lbfgs", "early_stopping": True}, {"solver": "adam"}),
        ({"restore_best_weights": False}, {"restore_best_weights": True}),
    ],
)
def test_warm_start_after_changing_the_stopping_rule(first, then):
    # scikit-learn's MLP fails here (TypeError on best_loss_=None, or
    # appending to validation_scores_=None); skbp starts the rule afresh
    # and carries the weights on.
    X, y, _ = _data()
    params = dict(hidden_layer_sizes=(6,), max_iter=4, warm_start=True, random_state=0)
    est = BPClassifier(**params, **first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        before = [W.copy() for W in est.coefs_]
        est.set_params(**then).fit(X, y)
    assert not np.array_equal(est.coefs_[0], before[0])  # it trained on
    on_scores = est.early_stopping and est.solver != "lbfgs"
    assert (est.validation_scores_ is not None) == on_scores
    if on_scores:
        assert len(est.validation_scores_) == 4  # the new rule's epochs
        assert est.best_validation_score_ == max(est.validation_scores_)
    else:
        assert est.best_loss_ == min(est.loss_curve_[-4:])


def test_failed_warm_start_on_new_classes_keeps_the_model():
    X, y, _ = _data()
    est = BPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X, y)
    before = _fitted_state(est)
    est.set_params(warm_start=True)
    with pytest.raises(ValueError, match="same classes"):
        est.fit(X, y + 1)
    _assert_same(before, _fitted_state(est))


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_failed_partial_fit_calls_leave_the_stream_unchanged(cls, solver):
    # Bad batches interleaved in a stream change nothing: the model ends bit
    # for bit where a stream without them ends.
    data = _data(n=60)
    X, y = data[0], (data[1] if cls is BPClassifier else data[2])
    params = dict(hidden_layer_sizes=(6,), solver=solver, random_state=0)
    clean, noisy = cls(**params), cls(**params)
    kwargs = {"classes": [0, 1, 2]} if cls is BPClassifier else {}
    X_nan = X[:10].copy()
    X_nan[3, 1] = np.nan
    bad_calls = [
        (X_nan, y[:10], {}),
        (X[:10, :2], y[:10], {}),
        (X[:10], y[:10], {"sample_weight": -np.ones(10)}),
        (X[:10], y[:9], {}),
    ]
    if cls is BPClassifier:
        bad_calls.append((X[:10], y[:10] + 5, {}))
    for start in range(0, 60, 10):
        rows = slice(start, start + 10)
        clean.partial_fit(X[rows], y[rows], **kwargs)
        noisy.partial_fit(X[rows], y[rows], **kwargs)
        kwargs = {}
        before = _fitted_state(noisy)
        for X_bad, y_bad, bad_kwargs in bad_calls:
            with pytest.raises(ValueError):
                noisy.partial_fit(X_bad, y_bad, **bad_kwargs)
            _assert_same(before, _fitted_state(noisy))
    assert _same_weights(clean, noisy)
    _assert_same(_fitted_state(clean), _fitted_state(noisy))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_diverging_mid_stream_leaves_the_stream_unchanged(solver):
    # Unlike bad input, a batch whose loss overflows fails after the
    # optimizer has stepped, which updates SGD's velocities and Adam's
    # moments in place: those too must be put back, or the next call starts
    # from them.
    data = _data(n=60)
    X, y = data[0], data[2]
    params = dict(hidden_layer_sizes=(6,), solver=solver, random_state=0)
    clean, noisy = BPRegressor(**params), BPRegressor(**params)
    for start in range(0, 60, 10):
        rows = slice(start, start + 10)
        clean.partial_fit(X[rows], y[rows])
        noisy.partial_fit(X[rows], y[rows])
        if start == 20:
            before = _fitted_state(noisy)
            with pytest.raises(ValueError, match=BAD_DATA):
                noisy.partial_fit(X[:10] * 1e200, y[:10] * 1e200)
            _assert_same(before, _fitted_state(noisy))
    assert _same_weights(clean, noisy)
    _assert_same(_fitted_state(clean), _fitted_state(noisy))


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_failed_first_call_leaves_the_estimator_unfitted(cls):
    X, y, _ = _data()
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    kwargs = {"classes": [0, 1, 2]} if cls is BPClassifier else {}
    for method in ("fit", "partial_fit"):
        est = cls(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
        with pytest.raises(ValueError, match="NaN"):
            getattr(est, method)(
                X_nan, y, **(kwargs if method == "partial_fit" else {})
            )
        assert not [name for name in vars(est) if name.endswith("_")]
        with pytest.raises(NotFittedError):
            est.predict(X)
        with pytest.raises(NotFittedError):
            check_is_fitted(est)
    if cls is BPClassifier:  # classes must still be given on the next first call
        with pytest.raises(ValueError, match="classes must be passed"):
            est.partial_fit(X, y)
    est.partial_fit(X, y, **kwargs)
    assert np.isfinite(est.predict(X)).all()


# ---------------------------------------------------------------------------
# KeyboardInterrupt: propagates, keeps the last completed epoch
# ---------------------------------------------------------------------------
def _interrupt_at_call(monkeypatch, n_call):
    """Make skbp's n-th backprop call raise KeyboardInterrupt."""
    original = skbp._data.memory.backprop
    calls = {"n": 0}

    def backprop(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n_call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    # The stochastic solvers call it from the training step, L-BFGS from _base.
    monkeypatch.setattr(skbp._data.memory, "backprop", backprop)
    return calls


def _check_usable(est, X, y):
    """A consistent fitted model: predicts, pickles, and keeps training."""
    assert est.n_iter_ == len(est.loss_curve_)
    assert all(np.isfinite(W).all() for W in (*est.coefs_, *est.intercepts_))
    pred = est.predict(X)
    np.testing.assert_array_equal(joblib.load(_pickled(est)).predict(X), pred)
    if est.solver != "lbfgs":
        kwargs = {"classes": [0, 1, 2]} if isinstance(est, BPClassifier) else {}
        clone_ = copy.deepcopy(est)
        clone_.partial_fit(X, y, **kwargs)
        assert np.isfinite(clone_.predict(X)).all()
    warm = copy.deepcopy(est).set_params(warm_start=True, max_iter=2)
    warm.fit(X, y)
    assert np.isfinite(warm.predict(X)).all()


def _pickled(est):
    import io

    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("where", ["epoch start", "mid-epoch"])
def test_interrupt_keeps_the_last_completed_epoch(monkeypatch, cls, solver, where):
    data = _data(n=40)
    X, y = data[0], (data[1] if cls is BPClassifier else data[2])
    params = dict(hidden_layer_sizes=(6,), solver=solver, batch_size=10)
    params.update(random_state=0, max_iter=50, tol=0, n_iter_no_change=np.inf)
    n_batches = 4
    # Epochs 1 and 2 complete; epoch 3 is interrupted at its first batch,
    # or after it has already changed the weights once.
    _interrupt_at_call(
        monkeypatch, 2 * n_batches + (1 if where == "epoch start" else 3)
    )
    est = cls(**params)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    monkeypatch.undo()

    reference = cls(**{**params, "max_iter": 2}).fit(X, y)
    assert est.n_iter_ == 2
    assert _same_weights(est, reference)
    assert est.loss_curve_ == reference.loss_curve_
    assert est.t_ == reference.t_
    _check_usable(est, X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_interrupt_while_saving_an_epoch_keeps_that_epoch(monkeypatch, solver, dtype):
    # The checkpoint holds one copy of the weights: an interrupt landing while
    # that copy is half written must still restore the epoch being saved (in
    # the weights' dtype, though an L-BFGS iterate is float64).
    X, _, y = _data(n=40)
    X, y = X.astype(dtype), y.astype(dtype)
    params = dict(hidden_layer_sizes=(6,), solver=solver, batch_size=10)
    params.update(random_state=0, tol=0, n_iter_no_change=np.inf)
    original = skbp._model.rollback._copy_weights
    calls = {"n": 0}

    def copy_half_then_interrupt(saved, flat):
        calls["n"] += 1
        if calls["n"] == 3:  # the save of epoch (iteration) 3
            half = saved.size // 2
            original(saved[:half], flat[:half])
            raise KeyboardInterrupt
        original(saved, flat)

    monkeypatch.setattr(skbp._model.rollback, "_copy_weights", copy_half_then_interrupt)
    est = BPRegressor(max_iter=50, **params)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    monkeypatch.undo()
    reference = BPRegressor(max_iter=3, **params).fit(X, y)
    assert est.n_iter_ == 3
    assert {W.dtype for W in (*est.coefs_, *est.intercepts_)} == {np.dtype(dtype)}
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(
        np.concatenate([W.ravel() for W in (*est.coefs_, *est.intercepts_)]),
        np.concatenate(
            [W.ravel() for W in (*reference.coefs_, *reference.intercepts_)]
        ),
        rtol=rtol,
    )
    assert est.loss_curve_ == pytest.approx(reference.loss_curve_, rel=rtol)
    _check_usable(est, X, y)


def test_interrupt_during_lbfgs_keeps_the_last_iteration(monkeypatch):
    X, _, y = _data()
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", random_state=0)
    _interrupt_at_call(monkeypatch, 9)
    est = BPRegressor(max_iter=100, **params)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    monkeypatch.undo()
    assert est.n_iter_ == len(est.loss_curve_) >= 1
    reference = BPRegressor(max_iter=est.n_iter_, **params).fit(X, y)
    np.testing.assert_allclose(
        np.concatenate([W.ravel() for W in est.coefs_]),
        np.concatenate([W.ravel() for W in reference.coefs_]),
        rtol=1e-12,
    )
    assert est.loss_ == est.loss_curve_[-1]
    _check_usable(est, X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_interrupted_dropout_fit_goes_on_as_one_stopped_at_its_epoch(
    monkeypatch, solver
):
    """The dropout masks are drawn by batch count: an interrupt mid-epoch
    puts the count back to the last completed epoch's, so that training on
    draws the masks a fit stopped there would draw."""
    X, y, _ = _data(n=120)
    params = {
        "hidden_layer_sizes": (6,),
        "solver": solver,
        "dropout": 0.3,
        "batch_size": 20,  # 6 batches an epoch
        "random_state": 0,
    }
    _interrupt_at_call(monkeypatch, 6 * 2 + 3)  # in the third epoch
    interrupted = BPClassifier(max_iter=10, **params)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(X, y)
    monkeypatch.undo()
    stopped = BPClassifier(max_iter=2, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        stopped.fit(X, y)
    assert interrupted._dropout_step == stopped._dropout_step
    # An interrupt drops the optimizer's moments (they belonged to the
    # interrupted epoch): compare with a stopped fit that drops them too.
    assert interrupted._optimizer is None
    stopped._optimizer = None
    for est in (interrupted, stopped):
        est.partial_fit(X, y)
    for a, b in zip(interrupted.coefs_, stopped.coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_interrupted_lbfgs_refit_equals_a_fit_of_its_iterations(monkeypatch, cls):
    # Every fitted attribute, best_loss_ included, is that of an
    # uninterrupted fit of as many iterations, not the previous fit's.
    data = _data()
    X, y = data[0], _target(cls(), data)
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", random_state=0)
    est = cls(max_iter=100, **params).fit(X[:20], y[:20])  # another best_loss_
    _interrupt_at_call(monkeypatch, 9)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    monkeypatch.undo()
    k = est.n_iter_
    assert 1 <= k < 8  # the call interrupted mid-fit
    reference = cls(max_iter=k, **params).fit(X, y)
    assert est.best_loss_ == reference.best_loss_ == min(reference.loss_curve_)
    _assert_same(_fitted_state(reference), _fitted_state(est))


def test_interrupt_during_partial_fit_keeps_the_previous_call(monkeypatch):
    X, y, _ = _data(n=40)
    est = BPClassifier(hidden_layer_sizes=(6,), batch_size=10, random_state=0)
    est.partial_fit(X, y, classes=[0, 1, 2])
    before = _fitted_state(est)
    _interrupt_at_call(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        est.partial_fit(X, y)
    monkeypatch.undo()
    for name in ("coefs_", "intercepts_", "n_iter_", "t_", "loss_curve_", "classes_"):
        _assert_same(before[name], getattr(est, name), name)
    _check_usable(est, X, y)


# An interrupt before any epoch of the call has completed: the estimator is
# exactly as it was before the call (issue 13).
# The backprop call to interrupt, within the first epoch (4 batches) or
# the first L-BFGS iteration (its first evaluation: the line search may
# complete the iteration on the second).
FIRST_EPOCH = [("sgd", 1), ("sgd", 3), ("adam", 1), ("adam", 4), ("lbfgs", 1)]


@pytest.mark.parametrize("solver, call", FIRST_EPOCH)
@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_interrupted_refit_keeps_the_fitted_model(monkeypatch, cls, solver, call):
    data = _data(n=40)
    est = cls(hidden_layer_sizes=(6,), solver=solver, batch_size=10, max_iter=4)
    est.set_params(random_state=0).fit(data[0], _target(est, data))
    before = _fitted_state(est)
    prediction = est.predict(data[0])
    _interrupt_at_call(monkeypatch, call)
    with pytest.raises(KeyboardInterrupt):
        est.set_params(random_state=1).fit(data[0], _target(est, data))
    monkeypatch.undo()
    _assert_same(before, _fitted_state(est))
    np.testing.assert_array_equal(est.predict(data[0]), prediction)


@pytest.mark.parametrize("solver, call", FIRST_EPOCH)
@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_interrupted_first_fit_leaves_the_estimator_unfitted(
    monkeypatch, cls, solver, call
):
    data = _data(n=40)
    est = cls(hidden_layer_sizes=(6,), solver=solver, batch_size=10, random_state=0)
    _interrupt_at_call(monkeypatch, call)
    with pytest.raises(KeyboardInterrupt):
        est.fit(data[0], _target(est, data))
    monkeypatch.undo()
    assert not [name for name in vars(est) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    with pytest.raises(NotFittedError):
        est.predict(data[0])


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_interrupted_partial_fit_keeps_the_optimizer_state(monkeypatch, cls):
    # The optimizer is part of the state: after an interrupted call, the
    # stream goes on exactly as the stream that never had that call.
    data = _data(n=40)
    kwargs = {"classes": [0, 1, 2]} if cls is BPClassifier else {}
    params = dict(hidden_layer_sizes=(6,), batch_size=10, random_state=0)
    stream = [cls(**params), cls(**params)]
    for est in stream:
        est.partial_fit(data[0], _target(est, data), **kwargs)
        est.partial_fit(data[0][::-1], _target(est, data)[::-1])
    interrupted, reference = stream
    before = _fitted_state(interrupted)
    _interrupt_at_call(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        interrupted.partial_fit(data[0], _target(interrupted, data))
    monkeypatch.undo()
    _assert_same(before, _fitted_state(interrupted))
    for est in stream:
        est.partial_fit(data[0], _target(est, data))
    assert _same_weights(interrupted, reference)
    _assert_same(_fitted_state(reference), _fitted_state(interrupted))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_an_interrupt_after_an_epoch_drops_the_optimizer_state(
    monkeypatch, tmp_path, solver
):
    # The docs promise: the interrupted epoch's moments are dropped, and
    # training goes on with a fresh optimizer, as after skbp.load (which
    # never reads optimizer state).
    X, y, _ = _data(n=40)
    params = dict(hidden_layer_sizes=(6,), solver=solver, batch_size=10)
    params.update(random_state=0, max_iter=50, tol=0, n_iter_no_change=np.inf)
    _interrupt_at_call(monkeypatch, 2 * 4 + 3)  # mid-way through epoch 3
    est = BPClassifier(**params)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    monkeypatch.undo()
    reference = BPClassifier(**{**params, "max_iter": 2}).fit(X, y)
    skbp.save(reference, tmp_path / "epoch2")
    fresh = skbp.load(tmp_path / "epoch2")
    est.partial_fit(X, y)
    fresh.partial_fit(X, y)
    assert _same_weights(est, fresh)


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_sigint_at_any_moment_of_a_refit_loses_nothing(cls):
    # The interrupt lands wherever the timer fires: in validation, in the
    # first epoch or later. Whatever it hits, the estimator is the model
    # before the call or a consistent model of completed epochs; never a
    # fresh, untrained network.
    rng = np.random.RandomState(0)
    X = rng.randn(6000, 10)
    y = (X[:, 0] > 0) * 1 + (X[:, 1] > 0) if cls is BPClassifier else X[:, 0]
    est = cls(hidden_layer_sizes=(30,), batch_size=8, max_iter=2, random_state=0)
    est.fit(X[:200], y[:200])
    long_fit = dict(max_iter=10**6, tol=0, n_iter_no_change=np.inf)
    outcomes = []
    for delay in (0.0, 0.005, 0.02, 0.05):
        before = _fitted_state(est)
        # A real SIGINT (what Ctrl-C sends), from a timer thread; started
        # inside the block so that it cannot land outside it.
        timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
        try:
            with pytest.raises(KeyboardInterrupt):
                timer.start()
                est.set_params(random_state=1, **long_fit).fit(X, y)
        finally:
            timer.join()
        if est.n_iter_ == before["n_iter_"] and est.t_ == before["t_"]:
            _assert_same(before, _fitted_state(est))
            outcomes.append("before")
        else:
            assert est.n_iter_ == len(est.loss_curve_) >= 1
            assert est.t_ == est.n_iter_ * len(X)
            outcomes.append("epochs")
        _check_usable(est.set_params(max_iter=2), X[:40], y[:40])
        est = cls(hidden_layer_sizes=(30,), batch_size=8, max_iter=2, random_state=0)
        est.fit(X[:200], y[:200])
    # 750 batches make an epoch far longer than 50 ms: the early delays
    # land before the first epoch completes.
    assert "before" in outcomes


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_real_interrupt_during_a_long_fit(solver):
    # A real asynchronous interrupt (what Ctrl-C sends), at a random point
    # of a fit that would otherwise run for a very long time.
    X, y, _ = _data(n=200)
    est = BPClassifier(
        hidden_layer_sizes=(20,),
        solver=solver,
        max_iter=10**6,
        max_fun=10**7,
        tol=0,
        n_iter_no_change=np.inf,
        random_state=0,
    )
    done = threading.Event()

    def interrupt_soon():
        deadline = time.monotonic() + 10
        while not done.is_set() and time.monotonic() < deadline:
            if len(getattr(est, "loss_curve_", ())) >= 3:
                break
            time.sleep(0.001)
        if not done.is_set():
            _thread.interrupt_main()

    watcher = threading.Thread(target=interrupt_soon, daemon=True)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
    finally:
        done.set()
        watcher.join()
    assert est.n_iter_ >= 3
    if solver == "adam":
        assert est.t_ == est.n_iter_ * len(X)
    _check_usable(est, X, y)


# ---------------------------------------------------------------------------
# Reproducible: across runs, processes and threads
# ---------------------------------------------------------------------------
REPRO_CASES = {
    "adam": dict(solver="adam"),
    "sgd-nesterov": dict(solver="sgd", momentum=0.9),
    "lbfgs": dict(solver="lbfgs"),
    "dropout": dict(solver="adam", dropout=0.3),
    "early-stopping": dict(solver="adam", early_stopping=True),
    "float32-gelu": dict(solver="adam", activation="gelu"),
}


def _weights_digest(est):
    digest = hashlib.sha256()
    for array in (*est.coefs_, *est.intercepts_):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _repro_fit(name):
    X, y, _ = _data(n=60)
    if name.startswith("float32"):
        X = X.astype(np.float32)
    est = BPClassifier(
        hidden_layer_sizes=(8, 5), max_iter=15, random_state=7, **REPRO_CASES[name]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("name", sorted(REPRO_CASES))
def test_same_seed_same_weights_bit_for_bit(name):
    a, b = _repro_fit(name), _repro_fit(name)
    assert _same_weights(a, b)
    assert a.loss_curve_ == b.loss_curve_


def test_same_weights_in_a_fresh_process():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        expected = {name: _weights_digest(_repro_fit(name)) for name in REPRO_CASES}
    script = (
        "import json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import test_reliability_state as t\n"
        "print(json.dumps({n: t._weights_digest(t._repro_fit(n)) "
        "for n in t.REPRO_CASES}))\n"
    )
    skbp_root = os.path.dirname(os.path.dirname(skbp.__file__))
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONPATH"] = os.pathsep.join([skbp_root, env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", script, os.path.dirname(__file__)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_eight_threads_predicting_at_once_match_sequential(cls):
    data = _data(n=300)
    X, y = data[0], (data[1] if cls is BPClassifier else data[2])
    est = cls(hidden_layer_sizes=(16, 8), max_iter=10, random_state=0).fit(X, y)
    methods = ["predict"] + (["predict_proba"] if cls is BPClassifier else [])
    # Chunks of every size, from one row to all of them.
    chunks = [X[i : i + size] for i, size in enumerate([1, 2, 7, 33, 150, 300])]
    jobs = [(m, k) for m in methods for k in range(len(chunks))] * 6
    expected = {(m, k): getattr(est, m)(chunks[k]) for m, k in set(jobs)}
    barrier = threading.Barrier(8)

    def run(job):
        method, k = job
        return job, getattr(est, method)(chunks[k])

    def worker(my_jobs):
        barrier.wait()
        return [run(job) for job in my_jobs]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, [jobs[i::8] for i in range(8)]))
    for batch in results:
        for job, value in batch:
            np.testing.assert_array_equal(value, expected[job])


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_grid_search_backends_equal_sequential(backend):
    X, y, _ = _data(n=60)
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(4,), (8,)]}
    est = BPClassifier(max_iter=20, random_state=0)

    def search(n_jobs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            with joblib.parallel_config(backend=backend):
                return GridSearchCV(est, grid, cv=3, n_jobs=n_jobs).fit(X, y)

    sequential, parallel = search(1), search(2)
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(
            sequential.cv_results_[key], parallel.cv_results_[key]
        )
    for k in range(3):
        key = f"split{k}_test_score"
        np.testing.assert_array_equal(
            sequential.cv_results_[key], parallel.cv_results_[key]
        )
    assert sequential.best_params_ == parallel.best_params_
    assert _same_weights(sequential.best_estimator_, parallel.best_estimator_)


# ---------------------------------------------------------------------------
# Streaming keeps memory flat
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls, n_calls", [(BPClassifier, 1000), (BPRegressor, 600)])
def test_long_streaming_partial_fit_keeps_memory_flat(cls, n_calls):
    rng = np.random.RandomState(0)
    X = rng.randn(20, 30)
    y = np.arange(20) % 3 if cls is BPClassifier else X[:, 0]
    est = cls(hidden_layer_sizes=(50,), random_state=0)
    kwargs = {"classes": [0, 1, 2]} if cls is BPClassifier else {}
    for _ in range(200):  # warm up caches and lazily allocated buffers
        est.partial_fit(X, y, **kwargs)
        kwargs = {}
    tracemalloc.start()
    try:
        est.partial_fit(X, y)
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(n_calls):
            est.partial_fit(X, y)
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The loss curve grows by one float per call (32 bytes with its slot in
    # the list), and scikit-learn's and numpy's caches fill up a little; one
    # leaked copy of the weights would be 12 kB per call.
    growth = (end - start) / n_calls
    assert growth < 512, f"{growth:.0f} bytes per call"
    assert len(est.loss_curve_) == n_calls + 201
