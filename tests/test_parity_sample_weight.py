"""Parity with scikit-learn's MLP tests (issue 3): sample_weight.

Weighted fits are compared with fits on modified data: a zero weight drops a
row, an integer weight repeats it. The comparison is exact only where both
fits see the same batches, so those tests use shuffle=False with one batch
holding every row (batch_size="auto" with fewer than 200 rows) or lbfgs. The
list of ported tests is in ``test_parity_fit.py``.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skbp import BPClassifier, BPRegressor

SKLEARN = {BPClassifier: MLPClassifier, BPRegressor: MLPRegressor}

X_clf, y_clf = make_classification(
    n_samples=60, n_features=5, n_informative=3, n_classes=3, random_state=0
)
X_reg, y_reg = make_regression(n_samples=60, n_features=5, noise=5.0, random_state=0)
y_reg /= y_reg.std()

DATA = {BPClassifier: (X_clf, y_clf), BPRegressor: (X_reg, y_reg)}

# Integer weights in 0..3, at least one row of each class kept.
SW = np.random.RandomState(0).randint(0, 4, size=60).astype(float)
SW[:6] = [1, 2, 3, 1, 2, 3]


def fit_quietly(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


def assert_same_weights(a, b, atol=1e-10):
    for ours, theirs in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(ours, theirs, rtol=0, atol=atol)


def params_for(solver, **extra):
    params = dict(
        solver=solver,
        hidden_layer_sizes=6,
        max_iter=15,
        shuffle=False,
        random_state=0,
        tol=0.0,  # same number of epochs whatever the loss values
    )
    if solver == "sgd":
        params["learning_rate_init"] = 0.05
    return {**params, **extra}


# -- scikit-learn's test -------------------------------------------------------
def test_mlp_sample_weight_with_early_stopping():
    # Unit weights give the unweighted fit, also through the validation split.
    X, y = make_regression(
        n_samples=100, n_features=2, n_informative=2, random_state=42
    )
    sw = np.ones_like(y)
    params = dict(
        hidden_layer_sizes=10,
        solver="adam",
        early_stopping=True,
        tol=1e-2,
        learning_rate_init=0.01,
        batch_size=10,
        random_state=42,
    )
    m1 = fit_quietly(BPRegressor(**params), X, y, sample_weight=sw)
    m2 = fit_quietly(BPRegressor(**params), X, y, sample_weight=None)
    assert_allclose(m1.predict(X), m2.predict(X))


# -- Behaviour asked for by issue 3 ------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_zero_weight_drops_rows(solver, Estimator):
    X, y = DATA[Estimator]
    keep = SW > 0
    sw01 = keep.astype(float)
    params = params_for(solver)
    weighted = fit_quietly(Estimator(**params), X, y, sample_weight=sw01)
    dropped = fit_quietly(Estimator(**params), X[keep], y[keep])
    assert_same_weights(weighted, dropped, atol=1e-9)
    assert_allclose(weighted.loss_, dropped.loss_, rtol=1e-9)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_integer_weight_repeats_rows(solver, Estimator):
    X, y = DATA[Estimator]
    reps = SW.astype(int)
    assert reps.sum() < 200  # one batch either way
    params = params_for(solver)
    weighted = fit_quietly(Estimator(**params), X, y, sample_weight=SW)
    repeated = fit_quietly(
        Estimator(**params), np.repeat(X, reps, axis=0), np.repeat(y, reps)
    )
    assert_same_weights(weighted, repeated, atol=1e-9)
    assert_allclose(weighted.loss_, repeated.loss_, rtol=1e-9)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_partial_fit_sample_weight(solver, Estimator):
    # Same rules for partial_fit: zeros drop rows, integers repeat them.
    X, y = DATA[Estimator]
    reps = SW.astype(int)
    keep = reps > 0
    params = params_for(solver)
    extra = {"classes": np.unique(y)} if Estimator is BPClassifier else {}
    weighted, dropped, repeated = (Estimator(**params) for _ in range(3))
    zero_one = Estimator(**params)
    for _ in range(4):
        weighted.partial_fit(X, y, sample_weight=SW, **extra)
        repeated.partial_fit(np.repeat(X, reps, axis=0), np.repeat(y, reps), **extra)
        zero_one.partial_fit(X, y, sample_weight=keep.astype(float), **extra)
        dropped.partial_fit(X[keep], y[keep], **extra)
    assert_same_weights(weighted, repeated, atol=1e-9)
    assert_same_weights(zero_one, dropped, atol=1e-9)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_sample_weight_matches_sklearn(solver, Estimator):
    X, y = DATA[Estimator]
    sw = np.random.RandomState(1).uniform(0.1, 3.0, size=X.shape[0])
    params = params_for(solver, shuffle=True, tol=1e-4)
    ours = fit_quietly(Estimator(**params), X, y, sample_weight=sw)
    theirs = fit_quietly(SKLEARN[Estimator](**params), X, y, sample_weight=sw)
    assert ours.n_iter_ == theirs.n_iter_
    assert_same_weights(ours, theirs, atol=1e-9)
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-9)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_sample_weight_matches_sklearn(solver):
    sw = np.random.RandomState(1).uniform(0.1, 3.0, size=X_clf.shape[0])
    params = dict(solver=solver, hidden_layer_sizes=6, batch_size=16, random_state=0)
    ours, theirs = BPClassifier(**params), MLPClassifier(**params)
    ours_reg, theirs_reg = BPRegressor(**params), MLPRegressor(**params)
    for i in range(3):
        classes = [0, 1, 2] if i == 0 else None
        ours.partial_fit(X_clf, y_clf, sample_weight=sw, classes=classes)
        theirs.partial_fit(X_clf, y_clf, sample_weight=sw, classes=classes)
        ours_reg.partial_fit(X_reg, y_reg, sample_weight=sw)
        theirs_reg.partial_fit(X_reg, y_reg, sample_weight=sw)
    assert_same_weights(ours, theirs)
    assert_same_weights(ours_reg, theirs_reg)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_sample_weight_minibatch_loss_matches_sklearn(solver, Estimator):
    # With mini-batches, sklearn's epoch loss is the mean of the batch losses
    # weighted by the batch *sizes*; the stopping rule (tol, n_iter_no_change)
    # reads that loss, so n_iter_ and the weights depend on it.
    X, y = DATA[Estimator]
    sw = np.random.RandomState(1).randint(1, 5, size=X.shape[0]).astype(float)
    params = dict(
        solver=solver,
        hidden_layer_sizes=6,
        batch_size=10,
        max_iter=30,
        random_state=0,
    )
    ours = fit_quietly(Estimator(**params), X, y, sample_weight=sw)
    theirs = fit_quietly(SKLEARN[Estimator](**params), X, y, sample_weight=sw)
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    assert ours.n_iter_ == theirs.n_iter_
    assert_same_weights(ours, theirs)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_sample_weight_with_early_stopping_matches_sklearn(solver, Estimator):
    # The weights follow their rows into the validation split and weigh the
    # validation score. (Binary classes: sklearn does not stratify multiclass.)
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    if Estimator is BPRegressor:
        y = X @ np.arange(1.0, 6.0) / 5
    sw = np.random.RandomState(2).uniform(0.0, 3.0, size=120)
    params = dict(
        solver=solver,
        hidden_layer_sizes=6,
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=25,
        n_iter_no_change=4,
        random_state=0,
    )
    ours = fit_quietly(Estimator(**params), X, y, sample_weight=sw)
    theirs = fit_quietly(SKLEARN[Estimator](**params), X, y, sample_weight=sw)
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-10)
    assert_same_weights(ours, theirs)

    unweighted = fit_quietly(Estimator(**params), X, y)
    assert not np.allclose(unweighted.validation_scores_, ours.validation_scores_)


def test_sample_weight_early_stopping_zero_weight_rows():
    # Rows of zero weight count nowhere, in training or validation: changing
    # their targets changes nothing. (A regressor: a classifier's split is
    # stratified by the targets, so relabelling would move rows.)
    X, y = X_reg, y_reg
    sw = np.ones(60)
    sw[::7] = 0
    y_noisy = y.copy()
    y_noisy[::7] += 5.0
    params = dict(
        early_stopping=True,
        validation_fraction=0.3,
        batch_size=8,
        max_iter=5,
        random_state=0,
        solver="sgd",
        learning_rate_init=0.01,
    )
    a = fit_quietly(BPRegressor(**params), X, y, sample_weight=sw)
    b = fit_quietly(BPRegressor(**params), X, y_noisy, sample_weight=sw)
    assert_allclose(a.validation_scores_, b.validation_scores_, rtol=1e-12)
    assert_same_weights(a, b, atol=1e-12)
    c = fit_quietly(BPRegressor(**params), X, y_noisy)
    assert not np.allclose(c.coefs_[0], a.coefs_[0])


@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_sample_weight_wrong_length(Estimator):
    X, y = DATA[Estimator]
    with pytest.raises(ValueError, match="sample_weight"):
        Estimator(max_iter=2).fit(X, y, sample_weight=np.ones(X.shape[0] - 1))
