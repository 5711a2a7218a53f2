"""BPRegressor(loss="quantile"): prediction intervals from one network."""

import pickle

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.metrics import mean_pinball_loss, r2_score
from sklearn.model_selection import GridSearchCV, cross_validate

import skbp
from skbp import BPRegressor
from skbp._model.quantiles import check_quantile

LEVELS = [0.05, 0.5, 0.95]
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def heteroscedastic(n, seed):
    """y = 2 sin(2 pi x) + (0.2 + 1.5 x) e, e ~ N(0, 1): the noise grows with x.

    Returns X, y and the true conditional quantiles at the levels LEVELS.
    """
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    scale = 0.2 + 1.5 * x
    y = 2 * np.sin(2 * np.pi * x) + scale * rng.standard_normal(n)
    truth = 2 * np.sin(2 * np.pi * x)[:, None] + scale[:, None] * norm.ppf(LEVELS)
    return x[:, None], y, truth


@pytest.fixture(scope="module")
def intervals():
    """One network for three levels, fitted on 4,000 rows; 20,000 test rows."""
    X, y, _ = heteroscedastic(4000, seed=0)
    X_test, y_test, truth = heteroscedastic(20000, seed=1)
    reg = BPRegressor(
        loss="quantile",
        quantile=LEVELS,
        hidden_layer_sizes=(32, 32),
        activation="tanh",
        max_iter=300,
        random_state=0,
    ).fit(X, y)
    return reg, X_test, y_test, truth


def test_coverage_of_each_level_is_within_two_points(intervals):
    reg, X_test, y_test, truth = intervals
    P = reg.predict(X_test)
    assert P.shape == (20000, 3)
    coverage = (y_test[:, None] <= P).mean(axis=0)
    assert_allclose(coverage, LEVELS, atol=0.02)
    # The bands follow the noise: wider where x is larger.
    width = P[:, 2] - P[:, 0]
    assert width[X_test[:, 0] > 0.8].mean() > 3 * width[X_test[:, 0] < 0.2].mean()
    # Close to the true quantile curves, not only right on average.
    assert np.abs(P - truth).mean() < 0.15


def test_pinball_loss_of_each_level_is_near_the_truths(intervals):
    reg, X_test, y_test, truth = intervals
    P = reg.predict(X_test)
    for j, tau in enumerate(LEVELS):
        ours = mean_pinball_loss(y_test, P[:, j], alpha=tau)
        best = mean_pinball_loss(y_test, truth[:, j], alpha=tau)
        assert best <= ours < 1.05 * best


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
def test_every_solver_learns_the_level(solver):
    X, y, _ = heteroscedastic(2000, seed=2)
    reg = BPRegressor(
        loss="quantile",
        quantile=0.8,
        hidden_layer_sizes=(16,),
        activation="tanh",
        solver=solver,
        learning_rate_init=0.01,
        max_iter=300,
        random_state=0,
    ).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (2000,)
    assert (y <= pred).mean() == pytest.approx(0.8, abs=0.03)
    assert reg.out_activation_ == "identity"


def test_shapes_for_one_and_several_targets_and_levels():
    X, y, _ = heteroscedastic(200, seed=3)
    Y = np.column_stack([y, -y])
    params = dict(loss="quantile", hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    cases = [
        (y, 0.5, (200,)),
        (y, [0.5], (200, 1)),
        (y, LEVELS, (200, 3)),
        (Y, 0.5, (200, 2)),
        (Y, LEVELS, (200, 2, 3)),
    ]
    for target, quantile, shape in cases:
        reg = BPRegressor(quantile=quantile, **params).fit(X, target)
        assert reg.predict(X).shape == shape, quantile
        assert reg.n_outputs_ == int(np.prod(shape[1:]))


def _crossing(reg, X):
    """Set the output layer so that the raw outputs cross for every row:
    each level's column is a line in x with its own slope."""
    reg.coefs_ = [np.array([[1.0, -1.0, 0.5]])]
    reg.intercepts_ = [np.zeros(3)]
    return X @ reg.coefs_[0]


@pytest.mark.parametrize("levels", [(0.1, 0.5, 0.9), (0.9, 0.1, 0.5)])
def test_predicted_quantiles_never_cross(levels):
    X = np.linspace(-1, 1, 21)[:, None]
    reg = BPRegressor(
        loss="quantile", quantile=list(levels), hidden_layer_sizes=(), max_iter=1
    ).fit(X, X[:, 0])
    raw = _crossing(reg, X)
    order = np.argsort(levels)
    assert np.any(np.diff(raw[:, order], axis=1) < 0)  # the network's cross
    P = reg.predict(X)
    assert np.all(np.diff(P[:, order], axis=1) >= 0)  # predict's never do
    assert_array_equal(np.sort(P, axis=1), np.sort(raw, axis=1))


def test_sample_weight_is_row_repetition():
    X, y, _ = heteroscedastic(120, seed=4)
    w = np.random.default_rng(0).integers(0, 3, size=120)
    params = dict(
        loss="quantile",
        quantile=[0.2, 0.7],
        hidden_layer_sizes=(5,),
        activation="tanh",
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    )
    weighted = BPRegressor(**params).fit(X, y, sample_weight=w)
    repeated = BPRegressor(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dask", [False, True], ids=["memory", "dask"])
def test_early_stopping_watches_the_pinball_loss_not_r2(dask):
    # R^2 is best for predictions near the mean: stopping on it kept the
    # weights of an early epoch whose 0.1 and 0.9 levels covered 20% and 63%.
    X, y, _ = heteroscedastic(3000, seed=5)
    X_val, y_val, _ = heteroscedastic(1000, seed=15)
    if dask:
        da = pytest.importorskip("dask.array")
        X, y = da.from_array(X, chunks=700), da.from_array(y, chunks=700)
    reg = BPRegressor(
        loss="quantile",
        quantile=[0.1, 0.9],
        hidden_layer_sizes=(16,),
        activation="tanh",
        early_stopping=True,
        max_iter=300,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    assert reg.n_iter_ < 300
    coverage = (y_val[:, None] <= reg.predict(X_val)).mean(axis=0)
    assert_allclose(coverage, [0.1, 0.9], atol=0.04)
    assert len(reg.validation_scores_) == len(reg.validation_loss_curve_)
    assert np.isfinite(reg.validation_loss_curve_).all()


def test_the_validation_score_is_the_negative_mean_pinball_loss():
    X, y, _ = heteroscedastic(600, seed=16)
    X_val, y_val, _ = heteroscedastic(300, seed=17)
    w_val = np.linspace(0.5, 2.0, 300)
    reg = BPRegressor(
        loss="quantile",
        quantile=[0.9, 0.2],
        hidden_layer_sizes=(8,),
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=40,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=w_val)
    P = reg.predict(X_val)  # the best epoch's weights, kept
    expected = -np.mean(
        [
            mean_pinball_loss(y_val, P[:, j], alpha=tau, sample_weight=w_val)
            for j, tau in enumerate([0.9, 0.2])
        ]
    )
    assert reg.best_validation_score_ == pytest.approx(expected, rel=1e-10)
    assert max(reg.validation_scores_) == reg.best_validation_score_


def test_streaming_stops_on_the_pinball_loss():
    from skbp.streaming import fit_chunks

    X, y, _ = heteroscedastic(2000, seed=18)
    X_val, y_val, _ = heteroscedastic(500, seed=19)
    chunks = [(X[i : i + 500], y[i : i + 500]) for i in range(0, 2000, 500)]
    reg = BPRegressor(
        loss="quantile",
        quantile=[0.1, 0.9],
        hidden_layer_sizes=(16,),
        activation="tanh",
        learning_rate_init=0.01,
        random_state=0,
    )
    fit_chunks(reg, chunks, n_epochs=30, validation=(X_val, y_val), random_state=0)
    history = reg.streaming_history_
    P = reg.predict(X_val)
    expected = -np.mean(
        [mean_pinball_loss(y_val, P[:, j], alpha=t) for j, t in enumerate([0.1, 0.9])]
    )
    assert history.best_validation_score == pytest.approx(expected, rel=1e-10)
    coverage = (y_val[:, None] <= P).mean(axis=0)
    assert_allclose(coverage, [0.1, 0.9], atol=0.05)


def test_score_is_the_mean_r2_of_the_levels():
    X, y, _ = heteroscedastic(500, seed=6)
    params = dict(loss="quantile", hidden_layer_sizes=(8,), max_iter=50)
    many = BPRegressor(quantile=LEVELS, random_state=0, **params).fit(X, y)
    P = many.predict(X)
    expected = np.mean([r2_score(y, P[:, j]) for j in range(3)])
    assert many.score(X, y) == pytest.approx(expected, rel=1e-12)
    one = BPRegressor(quantile=0.3, random_state=0, **params).fit(X, y)
    assert one.score(X, y) == pytest.approx(r2_score(y, one.predict(X)))
    w = np.linspace(0.1, 2, 500)
    weighted = np.mean([r2_score(y, P[:, j], sample_weight=w) for j in range(3)])
    assert many.score(X, y, sample_weight=w) == pytest.approx(weighted, rel=1e-12)
    scores = cross_validate(many, X, y, cv=3)["test_score"]
    assert np.isfinite(scores).all()


@pytest.mark.parametrize(
    ("quantile", "error", "match"),
    [
        (None, ValueError, "needs the level"),
        (0.0, ValueError, r"range \(0.0, 1.0\)"),
        (1.0, ValueError, r"range \(0.0, 1.0\)"),
        ([0.1, 1.2], ValueError, "strictly between 0 and 1"),
        ([0.1, 0.1], ValueError, "twice"),
        ([], ValueError, "empty"),
        ([[0.1, 0.9]], ValueError, "1-D"),
        (["0.5"], TypeError, "numbers"),
        ([0.1, np.nan], ValueError, "strictly between"),
    ],
)
def test_bad_levels_are_refused_by_name(quantile, error, match):
    X, y, _ = heteroscedastic(30, seed=7)
    reg = BPRegressor(loss="quantile", quantile=quantile, max_iter=2)
    with pytest.raises(error, match=match):
        reg.fit(X, y)


def test_quantile_is_ignored_by_the_other_losses():
    X, y, _ = heteroscedastic(50, seed=8)
    params = dict(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    with_q = BPRegressor(quantile=[0.1, 0.9], **params).fit(X, y)
    without = BPRegressor(**params).fit(X, y)
    assert_array_equal(with_q.predict(X), without.predict(X))


def test_changing_the_number_of_levels_after_fit_is_a_clear_error():
    X, y, _ = heteroscedastic(50, seed=9)
    reg = BPRegressor(loss="quantile", quantile=LEVELS, max_iter=2).fit(X, y)
    reg.set_params(quantile=[0.1, 0.9])
    with pytest.raises(ValueError, match="quantile was changed after fit"):
        reg.predict(X)


def test_levels_are_checked_once_per_setting():
    assert check_quantile(0.9) == 0.9
    assert check_quantile([0.1, 0.9]) == (0.1, 0.9)
    assert check_quantile(np.array([0.1, 0.9])) == (0.1, 0.9)
    assert check_quantile((np.float32(0.5),)) == (0.5,)


def test_round_trips_clone_search_pickle_joblib_and_save(tmp_path):
    X, y, _ = heteroscedastic(300, seed=10)
    reg = BPRegressor(
        loss="quantile",
        quantile=[0.1, 0.9],
        hidden_layer_sizes=(6,),
        max_iter=20,
        random_state=0,
    )
    assert clone(reg).get_params()["quantile"] == [0.1, 0.9]
    search = GridSearchCV(
        reg, {"quantile": [[0.1, 0.9], [0.25, 0.75]]}, cv=2, n_jobs=2
    ).fit(X, y)
    assert search.best_params_["quantile"] in ([0.1, 0.9], [0.25, 0.75])
    reg.fit(X, y)
    expected = reg.predict(X)
    for copy in (
        pickle.loads(pickle.dumps(reg)),
        joblib.load(_dumped(reg, tmp_path / "model.joblib")),
    ):
        assert_array_equal(copy.predict(X), expected)
    skbp.save(reg, tmp_path / "model.skbp")
    loaded = skbp.load(tmp_path / "model.skbp")
    assert_array_equal(loaded.predict(X), expected)
    assert list(loaded.quantile) == [0.1, 0.9]


def _dumped(estimator, path):
    joblib.dump(estimator, path)
    return path


def test_array_api_input_gives_the_same_quantiles():
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    from sklearn import config_context

    X, y, _ = heteroscedastic(300, seed=11)
    params = dict(
        loss="quantile",
        quantile=LEVELS,
        hidden_layer_sizes=(6,),
        solver="lbfgs",
        max_iter=15,
        random_state=0,
    )
    expected = BPRegressor(**params).fit(X, y).predict(X)
    with config_context(array_api_dispatch=True):
        reg = BPRegressor(**params).fit(torch.asarray(X), torch.asarray(y))
        P = reg.predict(torch.asarray(X))
        assert isinstance(P, torch.Tensor) and tuple(P.shape) == (300, 3)
        assert np.isfinite(reg.score(torch.asarray(X), torch.asarray(y)))
    assert_allclose(P.numpy(), expected, rtol=1e-7, atol=1e-9)


def test_dask_fit_and_blockwise_predict_of_several_targets():
    da = pytest.importorskip("dask.array")
    X, y, _ = heteroscedastic(400, seed=12)
    Y = np.column_stack([y, 2 * y])
    params = dict(
        loss="quantile",
        quantile=[0.1, 0.9],
        hidden_layer_sizes=(5,),
        solver="lbfgs",
        max_iter=10,
        random_state=0,
    )
    expected = BPRegressor(**params).fit(X, Y)
    reg = BPRegressor(**params).fit(
        da.from_array(X, chunks=100), da.from_array(Y, chunks=(100, 2))
    )
    assert_allclose(reg.coefs_[0], expected.coefs_[0], rtol=1e-8)
    lazy = reg.predict(da.from_array(X, chunks=100))
    assert lazy.shape == (400, 2, 2)
    assert_allclose(lazy.compute(), expected.predict(X), rtol=1e-8)


def test_a_pinball_loss_object_is_the_quantile_setting():
    from skbp.core import PinballLoss

    X, y, _ = heteroscedastic(200, seed=13)
    params = dict(hidden_layer_sizes=(5,), max_iter=20, random_state=0)
    by_name = BPRegressor(loss="quantile", quantile=[0.9, 0.1], **params).fit(X, y)
    by_object = BPRegressor(loss=PinballLoss([0.9, 0.1]), **params).fit(X, y)
    assert_array_equal(by_object.predict(X), by_name.predict(X))
    assert by_object.predict(X).shape == (200, 2)


def test_a_loaded_model_whose_outputs_do_not_hold_its_levels_is_refused(tmp_path):
    X, y, _ = heteroscedastic(60, seed=20)
    reg = BPRegressor(loss="quantile", quantile=[0.1, 0.9], max_iter=2).fit(X, y)
    reg.quantile = [0.1, 0.5, 0.9]  # 2 outputs for 3 levels
    with pytest.raises(ValueError, match="does not hold the 3 levels"):
        pickle.loads(pickle.dumps(reg))
    skbp.save(reg, tmp_path / "model.skbp")
    with pytest.raises(ValueError, match="does not hold the 3 levels"):
        skbp.load(tmp_path / "model.skbp")
    reg.quantile = [0.1, 1.5]
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        pickle.loads(pickle.dumps(reg))
