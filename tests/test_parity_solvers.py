"""Parity with scikit-learn's MLP tests (issue 3): solvers and their settings.

shuffle, tol, n_iter_no_change, max_fun, learning-rate schedules, momentum,
verbose; and, for each solver, the weights scikit-learn's MLP reaches from the
same random_state. The list of ported tests is in ``test_parity_fit.py``.
"""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skbp import BPClassifier, BPRegressor

from mlp_datasets import (
    X_digits_binary,
    X_digits_multi,
    X_reg,
    ignore_convergence,
    y_digits_binary,
    y_digits_multi,
    y_reg,
)

ACTIVATION_TYPES = ["identity", "logistic", "tanh", "relu"]


def assert_same_fit(bp, mlp, atol=1e-10):
    """Same weights, iteration count and loss curve as scikit-learn's MLP."""
    assert bp.n_iter_ == mlp.n_iter_
    assert bp.t_ == mlp.t_
    assert_allclose(bp.loss_curve_, mlp.loss_curve_, rtol=1e-9)
    for ours, theirs in zip(bp.coefs_ + bp.intercepts_, mlp.coefs_ + mlp.intercepts_):
        assert ours.dtype == theirs.dtype
        assert_allclose(ours, theirs, rtol=0, atol=atol)


def fit_both(Estimators, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return tuple(Est(**params).fit(X, y) for Est in Estimators)


def replay_no_improvement_count(loss_curve, tol):
    """The training-loss no-improvement counter, recomputed from loss_curve_."""
    best, count = np.inf, 0
    for loss in loss_curve:
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
    return count


# -- scikit-learn's tests ----------------------------------------------------
def test_shuffle():
    # shuffle changes the training (it should); same settings, same weights.
    X, y = make_regression(n_samples=50, n_features=5, n_targets=1, random_state=0)

    params = dict(hidden_layer_sizes=1, max_iter=1, batch_size=1, random_state=0)
    for shuffle in [True, False]:
        mlp1, mlp2 = fit_both(
            [BPRegressor, BPRegressor], X, y, shuffle=shuffle, **params
        )
        assert np.array_equal(mlp1.coefs_[0], mlp2.coefs_[0])

    mlp1, mlp2 = fit_both([BPRegressor, BPRegressor], X, y, shuffle=True, **params)
    mlp3 = fit_both([BPRegressor], X, y, shuffle=False, **params)[0]
    assert not np.array_equal(mlp1.coefs_[0], mlp3.coefs_[0])


@pytest.mark.parametrize("shuffle", [True, False])
def test_shuffle_matches_sklearn(shuffle):
    # Each epoch reshuffles the previous order, as sklearn does.
    X, y = make_regression(n_samples=50, n_features=5, n_targets=1, random_state=0)
    params = dict(hidden_layer_sizes=3, max_iter=5, batch_size=7, random_state=0)
    bp, mlp = fit_both([BPRegressor, MLPRegressor], X, y, shuffle=shuffle, **params)
    assert_same_fit(bp, mlp)


def test_tolerance():
    # tol stops the solver before max_iter once the loss stalls.
    X = [[3, 2], [1, 6]]
    y = [1, 0]
    clf = BPClassifier(tol=0.5, max_iter=3000, solver="sgd", random_state=0)
    clf.fit(X, y)
    assert clf.max_iter > clf.n_iter_
    mlp = MLPClassifier(tol=0.5, max_iter=3000, solver="sgd", random_state=0)
    assert_same_fit(clf, mlp.fit(X, y))


@pytest.mark.parametrize("n_iter_no_change", [2, 5, 10, 50, 100])
def test_n_iter_no_change(n_iter_no_change):
    X = X_digits_binary[:100]
    y = y_digits_binary[:100]
    tol = 0.01
    max_iter = 3000

    clf = BPClassifier(
        tol=tol,
        max_iter=max_iter,
        solver="sgd",
        n_iter_no_change=n_iter_no_change,
        random_state=0,
    )
    clf.fit(X, y)

    # sklearn reads its private _no_improvement_count; replay it from the
    # public loss curve instead: training stopped when it exceeded the limit.
    assert replay_no_improvement_count(clf.loss_curve_, tol) == n_iter_no_change + 1
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert max_iter > clf.n_iter_

    mlp = MLPClassifier(
        tol=tol,
        max_iter=max_iter,
        solver="sgd",
        n_iter_no_change=n_iter_no_change,
        random_state=0,
    )
    assert_same_fit(clf, mlp.fit(X, y))


@ignore_convergence
def test_n_iter_no_change_inf():
    # n_iter_no_change=inf never stops early: training runs to max_iter.
    X = X_digits_binary[:100]
    y = y_digits_binary[:100]
    tol = 1e9  # every epoch counts as "no improvement"
    max_iter = 3000
    clf = BPClassifier(
        tol=tol, max_iter=max_iter, solver="sgd", n_iter_no_change=np.inf
    )
    clf.fit(X, y)

    assert clf.n_iter_ == max_iter
    assert len(clf.loss_curve_) == max_iter
    assert replay_no_improvement_count(clf.loss_curve_, tol) == clf.n_iter_ - 1


@pytest.mark.parametrize(
    "X,y",
    [(X_digits_multi, y_digits_multi), (X_digits_binary, y_digits_binary)],
    ids=["multi", "binary"],
)
@pytest.mark.parametrize("activation", ACTIVATION_TYPES)
def test_lbfgs_classification_maxfun(X, y, activation):
    # max_fun limits lbfgs independently of max_iter.
    max_fun = 10
    mlp = BPClassifier(
        solver="lbfgs",
        hidden_layer_sizes=50,
        max_iter=150,
        max_fun=max_fun,
        shuffle=True,
        random_state=1,
        activation=activation,
    )
    with pytest.warns(ConvergenceWarning):
        mlp.fit(X, y)
    assert max_fun >= mlp.n_iter_


@pytest.mark.parametrize("activation", ACTIVATION_TYPES)
def test_lbfgs_regression_maxfun(activation):
    max_fun = 10
    mlp = BPRegressor(
        solver="lbfgs",
        hidden_layer_sizes=50,
        tol=0.0,
        max_iter=150,
        max_fun=max_fun,
        shuffle=True,
        random_state=1,
        activation=activation,
    )
    with pytest.warns(ConvergenceWarning):
        mlp.fit(X_reg, y_reg)
    assert max_fun >= mlp.n_iter_


@pytest.mark.parametrize("max_fun", [5, 10, 25])
def test_lbfgs_maxfun_matches_sklearn(max_fun):
    params = dict(
        solver="lbfgs",
        hidden_layer_sizes=10,
        tol=0.0,
        max_iter=150,
        max_fun=max_fun,
        random_state=1,
    )
    bp, mlp = fit_both([BPRegressor, MLPRegressor], X_reg, y_reg, **params)
    assert bp.n_iter_ == mlp.n_iter_ <= max_fun
    assert_allclose(bp.loss_, mlp.loss_, rtol=1e-9)


def test_adaptive_learning_rate(capsys):
    # The adaptive schedule divides the rate by 5 on each stall, and stops
    # once it is below 1e-6 (sklearn reads clf._optimizer.learning_rate; the
    # verbose message says the same thing publicly).
    X = [[3, 2], [1, 6]]
    y = [1, 0]
    params = dict(
        tol=0.5, max_iter=3000, solver="sgd", learning_rate="adaptive", random_state=0
    )
    clf = BPClassifier(verbose=True, **params)
    clf.fit(X, y)
    assert clf.max_iter > clf.n_iter_
    out, _ = capsys.readouterr()
    assert "Setting learning rate to 0.000" in out
    assert out.rstrip().endswith("Learning rate too small. Stopping.")
    # 0.001 / 5**5 <= 1e-6: five divisions, then the next stall stops.
    assert out.count("Setting learning rate to") == 5

    assert_same_fit(clf, MLPClassifier(**params).fit(X, y))


@ignore_convergence
@pytest.mark.parametrize("learning_rate", ["invscaling", "constant"])
def test_learning_rate_warmstart(learning_rate):
    # A warm start continues the schedule from the samples seen so far (t_):
    # sklearn checks its private optimizer rate; here t_ and the weights.
    X = [[3, 2], [1, 6], [5, 6], [-2, -4]]
    y = [1, 1, 1, 0]
    params = dict(
        solver="sgd",
        hidden_layer_sizes=4,
        learning_rate=learning_rate,
        max_iter=1,
        power_t=0.25,
        warm_start=True,
        random_state=0,
    )
    bp, mlp = BPClassifier(**params), MLPClassifier(**params)
    for expected_t in (4, 8, 12):
        bp.fit(X, y)
        mlp.fit(X, y)
        assert bp.t_ == expected_t
        assert_same_fit(bp, mlp)


@ignore_convergence
def test_verbose_sgd(capsys):
    X = [[3, 2], [1, 6]]
    y = [1, 0]
    clf = BPClassifier(solver="sgd", max_iter=2, verbose=10, hidden_layer_sizes=2)
    clf.fit(X, y)
    clf.partial_fit(X, y)

    out, _ = capsys.readouterr()
    assert "Iteration" in out


@ignore_convergence
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_verbose_prints_iterations(capsys, solver):
    # One "Iteration N, loss = ..." line per epoch, the same text as sklearn.
    X = [[3, 2], [1, 6]]
    y = [1, 0]
    params = dict(
        solver=solver, max_iter=3, verbose=True, hidden_layer_sizes=2, random_state=0
    )
    clf = BPClassifier(**params).fit(X, y)
    clf.partial_fit(X, y)
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "Iteration 1",
        "Iteration 2",
        "Iteration 3",
        "Iteration 1",
    ]
    for line, loss in zip(lines, clf.loss_curve_):
        assert re.fullmatch(r"Iteration \d+, loss = \d+\.\d{8}", line)
        assert float(line.split("= ")[1]) == pytest.approx(loss, abs=1e-8)

    theirs = MLPClassifier(**params).fit(X, y)
    theirs.partial_fit(X, y)
    sklearn_out, _ = capsys.readouterr()
    assert out == sklearn_out


@ignore_convergence
def test_verbose_quiet_by_default(capsys):
    BPClassifier(solver="sgd", max_iter=2).fit([[3, 2], [1, 6]], [1, 0])
    assert capsys.readouterr().out == ""


# -- Same weights as scikit-learn for each solver's settings -------------------
SGD_SETTINGS = [
    dict(momentum=0.0),
    dict(momentum=0.9, nesterovs_momentum=True),
    dict(momentum=0.9, nesterovs_momentum=False),
    dict(momentum=0.5, nesterovs_momentum=False, batch_size=32),
    dict(momentum=0.9, batch_size=1, max_iter=3),
]


@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("settings", SGD_SETTINGS)
def test_sgd_matches_sklearn(learning_rate, settings):
    params = dict(
        solver="sgd",
        hidden_layer_sizes=(10,),
        learning_rate=learning_rate,
        learning_rate_init=0.1,
        power_t=0.3,
        max_iter=40,
        tol=1e-3,
        n_iter_no_change=3,  # lets the adaptive schedule divide the rate
        random_state=0,
    )
    params.update(settings)
    bp, mlp = fit_both(
        [BPClassifier, MLPClassifier], X_digits_multi, y_digits_multi, **params
    )
    assert_same_fit(bp, mlp)
    params["learning_rate_init"] = 0.01
    bp, mlp = fit_both([BPRegressor, MLPRegressor], X_reg, y_reg, **params)
    assert_same_fit(bp, mlp)


ADAM_SETTINGS = [
    dict(),
    dict(beta_1=0.5, beta_2=0.9, epsilon=1e-4),
    dict(beta_1=0.0, learning_rate_init=0.01, batch_size=16),
    dict(batch_size=1, max_iter=3),
]


@pytest.mark.parametrize("settings", ADAM_SETTINGS)
@pytest.mark.parametrize("activation", ACTIVATION_TYPES)
def test_adam_matches_sklearn(settings, activation):
    params = dict(
        solver="adam",
        hidden_layer_sizes=(8, 4),
        activation=activation,
        max_iter=25,
        random_state=0,
    )
    params.update(settings)
    for Ours, Theirs, X, y in [
        (BPClassifier, MLPClassifier, X_digits_multi, y_digits_multi),
        (BPClassifier, MLPClassifier, X_digits_binary, y_digits_binary),
        (BPRegressor, MLPRegressor, X_reg, y_reg),
    ]:
        bp, mlp = fit_both([Ours, Theirs], X, y, **params)
        assert_same_fit(bp, mlp)


def assert_same_lbfgs_fit(bp, mlp, atol):
    assert bp.n_iter_ == mlp.n_iter_
    assert_allclose(bp.loss_, mlp.loss_, rtol=1e-9)
    # Deliberate difference: skbp's lbfgs also records loss_curve_/best_loss_.
    assert len(bp.loss_curve_) == bp.n_iter_
    assert bp.best_loss_ == min(bp.loss_curve_)
    assert_allclose(bp.loss_curve_[-1], mlp.loss_, rtol=1e-9)
    for ours, theirs in zip(bp.coefs_ + bp.intercepts_, mlp.coefs_ + mlp.intercepts_):
        assert_allclose(ours, theirs, rtol=0, atol=atol)


@pytest.mark.parametrize("activation", ACTIVATION_TYPES)
def test_lbfgs_regression_matches_sklearn(activation):
    # L-BFGS amplifies rounding differences over its iterations: atol=1e-8.
    params = dict(
        solver="lbfgs",
        hidden_layer_sizes=(7, 5),
        activation=activation,
        max_iter=30,
        random_state=0,
    )
    bp, mlp = fit_both([BPRegressor, MLPRegressor], X_reg, y_reg, **params)
    assert_same_lbfgs_fit(bp, mlp, atol=1e-8)


@pytest.mark.parametrize("activation", ACTIVATION_TYPES)
@pytest.mark.parametrize(
    "X,y",
    [(X_digits_multi, y_digits_multi), (X_digits_binary, y_digits_binary)],
    ids=["multi", "binary"],
)
def test_lbfgs_classification_matches_sklearn(X, y, activation):
    # Few iterations only. Deliberate difference: skbp computes the log-loss
    # from the logits, with no clipping of the probabilities at eps. Once
    # L-BFGS's line search tries a step that saturates an output (digits are
    # separable, so it soon does), the two see different loss values and take
    # different paths: e.g. binary relu differs from the 5th iteration on.
    params = dict(
        solver="lbfgs",
        hidden_layer_sizes=(7, 5),
        activation=activation,
        max_iter=4,
        random_state=0,
    )
    bp, mlp = fit_both([BPClassifier, MLPClassifier], X, y, **params)
    assert_same_lbfgs_fit(bp, mlp, atol=1e-10)


def test_lbfgs_follows_sklearn_for_the_first_50_iterations_of_the_sine_fit():
    # What the README states, measured by benchmarks/parity.py: on the
    # getting-started fit (the seed's sine, tanh, L-BFGS) the two paths agree
    # to rounding for about 50 iterations, then part (1e-5 at 100, 1e-1 at
    # 200), each going to its own nearby minimum.
    x = np.linspace(0, 1, 100).reshape(-1, 1)
    y = 20 * np.sin(2 * np.pi * x).ravel()
    params = dict(
        hidden_layer_sizes=(25,), activation="tanh", solver="lbfgs", random_state=0
    )
    bp, mlp = fit_both([BPRegressor, MLPRegressor], x, y, max_iter=50, **params)
    assert_same_lbfgs_fit(bp, mlp, atol=1e-8)
