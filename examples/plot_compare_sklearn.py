"""
skbp next to scikit-learn's MLP: accuracy and fit time
======================================================

:class:`skbp.BPClassifier` takes the parameters of
:class:`sklearn.neural_network.MLPClassifier` and, given the same
``random_state``, draws the same initial weights, shuffles the rows in the
same order and applies the same updates. This example fits both on the same
splits of four of scikit-learn's data sets, with each solver on digits,
and compares their test accuracy, their fit time and how far apart their
fitted weights end up.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skbp import BPClassifier

DATASETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast cancer": load_breast_cancer,
    "digits": load_digits,
}
# (data set, solver, extra parameters): learning rates suited to each solver.
CASES = [
    ("iris", "adam", {"learning_rate_init": 0.01}),
    ("wine", "adam", {"learning_rate_init": 0.01}),
    ("breast cancer", "adam", {"learning_rate_init": 0.01}),
    ("digits", "adam", {}),
    ("digits", "sgd", {"learning_rate_init": 0.05}),
    ("digits", "lbfgs", {}),
]
N_REPEATS = 3  # fit times are the best of this many runs


def split(name):
    X, y = DATASETS[name](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def fit_timed(estimator, X, y):
    """Fit ``N_REPEATS`` times; return the fitted estimator and the best time.

    On one BLAS thread: these matrix products are too small to gain from
    more, and extra threads waiting for each other (a busy machine makes
    them wait long) would only add noise to the timings.
    """
    times = []
    for _ in range(N_REPEATS):
        start = time.perf_counter()
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        times.append(time.perf_counter() - start)
    return estimator, min(times)


# %%
# Fitting both
# ------------
# One hidden layer of 64 relu units, at most 200 epochs (or L-BFGS
# iterations), the same parameters and seed for both libraries.
rows = []
print(f"{'case':<22}{'accuracy':>18}{'fit time (ms)':>20}{'max |dW|':>11}")
print(f"{'':<22}{'skbp':>9}{'sklearn':>9}{'skbp':>10}{'sklearn':>10}")
for name, solver, extra in CASES:
    X_train, X_test, y_train, y_test = split(name)
    params = dict(hidden_layer_sizes=(64,), solver=solver, max_iter=200, random_state=0)
    params.update(extra)
    ours, our_time = fit_timed(BPClassifier(**params), X_train, y_train)
    theirs, their_time = fit_timed(MLPClassifier(**params), X_train, y_train)
    weight_gap = max(np.max(np.abs(a - b)) for a, b in zip(ours.coefs_, theirs.coefs_))
    row = {
        "case": "\n".join([*name.split(), solver]),  # tick label, one word a line
        "accuracy": (ours.score(X_test, y_test), theirs.score(X_test, y_test)),
        "time": (our_time, their_time),
    }
    rows.append(row)
    print(
        f"{name + ' / ' + solver:<22}"
        f"{row['accuracy'][0]:>9.3f}{row['accuracy'][1]:>9.3f}"
        f"{1000 * our_time:>10.1f}{1000 * their_time:>10.1f}{weight_gap:>11.1e}"
    )

# %%
# The same accuracy, to the last digit: both libraries walk the same path
# through the weights, and the weights they end with differ by rounding
# error only (``max |dW|``, the largest difference of any weight, is of the
# order of ``1e-15``). L-BFGS keeps that agreement only for its first 50 or
# so iterations, then takes its own path to a nearby minimum
# (``python benchmarks/parity.py``); on digits it converges in 17, before
# the paths part. Fit times are of the same order: both spend their time
# in the same numpy matrix products, and skbp's preallocated buffers
# (:class:`skbp.core.Workspace`) save it a little allocation per batch.
fig, (ax_acc, ax_time) = plt.subplots(1, 2, figsize=(11, 4.2))
positions = np.arange(len(rows))
width = 0.38
for offset, (label, color) in enumerate([("skbp", "C0"), ("scikit-learn", "C1")]):
    shift = (offset - 0.5) * width
    accuracy = [row["accuracy"][offset] for row in rows]
    fit_ms = [1000 * row["time"][offset] for row in rows]
    ax_acc.bar(positions + shift, accuracy, width, label=label, color=color)
    ax_time.bar(positions + shift, fit_ms, width, color=color)
for ax in (ax_acc, ax_time):
    ax.set_xticks(positions, labels=[row["case"] for row in rows])
low = min(min(row["accuracy"]) for row in rows)
ax_acc.set_ylim(max(0.0, low - 0.05), 1.0)
ax_acc.set_ylabel("test accuracy")
ax_acc.set_title("Test accuracy")
# Fit times span more than a factor of ten, iris to digits: log scale.
ax_time.set_yscale("log")
plain = FuncFormatter(lambda value, _: f"{value:g}")
ax_time.yaxis.set_major_formatter(plain)
ax_time.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
ax_time.yaxis.set_minor_formatter(plain)
ax_time.set_ylabel(f"fit time (ms, best of {N_REPEATS})")
ax_time.set_title("Fit time")
fig.legend(loc="upper center", ncols=2, frameon=False)
fig.tight_layout(rect=(0, 0, 1, 0.93))
plt.show()
