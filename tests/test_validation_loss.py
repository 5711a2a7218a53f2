"""Validation loss per epoch (``validation_loss_curve_``) and validation data
of one's own (``fit(X, y, X_val=..., y_val=..., sample_weight_val=...)``)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import skbp._engine.stopping
from skbp import BPClassifier, BPRegressor

X, y = make_classification(
    n_samples=240, n_features=6, n_informative=4, n_classes=3, random_state=0
)
X_train, y_train, X_val, y_val = X[:180], y[:180], X[180:], y[180:]
X_reg, y_reg = make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)
y_reg = y_reg / 50  # a scale the networks fit quickly


def _fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _l2(est):
    """The penalty's sum of squared weights."""
    return sum(float(np.sum(W**2)) for W in est.coefs_)


# ---------------------------------------------------------------------------
# What the curve holds
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_one_value_per_epoch_or_iteration(solver):
    est = _fit(
        BPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=12),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    assert len(est.validation_loss_curve_) == len(est.loss_curve_) == est.n_iter_
    # Monitoring only: no early stopping, hence no validation scores.
    assert est.validation_scores_ is None


def test_none_without_a_validation_set():
    est = _fit(BPClassifier(hidden_layer_sizes=(8,), max_iter=3), X, y)
    assert est.validation_loss_curve_ is None


def test_the_last_value_is_the_fitted_network_s_log_loss():
    est = _fit(
        BPClassifier(hidden_layer_sizes=(8,), max_iter=15, random_state=0),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    expected = log_loss(y_val, est.predict_proba(X_val))
    assert_allclose(est.validation_loss_curve_[-1], expected, rtol=1e-10)


def test_regression_loss_is_half_the_squared_error():
    est = _fit(
        BPRegressor(hidden_layer_sizes=(8,), max_iter=15, random_state=0),
        X_reg[:150],
        y_reg[:150],
        X_val=X_reg[150:],
        y_val=y_reg[150:],
    )
    residual = y_reg[150:] - est.predict(X_reg[150:])
    assert_allclose(est.validation_loss_curve_[-1], np.mean(residual**2) / 2)


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_same_scale_as_the_training_loss_without_the_penalty(Estimator):
    # L-BFGS's loss_curve_ is the full-batch loss at each iterate, L2
    # penalty included. Validating on the training rows gives the same
    # values less the penalty alpha / (2 n) sum ||W||^2 (checked at the end).
    data = (X, y) if Estimator is BPClassifier else (X_reg, y_reg)
    alpha = 0.5
    est = _fit(
        Estimator(hidden_layer_sizes=(8,), solver="lbfgs", alpha=alpha, max_iter=20),
        *data,
        X_val=data[0],
        y_val=data[1],
    )
    penalty = alpha / (2 * len(data[0])) * _l2(est)
    assert_allclose(
        est.loss_curve_[-1] - est.validation_loss_curve_[-1], penalty, rtol=1e-9
    )
    no_penalty = _fit(
        Estimator(hidden_layer_sizes=(8,), solver="lbfgs", alpha=0.0, max_iter=20),
        *data,
        X_val=data[0],
        y_val=data[1],
    )
    assert_allclose(
        no_penalty.validation_loss_curve_, no_penalty.loss_curve_, rtol=1e-12
    )


def test_each_value_is_the_loss_after_its_epoch():
    # Full-batch SGD without penalty: epoch k's training loss is the loss of
    # the weights after epoch k - 1, i.e. the validation loss of epoch k - 1
    # when validating on the training rows.
    est = _fit(
        BPRegressor(
            hidden_layer_sizes=(8,),
            solver="sgd",
            batch_size=len(X_reg),
            shuffle=False,
            alpha=0.0,
            max_iter=10,
            random_state=0,
        ),
        X_reg,
        y_reg,
        X_val=X_reg,
        y_val=y_reg,
    )
    assert_allclose(est.loss_curve_[1:], est.validation_loss_curve_[:-1], rtol=1e-10)


def test_validation_data_does_not_change_training():
    params = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    plain = _fit(BPClassifier(**params), X_train, y_train)
    watched = _fit(BPClassifier(**params), X_train, y_train, X_val=X_val, y_val=y_val)
    assert_array_equal(plain.loss_curve_, watched.loss_curve_)
    for a, b in zip(plain.coefs_, watched.coefs_):
        assert_array_equal(a, b)


def test_sample_weight_val_weighs_rows_like_repeating_them():
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    weights = np.tile([1.0, 2.0, 3.0], len(y_val) // 3)
    weighted = _fit(
        BPClassifier(**params),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=weights,
    )
    rows = np.repeat(np.arange(len(y_val)), weights.astype(int))
    repeated = _fit(
        BPClassifier(**params), X_train, y_train, X_val=X_val[rows], y_val=y_val[rows]
    )
    assert_allclose(
        weighted.validation_loss_curve_, repeated.validation_loss_curve_, rtol=1e-10
    )


# ---------------------------------------------------------------------------
# Early stopping
# ---------------------------------------------------------------------------
def test_early_stopping_split_records_the_validation_loss():
    est = _fit(
        BPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=30),
        X,
        y,
    )
    assert len(est.validation_loss_curve_) == len(est.validation_scores_)
    assert len(est.validation_loss_curve_) == est.n_iter_


def test_given_validation_data_replaces_the_split():
    est = _fit(
        BPClassifier(
            hidden_layer_sizes=(8,),
            early_stopping=True,
            n_iter_no_change=3,
            max_iter=200,
            learning_rate_init=0.01,
            random_state=0,
        ),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    # Every training row is trained on (no validation_fraction held out)...
    assert est.t_ == est.n_iter_ * len(X_train)
    # ... and the scores are on X_val: the kept weights score the best one.
    assert est.score(X_val, y_val) == est.best_validation_score_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.n_iter_ < 200  # it stopped early


def test_lbfgs_ignores_early_stopping_but_records_the_loss():
    est = _fit(
        BPRegressor(
            hidden_layer_sizes=(8,), solver="lbfgs", early_stopping=True, max_iter=10
        ),
        X_reg,
        y_reg,
        X_val=X_reg[:20],
        y_val=y_reg[:20],
    )
    assert est.validation_scores_ is None  # as scikit-learn's lbfgs
    assert len(est.validation_loss_curve_) == est.n_iter_


# ---------------------------------------------------------------------------
# warm_start, partial_fit, interrupted and failed fits
# ---------------------------------------------------------------------------
def test_warm_start_extends_the_curve_with_the_loss_curve():
    est = BPClassifier(hidden_layer_sizes=(8,), max_iter=4, warm_start=True)
    _fit(est, X_train, y_train, X_val=X_val, y_val=y_val)
    _fit(est, X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(est.validation_loss_curve_) == len(est.loss_curve_) == 8
    assert np.all(np.isfinite(est.validation_loss_curve_))


def test_epochs_without_validation_data_hold_nan():
    # Entry k is always the epoch of loss_curve_[k]: NaN where no
    # validation set was there to measure.
    params = dict(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
    est = _fit(BPClassifier(**params), X_train, y_train)
    assert est.validation_loss_curve_ is None
    _fit(est, X_train, y_train, X_val=X_val, y_val=y_val)
    _fit(est, X_train, y_train)
    curve = np.array(est.validation_loss_curve_)
    assert len(curve) == len(est.loss_curve_) == 9
    assert_array_equal(np.isnan(curve), [1, 1, 1, 0, 0, 0, 1, 1, 1])
    # The measured entries are those of a model watched from epoch 4 on.
    reference = _fit(BPClassifier(**params), X_train, y_train)
    _fit(reference, X_train, y_train, X_val=X_val, y_val=y_val)
    assert_array_equal(curve[3:6], reference.validation_loss_curve_[3:])


def test_partial_fit_takes_no_validation_data():
    est = _fit(
        BPClassifier(hidden_layer_sizes=(8,), max_iter=4),
        X_train,
        y_train,
        X_val=X_val,
        y_val=y_val,
    )
    with pytest.raises(TypeError, match="X_val"):
        est.partial_fit(X_train, y_train, X_val=X_val, y_val=y_val)
    est.partial_fit(X_train, y_train)
    # partial_fit's epoch has no validation loss: NaN keeps the curves aligned.
    assert len(est.loss_curve_) == len(est.validation_loss_curve_) == 5
    assert np.isnan(est.validation_loss_curve_[-1])
    assert np.all(np.isfinite(est.validation_loss_curve_[:4]))
    assert "takes no validation data" in BPClassifier.partial_fit.__doc__
    assert "takes no validation data" in BPRegressor.partial_fit.__doc__


def test_an_interrupt_keeps_the_curve_of_the_completed_epochs():
    class Interrupt:
        def __init__(self):
            self.epochs = 0

        def __call__(self, *args, **kwargs):
            self.epochs += 1
            if self.epochs == 3:
                raise KeyboardInterrupt

    est = BPClassifier(hidden_layer_sizes=(8,), max_iter=10)
    interrupt = Interrupt()
    original = skbp._engine.stopping.update_rule

    def counting(estimator, score):
        original(estimator, score)
        interrupt()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(skbp._engine.stopping, "update_rule", counting)
        with pytest.raises(KeyboardInterrupt):
            est.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(est.validation_loss_curve_) == len(est.loss_curve_) == est.n_iter_


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"X_val": X_val}, "X_val is given, but y_val is not"),
        ({"y_val": y_val}, "y_val is given, but X_val is not"),
        ({"sample_weight_val": np.ones(60)}, "sample_weight_val is given"),
        ({"X_val": X_val[:, :3], "y_val": y_val}, "features"),
        ({"X_val": X_val, "y_val": y_val[:10]}, "inconsistent numbers of samples"),
        ({"X_val": X_val, "y_val": y_val + 5}, r"y_val has labels \[5, 6, 7\]"),
        (
            {"X_val": np.full_like(X_val, np.nan), "y_val": y_val},
            r"Bad validation data \(X_val, y_val\): Input X contains NaN",
        ),
        # The validation weights' errors name sample_weight_val, not
        # fit's sample_weight.
        (
            {"X_val": X_val, "y_val": y_val, "sample_weight_val": np.ones(3)},
            r"sample_weight_val\.shape == \(3,\), expected \(\d+,\)! \(X_val has",
        ),
        (
            {"X_val": X_val, "y_val": y_val, "sample_weight_val": -np.ones(len(y_val))},
            "Negative values in data passed to sample_weight_val",
        ),
        (
            {"X_val": X_val, "y_val": y_val, "sample_weight_val": np.zeros(len(y_val))},
            "sample_weight_val must have a positive sum",
        ),
        (
            {"X_val": X_val, "y_val": y_val, "sample_weight_val": np.ones((2, 2))},
            "sample_weight_val must be 1D",
        ),
    ],
)
def test_bad_validation_data_gets_a_clear_error_and_keeps_the_model(kwargs, message):
    est = _fit(BPClassifier(hidden_layer_sizes=(8,), max_iter=3), X_train, y_train)
    before = est.predict_proba(X_val)
    with pytest.raises(ValueError, match=message):
        est.fit(X_train, y_train, **kwargs)
    assert_array_equal(est.predict_proba(X_val), before)


def test_a_curve_with_nan_saves_and_loads(tmp_path):
    import skbp

    est = _fit(BPClassifier(hidden_layer_sizes=(8,), max_iter=2), X_train, y_train)
    est.set_params(warm_start=True)
    _fit(est, X_train, y_train, X_val=X_val, y_val=y_val)
    skbp.save(est, tmp_path / "model.skbp")
    loaded = skbp.load(tmp_path / "model.skbp")
    assert_array_equal(loaded.validation_loss_curve_, est.validation_loss_curve_)


def test_float32_training_casts_the_validation_data():
    est = _fit(
        BPRegressor(hidden_layer_sizes=(8,), max_iter=5),
        X_reg.astype(np.float32),
        y_reg.astype(np.float32),
        X_val=X_reg[:20],  # float64
        y_val=y_reg[:20],
    )
    assert est.coefs_[0].dtype == np.float32
    assert all(isinstance(v, float) for v in est.validation_loss_curve_)


# ---------------------------------------------------------------------------
# Through a Pipeline: scikit-learn's metadata routing and transform_input
# ---------------------------------------------------------------------------
def test_pipeline_transforms_x_val_with_transform_input():
    params = dict(hidden_layer_sizes=(8,), max_iter=6, random_state=0)
    scaler = StandardScaler().fit(X_train)
    direct = _fit(
        BPClassifier(**params),
        scaler.transform(X_train),
        y_train,
        X_val=scaler.transform(X_val),
        y_val=y_val,
    )
    with config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("scale", StandardScaler()),
                ("net", BPClassifier(**params).set_fit_request(X_val=True, y_val=True)),
            ],
            transform_input=["X_val"],
        )
        _fit(pipe, X_train, y_train, X_val=X_val, y_val=y_val)
    assert_allclose(
        pipe[-1].validation_loss_curve_, direct.validation_loss_curve_, rtol=1e-12
    )
