"""Parity with scikit-learn's MLP tests (issue 3): warm_start.

The list of ported tests is in ``test_parity_fit.py``.
"""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skbp import BPClassifier, BPRegressor

X_iris, y_iris = load_iris(return_X_y=True)

SKLEARN = {BPClassifier: MLPClassifier, BPRegressor: MLPRegressor}


def assert_same_weights(a, b, atol=1e-10):
    for ours, theirs in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(ours, theirs, rtol=0, atol=atol)


# -- scikit-learn's tests ----------------------------------------------------
def test_warm_start():
    X = X_iris
    y = y_iris

    y_2classes = np.array([0] * 75 + [1] * 75)
    y_3classes = np.array([0] * 40 + [1] * 40 + [2] * 70)
    y_3classes_alt = np.array([0] * 50 + [1] * 50 + [3] * 50)
    y_4classes = np.array([0] * 37 + [1] * 37 + [2] * 38 + [3] * 38)
    y_5classes = np.array([0] * 30 + [1] * 30 + [2] * 30 + [3] * 30 + [4] * 30)

    # No error raised: the same classes (also in other proportions).
    params = dict(
        hidden_layer_sizes=2, solver="lbfgs", warm_start=True, random_state=42, tol=1e-2
    )
    clf = BPClassifier(**params).fit(X, y)
    clf.fit(X, y)
    clf.fit(X, y_3classes)

    for y_i in (y_2classes, y_3classes_alt, y_4classes, y_5classes):
        clf = BPClassifier(**params).fit(X, y)
        message = (
            "warm_start can only be used where `y` has the same "
            "classes as in the previous call to fit."
            f" Previously got [0 1 2], `y` has {np.unique(y_i)}"
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            clf.fit(X, y_i)


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_warm_start_full_iteration(Estimator):
    # A warm-started fit runs max_iter epochs of its own.
    max_iter = 3
    clf = Estimator(
        hidden_layer_sizes=2, solver="sgd", warm_start=True, max_iter=max_iter
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_iris, y_iris)
        assert max_iter == clf.n_iter_
        clf.fit(X_iris, y_iris)
        assert max_iter == clf.n_iter_
    # max_iter counts per call; the loss curve spans both.
    assert len(clf.loss_curve_) == 2 * max_iter
    assert clf.t_ == 2 * max_iter * X_iris.shape[0]


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_mlp_warm_start_with_early_stopping(Estimator):
    mlp = Estimator(max_iter=10, random_state=0, warm_start=True, early_stopping=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X_iris, y_iris)
        n_validation_scores = len(mlp.validation_scores_)
        mlp.set_params(max_iter=20)
        mlp.fit(X_iris, y_iris)
    assert len(mlp.validation_scores_) > n_validation_scores


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_mlp_warm_start_no_convergence(Estimator, solver):
    # Each warm-started fit stops at its max_iter.
    model = Estimator(
        solver=solver,
        warm_start=True,
        early_stopping=False,
        max_iter=10,
        n_iter_no_change=np.inf,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X_iris, y_iris)
    assert model.n_iter_ == 10

    model.set_params(max_iter=20)
    with pytest.warns(ConvergenceWarning):
        model.fit(X_iris, y_iris)
    assert model.n_iter_ == 20


# -- Behaviour asked for by issue 3 ------------------------------------------
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_warm_start_continues_like_sklearn(Estimator, solver):
    # Every warm-started fit starts from the weights of the previous one.
    params = dict(
        solver=solver,
        hidden_layer_sizes=4,
        warm_start=True,
        max_iter=3,
        random_state=0,
    )
    ours, theirs = Estimator(**params), SKLEARN[Estimator](**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            ours.fit(X_iris, y_iris)
            theirs.fit(X_iris, y_iris)
            assert ours.n_iter_ == theirs.n_iter_
            assert_same_weights(ours, theirs)
    if solver != "lbfgs":
        assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_warm_start_starts_from_fitted_weights(solver):
    # A warm fit of k iterations after one of k: not a fresh fit of k.
    params = dict(solver=solver, hidden_layer_sizes=4, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = BPRegressor(warm_start=True, **params).fit(X_iris, y_iris)
        first = [W.copy() for W in warm.coefs_]
        warm.fit(X_iris, y_iris)
        cold = BPRegressor(**params).fit(X_iris, y_iris)
        cold.fit(X_iris, y_iris)  # no warm start: refits from scratch
    assert_allclose(cold.coefs_[0], first[0])
    assert not np.allclose(warm.coefs_[0], first[0])
    assert warm.score(X_iris, y_iris) > cold.score(X_iris, y_iris)


def test_warm_start_changed_classes_sgd():
    clf = BPClassifier(solver="sgd", warm_start=True, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_iris, y_iris)
    with pytest.raises(ValueError, match="warm_start can only be used where"):
        clf.fit(X_iris, np.where(y_iris == 2, 1, y_iris))
    assert_array_equal(clf.classes_, [0, 1, 2])


def test_warm_start_changed_features():
    reg = BPRegressor(solver="lbfgs", warm_start=True, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_iris, y_iris)
    with pytest.raises(ValueError, match="features"):
        reg.fit(X_iris[:, :3], y_iris)
