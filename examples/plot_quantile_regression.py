"""
Prediction intervals: three quantiles from one network, conformalized
=====================================================================

scikit-learn's MLP predicts the conditional mean only (a prediction interval
for ``MLPRegressor`` was asked for in scikit-learn issue #8303 and closed as
not planned). :class:`skbp.BPRegressor` trains with the pinball loss when
``loss="quantile"``, and with a list of levels, ``quantile=[0.05, 0.5,
0.95]``, ONE network predicts all of them: ``predict`` returns one column per
level, sorted in each row so that the quantiles never cross.

The data are heteroscedastic: ``y = 2 sin(2 pi x) + (0.2 + 1.5 x) e`` with
``e ~ N(0, 1)``, so the noise grows with ``x`` and a good 90 % band must
widen with it. We know the true conditional quantiles, so we can draw them
and measure how close the network gets, with
:func:`~sklearn.metrics.mean_pinball_loss`, the metric of quantile
regression (``score`` stays :math:`R^2`).

A quantile network's band covers about 90 % of new rows, but nothing
guarantees it. *Conformalized quantile regression* (CQR; Romano, Patterson
and Candès, 2019) widens or narrows the band by an amount read off a
held-out calibration set, so that it covers at least 90 % of new rows from
the same distribution, whatever the network learned. The last part does
that with `MAPIE <https://mapie.readthedocs.io>`_ (``pip install mapie``;
without it that part is skipped). MAPIE fits its own quantile models only
for the scikit-learn and LightGBM classes it knows by name; any other
regressor goes in already fitted (``prefit=True``), as three models: lower,
upper and median. A small adapter hands MAPIE one column of the same
network for each.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_pinball_loss

from skbp import BPRegressor

LEVELS = [0.05, 0.5, 0.95]


def heteroscedastic(n, seed):
    """x in [0, 1], y with noise growing with x, and the true quantiles."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    scale = 0.2 + 1.5 * x
    y = 2 * np.sin(2 * np.pi * x) + scale * rng.standard_normal(n)
    truth = 2 * np.sin(2 * np.pi * x)[:, None] + scale[:, None] * norm.ppf(LEVELS)
    return x[:, None], y, truth


X_train, y_train, _ = heteroscedastic(3000, seed=0)
X_calib, y_calib, _ = heteroscedastic(1000, seed=1)  # for the conformal step
X_test, y_test, truth = heteroscedastic(20000, seed=2)

# %%
# One network, three levels
# -------------------------
reg = BPRegressor(
    loss="quantile",
    quantile=LEVELS,
    hidden_layer_sizes=(32, 32),
    activation="tanh",
    max_iter=300,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    reg.fit(X_train, y_train)

P = reg.predict(X_test)  # shape (20000, 3): one column per level
print(f"predict(X_test).shape: {P.shape}")
for j, q in enumerate(LEVELS):
    coverage = np.mean(y_test <= P[:, j])
    ours = mean_pinball_loss(y_test, P[:, j], alpha=q)
    best = mean_pinball_loss(y_test, truth[:, j], alpha=q)
    print(
        f"level {q:4.2f}: coverage {coverage:.3f}, pinball loss {ours:.4f} "
        f"(the true quantile's: {best:.4f})"
    )
inside = (P[:, 0] <= y_test) & (y_test <= P[:, 2])
print(f"90% band: covers {inside.mean():.3f} of the test rows")

# %%
# The data, the true quantiles and the network's band. The band follows the
# noise, as the true one does: narrow where x is small, many times as wide
# where x nears 1.
grid = np.linspace(0, 1, 200)[:, None]
band = reg.predict(grid)
true_band = 2 * np.sin(2 * np.pi * grid) + (0.2 + 1.5 * grid) * norm.ppf(LEVELS)

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.scatter(X_test[:1500, 0], y_test[:1500], s=4, color="0.7", label="test rows")
ax.fill_between(grid[:, 0], band[:, 0], band[:, 2], alpha=0.3, label="network: 5%-95%")
ax.plot(grid[:, 0], band[:, 1], color="C0", label="network: median")
for j in range(3):
    ax.plot(
        grid[:, 0],
        true_band[:, j],
        "k--",
        lw=1,
        label="true quantiles" if j == 0 else None,
    )
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend(loc="lower left")
ax.set_title("BPRegressor(loss='quantile', quantile=[0.05, 0.5, 0.95])")
fig.tight_layout()

# %%
# Conformalizing the band with MAPIE
# ----------------------------------
# ``ConformalizedQuantileRegressor(prefit=True)`` takes three fitted
# regressors, predicting the ``(1 - confidence_level) / 2`` quantile, the
# ``(1 + confidence_level) / 2`` quantile and the median, in that order, each
# ``predict`` returning one value per row. ``OneLevel`` gives it one column
# of the network: the network is fitted once, and its columns never cross.
# MAPIE checks that each model is fitted the way scikit-learn does (an
# ``n_features_in_``, a ``BaseEstimator``), so the adapter has both.
try:
    from mapie.regression import ConformalizedQuantileRegressor
except ImportError:
    ConformalizedQuantileRegressor = None


class OneLevel(RegressorMixin, BaseEstimator):
    """The column of a fitted multi-level BPRegressor at ``level``."""

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


if ConformalizedQuantileRegressor is None:
    print("MAPIE is not installed (pip install mapie): conformalization skipped")
else:
    cqr = ConformalizedQuantileRegressor(
        [OneLevel(reg, 0.05), OneLevel(reg, 0.95), OneLevel(reg, 0.5)],
        confidence_level=0.9,
        prefit=True,
    ).conformalize(X_calib, y_calib)
    _, intervals = cqr.predict_interval(X_test)  # shape (20000, 2, 1)
    low, high = intervals[:, 0, 0], intervals[:, 1, 0]
    covered = np.mean((low <= y_test) & (y_test <= high))
    print(
        f"conformalized 90% band: covers {covered:.3f} of the test rows, "
        f"mean width {np.mean(high - low):.3f} "
        f"(the network's: {np.mean(P[:, 2] - P[:, 0]):.3f})"
    )

    _, grid_intervals = cqr.predict_interval(grid)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(X_test[:1500, 0], y_test[:1500], s=4, color="0.7", label="test rows")
    ax.fill_between(
        grid[:, 0],
        grid_intervals[:, 0, 0],
        grid_intervals[:, 1, 0],
        color="C1",
        alpha=0.3,
        label=f"conformalized (covers {covered:.3f})",
    )
    ax.plot(grid[:, 0], band[:, 0], color="C0", lw=1, label="network's band")
    ax.plot(grid[:, 0], band[:, 2], color="C0", lw=1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="lower left")
    ax.set_title("MAPIE's CQR on 1,000 calibration rows")
    fig.tight_layout()

plt.show()
