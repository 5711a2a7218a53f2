"""What docs/backprop.rst says the estimators do, checked (issue 18).

The core's derivations are in tests/core/test_core_chapter.py; these are the
chapter's claims about the training loop, the class weights and the sample
weights' scale.
"""

import re

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.neural_network import MLPRegressor

from skbp import BPClassifier, BPRegressor
from skbp._data.memory import workspace_for
from skbp._model.settings import rescale_weights

# Short fits on purpose: what is compared is the same few steps.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def regression():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=40)
    return X, y


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


# ---------------------------------------------------------------------------
# A stall is n_iter_no_change + 1 epochs without an improvement of tol
# ---------------------------------------------------------------------------


def _rate_changes(model, X, y, capsys):
    """Epochs after which the verbose output reports a new learning rate."""
    model.fit(X, y)
    epoch, changes = 0, []
    for line in capsys.readouterr().out.splitlines():
        match = re.match(r"Iteration (\d+),", line)
        if match:
            epoch = int(match[1])
        elif "Setting learning rate" in line:
            changes.append(epoch)
    return changes


@pytest.mark.parametrize("n_iter_no_change", [1, 2, 5])
def test_adaptive_rate_drops_after_n_iter_no_change_plus_one_stalled_epochs(
    regression, n_iter_no_change, capsys
):
    # tol so large that no epoch after the first improves on the best loss
    # by tol: every epoch from the second on is a stalled one.
    X, y = regression
    n = n_iter_no_change
    params = dict(
        hidden_layer_sizes=(3,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=1e-3,
        tol=1e9,
        n_iter_no_change=n,
        max_iter=1 + 2 * (n + 1),
        random_state=0,
        verbose=True,
    )
    ours = _rate_changes(BPRegressor(**params), X, y, capsys)
    # Epoch 1 improves on no loss at all; then n + 1 stalled epochs, twice.
    assert ours == [1 + (n + 1), 1 + 2 * (n + 1)]
    assert ours == _rate_changes(MLPRegressor(**params), X, y, capsys)


@pytest.mark.parametrize("n_iter_no_change", [1, 2, 5])
def test_a_stall_stops_the_constant_schedule(regression, n_iter_no_change):
    X, y = regression
    params = dict(
        hidden_layer_sizes=(3,),
        solver="sgd",
        tol=1e9,
        n_iter_no_change=n_iter_no_change,
        max_iter=50,
        random_state=0,
    )
    ours = BPRegressor(**params).fit(X, y)
    assert ours.n_iter_ == 1 + n_iter_no_change + 1
    assert ours.n_iter_ == MLPRegressor(**params).fit(X, y).n_iter_


# ---------------------------------------------------------------------------
# Class weights: K counts the classes of positive total weight
# ---------------------------------------------------------------------------


def test_balanced_counts_only_classes_of_positive_weight(iris):
    X, y = iris
    s = np.random.RandomState(1).uniform(0.5, 2.0, len(y))
    s[y == 2] = 0.0  # class 2 has no weight: K = 2, not 3
    # alpha > 0: a common factor on every weight changes the L2 divisor, so
    # K = 3 (all weights times 2/3) would give another model.
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=30, alpha=1.0)
    balanced = BPClassifier(class_weight="balanced", random_state=0, **params)
    balanced.fit(X, y, sample_weight=s)

    def by_hand(K):
        omega = np.ones(3)
        for k in (0, 1):
            omega[k] = s.sum() / (K * s[y == k].sum())
        return BPClassifier(random_state=0, **params).fit(X, y, s * omega[y])

    for ours, ref in zip(balanced.coefs_, by_hand(K=2).coefs_):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)
    assert not np.allclose(balanced.coefs_[0], by_hand(K=3).coefs_[0], atol=1e-6)


def test_balanced_multilabel_multiplies_the_columns_weights(iris):
    # w_i = s_i prod_j omega_{j, y_ij}; a constant column has K_j = 1 (weight 1).
    X, y = iris
    Y = np.column_stack([y == 0, y == 2, np.ones_like(y)]).astype(int)
    s = np.random.RandomState(2).uniform(0.5, 2.0, len(y))
    w = s.copy()
    for column in Y.T:
        values = [v for v in (0, 1) if s[column == v].sum() > 0]
        for v in values:
            w[column == v] *= s.sum() / (len(values) * s[column == v].sum())
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=20, alpha=0.5)
    ours = BPClassifier(class_weight="balanced", random_state=0, **params)
    ours.fit(X, Y, sample_weight=s)
    ref = BPClassifier(random_state=0, **params).fit(X, Y, sample_weight=w)
    for a, b in zip(ours.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# Sample weights of extreme scale: what the L2 divisor becomes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "scale"), [(np.float64, 1.0), (np.float64, 1e100), (np.float32, 1e15)]
)
def test_ordinary_weights_are_kept_so_n_is_their_sum(dtype, scale):
    w = (np.random.RandomState(3).uniform(0.1, 1.0, 50) * scale).astype(dtype)
    assert rescale_weights(w, w.sum()) is w


@pytest.mark.parametrize(
    ("dtype", "scale"),
    [
        (np.float64, 1e-160),
        (np.float64, 1e160),
        (np.float32, 1e-25),
        (np.float32, 1e25),
    ],
)
def test_extreme_weights_are_divided_by_their_largest(dtype, scale):
    u = np.random.RandomState(4).uniform(0.1, 1.0, 50)
    w = (u * scale).astype(dtype)
    with np.errstate(over="ignore"):
        total = w.sum()
    rescaled = rescale_weights(w, total)
    np.testing.assert_allclose(rescaled, u / u.max(), rtol=1e-5)
    # The L2 divisor n = sum(s) / max(s): between 1 and the number of rows.
    assert 1.0 <= rescaled.sum() <= len(w)


def test_tiny_weights_fit_as_the_same_weights_scaled_to_a_largest_of_one(regression):
    # The chapter: n becomes sum(s) / max(s), the penalty of the same
    # weights scaled to a largest of 1 (alpha > 0, so n matters).
    X, y = regression
    u = np.random.RandomState(5).uniform(0.1, 1.0, len(y))
    params = dict(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=20, alpha=2.0)
    tiny = BPRegressor(random_state=0, **params).fit(X, y, sample_weight=u * 1e-160)
    unit = BPRegressor(random_state=0, **params).fit(X, y, sample_weight=u / u.max())
    for a, b in zip(tiny.coefs_, unit.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------
# Output-based derivatives: hidden layers without dropout only
# ---------------------------------------------------------------------------


def test_one_buffer_only_for_output_based_layers_without_dropout(regression):
    X, y = regression
    est = BPRegressor(
        hidden_layer_sizes=(4, 4, 4),
        activation=["leaky_relu", "leaky_relu", "elu"],
        dropout=[0.5, 0.0, 0.0],
        solver="adam",
        max_iter=2,
        random_state=0,
    )
    est.fit(X, y)
    workspace = workspace_for(est._network(), 8, X, est._dropout())
    forward_out, _, _ = workspace.views(8)
    shared = [np.shares_memory(Z, A) for Z, A in forward_out]
    # leaky relu with dropout: two buffers; without: one; elu: two (its f'
    # needs z); the identity output: one (A is Z).
    assert shared == [False, True, False, True]
