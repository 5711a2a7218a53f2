"""Parity with scikit-learn's MLP tests (issue 3): partial_fit.

The list of ported tests is in ``test_parity_fit.py``.
"""

import re
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    load_iris,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skbp import BPClassifier, BPRegressor

from mlp_datasets import (
    X_digits_multi,
    X_reg,
    classification_datasets,
    y_digits_multi,
    y_reg,
)

X_iris, y_iris = load_iris(return_X_y=True)


def assert_same_weights(a, b, atol=1e-10):
    assert len(a.coefs_) == len(b.coefs_)
    for ours, theirs in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(ours, theirs, rtol=0, atol=atol)


# -- scikit-learn's tests ----------------------------------------------------
def test_partial_fit_classes_error():
    # Passing other classes to a later partial_fit is an error.
    X = [[3, 2]]
    y = [0]
    clf = BPClassifier(solver="sgd")
    clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="is not the same as on"):
        clf.partial_fit(X, y, classes=[1, 2])


@pytest.mark.parametrize("X,y", classification_datasets, ids=["multi", "binary"])
def test_partial_fit_classification(X, y):
    # 100 partial_fit calls give fit's predictions (binary and multiclass).
    mlp = BPClassifier(
        solver="sgd",
        max_iter=100,
        random_state=1,
        tol=0,
        alpha=1e-5,
        learning_rate_init=0.2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)
    pred1 = mlp.predict(X)

    mlp_partial = BPClassifier(
        solver="sgd", random_state=1, alpha=1e-5, learning_rate_init=0.2
    )
    for _ in range(100):
        mlp_partial.partial_fit(X, y, classes=np.unique(y))
    pred2 = mlp_partial.predict(X)
    assert_array_equal(pred1, pred2)
    assert mlp_partial.score(X, y) > 0.95
    # One batch holds every row, so only the order of a sum differs.
    assert_same_weights(mlp, mlp_partial, atol=1e-8)


def test_partial_fit_unseen_classes():
    # Classes announced on the first call but only seen later are fine.
    clf = BPClassifier(random_state=0)
    clf.partial_fit([[1], [2], [3]], ["a", "b", "c"], classes=["a", "b", "c", "d"])
    clf.partial_fit([[4]], ["d"])
    assert clf.score([[1], [2], [3], [4]], ["a", "b", "c", "d"]) > 0
    assert_array_equal(clf.classes_, ["a", "b", "c", "d"])


@pytest.mark.parametrize("momentum", [0, 0.9])
def test_partial_fit_regression(momentum):
    # 100 full-batch partial_fit calls give fit's predictions.
    X, y = X_reg, y_reg
    mlp = BPRegressor(
        solver="sgd",
        max_iter=100,
        activation="relu",
        random_state=1,
        learning_rate_init=0.01,
        batch_size=X.shape[0],
        momentum=momentum,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)
    pred1 = mlp.predict(X)

    mlp = BPRegressor(
        solver="sgd",
        activation="relu",
        learning_rate_init=0.01,
        random_state=1,
        batch_size=X.shape[0],
        momentum=momentum,
    )
    for _ in range(100):
        mlp.partial_fit(X, y)
    pred2 = mlp.predict(X)
    assert_allclose(pred1, pred2)
    assert mlp.score(X, y) > 0.65


def test_partial_fit_errors():
    X = [[3, 2], [1, 6]]
    y = [1, 0]

    # classes that do not hold y's labels
    with pytest.raises(ValueError):
        BPClassifier(solver="sgd").partial_fit(X, y, classes=[2])

    # lbfgs has no partial_fit
    assert not hasattr(BPClassifier(solver="lbfgs"), "partial_fit")


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_mlp_partial_fit_after_fit(Estimator):
    # partial_fit after an early-stopping fit says early stopping is the issue.
    mlp = Estimator(early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X_iris, y_iris)

    msg = "partial_fit does not support early_stopping=True"
    with pytest.raises(ValueError, match=msg):
        mlp.partial_fit(X_iris, y_iris)


def test_mlp_loading_from_joblib_partial_fit(tmp_path):
    # A model loaded with joblib goes on learning with partial_fit.
    pre_trained_estimator = BPRegressor(
        hidden_layer_sizes=(42,), random_state=42, learning_rate_init=0.01, max_iter=200
    )
    features, target = [[2]], [4]
    pre_trained_estimator.fit(features, target)

    pickled_file = tmp_path / "mlp.pkl"
    joblib.dump(pre_trained_estimator, pickled_file)
    load_estimator = joblib.load(pickled_file)

    fine_tune_features, fine_tune_target = [[2]], [1]
    for _ in range(200):
        load_estimator.partial_fit(fine_tune_features, fine_tune_target)

    predicted_value = load_estimator.predict(fine_tune_features)
    assert_allclose(predicted_value, fine_tune_target, rtol=1e-4)


# -- Behaviour asked for by issue 3 ------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("X,y", classification_datasets, ids=["multi", "binary"])
def test_partial_fit_classifier_matches_sklearn(solver, X, y):
    # classes= on the first call; each call is one epoch, as in sklearn.
    params = dict(solver=solver, hidden_layer_sizes=6, batch_size=32, random_state=0)
    bp, mlp = BPClassifier(**params), MLPClassifier(**params)
    classes = np.unique(y)
    for start in range(0, 200, 50):
        rows = slice(start, start + 50)
        bp.partial_fit(X[rows], y[rows], classes=classes if start == 0 else None)
        mlp.partial_fit(X[rows], y[rows], classes=classes if start == 0 else None)
        assert bp.n_iter_ == mlp.n_iter_ == 1
        assert bp.t_ == mlp.t_ == start + 50
        assert_same_weights(bp, mlp)
    assert_array_equal(bp.classes_, classes)
    assert_allclose(bp.loss_curve_, mlp.loss_curve_, rtol=1e-10)
    assert_allclose(bp.predict_proba(X), mlp.predict_proba(X), atol=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_regressor_and_multilabel_match_sklearn(solver):
    X_ml, y_ml = make_multilabel_classification(n_samples=60, random_state=0)
    params = dict(solver=solver, hidden_layer_sizes=6, batch_size=16, random_state=0)
    bp, mlp = BPRegressor(**params), MLPRegressor(**params)
    clf_bp, clf_mlp = BPClassifier(**params), MLPClassifier(**params)
    for i in range(3):
        bp.partial_fit(X_reg, y_reg)
        mlp.partial_fit(X_reg, y_reg)
        # multilabel: the classes are y's columns, but the first call still
        # needs classes= (as in sklearn)
        classes = np.arange(y_ml.shape[1]) if i == 0 else None
        clf_bp.partial_fit(X_ml, y_ml, classes=classes)
        clf_mlp.partial_fit(X_ml, y_ml, classes=classes)
    assert_same_weights(bp, mlp)
    assert_same_weights(clf_bp, clf_mlp)
    assert_array_equal(clf_bp.classes_, np.arange(y_ml.shape[1]))


def test_partial_fit_needs_classes_on_first_call():
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        BPClassifier(solver="sgd").partial_fit([[3, 2], [1, 6]], [1, 0])


def test_partial_fit_unseen_class_error():
    clf = BPClassifier(solver="sgd", random_state=0)
    clf.partial_fit([[3, 2], [1, 6]], [1, 0], classes=[0, 1])
    msg = re.escape("`y` has classes not in `self.classes_`")
    with pytest.raises(ValueError, match=msg):
        clf.partial_fit([[3, 2], [1, 6]], [1, 2])
    # the failed call changed nothing
    assert_array_equal(clf.classes_, [0, 1])
    # the same classes again are fine
    clf.partial_fit([[3, 2]], [1], classes=[0, 1])


def test_partial_fit_after_fit_continues_from_fitted_weights():
    params = dict(solver="sgd", hidden_layer_sizes=5, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bp = BPClassifier(**params).fit(X_digits_multi, y_digits_multi)
        mlp = MLPClassifier(**params).fit(X_digits_multi, y_digits_multi)
    before = [W.copy() for W in bp.coefs_]
    bp.partial_fit(X_digits_multi, y_digits_multi)
    mlp.partial_fit(X_digits_multi, y_digits_multi)
    assert not np.allclose(before[0], bp.coefs_[0])
    assert len(bp.loss_curve_) == 6
    assert bp.t_ == 6 * 200
    assert_same_weights(bp, mlp)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_partial_fit_equals_fit(solver, learning_rate, Estimator):
    # n partial_fit calls == fit(max_iter=n) with the same random_state, with
    # mini-batches. shuffle=False: fit draws a new order every epoch from one
    # generator while each partial_fit call restarts it from random_state (as
    # in sklearn), so only unshuffled passes are the same passes.
    X, y = (X_digits_multi, y_digits_multi)
    if Estimator is BPRegressor:
        X, y = X_reg, y_reg
    n_passes = 8
    params = dict(
        solver=solver,
        learning_rate=learning_rate,
        hidden_layer_sizes=7,
        batch_size=30,
        shuffle=False,
        random_state=3,
        tol=0.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = Estimator(max_iter=n_passes, **params).fit(X, y)
    partial = Estimator(**params)
    for _ in range(n_passes):
        if Estimator is BPClassifier:
            partial.partial_fit(X, y, classes=np.unique(y))
        else:
            partial.partial_fit(X, y)
    assert partial.t_ == fitted.t_
    assert_allclose(partial.loss_curve_, fitted.loss_curve_, rtol=1e-12)
    assert_same_weights(partial, fitted, atol=1e-12)
    assert_array_equal(partial.predict(X), fitted.predict(X))


def test_no_partial_fit_for_lbfgs_classifier():
    # As in scikit-learn: MLPClassifier hides partial_fit for lbfgs.
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    est = BPClassifier(solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
        est.partial_fit([[3, 2], [1, 6]], [1, 0])

    # It follows the solver parameter, also on a fitted estimator.
    est = BPClassifier(solver="sgd", max_iter=2)
    assert hasattr(est, "partial_fit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit([[3, 2], [1, 6]], [1, 0])
    est.set_params(solver="lbfgs")
    assert not hasattr(est, "partial_fit")


def test_lbfgs_partial_fit_of_the_regressor_matches_sklearn():
    # MLPRegressor.partial_fit with lbfgs runs L-BFGS again from the current
    # weights (its available_if never hides it); skbp's does the same.
    params = dict(solver="lbfgs", hidden_layer_sizes=10, max_iter=15, random_state=1)
    ours, theirs = BPRegressor(**params), MLPRegressor(**params)
    for _ in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours.partial_fit(X_reg, y_reg)
            theirs.partial_fit(X_reg, y_reg)
        assert ours.n_iter_ == theirs.n_iter_
        assert_allclose(ours.loss_, theirs.loss_, rtol=1e-8)
        assert_same_weights(ours, theirs, atol=1e-6)
    # Each call continued from the last: the loss went down call after call.
    one_call = BPRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one_call.partial_fit(X_reg, y_reg)
    assert ours.loss_ < one_call.loss_


def test_lbfgs_partial_fit_serves_incremental_learning_curves():
    # learning_curve(exploit_incremental_learning=True) calls partial_fit:
    # it raised AttributeError before skbp matched scikit-learn.
    from sklearn.model_selection import learning_curve

    est = BPRegressor(
        solver="lbfgs", hidden_layer_sizes=10, max_iter=50, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sizes, train, test = learning_curve(
            est,
            X_reg,
            y_reg,
            cv=3,
            train_sizes=[0.5, 1.0],
            exploit_incremental_learning=True,
        )
    assert train.shape == test.shape == (2, 3)
    assert np.all(np.isfinite(test))


def test_joblib_classifier_partial_fit(tmp_path):
    # A classifier loaded from joblib continues exactly like the original.
    params = dict(solver="adam", hidden_layer_sizes=5, random_state=0)
    clf = BPClassifier(**params)
    clf.partial_fit(X_iris, y_iris, classes=[0, 1, 2])
    path = tmp_path / "clf.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    for _ in range(3):
        clf.partial_fit(X_iris, y_iris)
        loaded.partial_fit(X_iris, y_iris)
    assert_same_weights(clf, loaded, atol=0)
    assert_array_equal(loaded.predict(X_iris), clf.predict(X_iris))
