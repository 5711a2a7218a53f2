"""How closely skbp's weights follow scikit-learn's MLP, solver by solver.

Usage::

    python benchmarks/parity.py

Given the same ``random_state``, both libraries draw the same initial
weights and shuffle in the same order. The stochastic solvers then apply
the same updates, so the weights agree to rounding error however long the
fit. L-BFGS does not keep that agreement: scipy's line search and its
curvature pairs amplify the last bits in which the two losses differ
(skbp sums in another order, and computes the log-loss from the logits),
so after some tens of iterations the two paths part, each converging to
its own nearby minimum. This script measures where, on the two fits the
docs show: the seed's sine curve (getting started, L-BFGS, tanh) and the
digits (the README's pipeline), printing the largest weight difference
after ``max_iter`` iterations and, for full fits, where each stops.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier, BPRegressor

sys.path[:0] = [str(Path(__file__).resolve().parent)]
from bench.environment import blas_limit, environment, print_environment  # noqa: E402


def largest_difference(ours, theirs):
    """The largest absolute difference between two fits' weights and biases."""
    pairs = zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_)
    return max(float(np.max(np.abs(a - b))) for a, b in pairs)


def compare(Ours, Theirs, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, theirs = Ours(**params).fit(X, y), Theirs(**params).fit(X, y)
    return largest_difference(ours, theirs), ours, theirs


def report(title, Ours, Theirs, X, y, iterations, **params):
    print(f"\n{title}")
    header = ("max_iter", "max |dW|", "n_iter_ skbp", "sklearn", "loss skbp", "sklearn")
    print("  {:>8} {:>10} {:>13} {:>8} {:>11} {:>11}".format(*header))
    for max_iter in iterations:
        gap, ours, theirs = compare(Ours, Theirs, X, y, max_iter=max_iter, **params)
        print(
            f"  {max_iter:8d} {gap:10.2e} {ours.n_iter_:13d} {theirs.n_iter_:8d} "
            f"{ours.loss_:11.3e} {theirs.loss_:11.3e}"
        )


def main():
    # One BLAS thread: a product's summation order, and so its last bits,
    # may depend on the thread count.
    print_environment(
        environment(1), "Parity with scikit-learn's MLP (one BLAS thread)"
    )
    with blas_limit(1):
        run()


def run():
    x = np.linspace(0, 1, 100).reshape(-1, 1)
    y = 20 * np.sin(2 * np.pi * x).ravel()
    sine = dict(hidden_layer_sizes=(25,), activation="tanh", random_state=0)
    report(
        "Sine curve, [1, 25, 1] tanh, L-BFGS (docs/getting_started.rst)",
        BPRegressor,
        MLPRegressor,
        x,
        y,
        [10, 25, 50, 100, 200, 400, 2000],
        solver="lbfgs",
        **sine,
    )
    X, labels = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    digits = dict(hidden_layer_sizes=(64,), random_state=0)
    for solver, iterations in [("adam", [10, 50, 200]), ("sgd", [10, 50, 200])]:
        report(
            f"Digits, [64, 64, 10] relu, {solver} (README)",
            BPClassifier,
            MLPClassifier,
            X,
            labels,
            iterations,
            solver=solver,
            **digits,
        )
    report(
        "Digits, [64, 64, 10] relu, L-BFGS",
        BPClassifier,
        MLPClassifier,
        X,
        labels,
        [5, 10, 25, 50, 200],
        solver="lbfgs",
        **digits,
    )


if __name__ == "__main__":
    main()
