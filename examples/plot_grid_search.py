"""
Choosing the architecture and the L2 penalty with ``GridSearchCV``
==================================================================

:class:`skbp.BPClassifier` is a scikit-learn estimator, so the usual model
selection tools work on it unchanged. Here
:class:`~sklearn.model_selection.GridSearchCV` searches, on scikit-learn's
handwritten digits, over the network's shape (``hidden_layer_sizes``) and
the strength of its L2 penalty (``alpha``), with a
:class:`~sklearn.preprocessing.StandardScaler` in front in a
:class:`~sklearn.pipeline.Pipeline` so that each fold is scaled on its own
training rows only.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skbp import BPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# The grid
# --------
# Steps of a pipeline made by :func:`~sklearn.pipeline.make_pipeline` are
# named after their class in lower case, so the network's parameters are
# ``bpclassifier__<name>``. Every cell trains Adam for the same 40 epochs at
# a learning rate of 0.01 (enough to fit digits well, and quick: the whole
# search is 60 fits), so the differences between cells come from the grid.
architectures = [(16,), (64,), (16, 16), (64, 64)]
alphas = [1e-4, 1e-2, 1e-1, 1.0, 10.0]

model = make_pipeline(
    StandardScaler(),
    BPClassifier(learning_rate_init=0.01, max_iter=40, random_state=0),
)
search = GridSearchCV(
    model,
    param_grid={
        "bpclassifier__hidden_layer_sizes": architectures,
        "bpclassifier__alpha": alphas,
    },
    cv=3,
    n_jobs=1,
)
# The matrix products of such small networks are too small to gain from
# several BLAS threads, which then mostly wait for each other (on a busy
# machine, many times over): one thread per fit, with threadpoolctl (a
# dependency of scikit-learn), keeps the search quick. With ``n_jobs > 1`` the
# folds run in parallel instead.
with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
    # 40 epochs is a budget, not a failure to converge.
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)

best = search.best_params_
print(
    f"best: hidden_layer_sizes={best['bpclassifier__hidden_layer_sizes']}, "
    f"alpha={best['bpclassifier__alpha']:g}"
)
print(f"cross-validated accuracy of the best cell: {search.best_score_:.3f}")
print(f"accuracy on the held-out test set:         {search.score(X_test, y_test):.3f}")

# %%
# The results as a heatmap
# ------------------------
# ``cv_results_`` holds one entry per cell, in the order of
# ``ParameterGrid`` (the last parameter, sorted by name, varies fastest).
# Reading each cell's parameters back from ``params`` avoids relying on
# that order.
results = search.cv_results_
scores = np.empty((len(architectures), len(alphas)))
for params, score in zip(results["params"], results["mean_test_score"]):
    row = architectures.index(params["bpclassifier__hidden_layer_sizes"])
    scores[row, alphas.index(params["bpclassifier__alpha"])] = score

fig, ax = plt.subplots(figsize=(7, 4.5))
image = ax.imshow(scores, cmap="viridis")
ax.set_xticks(range(len(alphas)), labels=[f"{a:g}" for a in alphas])
ax.set_yticks(range(len(architectures)), labels=[str(a) for a in architectures])
ax.set_xlabel("alpha (L2 penalty)")
ax.set_ylabel("hidden_layer_sizes")
threshold = scores.min() + 0.6 * (scores.max() - scores.min())
for (row, col), score in np.ndenumerate(scores):
    ax.text(
        col,
        row,
        f"{score:.3f}",
        ha="center",
        va="center",
        color="black" if score > threshold else "white",
        fontweight="bold" if score == scores.max() else "normal",
    )
fig.colorbar(image, ax=ax, label="mean cross-validated accuracy")
ax.set_title("GridSearchCV: BPClassifier on digits (3-fold)")
fig.tight_layout()

# %%
# The same scores as curves, with one standard deviation over the folds.
# Up to ``alpha=1`` the penalty helps a little, most for the larger
# networks; at ``alpha=10`` it shrinks the weights so much that every
# network underfits (and at ``alpha=100``, not in the grid, none learns
# anything).
stds = np.empty_like(scores)
for params, std in zip(results["params"], results["std_test_score"]):
    row = architectures.index(params["bpclassifier__hidden_layer_sizes"])
    stds[row, alphas.index(params["bpclassifier__alpha"])] = std

fig, ax = plt.subplots(figsize=(7, 4))
for row, arch in enumerate(architectures):
    ax.errorbar(
        alphas, scores[row], yerr=stds[row], marker="o", capsize=3, label=str(arch)
    )
ax.set_xscale("log")
ax.set_xlabel("alpha (L2 penalty)")
ax.set_ylabel("mean cross-validated accuracy")
ax.legend(title="hidden_layer_sizes")
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
