"""Parity with scikit-learn's MLP tests (issue 3): what the estimators accept.

Sparse input, float32, pandas, string and object labels. The list of ported
tests is in ``test_parity_fit.py``.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_almost_equal, assert_array_equal
from sklearn.datasets import load_digits, load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skbp import BPClassifier, BPRegressor

# Unscaled two-class digits (all 360 rows), as sklearn's dtype tests use.
X_digits, y_digits = load_digits(n_class=2, return_X_y=True)
X_digits_binary = MinMaxScaler().fit_transform(X_digits[:200])
y_digits_binary = y_digits[:200]

SPARSE_CONTAINERS = [sp.csr_matrix, sp.csr_array, sp.csc_matrix, sp.csc_array]

SKLEARN = {BPClassifier: MLPClassifier, BPRegressor: MLPRegressor}


def fit_quietly(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


def assert_same_weights(a, b, atol):
    for ours, theirs in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(ours, theirs, rtol=0, atol=atol)


# -- scikit-learn's tests ----------------------------------------------------
@pytest.mark.parametrize("sparse_container", SPARSE_CONTAINERS)
def test_sparse_matrices(sparse_container):
    # Sparse and dense input give the same results.
    X = X_digits_binary[:50]
    y = y_digits_binary[:50]
    X_sparse = sparse_container(X)
    mlp = BPClassifier(solver="lbfgs", hidden_layer_sizes=15, random_state=1)
    mlp.fit(X, y)
    pred1 = mlp.predict(X)
    mlp.fit(X_sparse, y)
    pred2 = mlp.predict(X_sparse)
    assert_almost_equal(pred1, pred2)
    pred1 = mlp.predict(X)
    pred2 = mlp.predict(X_sparse)
    assert_array_equal(pred1, pred2)


def test_mlp_classifier_dtypes_casting():
    # float32 and float64 fits predict alike.
    params = dict(
        alpha=1e-5, hidden_layer_sizes=(5, 3), random_state=1, max_iter=100, tol=1e-1
    )
    mlp_64 = BPClassifier(**params)
    mlp_64.fit(X_digits[:300], y_digits[:300])
    pred_64 = mlp_64.predict(X_digits[300:])
    proba_64 = mlp_64.predict_proba(X_digits[300:])

    mlp_32 = BPClassifier(**params)
    mlp_32.fit(X_digits[:300].astype(np.float32), y_digits[:300])
    pred_32 = mlp_32.predict(X_digits[300:].astype(np.float32))
    proba_32 = mlp_32.predict_proba(X_digits[300:].astype(np.float32))

    assert_array_equal(pred_64, pred_32)
    assert_allclose(proba_64, proba_32, rtol=1e-02)


def test_mlp_regressor_dtypes_casting():
    params = dict(
        alpha=1e-5, hidden_layer_sizes=(5, 3), random_state=1, max_iter=150, tol=1e-3
    )
    mlp_64 = fit_quietly(BPRegressor(**params), X_digits[:300], y_digits[:300])
    pred_64 = mlp_64.predict(X_digits[300:])

    mlp_32 = fit_quietly(
        BPRegressor(**params), X_digits[:300].astype(np.float32), y_digits[:300]
    )
    pred_32 = mlp_32.predict(X_digits[300:].astype(np.float32))

    assert_allclose(pred_64, pred_32, rtol=5e-04)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_mlp_param_dtypes(dtype, Estimator):
    # The input dtype is the dtype of the weights and of the predictions.
    X, y = X_digits.astype(dtype), y_digits
    mlp = Estimator(
        alpha=1e-5, hidden_layer_sizes=(5, 3), random_state=1, max_iter=50, tol=1e-1
    )
    fit_quietly(mlp, X[:300], y[:300])
    pred = mlp.predict(X[300:])

    assert all(intercept.dtype == dtype for intercept in mlp.intercepts_)
    assert all(coef.dtype == dtype for coef in mlp.coefs_)
    if Estimator == BPRegressor:
        assert pred.dtype == dtype


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_preserve_feature_names(Estimator):
    # Early stopping's validation scoring raises no feature-name warning.
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)

    X = pd.DataFrame(data=rng.randn(10, 2), columns=["colname_a", "colname_b"])
    y = pd.Series(data=np.full(10, 1), name="colname_y")

    model = Estimator(early_stopping=True, validation_fraction=0.2)

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert_array_equal(model.feature_names_in_, ["colname_a", "colname_b"])


# -- Behaviour asked for by issue 3 ------------------------------------------
@pytest.mark.parametrize("sparse_container", SPARSE_CONTAINERS)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_sparse_same_as_dense(sparse_container, solver, Estimator):
    X, y = X_digits_binary[:80], y_digits_binary[:80]
    params = dict(solver=solver, hidden_layer_sizes=6, max_iter=8, random_state=0)
    dense = fit_quietly(Estimator(**params), X, y)
    sparse = fit_quietly(Estimator(**params), sparse_container(X), y)
    assert_same_weights(sparse, dense, atol=1e-10)
    assert_allclose(sparse.predict(sparse_container(X)), dense.predict(X), atol=1e-10)
    if Estimator is BPClassifier:
        assert_allclose(
            sparse.predict_proba(sparse_container(X)),
            dense.predict_proba(X),
            atol=1e-10,
        )


@pytest.mark.parametrize("sparse_container", [sp.csr_matrix, sp.csc_array])
def test_sparse_partial_fit_and_early_stopping(sparse_container):
    X, y = X_digits_binary, y_digits_binary
    params = dict(hidden_layer_sizes=6, random_state=0)
    dense, sparse = BPClassifier(**params), BPClassifier(**params)
    for _ in range(3):
        dense.partial_fit(X, y, classes=[0, 1])
        sparse.partial_fit(sparse_container(X), y, classes=[0, 1])
    assert_same_weights(sparse, dense, atol=1e-12)

    params = dict(early_stopping=True, max_iter=10, **params)
    dense = fit_quietly(BPRegressor(**params), X, y)
    sparse = fit_quietly(BPRegressor(**params), sparse_container(X), y)
    assert_allclose(sparse.validation_scores_, dense.validation_scores_, rtol=1e-12)
    assert_same_weights(sparse, dense, atol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_float32_end_to_end(solver, Estimator):
    # float32 in -> float32 weights (fit and partial_fit) and predictions,
    # close to sklearn's float32 fit and to skbp's own float64 fit.
    X32 = X_digits_binary.astype(np.float32)
    y = y_digits_binary
    params = dict(solver=solver, hidden_layer_sizes=(5, 3), max_iter=20, random_state=1)
    est = fit_quietly(Estimator(**params), X32, y)
    assert all(a.dtype == np.float32 for a in est.coefs_ + est.intercepts_)
    if Estimator is BPRegressor:
        assert est.predict(X32).dtype == np.float32
    else:
        assert est.predict_proba(X32).dtype == np.float32
    assert np.isfinite(est.loss_)

    theirs = fit_quietly(SKLEARN[Estimator](**params), X32, y)
    assert_same_weights(est, theirs, atol=1e-4)

    est64 = fit_quietly(Estimator(**params), X32.astype(np.float64), y)
    assert_same_weights(est, est64, atol=1e-3)
    assert_allclose(est.predict(X32), est64.predict(X32.astype(np.float64)), atol=1e-2)

    if solver != "lbfgs":
        if Estimator is BPClassifier:
            est.partial_fit(X32, y)
        else:
            est.partial_fit(X32, y.astype(np.float32))
        assert all(a.dtype == np.float32 for a in est.coefs_ + est.intercepts_)


def test_float32_predict_of_float64_input():
    # A float32 network predicts float64 input without error.
    X32 = X_digits_binary.astype(np.float32)
    reg = fit_quietly(BPRegressor(max_iter=5, random_state=0), X32, y_digits_binary)
    pred = reg.predict(X_digits_binary)
    assert pred.shape == (X_digits_binary.shape[0],)
    assert_allclose(pred, reg.predict(X32), rtol=1e-4)


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_pandas_feature_names(Estimator):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(X_digits_binary[:, :5], columns=[f"f{i}" for i in range(5)])
    y = pd.Series(y_digits_binary, name="target")
    est = Estimator(early_stopping=True, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        est.predict(X)
        est.score(X, y)
    assert_array_equal(est.feature_names_in_, X.columns)
    assert est.n_features_in_ == 5
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X.to_numpy())
    est_np = fit_quietly(
        Estimator(early_stopping=True, max_iter=5, random_state=0), X.to_numpy(), y
    )
    assert not hasattr(est_np, "feature_names_in_")
    assert_allclose(est_np.coefs_[0], est.coefs_[0])


@pytest.mark.parametrize("dtype", [str, object])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_string_labels(dtype, solver):
    # String and object labels: classes_, predict and predict_proba as sklearn.
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = np.array(["no", "yes", "maybe"], dtype=dtype)[y]
    params = dict(
        solver=solver,
        hidden_layer_sizes=5,
        learning_rate_init=0.05,
        max_iter=30,
        random_state=0,
    )
    ours = fit_quietly(BPClassifier(**params), X, y)
    theirs = fit_quietly(MLPClassifier(**params), X, y)
    assert_array_equal(ours.classes_, ["maybe", "no", "yes"])
    assert ours.classes_.dtype == theirs.classes_.dtype
    pred = ours.predict(X)
    assert pred.dtype == theirs.predict(X).dtype
    assert_array_equal(pred, theirs.predict(X))
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    assert ours.score(X, y) > 0.8


def test_string_labels_binary():
    y = np.where(y_digits_binary == 1, "one", "zero").astype(object)
    clf = BPClassifier(solver="lbfgs", hidden_layer_sizes=5, random_state=0)
    clf.fit(X_digits_binary, y)
    assert_array_equal(clf.classes_, ["one", "zero"])
    assert clf.predict_proba(X_digits_binary).shape == (200, 2)
    assert_array_equal(clf.predict(X_digits_binary), y)


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_column_vector_y_warns(Estimator):
    # A column-vector y is raveled, with sklearn's DataConversionWarning.
    X, y = X_digits_binary[:50], y_digits_binary[:50]
    with pytest.warns(DataConversionWarning):
        fit_quietly(Estimator(solver="lbfgs", max_iter=5), X, y.reshape(-1, 1))


def test_multioutput_regression_shapes():
    X, Y = make_regression(n_samples=60, n_features=4, n_targets=3, random_state=0)
    reg = fit_quietly(BPRegressor(solver="lbfgs", max_iter=20, random_state=0), X, Y)
    assert reg.n_outputs_ == 3
    assert reg.predict(X).shape == (60, 3)
    with pytest.warns(DataConversionWarning):
        reg = fit_quietly(BPRegressor(max_iter=5, random_state=0), X, Y[:, :1])
    assert reg.n_outputs_ == 1
    assert reg.predict(X).shape == (60,)
