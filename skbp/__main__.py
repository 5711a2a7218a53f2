"""Demo: python -m skbp

Trains a BPRegressor on the seed tutorial's curve y = 20 sin(2 pi x) and a
BPClassifier on scikit-learn's digits, printing the loss as training goes
and the final scores.
"""
# The docstring above is the --help text: plain text, no reST markup.

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import BPClassifier, __version__, show_versions
from .demo import seed_sine_setup


def _print_curve(loss_curve, every):
    for i, loss in enumerate(loss_curve, start=1):
        if i % every == 0 or i == len(loss_curve):
            print(f"  iteration {i:5d}  loss {loss:.6f}")


def sine_demo():
    """The seed's network on the seed's curve (:func:`skbp.demo.seed_sine_setup`)."""
    print("1) BPRegressor on the seed's curve y = 20 sin(2 pi x), x = 0.00 .. 0.99")
    x, y, reg = seed_sine_setup()
    start = time.perf_counter()
    reg.fit(x, y)
    seconds = time.perf_counter() - start
    _print_curve(reg.loss_curve_, every=500)
    mse = np.mean((reg.predict(x) - y) ** 2)
    print(
        f"  -> {reg.n_iter_} iterations in {seconds:.2f} s, "
        f"mean squared error {mse:.4f}, R^2 {reg.score(x, y):.4f}"
    )


def digits_demo():
    """A one-hidden-layer classifier on the 8x8 digits."""
    print("2) BPClassifier on scikit-learn's digits (1797 images, 10 classes)")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = BPClassifier(hidden_layer_sizes=(64,), max_iter=60, random_state=0)
    model = make_pipeline(StandardScaler(), clf)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    _print_curve(clf.loss_curve_, every=10)
    print(
        f"  -> {clf.n_iter_} epochs in {seconds:.2f} s, "
        f"train accuracy {model.score(X_train, y_train):.4f}, "
        f"test accuracy {model.score(X_test, y_test):.4f}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skbp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skbp {__version__}")
    parser.add_argument(
        "--show-versions",
        action="store_true",
        help="print the versions of skbp, its dependencies and the BLAS in "
        "use (skbp.show_versions(), for a bug report) instead of the demo",
    )
    if parser.parse_args(argv).show_versions:
        show_versions()
        return
    print(f"skbp {__version__}: hand-written backpropagation for scikit-learn\n")
    with warnings.catch_warnings():
        # Both demos run a fixed number of iterations on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        sine_demo()
        print()
        digits_demo()


if __name__ == "__main__":
    main()
