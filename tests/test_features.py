"""skbp's features beyond scikit-learn's MLP (issue 4).

Class weights, dropout, per-layer and new activations, robust losses, no
hidden layer, restore_best_weights and the public gradient check.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

import skbp._data.memory
from skbp import BPClassifier, BPRegressor, check_gradients
from skbp.core import HIDDEN_ACTIVATIONS, ReLU, dropout_masks

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(
        n_samples=1200,
        n_features=8,
        n_informative=4,
        weights=[0.93, 0.07],
        flip_y=0.02,
        class_sep=0.7,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _same_weights(a, b):
    return all(
        np.array_equal(p, q)
        for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)
    )


# ---------------------------------------------------------------------------
# class_weight
# ---------------------------------------------------------------------------


def test_balanced_class_weight_raises_minority_recall(imbalanced):
    X_train, X_test, y_train, y_test = imbalanced
    params = dict(hidden_layer_sizes=(16,), max_iter=60, random_state=0)
    plain = BPClassifier(**params).fit(X_train, y_train)
    balanced = BPClassifier(class_weight="balanced", **params).fit(X_train, y_train)
    recall_plain = recall_score(y_test, plain.predict(X_test))
    recall_balanced = recall_score(y_test, balanced.predict(X_test))
    assert recall_balanced > recall_plain + 0.15


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 4.0, 2: 0.5}])
def test_class_weight_equals_the_matching_sample_weight(iris, class_weight):
    X, y = iris
    weights = compute_class_weight(class_weight, classes=np.unique(y), y=y)[y]
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50, random_state=0)
    by_class = BPClassifier(class_weight=class_weight, **params).fit(X, y)
    by_row = BPClassifier(**params).fit(X, y, sample_weight=weights)
    for a, b in zip(by_class.coefs_, by_row.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_class_weight_multiplies_sample_weight(iris):
    X, y = iris
    sample_weight = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    class_weight = {0: 3.0, 1: 1.0, 2: 0.5}
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0)
    both = BPClassifier(class_weight=class_weight, **params)
    both.fit(X, y, sample_weight=sample_weight)
    product = np.array([class_weight[c] for c in y]) * sample_weight
    reference = BPClassifier(**params).fit(X, y, sample_weight=product)
    for a, b in zip(both.coefs_, reference.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_balanced_counts_weighted_rows(iris):
    """'balanced' with sample_weight=k counts a row k times, like repeating it."""
    X, y = iris
    X, y = X[:100], y[:100]  # two classes, 50 rows each
    counts = np.where(y == 0, 3, 1)
    params = dict(
        hidden_layer_sizes=(4,),
        solver="lbfgs",
        max_iter=30,
        class_weight="balanced",
        random_state=0,
    )
    weighted = BPClassifier(**params).fit(X, y, sample_weight=counts)
    repeated = BPClassifier(**params).fit(np.repeat(X, counts, 0), np.repeat(y, counts))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6, atol=1e-9
    )


def test_class_weight_in_partial_fit(iris):
    X, y = iris
    class_weight = {0: 2.0, 1: 1.0, 2: 1.0}
    clf = BPClassifier(class_weight=class_weight, random_state=0, shuffle=False)
    ref = BPClassifier(random_state=0, shuffle=False)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    ref.partial_fit(X, y, classes=[0, 1, 2], sample_weight=np.where(y == 0, 2.0, 1.0))
    assert _same_weights(clf, ref)
    # A batch missing a class still uses the dict for the classes it has.
    clf.partial_fit(X[y != 2], y[y != 2])
    with pytest.raises(ValueError, match="partial_fit.*compute_class_weight"):
        BPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_class_weight_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match="not in class_weight"):
        BPClassifier(class_weight={5: 2.0}, max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="weight of zero"):
        BPClassifier(class_weight={0: 0, 1: 0, 2: 0}, max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        BPClassifier(class_weight="heavy").fit(X, y)
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    with pytest.raises(ValueError, match="multilabel"):
        BPClassifier(class_weight={0: 2.0}, max_iter=5).fit(X, Y)


def test_balanced_class_weight_on_multilabel_weights_each_label(iris):
    X, y = iris
    Y = np.column_stack([y == 0, y != 0]).astype(int)
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=20, random_state=0)
    balanced = BPClassifier(class_weight="balanced", **params).fit(X, Y)
    # Per label: 'balanced' weights of its 0/1 column, multiplied over labels.
    weight = np.ones(len(y))
    for column in Y.T:
        weight *= compute_class_weight("balanced", classes=np.array([0, 1]), y=column)[
            column
        ]
    reference = BPClassifier(**params).fit(X, Y, sample_weight=weight)
    np.testing.assert_allclose(
        balanced.predict_proba(X), reference.predict_proba(X), rtol=1e-8
    )


# ---------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------


def test_dropout_zero_is_bit_identical_to_no_dropout(iris):
    X, y = iris
    plain = BPClassifier(hidden_layer_sizes=(8, 4), max_iter=20, random_state=0)
    zero = clone(plain).set_params(dropout=[0.0, 0.0])
    assert _same_weights(plain.fit(X, y), zero.fit(X, y))


def test_dropout_changes_training_not_prediction(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(32, 16), max_iter=50, random_state=0)
    dropped = BPClassifier(dropout=0.5, **params).fit(X, y)
    plain = BPClassifier(**params).fit(X, y)
    assert not _same_weights(dropped, plain)
    # Prediction uses the whole network: deterministic, and equal to the
    # forward pass with the fitted weights and no mask.
    proba = dropped.predict_proba(X)
    np.testing.assert_array_equal(proba, dropped.predict_proba(X))
    hidden = np.maximum(X @ dropped.coefs_[0] + dropped.intercepts_[0], 0)
    hidden = np.maximum(hidden @ dropped.coefs_[1] + dropped.intercepts_[1], 0)
    logits = hidden @ dropped.coefs_[2] + dropped.intercepts_[2]
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(proba, expected / expected.sum(1, keepdims=True))
    assert dropped.score(X, y) > 0.85


def test_dropout_is_reproducible_with_random_state(iris):
    X, y = iris
    est = BPClassifier(hidden_layer_sizes=(16,), dropout=0.3, max_iter=10)
    first = clone(est).set_params(random_state=1).fit(X, y)
    again = clone(est).set_params(random_state=1).fit(X, y)
    other = clone(est).set_params(random_state=2).fit(X, y)
    assert _same_weights(first, again)
    assert not _same_weights(first, other)


def test_dropout_per_layer_rates(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(16, 8), max_iter=10, random_state=0)
    first_only = BPClassifier(dropout=[0.5, 0.0], **params).fit(X, y)
    both = BPClassifier(dropout=[0.5, 0.5], **params).fit(X, y)
    assert not _same_weights(first_only, both)
    with pytest.raises(ValueError, match="2 hidden layers"):
        BPClassifier(dropout=[0.5], hidden_layer_sizes=(4, 4)).fit(X, y)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        BPClassifier(dropout=[0.5, 1.0], hidden_layer_sizes=(4, 4)).fit(X, y)
    with pytest.raises(ValueError, match="dropout"):
        BPClassifier(dropout=1.0).fit(X, y)
    with pytest.raises(ValueError, match="L-BFGS"):
        BPClassifier(dropout=0.2, solver="lbfgs").fit(X, y)


def test_dropout_sample_weight_means_repeated_rows():
    """Masks hash the row's content, so weight k equals k copies, dropout on."""
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(20, 4)), rng.normal(size=20)
    counts = rng.randint(0, 4, size=20)
    params = dict(
        hidden_layer_sizes=(8,),
        dropout=0.4,
        solver="sgd",
        batch_size=200,
        max_iter=30,
        random_state=0,
    )
    weighted = BPRegressor(**params).fit(X, y, sample_weight=counts)
    repeated = BPRegressor(**params).fit(np.repeat(X, counts, 0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-7)


def test_dropout_sparse_input_matches_dense():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 10))
    X[np.abs(X) < 1] = 0
    y = X[:, 0] - X[:, 1]
    params = dict(hidden_layer_sizes=(8,), dropout=0.3, max_iter=15, random_state=0)
    dense = BPRegressor(**params).fit(X, y)
    sparse = BPRegressor(**params).fit(scipy.sparse.csr_matrix(X), y)
    np.testing.assert_allclose(dense.predict(X), sparse.predict(X), rtol=1e-10)


def test_dropout_survives_pickle_and_continues(iris):
    X, y = iris
    clf = BPClassifier(hidden_layer_sizes=(8,), dropout=0.2, max_iter=5, random_state=0)
    clf.fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    assert _same_weights(clf, copy)


def test_dropout_masks_are_fresh_every_step(iris, monkeypatch):
    """A row's mask changes from epoch to epoch, partial_fit calls included.

    The masks the estimator draws are recorded, by row, where it calls
    ``skbp.core.dropout_masks``. Were the step counter not to advance, every
    batch would draw the same masks and a row would keep its mask forever.
    """
    X, y = iris
    drawn = []

    def recording(keys, *args, **kwargs):
        masks = dropout_masks(keys, *args, **kwargs)
        drawn.append(dict(zip(keys.tolist(), masks[0])))
        return masks

    monkeypatch.setattr(skbp._data.memory, "dropout_masks", recording)
    clf = BPClassifier(
        hidden_layer_sizes=(16,),
        dropout=0.5,
        solver="sgd",
        batch_size=50,
        max_iter=3,
        random_state=0,
    )
    clf.fit(X, y)
    clf.partial_fit(X, y)
    assert len(drawn) == 4 * 3  # 4 epochs of 3 batches, a mask draw each
    epochs = [
        {k: m for batch in drawn[i : i + 3] for k, m in batch.items()}
        for i in range(0, 12, 3)
    ]
    assert all(epoch.keys() == epochs[0].keys() for epoch in epochs)
    for before, after in zip(epochs, epochs[1:]):
        kept = [np.array_equal(before[k], after[k]) for k in before]
        # 16 units at rate 0.5: a row keeps its mask with probability 2**-16.
        assert not any(kept), f"{sum(kept)} of {len(kept)} rows kept their mask"


# ---------------------------------------------------------------------------
# Activations: per layer, and the new ones
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "logistic", "gelu"])
def test_activation_list_of_one_name_equals_the_name(iris, name):
    X, y = iris
    params = dict(hidden_layer_sizes=(6, 5), max_iter=10, random_state=0)
    by_name = BPClassifier(activation=name, **params).fit(X, y)
    by_list = BPClassifier(activation=[name, name], **params).fit(X, y)
    assert _same_weights(by_name, by_list)


def test_activation_per_layer_is_used_in_that_layer(iris):
    X, y = iris
    clf = BPClassifier(
        hidden_layer_sizes=(6, 5), activation=["tanh", "relu"], max_iter=20
    ).fit(X, y)
    hidden = np.tanh(X @ clf.coefs_[0] + clf.intercepts_[0])
    hidden = np.maximum(hidden @ clf.coefs_[1] + clf.intercepts_[1], 0)
    logits = hidden @ clf.coefs_[2] + clf.intercepts_[2]
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[logits.argmax(1)])


def test_logistic_layer_gets_glorots_smaller_range():
    X, y = np.zeros((4, 40)), np.arange(4) % 2
    clf = BPClassifier(
        hidden_layer_sizes=(40, 40),
        activation=["logistic", "relu"],
        max_iter=1,
        learning_rate_init=1e-12,
    ).fit(X, y)
    assert np.abs(clf.coefs_[0]).max() <= np.sqrt(2 / 80)
    assert np.abs(clf.coefs_[1]).max() > np.sqrt(2 / 80)  # relu: sqrt(6 / 80)


def test_activation_list_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match="one name per hidden layer"):
        BPClassifier(hidden_layer_sizes=(4,), activation=["relu", "tanh"]).fit(X, y)
    with pytest.raises(ValueError, match="Unknown hidden activation 'softmax'"):
        BPClassifier(hidden_layer_sizes=(4,), activation=["softmax"]).fit(X, y)
    with pytest.raises(ValueError, match="activation"):
        BPClassifier(activation="swish").fit(X, y)


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_every_hidden_activation_learns_and_checks(name):
    x = np.linspace(0, 1, 80).reshape(-1, 1)
    y = np.sin(2 * np.pi * x).ravel()
    reg = BPRegressor(
        hidden_layer_sizes=(20,),
        activation=name,
        solver="lbfgs",
        max_iter=500,
        tol=1e-8,  # softplus starts near a flat, almost linear network
        random_state=0,
    )
    assert check_gradients(reg, x[::8], y[::8]) < 1e-6
    reg.fit(x, y)
    minimum = 0.5 if name == "identity" else 0.95  # a line cannot bend
    assert reg.score(x, y) > minimum
    assert check_gradients(reg, x[::8], y[::8]) < 1e-6


# ---------------------------------------------------------------------------
# Robust regression losses
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outliers():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    coef = np.array([1.5, -2.0, 0.5])
    y = X @ coef + 1.0 + 0.1 * rng.normal(size=300)
    y[:30] += 60  # 10% gross outliers, all on one side
    return X, y, coef


@pytest.mark.parametrize("loss", ["huber", "absolute_error"])
def test_robust_losses_resist_outliers(outliers, loss):
    X, y, coef = outliers
    params = dict(hidden_layer_sizes=(), solver="lbfgs", alpha=0.0, max_iter=500)
    robust = BPRegressor(loss=loss, **params).fit(X, y)
    squared = BPRegressor(loss="squared_error", **params).fit(X, y)
    robust_error = np.abs(robust.coefs_[0].ravel() - coef).max()
    squared_error = np.abs(squared.coefs_[0].ravel() - coef).max()
    assert robust_error < 0.15
    assert abs(robust.intercepts_[0][0] - 1.0) < 0.3
    assert abs(squared.intercepts_[0][0] - 1.0) > 4  # dragged by the outliers
    assert robust_error <= squared_error + 0.05


def test_huber_with_a_huge_delta_is_the_squared_error(outliers):
    X, y, _ = outliers
    # A fixed number of full-batch steps (no stopping rule reads the loss):
    # with every residual inside delta the Huber gradient is exactly z - y,
    # so both fits take the very same steps.
    params = dict(
        hidden_layer_sizes=(8,),
        solver="sgd",
        batch_size=len(X),
        learning_rate_init=0.01,
        tol=0,
        n_iter_no_change=10**6,
        max_iter=50,
        random_state=0,
    )
    huge = BPRegressor(loss="huber", huber_delta=1e6, **params).fit(X, y)
    squared = BPRegressor(**params).fit(X, y)
    np.testing.assert_allclose(huge.predict(X), squared.predict(X), rtol=1e-12)
    np.testing.assert_allclose(huge.loss_curve_, squared.loss_curve_, rtol=1e-12)
    # A small delta changes the fit: the outliers pull with force delta only.
    small = BPRegressor(loss="huber", huber_delta=0.5, **params).fit(X, y)
    assert not np.allclose(small.predict(X), squared.predict(X))
    assert huge.get_params()["huber_delta"] == 1e6


def test_absolute_error_predicts_the_median():
    rng = np.random.RandomState(0)
    y = rng.exponential(size=401)
    X = np.ones((401, 1))
    reg = BPRegressor(
        loss="absolute_error",
        hidden_layer_sizes=(),
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.5,
        momentum=0,
        batch_size=401,
        max_iter=2000,
        tol=0,
        n_iter_no_change=10**6,
        random_state=0,
    ).fit(X, y)
    assert abs(reg.predict(X[:1])[0] - np.median(y)) < 0.05


# ---------------------------------------------------------------------------
# No hidden layer: linear and logistic regression by backprop
# ---------------------------------------------------------------------------


def test_no_hidden_layer_regressor_is_linear_regression():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    reg = BPRegressor(
        hidden_layer_sizes=(), solver="lbfgs", alpha=0.0, tol=1e-12, max_iter=1000
    ).fit(X, y)
    ols = LinearRegression().fit(X, y)
    np.testing.assert_allclose(reg.coefs_[0].ravel(), ols.coef_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(reg.intercepts_[0][0], ols.intercept_, atol=1e-5)
    assert reg.n_layers_ == 2 and len(reg.coefs_) == 1


@pytest.mark.parametrize("n_classes", [2, 3])
def test_no_hidden_layer_classifier_is_logistic_regression(n_classes):
    X, y = make_classification(
        n_samples=300,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        flip_y=0.2,
        random_state=0,
    )
    clf = BPClassifier(
        hidden_layer_sizes=(), solver="lbfgs", alpha=0.0, tol=1e-12, max_iter=2000
    ).fit(X, y)
    logreg = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), logreg.predict_proba(X), atol=1e-4)
    if n_classes == 2:  # softmax coefficients are only defined up to a shift
        np.testing.assert_allclose(
            clf.coefs_[0].ravel(), logreg.coef_.ravel(), rtol=1e-3, atol=1e-3
        )


# ---------------------------------------------------------------------------
# restore_best_weights
# ---------------------------------------------------------------------------


def _noisy_sgd_problem():
    """Data and SGD parameters whose loss curve goes up and down."""
    X, y = make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)
    params = dict(
        hidden_layer_sizes=(30,),
        solver="sgd",
        learning_rate_init=0.2,
        momentum=0.95,
        batch_size=16,
        random_state=0,
    )
    return X, y / y.std(), params


def test_restore_best_weights_keeps_the_lowest_training_loss_epoch():
    X, y, params = _noisy_sgd_problem()
    params.update(tol=0, n_iter_no_change=10**6, max_iter=40)
    last = BPRegressor(**params).fit(X, y)
    best_epoch = int(np.argmin(last.loss_curve_))
    assert best_epoch < len(last.loss_curve_) - 1, "the test needs a noisy curve"
    restored = BPRegressor(restore_best_weights=True, **params).fit(X, y)
    # The same trajectory, stopped at the best epoch.
    stopped = BPRegressor(**{**params, "max_iter": best_epoch + 1}).fit(X, y)
    assert _same_weights(restored, stopped)
    assert restored.best_loss_ == min(last.loss_curve_)
    assert restored.loss_curve_ == last.loss_curve_


def test_restore_best_weights_does_not_apply_to_partial_fit():
    """A partial_fit call ends with its live weights, even when its loss is
    worse than an earlier call's: the option is for ``fit`` only."""
    X, y, params = _noisy_sgd_problem()
    restoring = BPRegressor(restore_best_weights=True, **params)
    plain = BPRegressor(**params)
    for _ in range(12):
        restoring.partial_fit(X, y)
        plain.partial_fit(X, y)
        assert _same_weights(restoring, plain)
    curve = plain.loss_curve_
    assert np.argmin(curve) < len(curve) - 1, "the test needs a loss that rises"
    assert restoring.loss_curve_ == curve
    assert restoring.best_loss_ == min(curve) < restoring.loss_


def test_restore_best_weights_off_keeps_the_last_epoch():
    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = BPRegressor(**params).fit(X, y)
        b = BPRegressor(restore_best_weights=False, **params).fit(X, y)
    assert _same_weights(a, b)


# ---------------------------------------------------------------------------
# check_gradients
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        BPClassifier(hidden_layer_sizes=(5, 3), activation=["elu", "silu"]),
        BPClassifier(hidden_layer_sizes=(4,), dropout=0.5, class_weight="balanced"),
        BPClassifier(hidden_layer_sizes=(), alpha=1.0),
        BPRegressor(loss="huber", hidden_layer_sizes=(4,), activation="softplus"),
        BPRegressor(loss="poisson", hidden_layer_sizes=(3,), activation="tanh"),
    ],
    ids=lambda est: repr(est),
)
def test_check_gradients_unfitted_and_fitted(iris, estimator):
    X, y = iris
    X, y = X[::10], y[::10]
    if isinstance(estimator, BPRegressor):
        y = np.abs(X[:, 0]) + 0.1
    estimator = clone(estimator).set_params(random_state=0, max_iter=20)
    assert check_gradients(estimator, X, y) < 1e-6
    assert not hasattr(estimator, "coefs_"), "the estimator must be left unfitted"
    estimator.fit(X, y)
    before = [W.copy() for W in estimator.coefs_]
    assert check_gradients(estimator, X, y) < 1e-6
    assert all(np.array_equal(a, b) for a, b in zip(before, estimator.coefs_))
    assert check_gradients(estimator, X.astype(np.float32), y) < 1e-3


def test_check_gradients_detects_a_wrong_derivative(iris, monkeypatch):
    X, y = iris
    clf = BPClassifier(hidden_layer_sizes=(5,), activation="relu", random_state=0)
    assert check_gradients(clf, X[::10], y[::10]) < 1e-6
    # A backward pass that forgets relu's mask: the check must notice.
    monkeypatch.setattr(ReLU, "backward", lambda self, dA, Z, A=None, out=None: dA)
    assert check_gradients(clf, X[::10], y[::10]) > 1e-2


def test_check_gradients_rejects_other_estimators(iris):
    X, y = iris
    with pytest.raises(TypeError, match="BPRegressor or BPClassifier"):
        check_gradients(LogisticRegression(), X, y)


# ---------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_progress_display_is_wired_into_fit(iris, capsys, solver):
    X, y = iris
    params = dict(hidden_layer_sizes=(5,), max_iter=30, solver=solver, random_state=0)
    BPClassifier(**params).fit(X, y)
    quiet = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    early = solver == "adam"
    BPClassifier(progress=True, early_stopping=early, **params).fit(X, y)
    shown = capsys.readouterr()
    text = shown.out + shown.err
    assert "/30" in text and "loss" in text
    assert ("val" in text) == early
    assert text.count("\n") <= 25  # plain lines when not a terminal, few of them
