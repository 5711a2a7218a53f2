"""BPRegressor and BPClassifier inside scikit-learn: the drop-in contract.

Pipelines, model selection (serial and parallel), cloning, persistence,
labels and probabilities, fitted attributes, dtypes, thread safety and
reproducibility, compared with what :mod:`sklearn.neural_network` does.
"""

import inspect
import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier, BPRegressor

SOLVERS = ["sgd", "adam", "lbfgs"]


# ---------------------------------------------------------------------------
# Data and helpers
# ---------------------------------------------------------------------------
def _regression(n_samples=60, n_features=4, n_targets=1, random_state=0):
    X, y = make_regression(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_features,
        n_targets=n_targets,
        noise=0.5,
        random_state=random_state,
    )
    X = StandardScaler().fit_transform(X)
    return X, y / y.std(axis=0)


def _classification(n_samples=60, n_features=4, n_classes=2, random_state=0):
    return make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=random_state,
    )


def _fit(estimator, X, y, **fit_params):
    """Fit, ignoring the ConvergenceWarning of the few iterations used here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


def _small(Estimator, **params):
    defaults = dict(hidden_layer_sizes=(6,), max_iter=30, random_state=0)
    return Estimator(**{**defaults, **params})


ESTIMATORS = [BPRegressor, BPClassifier]
DATA = {BPRegressor: _regression, BPClassifier: _classification}


@pytest.fixture(params=ESTIMATORS, ids=lambda E: E.__name__)
def Estimator(request):
    return request.param


def _data(Estimator, **kwargs):
    return DATA[Estimator](**kwargs)


def _assert_same_weights(a, b):
    assert len(a.coefs_) == len(b.coefs_)
    for W1, W2 in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(W1, W2)
    for b1, b2 in zip(a.intercepts_, b.intercepts_):
        np.testing.assert_array_equal(b1, b2)


def _predictions(estimator, X):
    """Every prediction method the estimator has, by name."""
    out = {"predict": estimator.predict(X)}
    if hasattr(estimator, "predict_proba"):
        out["predict_proba"] = estimator.predict_proba(X)
    return out


# ---------------------------------------------------------------------------
# Pipelines and model selection
# ---------------------------------------------------------------------------
def test_pipeline_fit_predict_score(Estimator):
    X, y = _data(Estimator, n_samples=80)
    X = X * 50 + 10  # badly scaled: the scaler's job
    pipe = make_pipeline(
        StandardScaler(), _small(Estimator, max_iter=300, learning_rate_init=0.01)
    )
    assert isinstance(pipe, Pipeline)
    _fit(pipe, X, y)

    y_pred = pipe.predict(X)
    assert y_pred.shape == y.shape
    score = pipe.score(X, y)
    assert np.isfinite(score)
    assert score > (0.8 if Estimator is BPRegressor else 0.9)
    # The pipeline's prediction is the step's prediction on scaled data.
    scaled = pipe[0].transform(X)
    np.testing.assert_array_equal(y_pred, pipe[-1].predict(scaled))
    if Estimator is BPClassifier:
        np.testing.assert_array_equal(
            pipe.predict_proba(X), pipe[-1].predict_proba(scaled)
        )


def _grid_search(Estimator, X, y, n_jobs):
    grid = {
        "hidden_layer_sizes": [(3,), (6,)],
        "alpha": [1e-4, 1.0],
        "solver": SOLVERS,
    }
    search = GridSearchCV(
        _small(Estimator, max_iter=15, learning_rate_init=0.01),
        grid,
        cv=KFold(3),
        n_jobs=n_jobs,
    )
    return _fit(search, X, y)


def test_grid_search_parallel_matches_serial(Estimator):
    X, y = _data(Estimator, n_samples=45)
    serial = _grid_search(Estimator, X, y, n_jobs=1)
    parallel = _grid_search(Estimator, X, y, n_jobs=2)

    assert parallel.best_params_ == serial.best_params_
    assert len(serial.cv_results_["params"]) == 12
    assert parallel.cv_results_["params"] == serial.cv_results_["params"]
    keys = ["mean_test_score", "std_test_score", "rank_test_score"]
    keys += [f"split{i}_test_score" for i in range(3)]
    for key in keys:
        assert np.all(np.isfinite(serial.cv_results_[key])), key
        np.testing.assert_allclose(
            parallel.cv_results_[key], serial.cv_results_[key], rtol=1e-12, err_msg=key
        )
    # The refitted best model is the same network in both.
    _assert_same_weights(parallel.best_estimator_, serial.best_estimator_)


def test_cross_validate(Estimator):
    X, y = _data(Estimator, n_samples=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = cross_validate(
            _small(Estimator, max_iter=100, learning_rate_init=0.01),
            X,
            y,
            cv=KFold(3),
            return_estimator=True,
            return_train_score=True,
        )
    for key in ("fit_time", "score_time", "test_score", "train_score"):
        assert result[key].shape == (3,)
        assert np.all(np.isfinite(result[key]))
    assert len(result["estimator"]) == 3
    for fold in result["estimator"]:
        assert isinstance(fold, Estimator)
        assert fold.n_features_in_ == X.shape[1]
    # Folds are trained on different rows: different networks.
    assert not np.array_equal(
        result["estimator"][0].coefs_[0], result["estimator"][1].coefs_[0]
    )


# ---------------------------------------------------------------------------
# clone, pickle, joblib
# ---------------------------------------------------------------------------
def test_clone_is_unfitted_with_equal_params(Estimator):
    X, y = _data(Estimator)
    est = _fit(_small(Estimator, alpha=0.01, solver="sgd"), X, y)
    copy = clone(est)

    assert copy is not est
    assert type(copy) is Estimator
    assert copy.get_params() == est.get_params()
    for attr in ("coefs_", "intercepts_", "n_iter_", "loss_curve_", "n_features_in_"):
        assert not hasattr(copy, attr), attr

    _fit(copy, X, y)
    _assert_same_weights(copy, est)
    assert copy.loss_curve_ == est.loss_curve_
    for name, value in _predictions(est, X).items():
        np.testing.assert_array_equal(getattr(copy, name)(X), value)


def _pickle_round_trip(est, tmp_path):
    return pickle.loads(pickle.dumps(est))


def _joblib_round_trip(est, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    return joblib.load(path)


@pytest.mark.parametrize(
    "round_trip", [_pickle_round_trip, _joblib_round_trip], ids=["pickle", "joblib"]
)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_persistence_round_trip(Estimator, round_trip, solver, tmp_path):
    X, y = _data(Estimator)
    est = _fit(_small(Estimator, solver=solver, learning_rate_init=0.01), X, y)
    loaded = round_trip(est, tmp_path)

    assert type(loaded) is Estimator
    assert loaded.get_params() == est.get_params()
    _assert_same_weights(loaded, est)
    for name, value in _predictions(est, X).items():
        np.testing.assert_array_equal(getattr(loaded, name)(X), value)
    if Estimator is BPClassifier:
        np.testing.assert_array_equal(loaded.classes_, est.classes_)

    # The loaded model carries on training exactly as the original does:
    # same optimizer state, same random state for the shuffling.
    before = [W.copy() for W in loaded.coefs_]
    loaded.partial_fit(X, y)
    est.partial_fit(X, y)
    assert any(not np.array_equal(W, W0) for W, W0 in zip(loaded.coefs_, before))
    _assert_same_weights(loaded, est)
    assert loaded.t_ == est.t_
    assert loaded.loss_curve_ == est.loss_curve_


def test_persistence_lbfgs(Estimator, tmp_path):
    X, y = _data(Estimator)
    est = _fit(_small(Estimator, solver="lbfgs"), X, y)
    for round_trip in (_pickle_round_trip, _joblib_round_trip):
        loaded = round_trip(est, tmp_path)
        for name, value in _predictions(est, X).items():
            np.testing.assert_array_equal(getattr(loaded, name)(X), value)
        # As in scikit-learn: only the regressor's L-BFGS has partial_fit
        # (one more L-BFGS run from the loaded weights).
        assert hasattr(loaded, "partial_fit") == (Estimator is BPRegressor)


# ---------------------------------------------------------------------------
# Classifier labels and probabilities
# ---------------------------------------------------------------------------
def _check_proba(clf, X, n_classes):
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], n_classes)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    # predict is the most probable class, in classes_ order.
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    return proba


@pytest.mark.parametrize("solver", SOLVERS)
def test_predict_proba_binary(solver):
    X, y = _classification(n_classes=2)
    clf = _small(BPClassifier, solver=solver, max_iter=100, learning_rate_init=0.01)
    _fit(clf, X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.n_outputs_ == 1
    assert clf.out_activation_ == "logistic"
    proba = _check_proba(clf, X, 2)
    # The one logistic output is the probability of classes_[1].
    np.testing.assert_allclose(proba[:, 1], clf._forward(X).ravel())
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("solver", SOLVERS)
def test_predict_proba_multiclass(solver):
    X, y = _classification(n_samples=90, n_classes=3)
    clf = _small(BPClassifier, solver=solver, max_iter=100, learning_rate_init=0.01)
    _fit(clf, X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_outputs_ == 3
    assert clf.out_activation_ == "softmax"
    _check_proba(clf, X, 3)
    assert clf.score(X, y) > 0.7


@pytest.mark.parametrize(
    "names, dtype",
    [
        (["yes", "no"], str),
        (["dog", "cat", "fish"], str),
        (["yes", "no"], object),
        (["dog", "cat", "fish"], object),
    ],
    ids=["str-binary", "str-multiclass", "object-binary", "object-multiclass"],
)
def test_string_and_object_labels(names, dtype):
    n_classes = len(names)
    X, y_int = _classification(n_samples=30 * n_classes, n_classes=n_classes)
    y = np.asarray(names, dtype=dtype)[y_int]
    assert y.dtype.kind == ("O" if dtype is object else "U")

    clf = _fit(_small(BPClassifier, max_iter=200, solver="lbfgs"), X, y)
    mlp = _fit(MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0), X, y)
    # classes_ is sorted, like LabelBinarizer / MLPClassifier.
    np.testing.assert_array_equal(clf.classes_, sorted(names))
    np.testing.assert_array_equal(clf.classes_, mlp.classes_)
    assert clf.classes_.dtype == mlp.classes_.dtype
    _check_proba(clf, X, n_classes)

    # predict returns the original labels, with MLPClassifier's dtype.
    y_pred = clf.predict(X)
    assert y_pred.shape == y.shape
    assert set(y_pred) <= set(names)
    assert y_pred.dtype == mlp.predict(X).dtype
    assert clf.score(X, y) > 0.8
    # Column j of predict_proba is the probability of classes_[j].
    proba = clf.predict_proba(X)
    for j, label in enumerate(clf.classes_):
        assert proba[y == label, j].mean() > proba[y != label, j].mean()


# ---------------------------------------------------------------------------
# Regression targets
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_multi_output_regression(solver):
    X, Y = _regression(n_targets=3)
    reg = _small(BPRegressor, solver=solver, max_iter=100, learning_rate_init=0.01)
    _fit(reg, X, Y)
    assert reg.n_outputs_ == 3
    assert reg.coefs_[-1].shape == (6, 3)
    assert reg.intercepts_[-1].shape == (3,)
    y_pred = reg.predict(X)
    assert y_pred.shape == (X.shape[0], 3)
    assert reg.predict(X[:1]).shape == (1, 3)
    assert reg.score(X, Y) > 0.5


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_dimensional_target_gives_one_dimensional_predictions(solver):
    X, y = _regression()
    assert y.ndim == 1
    reg = _fit(_small(BPRegressor, solver=solver), X, y)
    assert reg.n_outputs_ == 1
    assert reg.predict(X).shape == (X.shape[0],)
    assert reg.predict(X[:1]).shape == (1,)


# ---------------------------------------------------------------------------
# ConvergenceWarning
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_convergence_warning_when_max_iter_reached(Estimator, solver):
    X, y = _data(Estimator)
    est = _small(Estimator, solver=solver, max_iter=3, learning_rate_init=1e-4)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert est.n_iter_ == 3
    if solver != "lbfgs":
        assert len(est.loss_curve_) == 3
        assert est.t_ == 3 * X.shape[0]


def test_no_convergence_warning_when_converged(Estimator):
    X, y = _data(Estimator)
    # A huge tol stops the stochastic solver after n_iter_no_change epochs.
    est = _small(Estimator, solver="adam", tol=1e6, n_iter_no_change=2, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ < 50


# ---------------------------------------------------------------------------
# The fitted weights are the model
# ---------------------------------------------------------------------------
def _manual_forward(X, coefs, intercepts, hidden, output):
    acts = {
        "identity": lambda z: z,
        "relu": lambda z: np.maximum(z, 0),
        "tanh": np.tanh,
        "logistic": lambda z: 1 / (1 + np.exp(-z)),
        "softmax": lambda z: (
            np.exp(z - z.max(1, keepdims=True))
            / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)
        ),
    }
    A = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        A = acts[hidden if i < len(coefs) - 1 else output](A @ W + b)
    return A


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_predict_is_the_forward_pass_of_the_weights(activation):
    X, y = _regression()
    reg = _fit(
        _small(BPRegressor, hidden_layer_sizes=(5, 4), activation=activation), X, y
    )
    expected = _manual_forward(X, reg.coefs_, reg.intercepts_, activation, "identity")
    np.testing.assert_allclose(reg.predict(X), expected.ravel(), rtol=1e-10)

    X, y = _classification(n_classes=3, n_samples=60)
    clf = _fit(
        _small(BPClassifier, hidden_layer_sizes=(5, 4), activation=activation), X, y
    )
    expected = _manual_forward(X, clf.coefs_, clf.intercepts_, activation, "softmax")
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-10)


def test_zero_weights_regressor_predicts_output_intercept():
    X, Y = _regression(n_targets=2)
    reg = _fit(_small(BPRegressor), X, Y)
    reg.coefs_ = [np.zeros_like(W) for W in reg.coefs_]
    # relu(0 + b1) feeds zero weights: only the output intercept remains.
    expected = np.tile(reg.intercepts_[-1], (X.shape[0], 1))
    np.testing.assert_array_equal(reg.predict(X), expected)

    reg.intercepts_[-1][:] = [1.5, -2.0]
    np.testing.assert_array_equal(reg.predict(X), np.tile([1.5, -2.0], (len(X), 1)))
    # Zeroing the output layer alone is enough.
    reg2 = _fit(_small(BPRegressor), *_regression())
    reg2.coefs_[-1][:] = 0.0
    np.testing.assert_array_equal(
        reg2.predict(X), np.full(len(X), reg2.intercepts_[-1][0])
    )


def test_scaling_output_layer_scales_regressor_predictions():
    X, y = _regression()
    reg = _fit(_small(BPRegressor), X, y)
    before = reg.predict(X)
    reg.coefs_[-1] = 3.0 * reg.coefs_[-1]
    reg.intercepts_[-1] = 3.0 * reg.intercepts_[-1]
    np.testing.assert_allclose(reg.predict(X), 3.0 * before, rtol=1e-12)


def test_assigned_linear_weights_give_the_linear_map():
    X, Y = _regression(n_targets=3)
    reg = _fit(_small(BPRegressor, hidden_layer_sizes=()), X, Y)
    assert len(reg.coefs_) == 1
    rng = np.random.RandomState(1)
    W, b = rng.randn(X.shape[1], 3), rng.randn(3)
    reg.coefs_ = [W]
    reg.intercepts_ = [b]
    np.testing.assert_allclose(reg.predict(X), X @ W + b, rtol=1e-12)


def test_zero_weights_classifier_is_uniform():
    X, y = _classification(n_classes=3, n_samples=60)
    clf = _fit(_small(BPClassifier), X, y)
    clf.coefs_ = [np.zeros_like(W) for W in clf.coefs_]
    clf.intercepts_[-1][:] = 0.0
    np.testing.assert_allclose(clf.predict_proba(X), 1 / 3, rtol=1e-12)
    # A large output intercept for one class makes it the answer everywhere.
    clf.intercepts_[-1][:] = [0.0, 0.0, 50.0]
    np.testing.assert_array_equal(clf.predict(X), np.full(len(X), 2))

    X, y = _classification(n_classes=2)
    clf = _fit(_small(BPClassifier), X, y)
    clf.coefs_[-1][:] = 0.0
    clf.intercepts_[-1][:] = 0.0
    np.testing.assert_allclose(clf.predict_proba(X), 0.5, rtol=1e-12)
    clf.intercepts_[-1][:] = -50.0
    np.testing.assert_array_equal(clf.predict(X), np.zeros(len(X), dtype=int))
    clf.intercepts_[-1][:] = 50.0
    np.testing.assert_array_equal(clf.predict(X), np.ones(len(X), dtype=int))


# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_input_keeps_float32(Estimator, solver):
    X, y = _data(Estimator)
    X32 = X.astype(np.float32)
    if Estimator is BPRegressor:
        y = y.astype(np.float32)
    est = _fit(_small(Estimator, solver=solver), X32, y)
    for array in (*est.coefs_, *est.intercepts_):
        assert array.dtype == np.float32
    if Estimator is BPRegressor:
        assert est.predict(X32).dtype == np.float32
    else:
        assert est.predict_proba(X32).dtype == np.float32
    # float32 and float64 fits start from the same draw and stay close.
    est64 = _fit(_small(Estimator, solver=solver), X, y.astype(np.float64))
    if solver != "lbfgs":  # line searches may branch differently
        for W32, W64 in zip(est.coefs_, est64.coefs_):
            np.testing.assert_allclose(W32, W64, rtol=1e-3, atol=1e-3)


def test_float64_input_keeps_float64(Estimator):
    X, y = _data(Estimator)
    est = _fit(_small(Estimator), X.astype(np.float64), y)
    assert all(W.dtype == np.float64 for W in (*est.coefs_, *est.intercepts_))
    out = est.predict(X) if Estimator is BPRegressor else est.predict_proba(X)
    assert out.dtype == np.float64


# ---------------------------------------------------------------------------
# Fitted attributes, parameters
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_fitted_attributes(Estimator, solver):
    kwargs = {"n_classes": 3} if Estimator is BPClassifier else {}
    X, y = _data(Estimator, **kwargs)
    hidden = (5, 4)
    est = _fit(_small(Estimator, solver=solver, hidden_layer_sizes=hidden), X, y)
    n_outputs = 3 if Estimator is BPClassifier else 1
    units = [X.shape[1], *hidden, n_outputs]

    assert isinstance(est.coefs_, list) and isinstance(est.intercepts_, list)
    assert [W.shape for W in est.coefs_] == list(zip(units[:-1], units[1:]))
    assert [b.shape for b in est.intercepts_] == [(n,) for n in units[1:]]
    assert all(isinstance(W, np.ndarray) for W in (*est.coefs_, *est.intercepts_))
    assert isinstance(est.n_layers_, Integral) and est.n_layers_ == len(units)
    assert isinstance(est.n_outputs_, Integral) and est.n_outputs_ == n_outputs
    expected_out = "softmax" if Estimator is BPClassifier else "identity"
    assert est.out_activation_ == expected_out
    assert isinstance(est.loss_, Real) and np.isfinite(est.loss_)
    assert isinstance(est.loss_curve_, list) and len(est.loss_curve_) > 0
    assert all(isinstance(v, Real) for v in est.loss_curve_)
    assert isinstance(est.best_loss_, Real)
    assert est.best_loss_ <= min(est.loss_curve_) + 1e-12
    assert isinstance(est.n_iter_, Integral) and 1 <= est.n_iter_ <= est.max_iter
    assert isinstance(est.t_, Integral)
    assert isinstance(est.n_features_in_, Integral)
    assert est.n_features_in_ == X.shape[1]
    assert not hasattr(est, "feature_names_in_")
    assert est.validation_scores_ is None
    assert est.best_validation_score_ is None
    if solver != "lbfgs":
        assert len(est.loss_curve_) == est.n_iter_
        assert est.loss_ == est.loss_curve_[-1]
        assert est.t_ == est.n_iter_ * X.shape[0]
    if Estimator is BPClassifier:
        assert isinstance(est.classes_, np.ndarray)
        np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    else:
        assert not hasattr(est, "classes_")

    # The same attributes as scikit-learn's MLP, with compatible types.
    Mlp = MLPClassifier if Estimator is BPClassifier else MLPRegressor
    mlp = _fit(
        Mlp(hidden_layer_sizes=hidden, solver=solver, max_iter=5, random_state=0),
        X,
        y,
    )
    public = {
        name for name in vars(mlp) if name.endswith("_") and not name.startswith("_")
    }
    for name in public:
        assert hasattr(est, name), name
        if name in ("coefs_", "intercepts_"):
            continue
        mine, theirs = getattr(est, name), getattr(mlp, name)
        if isinstance(theirs, Integral):
            assert isinstance(mine, Integral), name
        elif isinstance(theirs, Real):
            assert isinstance(mine, Real), name
        elif isinstance(theirs, (str, np.ndarray, list, type(None))):
            assert isinstance(mine, type(theirs)), name


def test_early_stopping_attributes(Estimator):
    X, y = _data(Estimator, n_samples=80)
    est = _fit(_small(Estimator, early_stopping=True, max_iter=20), X, y)
    assert est.best_loss_ is None
    assert isinstance(est.validation_scores_, list)
    assert len(est.validation_scores_) == est.n_iter_
    assert isinstance(est.best_validation_score_, Real)
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_feature_names_in_with_pandas(Estimator):
    pd = pytest.importorskip("pandas")
    X, y = _data(Estimator)
    columns = [f"feature_{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns)
    est = _fit(_small(Estimator), df, pd.Series(y))
    assert isinstance(est.feature_names_in_, np.ndarray)
    assert est.feature_names_in_.dtype == object
    np.testing.assert_array_equal(est.feature_names_in_, columns)
    assert est.n_features_in_ == len(columns)
    # Same predictions from the frame and from its values (with sklearn's
    # warning about the missing names for the latter).
    from_frame = est.predict(df)
    with pytest.warns(UserWarning, match="feature names"):
        from_array = est.predict(X)
    np.testing.assert_array_equal(from_frame, from_array)
    # Columns in another order are refused, as by every sklearn estimator.
    with pytest.raises(ValueError, match="feature names"):
        est.predict(df[columns[::-1]])
    # Refit on an array forgets the names.
    _fit(est, X, y)
    assert not hasattr(est, "feature_names_in_")


@pytest.mark.parametrize(
    "Estimator, Mlp", [(BPRegressor, MLPRegressor), (BPClassifier, MLPClassifier)]
)
def test_params_and_defaults_equal_sklearn(Estimator, Mlp):
    mine, theirs = Estimator().get_params(), Mlp().get_params()
    shared = set(mine) & set(theirs)
    assert set(theirs) <= set(mine), set(theirs) - set(mine)
    assert len(shared) >= 23
    for name in sorted(shared):
        assert mine[name] == theirs[name], (name, mine[name], theirs[name])
        assert type(mine[name]) is type(theirs[name]), name
    # The same signature: names, order, positional vs keyword-only; skbp's
    # own parameters (if any) come after sklearn's, keyword-only.
    sig = [(p.name, p.kind) for p in inspect.signature(Estimator).parameters.values()]
    mlp_sig = [(p.name, p.kind) for p in inspect.signature(Mlp).parameters.values()]
    assert sig[: len(mlp_sig)] == mlp_sig
    extra = sig[len(mlp_sig) :]
    assert all(kind is inspect.Parameter.KEYWORD_ONLY for _, kind in extra), extra
    # And set_params / get_params round trip.
    est = Estimator().set_params(alpha=0.5, hidden_layer_sizes=(3, 2))
    assert est.get_params()["alpha"] == 0.5
    assert est.get_params()["hidden_layer_sizes"] == (3, 2)


# ---------------------------------------------------------------------------
# Threads and reproducibility
# ---------------------------------------------------------------------------
def test_predict_is_thread_safe(Estimator):
    X, y = _data(Estimator, n_samples=60)
    est = _fit(_small(Estimator, hidden_layer_sizes=(32, 16), max_iter=5), X, y)
    rng = np.random.RandomState(0)
    inputs = [rng.randn(500 + 37 * i, X.shape[1]) for i in range(8)]
    methods = ["predict"] + (["predict_proba"] if Estimator is BPClassifier else [])
    expected = [[getattr(est, m)(Xi) for m in methods] for Xi in inputs]

    def work(i):
        return [[getattr(est, m)(inputs[i]) for m in methods] for _ in range(10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    for i, repeats in enumerate(results):
        for outputs in repeats:
            for got, want in zip(outputs, expected[i]):
                np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("solver", SOLVERS)
def test_same_random_state_same_weights(Estimator, solver):
    X, y = _data(Estimator)
    first = _fit(_small(Estimator, solver=solver, random_state=42), X, y)
    second = _fit(_small(Estimator, solver=solver, random_state=42), X, y)
    _assert_same_weights(first, second)
    assert first.loss_curve_ == second.loss_curve_
    assert first.n_iter_ == second.n_iter_
    # Refitting the same object is also reproducible.
    weights = [W.copy() for W in first.coefs_]
    _fit(first, X, y)
    for W, W0 in zip(first.coefs_, weights):
        np.testing.assert_array_equal(W, W0)
    # A RandomState instance with the same seed gives the same network too.
    third = _fit(
        _small(Estimator, solver=solver, random_state=np.random.RandomState(42)), X, y
    )
    _assert_same_weights(first, third)
    # Another seed, another network.
    other = _fit(_small(Estimator, solver=solver, random_state=7), X, y)
    assert not np.array_equal(other.coefs_[0], first.coefs_[0])
