"""skbp's quantile network in MAPIE's conformalized quantile regression.

MAPIE (an optional test dependency) fits its own quantile models only for
the classes it knows by name (QuantileRegressor, GradientBoostingRegressor,
HistGradientBoostingRegressor, LGBMRegressor); any other regressor goes in
fitted, ``prefit=True``, as three models: lower, upper, median. These tests
hand it three columns of ONE ``BPRegressor(quantile=[0.05, 0.5, 0.95])``,
as ``examples/plot_quantile_regression.py`` does, and check the guarantee
CQR gives: the conformalized band covers at least the nominal share of new
rows (up to the spread of one calibration draw). The example must also run
without MAPIE, skipping that part.
"""

import logging
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from skbp import BPRegressor

EXAMPLE = (
    Path(__file__).resolve().parent.parent / "examples" / "plot_quantile_regression.py"
)
LEVELS = [0.05, 0.5, 0.95]
CONFIDENCE = 0.9
# With 2,000 calibration rows, the coverage of one calibration draw has a
# spread of about sqrt(0.9 * 0.1 / 2000) = 0.007; 0.02 is three of them.
TOLERANCE = 0.02
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _mapie_regression():
    return pytest.importorskip(
        "mapie.regression", reason="MAPIE not installed (pip install mapie)"
    )


def heteroscedastic(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    y = 2 * np.sin(2 * np.pi * x) + (0.2 + 1.5 * x) * rng.standard_normal(n)
    return x[:, None], y


class OneLevel(RegressorMixin, BaseEstimator):
    """The column of a fitted multi-level BPRegressor at ``level``.

    MAPIE 1.0 checks a prefit model with scikit-learn's ``check_is_fitted``
    (a ``BaseEstimator`` with an attribute ending in ``_``), 1.6 looks for
    ``n_features_in_`` and predicts one row: this passes both."""

    def __init__(self, network, level):
        self.network, self.level = network, level
        self.n_features_in_ = network.n_features_in_  # "fitted", for MAPIE

    def fit(self, X, y):  # MAPIE requires one; with prefit=True it never calls it
        self.network.fit(X, y)
        self.n_features_in_ = self.network.n_features_in_
        return self

    def predict(self, X):
        (column,) = np.flatnonzero(np.isclose(self.network.quantile, self.level))
        return self.network.predict(X)[:, column]


@pytest.fixture(scope="module")
def network():
    X, y = heteroscedastic(2000, seed=0)
    return BPRegressor(
        loss="quantile",
        quantile=LEVELS,
        hidden_layer_sizes=(32, 32),
        activation="tanh",
        max_iter=300,
        random_state=0,
    ).fit(X, y)


def test_conformalized_band_covers_at_least_nominal(network, caplog):
    mapie_regression = _mapie_regression()
    X_calib, y_calib = heteroscedastic(2000, seed=1)
    X_test, y_test = heteroscedastic(20000, seed=2)
    lower, upper = (1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2
    estimators = [OneLevel(network, q) for q in (lower, upper, 0.5)]
    with caplog.at_level(logging.INFO):
        cqr = mapie_regression.ConformalizedQuantileRegressor(
            estimators, confidence_level=CONFIDENCE, prefit=True
        ).conformalize(X_calib, y_calib)
        points, intervals = cqr.predict_interval(X_test)
    assert points.shape == (20000,) and intervals.shape == (20000, 2, 1)
    low, high = intervals[:, 0, 0], intervals[:, 1, 0]
    coverage = np.mean((low <= y_test) & (y_test <= high))
    assert coverage >= CONFIDENCE - TOLERANCE
    # Not bought with an absurdly wide band: near the network's own.
    P = network.predict(X_test)
    assert np.mean(high - low) < 1.2 * np.mean(P[:, 2] - P[:, 0])
    # The median is the network's, and MAPIE found nothing out of order
    # (it logs "The predictions are ill-sorted." when bounds cross).
    np.testing.assert_array_equal(points, P[:, 1])
    assert "ill-sorted" not in caplog.text


def test_mapie_fits_bpregressor_only_prefit():
    mapie_regression = _mapie_regression()
    X, y = heteroscedastic(200, seed=0)
    estimator = BPRegressor(loss="quantile", quantile=0.5, max_iter=5)
    with pytest.raises(ValueError, match="not supported"):
        mapie_regression.ConformalizedQuantileRegressor(
            estimator, confidence_level=CONFIDENCE
        ).fit(X, y)


def test_example_runs_without_mapie(monkeypatch, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # A None entry in sys.modules makes ``import mapie...`` raise ImportError.
    for name in [m for m in sys.modules if m == "mapie" or m.startswith("mapie.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "mapie", None)
    monkeypatch.setitem(sys.modules, "mapie.regression", None)
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    plt.close("all")
    try:
        runpy.run_path(str(EXAMPLE), run_name="__main__")
        figures = len(plt.get_fignums())
    finally:
        plt.close("all")
    out = capsys.readouterr().out
    assert "MAPIE is not installed (pip install mapie)" in out
    assert "90% band: covers" in out
    assert figures == 1
