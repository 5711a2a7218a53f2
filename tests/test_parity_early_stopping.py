"""Parity with scikit-learn's MLP tests (issue 3): early stopping.

The list of ported tests is in ``test_parity_fit.py``.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    load_digits,
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import MinMaxScaler

from skbp import BPClassifier, BPRegressor

X_digits, y_digits = load_digits(n_class=2, return_X_y=True)
X_digits_binary = MinMaxScaler().fit_transform(X_digits[:200])
y_digits_binary = y_digits[:200]

X_iris, y_iris = load_iris(return_X_y=True)

SKLEARN = {BPClassifier: MLPClassifier, BPRegressor: MLPRegressor}


def fit_quietly(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


# -- scikit-learn's tests ----------------------------------------------------
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_early_stopping(Estimator):
    X = X_digits_binary[:100]
    y = y_digits_binary[:100]
    tol = 0.2
    # random_state fixed here (sklearn leaves it None)
    mlp = Estimator(
        tol=tol, max_iter=3000, solver="sgd", early_stopping=True, random_state=0
    )
    mlp.fit(X, y)
    assert mlp.max_iter > mlp.n_iter_

    assert mlp.best_loss_ is None
    assert isinstance(mlp.validation_scores_, list)

    valid_scores = mlp.validation_scores_
    best_valid_score = mlp.best_validation_score_
    assert max(valid_scores) == best_valid_score
    assert best_valid_score + tol > valid_scores[-2]
    assert best_valid_score + tol > valid_scores[-1]

    # Without early stopping the validation attributes are None.
    mlp = Estimator(
        tol=tol, max_iter=3000, solver="sgd", early_stopping=False, random_state=0
    )
    mlp.fit(X, y)
    assert mlp.validation_scores_ is None
    assert mlp.best_validation_score_ is None
    assert mlp.best_loss_ is not None


def test_early_stopping_stratified():
    # The split for early stopping is stratified: a class of one member fails.
    X = [[1, 2], [2, 3], [3, 4], [4, 5]]
    y = [0, 0, 0, 1]

    mlp = BPClassifier(early_stopping=True)
    # The wording is scikit-learn's (train_test_split's), and changed between
    # versions: "class in y has" (1.7) and "classes in y have" (1.8 on).
    with pytest.raises(
        ValueError,
        match=r"least populated class(es)? in y (has|have) only 1 member",
    ):
        mlp.fit(X, y)


def test_mlp_early_stopping_string_labels():
    # String (object) labels work with early stopping.
    X, y = make_classification(
        n_samples=200,
        n_features=10,
        n_classes=3,
        n_informative=5,
        random_state=42,
    )
    labels = np.array(["class_a", "class_b", "class_c"], dtype=object)
    y = labels[y]

    mlp = BPClassifier(early_stopping=True, max_iter=50, random_state=42)
    fit_quietly(mlp, X, y)

    assert mlp.validation_scores_ is not None
    assert len(mlp.validation_scores_) == mlp.n_iter_
    assert np.isfinite(mlp.validation_scores_).all()
    assert set(mlp.predict(X)) <= set(labels)


def test_mlp_diverging_loss():
    # A diverging network records NaN validation scores instead of crashing.
    mlp = BPRegressor(
        hidden_layer_sizes=100,
        activation="identity",
        solver="sgd",
        alpha=0.0001,
        learning_rate="constant",
        learning_rate_init=1,
        shuffle=True,
        max_iter=20,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=0,
    )
    with warnings.catch_warnings():
        # RuntimeWarning: overflow encountered in matmul
        # ConvergenceWarning: Stochastic Optimizer: Maximum iteration
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X_iris, y_iris)

    # In python, float("nan") != float("nan")
    assert str(mlp.validation_scores_[-1]) == str(np.nan)
    assert isinstance(mlp.validation_scores_[-1], float)
    # the weights of the best (finite) validation score are the model
    assert np.isfinite(mlp.best_validation_score_)
    assert np.isfinite(mlp.predict(X_iris)).all()


def test_minimum_input_sample_size():
    # A clear error when the validation set is too small.
    X, y = make_regression(n_samples=2, n_features=5, random_state=0)
    model = BPRegressor(early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="The validation set is too small"):
        model.fit(X, y)


# -- Behaviour asked for by issue 3 ------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize(
    "Estimator,X,y",
    [
        (BPClassifier, X_digits_binary, y_digits_binary),
        (BPRegressor, X_iris, y_iris),
    ],
    ids=["binary", "regression"],
)
def test_early_stopping_matches_sklearn(solver, Estimator, X, y):
    # Same split, same validation scores, same restored weights. (Multiclass
    # differs on purpose: skbp stratifies its split, sklearn does not.)
    params = dict(
        solver=solver,
        hidden_layer_sizes=5,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        max_iter=60,
        random_state=0,
    )
    ours = fit_quietly(Estimator(**params), X, y)
    theirs = fit_quietly(SKLEARN[Estimator](**params), X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-12)
    assert ours.best_validation_score_ == pytest.approx(
        theirs.best_validation_score_, rel=1e-12
    )
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert_allclose(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_early_stopping_restores_best_weights(Estimator):
    # The model is the network of the best validation epoch k, i.e. the same
    # as a fit that stops after k epochs, even though training went on.
    X, y = X_iris, y_iris
    params = dict(
        solver="sgd",
        hidden_layer_sizes=6,
        early_stopping=True,
        validation_fraction=0.3,
        learning_rate_init=0.05,
        n_iter_no_change=5,
        max_iter=200,
        random_state=1,
    )
    full = fit_quietly(Estimator(**params), X, y)
    scores = full.validation_scores_
    assert len(scores) == full.n_iter_
    assert full.best_validation_score_ == max(scores)
    best_epoch = int(np.argmax(scores)) + 1
    assert best_epoch < full.n_iter_  # it trained past the best epoch

    truncated = fit_quietly(Estimator(**{**params, "max_iter": best_epoch}), X, y)
    assert truncated.validation_scores_ == scores[:best_epoch]
    for a, b in zip(
        full.coefs_ + full.intercepts_, truncated.coefs_ + truncated.intercepts_
    ):
        assert_array_equal(a, b)


def test_early_stopping_stratifies_multiclass():
    # Deliberate difference: skbp stratifies the multiclass split too (sklearn
    # only binary), so a class of one member is an error here.
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array([0] * 10 + [1] * 9 + [2])
    with pytest.raises(ValueError, match="least populated class"):
        BPClassifier(early_stopping=True).fit(X, y)
    fit_quietly(MLPClassifier(early_stopping=True, max_iter=5), X, y)


def test_early_stopping_not_stratified_for_multilabel():
    # Multilabel rows are split at random: a label of one member is fine.
    X, Y = make_multilabel_classification(n_samples=40, n_classes=3, random_state=0)
    Y[:, 2] = 0
    Y[0, 2] = 1
    clf = fit_quietly(
        BPClassifier(early_stopping=True, max_iter=5, random_state=0), X, Y
    )
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.predict(X).shape == Y.shape


def test_validation_fraction_too_small_for_data():
    # Fewer than 2 validation rows (ceil(0.1 * 10) = 1) is refused, with advice.
    X, y = make_regression(n_samples=10, n_features=3, random_state=0)
    with pytest.raises(ValueError, match="Increase 'validation_fraction'"):
        BPRegressor(early_stopping=True, validation_fraction=0.1).fit(X, y)
    fit_quietly(
        BPRegressor(early_stopping=True, validation_fraction=0.2, max_iter=3), X, y
    )


def test_lbfgs_ignores_early_stopping():
    # lbfgs has no epochs: early_stopping is ignored, as in sklearn.
    reg = fit_quietly(
        BPRegressor(solver="lbfgs", early_stopping=True, max_iter=20, random_state=0),
        X_iris,
        y_iris,
    )
    assert reg.validation_scores_ is None
    assert reg.best_validation_score_ is None
