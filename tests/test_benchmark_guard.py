"""Speed and memory guards: skbp's training loop is not slower than
scikit-learn's, and its fit does not allocate more.

These tests assert a *ratio*, never an absolute time: skbp and scikit-learn
are fitted alternately on the same data in this process, several times, and
the median of the paired ratios ``skbp / sklearn`` is held against a generous
bound, so that a noisy shared two-core machine does not make them flaky.
They catch gross regressions (a copy of ``X`` per batch, validation inside
the step, an allocation per element...), not percent-level ones: those are
what ``python benchmarks/run.py`` measures. Each test takes about a second.

The timing helper lives here on purpose: ``benchmarks/`` is not a package on
the test path.
"""

import gc
import statistics
import time
import tracemalloc
from contextlib import nullcontext

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skbp import BPClassifier, BPRegressor

try:  # one BLAS thread: a busy core stalls multithreaded BLAS unpredictably
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl is optional
    threadpool_limits = None

# skbp / sklearn, median of the paired ratios. Values on a 2-core machine
# are about 0.6 (mini-batch) and 0.4 (full batch, 25 hidden units, where
# per-iteration Python overhead dominates); the bounds leave room for noise
# but fail if skbp falls behind scikit-learn, or loses most of its lead on
# the small network.
MAX_RATIO_MINIBATCH = 1.0
MAX_RATIO_FULL_BATCH = 0.7
REPEATS = 7
ATTEMPTS = 2  # a real regression fails every attempt; a noisy spell does not


def _one_blas_thread():
    if threadpool_limits is None:
        return nullcontext()
    return threadpool_limits(limits=1)


def paired_ratio(fit_a, fit_b, repeats=REPEATS):
    """Median over ``repeats`` of ``time(fit_a) / time(fit_b)``, run in turns.

    Both run once untimed first (imports, caches); then each repeat times
    both, alternating which goes first.
    """
    fit_a()
    fit_b()
    ratios = []
    for i in range(repeats):
        times = {}
        order = (fit_a, fit_b) if i % 2 == 0 else (fit_b, fit_a)
        for fit in order:
            gc.collect()
            start = time.perf_counter()
            fit()
            times[fit] = time.perf_counter() - start
        ratios.append(times[fit_a] / times[fit_b])
    return statistics.median(ratios)


def assert_ratio_at_most(fit_skbp, fit_sklearn, bound):
    ratios = []
    with _one_blas_thread():
        for _ in range(ATTEMPTS):
            ratios.append(paired_ratio(fit_skbp, fit_sklearn))
            if ratios[-1] <= bound:
                return
    pytest.fail(
        f"skbp/sklearn fit time ratio {min(ratios):.2f} > {bound} "
        f"(medians of {REPEATS} paired runs, {ATTEMPTS} attempts: "
        f"{', '.join(f'{r:.2f}' for r in ratios)})"
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_minibatch_epochs_not_slower_than_sklearn():
    """Adam, batches of 200, one hidden layer: BLAS and elementwise work."""
    X, y = make_classification(
        n_samples=4000, n_features=50, n_informative=25, n_classes=5, random_state=0
    )
    params = {
        "hidden_layer_sizes": (128,),
        "batch_size": 200,
        "max_iter": 2,
        "tol": 0.0,
        "n_iter_no_change": 10**9,
        "random_state": 0,
    }
    assert_ratio_at_most(
        lambda: BPClassifier(**params).fit(X, y),
        lambda: MLPClassifier(**params).fit(X, y),
        MAX_RATIO_MINIBATCH,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_full_batch_iterations_overhead_bounded():
    """The seed's [1, 25, 1] network: per-iteration Python overhead dominates."""
    x = np.arange(0.0, 1.0, 0.01).reshape(-1, 1)
    y = 20 * np.sin(2 * np.pi * x).ravel()
    params = {
        "hidden_layer_sizes": (25,),
        "activation": "logistic",
        "solver": "sgd",
        "learning_rate_init": 0.3,
        "momentum": 0.0,
        "batch_size": len(x),
        "alpha": 0.0,
        "max_iter": 300,
        "tol": 0.0,
        "n_iter_no_change": 10**9,
        "shuffle": False,
        "random_state": 0,
    }
    assert_ratio_at_most(
        lambda: BPRegressor(**params).fit(x, y),
        lambda: MLPRegressor(**params).fit(x, y),
        MAX_RATIO_FULL_BATCH,
    )


# ---------------------------------------------------------------------------
# Memory: counted allocations are deterministic, so the bound is exact.
# ---------------------------------------------------------------------------
def _fit_peak_bytes(estimator, X, y):
    """Peak of traced allocations during ``estimator.fit(X, y)``, over the
    memory held before it (the data is not counted)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        estimator.fit(X, y)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "case", ["adam-float64", "sgd-float32", "lbfgs-regression"], ids=str
)
def test_fit_peak_memory_not_larger_than_sklearn(case):
    """skbp's buffers (workspace, flat parameters, optimizer state, epoch
    checkpoint) stay below scikit-learn's per-fit allocations; measured
    about 0.8-0.9 of them here."""
    if case == "lbfgs-regression":
        X, y = make_regression(
            n_samples=3000, n_features=50, n_targets=3, random_state=0
        )
        params = {"hidden_layer_sizes": (64,), "solver": "lbfgs", "max_iter": 10}
        ours, theirs = BPRegressor, MLPRegressor
    else:
        solver, dtype = case.split("-")
        X, y = make_classification(
            n_samples=6000,
            n_features=50,
            n_informative=25,
            n_classes=5,
            random_state=0,
        )
        X = X.astype(dtype)
        params = {"hidden_layer_sizes": (128, 64), "solver": solver, "max_iter": 2}
        ours, theirs = BPClassifier, MLPClassifier
    params.update(batch_size=200, random_state=0)
    skbp_peak = _fit_peak_bytes(ours(**params), X, y)
    sklearn_peak = _fit_peak_bytes(theirs(**params), X, y)
    assert skbp_peak <= sklearn_peak, (
        f"skbp's fit peaked at {skbp_peak / 2**20:.2f} MiB, scikit-learn's at "
        f"{sklearn_peak / 2**20:.2f} MiB"
    )
