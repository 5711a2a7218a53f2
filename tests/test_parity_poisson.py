"""Parity with scikit-learn's MLP tests (issue 3): ``BPRegressor(loss="poisson")``.

The list of ported tests is in ``test_parity_fit.py``.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor
from sklearn.neural_network import MLPRegressor

from skbp import BPRegressor


def poisson_data(seed, n=100):
    rng = np.random.default_rng(seed)
    X = np.linspace(0, 1, n)
    y = rng.poisson(np.exp(X + 1))
    return X.reshape(n, -1), y


# sklearn uses its global_random_seed fixture; a few fixed seeds here.
@pytest.mark.parametrize("seed", [0, 1, 42])
def test_mlp_vs_poisson_glm_equivalent(seed):
    # One identity hidden unit + Poisson loss + alpha=0 is the Poisson GLM.
    X, y = poisson_data(seed)
    glm = PoissonRegressor(alpha=0, tol=1e-7).fit(X, y)
    mlp = BPRegressor(
        loss="poisson",
        hidden_layer_sizes=(1,),
        activation="identity",
        alpha=0,
        solver="lbfgs",
        tol=1e-7,
        random_state=np.random.RandomState(seed + 1),
    ).fit(X, y)
    assert mlp.out_activation_ == "exp"
    assert_allclose(mlp.predict(X), glm.predict(X), rtol=1e-4)

    # Not with the squared error: its output activation is the identity.
    mlp = BPRegressor(
        loss="squared_error",
        hidden_layer_sizes=(1,),
        activation="identity",
        alpha=0,
        solver="lbfgs",
        tol=1e-7,
        random_state=np.random.RandomState(seed + 1),
    ).fit(X, y)
    assert not np.allclose(mlp.predict(X), glm.predict(X), rtol=1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_poisson_matches_sklearn(solver):
    X, y = poisson_data(0)
    X = np.hstack([X, X**2])
    params = dict(
        loss="poisson",
        solver=solver,
        hidden_layer_sizes=(4,),
        max_iter=20,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = BPRegressor(**params).fit(X, y)
        theirs = MLPRegressor(**params).fit(X, y)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    assert ours.n_iter_ == theirs.n_iter_
    # Same loss value: the half Poisson deviance, y*log(y) term included.
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-9)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert_allclose(a, b, rtol=0, atol=1e-9)
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9)
    assert (ours.predict(X) > 0).all()


def test_poisson_partial_fit_matches_sklearn():
    X, y = poisson_data(1)
    params = dict(
        loss="poisson", hidden_layer_sizes=(3,), batch_size=25, random_state=0
    )
    ours, theirs = BPRegressor(**params), MLPRegressor(**params)
    for _ in range(5):
        ours.partial_fit(X, y)
        theirs.partial_fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert_allclose(a, b, rtol=0, atol=1e-10)


def test_poisson_without_hidden_layer_is_the_glm():
    # skbp also takes hidden_layer_sizes=(): the network is then the GLM and
    # its weights are the GLM's coefficients.
    X, y = poisson_data(0)
    glm = PoissonRegressor(alpha=0, tol=1e-7).fit(X, y)
    mlp = BPRegressor(
        loss="poisson",
        hidden_layer_sizes=(),
        alpha=0,
        solver="lbfgs",
        tol=1e-7,
        random_state=0,
    ).fit(X, y)
    assert_allclose(mlp.coefs_[0].ravel(), glm.coef_, rtol=1e-4)
    assert_allclose(mlp.intercepts_[0], glm.intercept_, rtol=1e-4)


def test_poisson_rejects_negative_targets():
    # sklearn does not check the targets; skbp refuses negative ones.
    with pytest.raises(ValueError, match="non-negative"):
        BPRegressor(loss="poisson").fit([[1.0], [2.0], [3.0]], [1.0, -1.0, 2.0])
