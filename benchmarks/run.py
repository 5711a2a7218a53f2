"""Benchmarks: skbp against scikit-learn's MLP and against the bare matrix products.

Run from the repository root::

    python benchmarks/run.py                 # every workload, a few minutes
    python benchmarks/run.py --quick         # reduced sizes, well under a minute
    python benchmarks/run.py --workload 2    # one workload (repeatable, or 1,3)
    python benchmarks/run.py --profile 1     # cProfile of skbp's fit on workload 1

Everything is timed in one process, the competitors interleaved repeat by
repeat, and the table reports medians: medians of the times and medians of
the per-repeat ratios (a ratio of two runs made back to back). See
``benchmarks/README.md`` for the workloads and how to read the table.
"""

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    # Benchmark the working tree, not whatever skbp is installed.
    sys.path.insert(0, str(REPO))

import scipy  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import gen_batches  # noqa: E402

import skbp  # noqa: E402
from skbp import BPClassifier, BPRegressor  # noqa: E402

try:
    import threadpoolctl
except ImportError:  # optional: without it the BLAS is left as configured
    threadpoolctl = None

WORKLOADS = (1, 2, 3, 4, 5)
MIB = 2.0**20


# ----------------------------------------------------------------------
# Sizes: full and --quick
# ----------------------------------------------------------------------
FULL = {
    "w1_samples": 60_000,
    "w1_epochs": 10,
    "w1_repeats": 3,
    "w2_iterations": 4000,
    "w2_repeats": 5,
    "w3_calls": 100,  # one-row predictions per timed block
    "w3_blocks": 30,
    "w3_bulk_rows": 100_000,
    "w3_bulk_repeats": 5,
    "w4_samples": 20_000,
    "w4_max_iter": 200,
    "w4_repeats": 3,
}
QUICK = {
    "w1_samples": 12_000,
    "w1_epochs": 3,
    "w1_repeats": 2,
    "w2_iterations": 1000,
    "w2_repeats": 3,
    "w3_calls": 50,
    "w3_blocks": 10,
    "w3_bulk_rows": 20_000,
    "w3_bulk_repeats": 3,
    "w4_samples": 5_000,
    "w4_max_iter": 50,
    "w4_repeats": 2,
}

W1_HIDDEN = (256, 128)
W1_BATCH = 256


# ----------------------------------------------------------------------
# Timing and the result table
# ----------------------------------------------------------------------
def interleaved(functions, repeats, warmup=False):
    """Time each callable ``repeats`` times, the callables taking turns.

    Repeat ``i`` runs every callable once (the order rotates from repeat to
    repeat), so slow phases of a shared machine hit all of them alike and
    ``times[a][i] / times[b][i]`` is a fair paired ratio.

    Returns ``{name: [seconds, ...]}``.
    """
    names = list(functions)
    if warmup:
        for name in names:
            functions[name]()
    times = {name: [] for name in names}
    for i in range(repeats):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            start = time.perf_counter()
            functions[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median_ratio(numerator, denominator):
    """Median of the paired (same-repeat) ratios."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


@dataclass
class Row:
    """One line of the table.

    Ratios are skbp's figure over the other's, medians of paired repeats:
    below 1 means skbp is faster (or smaller). A goal is ``(target,
    acceptable)`` on such a ratio; ``acceptable`` may be None.
    """

    workload: int
    case: str
    unit: str  # "s", "MiB" or "" (a score: accuracy, loss)
    skbp: float
    sklearn: float | None = None
    bare: float | None = None
    skbp_over_bare: float | None = None
    skbp_over_sklearn: float | None = None
    bare_goal: tuple | None = None
    sklearn_goal: tuple | None = None
    note: str = ""

    def target(self):
        parts = []
        for name, goal in (("bare", self.bare_goal), ("skl", self.sklearn_goal)):
            if goal is not None:
                target, acceptable = goal
                extra = "" if acceptable is None else f" ({acceptable:.2g})"
                parts.append(f"{name}<={target:.2g}{extra}")
        if self.unit == "" and self.sklearn is not None:
            parts.append("~sklearn")
        return ", ".join(parts)

    def met(self):
        verdicts = []
        for ratio, goal in (
            (self.skbp_over_bare, self.bare_goal),
            (self.skbp_over_sklearn, self.sklearn_goal),
        ):
            if goal is not None and ratio is not None:
                target, acceptable = goal
                if ratio <= target:
                    verdicts.append("yes")
                elif acceptable is not None and ratio <= acceptable:
                    verdicts.append("ok")
                else:
                    verdicts.append("NO")
        if self.unit == "" and self.sklearn is not None:
            close = abs(self.skbp - self.sklearn) <= 0.01 * max(1.0, abs(self.sklearn))
            verdicts.append("yes" if close else "NO")
        return "/".join(verdicts)


def _fmt_value(value, unit):
    if value is None:
        return "-"
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.1f} us"
        if value < 1:
            return f"{value * 1e3:.1f} ms"
        return f"{value:.3f} s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:.4f}"


def _fmt_ratio(value):
    return "-" if value is None else f"{value:.2f}"


def timed_row(workload, case, times, bare_goal=None, sklearn_goal=None, note=""):
    """A row from ``{"skbp": [...], "sklearn": [...], "bare": [...]}``."""

    def med(name):
        return statistics.median(times[name]) if name in times else None

    def ratio(name):
        return median_ratio(times["skbp"], times[name]) if name in times else None

    return Row(
        workload,
        case,
        "s",
        med("skbp"),
        med("sklearn"),
        med("bare"),
        ratio("bare"),
        ratio("sklearn"),
        bare_goal,
        sklearn_goal,
        note,
    )


def print_table(rows):
    header = (
        "#",
        "case",
        "skbp",
        "sklearn",
        "bare",
        "skbp/bare",
        "skbp/skl",
        "target",
        "met",
    )
    lines = [
        (
            str(r.workload),
            r.case,
            _fmt_value(r.skbp, r.unit),
            _fmt_value(r.sklearn, r.unit),
            _fmt_value(r.bare, r.unit),
            _fmt_ratio(r.skbp_over_bare),
            _fmt_ratio(r.skbp_over_sklearn),
            r.target(),
            r.met(),
        )
        for r in rows
    ]
    widths = [max(len(x) for x in column) for column in zip(header, *lines)]
    rule = "  ".join("-" * w for w in widths)

    def fmt(cells):
        left = {1, 7, 8}  # text columns
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    print(fmt(header))
    print(rule)
    previous = None
    for row, cells in zip(rows, lines):
        if previous is not None and row.workload != previous:
            print()
        previous = row.workload
        print(fmt(cells))
    notes = [(r.workload, r.case, r.note) for r in rows if r.note]
    if notes:
        print()
        for workload, case, note in notes:
            print(f"  [{workload}] {case}: {note}")


# ----------------------------------------------------------------------
# Environment
# ----------------------------------------------------------------------
def _blas_threads_now():
    if threadpoolctl is None:
        return None
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()]


def environment(blas_threads, default_threads=None):
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        ),
        "load_average": (
            [round(x, 2) for x in os.getloadavg()]
            if hasattr(os, "getloadavg")
            else None
        ),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "skbp": skbp.__version__,
        "skbp_path": str(Path(skbp.__file__).parent),
        "blas_threads_requested": blas_threads or "library default",
        "blas_threads_default": default_threads,
        "threadpools": None,
    }
    if threadpoolctl is not None:
        info["threadpools"] = [
            {
                key: pool.get(key)
                for key in (
                    "user_api",
                    "internal_api",
                    "version",
                    "num_threads",
                    "threading_layer",
                    "architecture",
                    "filepath",
                )
            }
            for pool in threadpoolctl.threadpool_info()
        ]
    return info


def print_environment(info, title):
    print(title)
    for key in (
        "python",
        "platform",
        "processor",
        "cpu_count",
        "cpus_usable",
        "load_average",
        "numpy",
        "scipy",
        "sklearn",
        "skbp",
        "skbp_path",
        "blas_threads_requested",
        "blas_threads_default",
    ):
        print(f"  {key:24s} {info[key]}")
    if info["threadpools"] is None:
        print("  threadpools              (threadpoolctl not installed)")
    else:
        for pool in info["threadpools"]:
            print(
                f"  threadpool               {pool['user_api']}: "
                f"{pool['internal_api']} {pool['version']}, "
                f"{pool['num_threads']} thread(s), {pool['threading_layer']}, "
                f"{pool['architecture']}"
            )


@contextmanager
def blas_limit(threads):
    """Limit BLAS/OpenMP threads (0: leave the library default)."""
    if not threads:
        yield
        return
    if threadpoolctl is None:
        warnings.warn(
            "threadpoolctl is not installed: --blas-threads ignored "
            "(set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS instead).",
            stacklevel=2,
        )
        yield
        return
    with threadpoolctl.threadpool_limits(limits=threads):
        yield


# ----------------------------------------------------------------------
# Workload 1: classification, adam, two hidden layers
# ----------------------------------------------------------------------
def w1_data(n_samples):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=100,
        n_informative=50,
        n_redundant=10,
        n_classes=10,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def w1_params(epochs):
    return {
        "hidden_layer_sizes": W1_HIDDEN,
        "activation": "relu",
        "solver": "adam",
        "batch_size": W1_BATCH,
        "max_iter": epochs,
        "tol": 0.0,
        "n_iter_no_change": 10**9,  # every epoch runs
        "random_state": 0,
    }


def bare_training_products(X, n_outputs, epochs, batch_size, hidden=W1_HIDDEN):
    """A callable running only the matrix products of ``epochs`` of training.

    Per batch: the forward products ``A_{l-1} @ W_l`` and the backward
    ``A_{l-1}.T @ dZ_l`` (every layer) and ``dZ_l @ W_l.T`` (layers > 1), on
    contiguous row slices of ``X``, into preallocated buffers, in the dtype
    of ``X``. The numbers are meaningless; the shapes and count are those of
    the fit.
    """
    dtype = X.dtype
    rng = np.random.default_rng(0)
    units = [X.shape[1], *hidden, n_outputs]
    coefs = [
        (rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype)
        for a, b in zip(units[:-1], units[1:])
    ]
    outs = [np.empty((batch_size, n), dtype) for n in units[1:]]
    deltas = [np.empty((batch_size, n), dtype) for n in units[1:]]
    for d in deltas:
        d[...] = rng.standard_normal(d.shape) * 0.01
    grads = [np.empty_like(W) for W in coefs]
    Xc = np.ascontiguousarray(X)
    n_samples, n_layers = Xc.shape[0], len(coefs)

    def run():
        for _ in range(epochs):
            for batch in gen_batches(n_samples, batch_size):
                A = Xc[batch]
                m = A.shape[0]
                inputs = [A]
                for W, out in zip(coefs, outs):
                    A = np.matmul(A, W, out=out[:m])
                    inputs.append(A)
                for layer in range(n_layers - 1, -1, -1):
                    dZ = deltas[layer][:m]
                    np.matmul(inputs[layer].T, dZ, out=grads[layer])
                    if layer > 0:
                        np.matmul(dZ, coefs[layer].T, out=deltas[layer - 1][:m])

    return run


def workload_1(sizes, rows):
    X_train, X_test, y_train, y_test = w1_data(sizes["w1_samples"])
    epochs, repeats = sizes["w1_epochs"], sizes["w1_repeats"]
    params = w1_params(epochs)
    n_classes = len(np.unique(y_train))
    for dtype in (np.float32, np.float64):
        Xtr, Xte = X_train.astype(dtype), X_test.astype(dtype)
        fitted = {}

        def fit(cls, name, Xtr=Xtr, fitted=fitted):
            fitted[name] = cls(**params).fit(Xtr, y_train)

        times = interleaved(
            {
                "skbp": lambda fit=fit: fit(BPClassifier, "skbp"),
                "sklearn": lambda fit=fit: fit(MLPClassifier, "sklearn"),
                "bare": bare_training_products(Xtr, n_classes, epochs, W1_BATCH),
            },
            repeats,
        )
        dtypes = {name: est.coefs_[0].dtype.name for name, est in fitted.items()}
        name = np.dtype(dtype).name
        rows.append(
            timed_row(
                1,
                f"fit {name}, {len(Xtr)}x100, {epochs} epochs",
                times,
                bare_goal=(1.3, 1.6),
                sklearn_goal=(0.5, None),
                note=f"weights computed in {dtypes['skbp']} (skbp), "
                f"{dtypes['sklearn']} (sklearn); "
                f"per-repeat skbp {_fmt_list(times['skbp'])}, "
                f"sklearn {_fmt_list(times['sklearn'])}, "
                f"bare {_fmt_list(times['bare'])}",
            )
        )
        rows.append(
            Row(
                1,
                f"test accuracy {name}",
                "",
                fitted["skbp"].score(Xte, y_test),
                fitted["sklearn"].score(Xte, y_test),
            )
        )


def _fmt_list(times):
    return "[" + ", ".join(f"{t:.3f}" for t in times) + "]"


# ----------------------------------------------------------------------
# Workload 2: the seed's [1, 25, 1] network, full-batch gradient descent
# ----------------------------------------------------------------------
def w2_data():
    """The seed's curve (as in ``python -m skbp``): y = 20 sin(2 pi x)."""
    x = np.arange(0.0, 1.0, 0.01).reshape(-1, 1)
    return x, 20 * np.sin(2 * np.pi * x).ravel()


def w2_params(iterations, n_samples):
    return {
        "hidden_layer_sizes": (25,),
        "activation": "logistic",
        "solver": "sgd",
        "learning_rate": "constant",
        "learning_rate_init": 0.3,
        "momentum": 0.0,
        "batch_size": n_samples,
        "alpha": 0.0,
        "max_iter": iterations,
        "tol": 0.0,
        "n_iter_no_change": 10**9,
        "shuffle": False,
        "random_state": 0,
    }


def bare_gradient_descent(x, y, iterations, hidden=25, lr=0.3):
    """The same full-batch gradient descent written as a flat numpy loop.

    No validation, no objects: every product with ``np.dot`` into a
    preallocated array, every elementwise step in place, the loss value
    computed as skbp records it. The floor of a direct numpy implementation
    (about 25 small numpy calls per iteration).
    """
    rng = np.random.default_rng(0)
    Y = y.reshape(-1, 1)
    m = x.shape[0]
    bound = np.sqrt(2 / (1 + hidden))
    W1 = rng.uniform(-bound, bound, (1, hidden))
    b1 = rng.uniform(-bound, bound, hidden)
    W2 = rng.uniform(-bound, bound, (hidden, 1))
    b2 = rng.uniform(-bound, bound, 1)
    A1, Z2, dZ2, dA1 = (np.empty(s) for s in ((m, hidden), (m, 1), (m, 1), (m, hidden)))
    grads = [np.empty_like(p) for p in (W1, b1, W2, b2)]
    gW1, gb1, gW2, gb2 = grads
    params = (W1, b1, W2, b2)
    ones = np.ones(m)

    def run():
        for _ in range(iterations):
            # forward: A1 = 1 / (1 + exp(-(x W1 + b1))), Z2 = A1 W2 + b2
            np.dot(x, W1, out=A1)
            np.add(A1, b1, out=A1)
            np.negative(A1, out=A1)
            np.exp(A1, out=A1)
            np.add(A1, 1.0, out=A1)
            np.divide(1.0, A1, out=A1)
            np.dot(A1, W2, out=Z2)
            np.add(Z2, b2, out=Z2)
            # loss and output gradient
            np.subtract(Z2, Y, out=dZ2)
            0.5 * float(np.dot(dZ2.ravel(), dZ2.ravel())) / m
            np.multiply(dZ2, 1.0 / m, out=dZ2)
            # backward
            np.dot(A1.T, dZ2, out=gW2)
            np.dot(ones, dZ2, out=gb2)
            np.dot(dZ2, W2.T, out=dA1)
            np.multiply(dA1, A1, out=dA1)
            np.multiply(dA1, 1.0 - A1, out=dA1)
            np.dot(x.T, dA1, out=gW1)
            np.dot(ones, dA1, out=gb1)
            for param, grad in zip(params, grads):
                grad *= lr
                param -= grad

    return run


def workload_2(sizes, rows):
    x, y = w2_data()
    iterations = sizes["w2_iterations"]
    params = w2_params(iterations, len(x))
    fitted = {}

    def fit(cls, name):
        fitted[name] = cls(**params).fit(x, y)

    times = interleaved(
        {
            "skbp": lambda: fit(BPRegressor, "skbp"),
            "sklearn": lambda: fit(MLPRegressor, "sklearn"),
            "bare": bare_gradient_descent(x, y, iterations),
        },
        sizes["w2_repeats"],
        warmup=True,
    )
    per_iter = {k: statistics.median(v) / iterations for k, v in times.items()}
    rows.append(
        timed_row(
            2,
            f"fit [1,25,1] sine, {iterations} full-batch GD steps",
            times,
            sklearn_goal=(0.4, None),
            note="per iteration: "
            + ", ".join(f"{k} {v * 1e6:.1f} us" for k, v in per_iter.items())
            + "; bare = flat numpy loop of the same math",
        )
    )
    rows.append(
        Row(
            2,
            "final training loss",
            "",
            fitted["skbp"].loss_curve_[-1],
            fitted["sklearn"].loss_curve_[-1],
            note=f"R^2 skbp {fitted['skbp'].score(x, y):.4f}, "
            f"sklearn {fitted['sklearn'].score(x, y):.4f}",
        )
    )


# ----------------------------------------------------------------------
# Workload 3: prediction latency and throughput (workload 1's network)
# ----------------------------------------------------------------------
def workload_3(sizes, rows):
    # The timing of predict does not depend on how well the weights are
    # trained: two epochs on a slice of workload 1's data give the network.
    X_train, _, y_train, _ = w1_data(12_000)
    params = w1_params(2)
    models = {
        "skbp": BPClassifier(**params).fit(X_train, y_train),
        "sklearn": MLPClassifier(**params).fit(X_train, y_train),
    }
    coefs = models["skbp"].coefs_
    if not np.array_equal(
        models["skbp"].predict(X_train[:500]), models["sklearn"].predict(X_train[:500])
    ):
        warnings.warn("skbp and sklearn predictions differ", stacklevel=1)

    # One row, many calls: median over blocks of the mean time per call.
    row = X_train[:1].copy()
    calls = sizes["w3_calls"]

    def one_row(predict):
        def run():
            for _ in range(calls):
                predict(row)

        return run

    def bare_one_row(x=row):
        for _ in range(calls):
            x @ coefs[0] @ coefs[1] @ coefs[2]

    times = interleaved(
        {
            "skbp": one_row(models["skbp"].predict),
            "sklearn": one_row(models["sklearn"].predict),
            "bare": bare_one_row,
        },
        sizes["w3_blocks"],
        warmup=True,
    )
    times = {k: [t / calls for t in v] for k, v in times.items()}
    rows.append(
        timed_row(3, "predict latency, 1 row", times, sklearn_goal=(1 / 3, None))
    )

    # Many rows: throughput against the three forward products.
    n_rows = sizes["w3_bulk_rows"]
    X_bulk = np.random.default_rng(0).standard_normal((n_rows, X_train.shape[1]))

    def bare_bulk():
        X_bulk @ coefs[0] @ coefs[1] @ coefs[2]

    times = interleaved(
        {
            "skbp": lambda: models["skbp"].predict(X_bulk),
            "sklearn": lambda: models["sklearn"].predict(X_bulk),
            "bare": bare_bulk,
        },
        sizes["w3_bulk_repeats"],
        warmup=True,
    )
    rows.append(
        timed_row(
            3,
            f"predict {n_rows} rows",
            times,
            bare_goal=(1.2, None),
            note=f"{n_rows / statistics.median(times['skbp']):,.0f} rows/s (skbp); "
            "bare = the 3 forward products only",
        )
    )


# ----------------------------------------------------------------------
# Workload 4: L-BFGS regression
# ----------------------------------------------------------------------
def workload_4(sizes, rows):
    X, y = make_regression(
        n_samples=sizes["w4_samples"],
        n_features=50,
        n_informative=30,
        noise=10.0,
        random_state=0,
    )
    y = (y - y.mean()) / y.std()
    params = {
        "hidden_layer_sizes": (100,),
        "solver": "lbfgs",
        "max_iter": sizes["w4_max_iter"],
        "random_state": 0,
    }
    fitted = {}

    def fit(cls, name):
        fitted[name] = cls(**params).fit(X, y)

    times = interleaved(
        {
            "skbp": lambda: fit(BPRegressor, "skbp"),
            "sklearn": lambda: fit(MLPRegressor, "sklearn"),
        },
        sizes["w4_repeats"],
    )
    skbp_est, sk_est = fitted["skbp"], fitted["sklearn"]
    rows.append(
        timed_row(
            4,
            f"fit L-BFGS {len(X)}x50, (100,), max_iter {params['max_iter']}",
            times,
            sklearn_goal=(1.0, None),
            note=f"n_iter_ skbp {skbp_est.n_iter_}, sklearn {sk_est.n_iter_}; "
            f"final loss skbp {skbp_est.loss_:.5f}, sklearn {sk_est.loss_:.5f}",
        )
    )


# ----------------------------------------------------------------------
# Workload 5: peak memory of workload 1's fit (float64), fresh subprocesses
# ----------------------------------------------------------------------
def _proc_status_kib(field):
    """``VmRSS``/``VmHWM`` of this process in KiB from /proc (None elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss():
    """Reset the kernel's resident high-water mark (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _memory_child(estimator, data_dir, epochs, mode):
    """Entry point of the subprocess: fit once, print the peak as JSON.

    ``mode="tracemalloc"``: peak of traced allocations (numpy reports its
    buffers to tracemalloc) during ``fit``, counted from zero at the start.
    ``mode="rss"`` (no tracemalloc, so no bookkeeping in the figure): the
    rise of the resident set's high-water mark over the resident size just
    before ``fit``, after resetting the mark through /proc/self/clear_refs;
    where that is impossible, the rise of ``getrusage().ru_maxrss``.
    """
    X = np.load(Path(data_dir) / "X.npy")
    y = np.load(Path(data_dir) / "y.npy")
    cls = BPClassifier if estimator == "skbp" else MLPClassifier
    est = cls(**w1_params(epochs))
    warnings.simplefilter("ignore", ConvergenceWarning)
    # Touch the BLAS library's work buffers with the fit's shapes first: they
    # are the library's, allocated once per process, not the estimator's.
    bare_training_products(X[: 2 * W1_BATCH], len(np.unique(y)), 1, W1_BATCH)()
    gc.collect()
    result = {"data_bytes": X.nbytes + y.nbytes}
    if mode == "tracemalloc":
        tracemalloc.start()
        est.fit(X, y)
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        result["method"] = "tracemalloc"
    elif _reset_peak_rss() and _proc_status_kib("VmHWM") is not None:
        before = _proc_status_kib("VmRSS")
        est.fit(X, y)
        result["peak"] = (_proc_status_kib("VmHWM") - before) * 1024
        result["method"] = "VmHWM - VmRSS"
    else:
        import resource  # Unix only

        scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        est.fit(X, y)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["peak"] = (after - before) * scale
        result["method"] = "ru_maxrss delta (lower bound)"
    print(json.dumps(result))


def workload_5(sizes, rows, blas_threads):
    X_train, _, y_train, _ = w1_data(sizes["w1_samples"])
    epochs = sizes["w1_epochs"]
    env = dict(os.environ)
    if blas_threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(blas_threads)
    results = {}
    with tempfile.TemporaryDirectory() as data_dir:
        np.save(Path(data_dir) / "X.npy", X_train)
        np.save(Path(data_dir) / "y.npy", y_train)
        for mode in ("tracemalloc", "rss"):
            for name in ("skbp", "sklearn"):
                command = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--_memory-child",
                    name,
                    data_dir,
                    str(epochs),
                    mode,
                ]
                done = subprocess.run(
                    command, capture_output=True, text=True, env=env, check=True
                )
                results[mode, name] = json.loads(done.stdout.strip().splitlines()[-1])
    data_mib = results["rss", "skbp"]["data_bytes"] / MIB
    for mode, note in (
        (
            "tracemalloc",
            "peak of traced (Python + numpy) allocations during fit, "
            f"not counting X and y ({data_mib:.1f} MiB, loaded before)",
        ),
        (
            "rss",
            "rise of the resident high-water mark during fit over the resident "
            "size before it (BLAS work buffers touched beforehand); includes "
            "allocator slack",
        ),
    ):
        skbp_mib = results[mode, "skbp"]["peak"] / MIB
        sk_mib = results[mode, "sklearn"]["peak"] / MIB
        ratio = skbp_mib / sk_mib if sk_mib > 0 else None
        rows.append(
            Row(
                5,
                f"fit peak memory ({results[mode, 'skbp']['method']}), "
                f"{len(X_train)}x100 float64",
                "MiB",
                skbp_mib,
                sk_mib,
                None,
                None,
                ratio,
                sklearn_goal=(1.0, None),
                note=note,
            )
        )


# ----------------------------------------------------------------------
# Profiling
# ----------------------------------------------------------------------
def profile(workload, sizes, top=30):
    """cProfile skbp's fit on workload 1 (float64) or 2 and print the top."""
    if workload == 1:
        X_train, _, y_train, _ = w1_data(sizes["w1_samples"])
        est = BPClassifier(**w1_params(sizes["w1_epochs"]))
        args = (X_train, y_train)
    elif workload == 2:
        x, y = w2_data()
        est = BPRegressor(**w2_params(sizes["w2_iterations"], len(x)))
        args = (x, y)
    else:
        raise SystemExit("--profile takes workload 1 or 2")
    profiler = cProfile.Profile()
    profiler.runcall(est.fit, *args)
    stats = pstats.Stats(profiler).strip_dirs()
    for key, what in (("tottime", "own time"), ("cumulative", "cumulative time")):
        print(f"cProfile of skbp fit, workload {workload} (sorted by {what})")
        stats.sort_stats(key).print_stats(top)


# ----------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------
def _workloads(text):
    try:
        chosen = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a workload list: {text!r}") from None
    for w in chosen:
        if w not in WORKLOADS:
            raise argparse.ArgumentTypeError(f"no workload {w}; choose from 1-5")
    return chosen


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See benchmarks/README.md for the workloads and the table.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="reduced sizes and repeats (seconds)"
    )
    parser.add_argument(
        "--workload",
        type=_workloads,
        action="append",
        metavar="N",
        help="run only workload N (1-5); repeat or give a list like 1,3",
    )
    parser.add_argument(
        "--repeats", type=int, help="override the number of repeats of every timing"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        metavar="T",
        help="limit BLAS to T threads for every competitor (default 1; "
        "0 = leave the library default). Needs threadpoolctl.",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="instead of the table, cProfile skbp's fit on workload N (1 or 2)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    parser.add_argument(
        "--_memory-child", nargs=4, dest="memory_child", help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        name, data_dir, epochs, mode = args.memory_child
        _memory_child(name, data_dir, int(epochs), mode)
        return 0

    sizes = dict(QUICK if args.quick else FULL)
    if args.repeats:
        for key in sizes:
            if key.endswith(("_repeats", "_blocks")):
                sizes[key] = args.repeats
    chosen = (
        sorted({w for group in args.workload for w in group})
        if args.workload
        else list(WORKLOADS)
    )

    warnings.simplefilter("ignore", ConvergenceWarning)
    default_threads = _blas_threads_now()
    limit = blas_limit(args.blas_threads) if args.blas_threads else nullcontext()
    with limit:
        if args.profile:
            profile(args.profile, sizes)
            return 0
        info = environment(args.blas_threads, default_threads)
        print_environment(
            info,
            f"skbp benchmarks ({'quick' if args.quick else 'full'}; "
            f"workloads {','.join(map(str, chosen))})",
        )
        print()
        rows = []
        started = time.perf_counter()
        runners = {
            1: lambda: workload_1(sizes, rows),
            2: lambda: workload_2(sizes, rows),
            3: lambda: workload_3(sizes, rows),
            4: lambda: workload_4(sizes, rows),
            5: lambda: workload_5(sizes, rows, args.blas_threads),
        }
        for w in chosen:
            t0 = time.perf_counter()
            runners[w]()
            print(f"workload {w} done in {time.perf_counter() - t0:.1f} s", flush=True)
        elapsed = time.perf_counter() - started
    print()
    print_table(rows)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(
        f"\n{elapsed:.0f} s in all; load average at the end "
        f"{load and [round(x, 2) for x in load]} on {info['cpu_count']} CPUs"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "environment": info,
                    "sizes": sizes,
                    "rows": [asdict(r) for r in rows],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
