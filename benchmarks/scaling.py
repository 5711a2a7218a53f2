"""Time a grid search over skbp on Dask clusters of 1 and 2 worker processes.

Run from the repository root::

    python benchmarks/scaling.py                  # 1 and 2 local workers, ~2 min
    python benchmarks/scaling.py --quick          # a smaller search, ~30 s
    python benchmarks/scaling.py --workers 1,2,4  # other cluster sizes
    python benchmarks/scaling.py --address tcp://scheduler:8786  # a real cluster

The search is ``GridSearchCV`` over :class:`skbp.BPClassifier` (8 candidates
x 3 folds = 24 fits, each a fixed number of epochs), run through joblib's
Dask backend (``joblib.parallel_backend("dask", scatter=[X, y])``) on a
``LocalCluster(n_workers=k, threads_per_worker=1, processes=True)`` for
each ``k`` (or on the cluster at ``--address``), and in this process with
``n_jobs=1`` as the baseline. Every run must give the same ``cv_results_``
scores as the baseline, or the script fails.

All clusters are started first (their start-up is timed apart) and warmed
up with a small search, so the workers have imported skbp. Then each repeat
times the baseline and every cluster back to back: on a machine shared with
other work, the runs of one repeat see about the same load. The table gives
the median time of each, and the median over repeats of each run's speed-up
over the 1-worker cluster of the same repeat.

Dask's nanny limits each worker's BLAS to one thread (``OMP_NUM_THREADS=1``
and friends); the baseline gets one BLAS thread too when ``threadpoolctl``
is installed, so that one worker does the work of the baseline.

It benchmarks the working tree (the repository root goes first on
``sys.path``, for this process and, through ``PYTHONPATH``, for the local
workers).
"""

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from contextlib import ExitStack, nullcontext
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# Local workers start fresh interpreters: point them at the tree too.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
)

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

import skbp  # noqa: E402
from skbp import BPClassifier  # noqa: E402

GRID = {
    "hidden_layer_sizes": [(32,), (64,)],
    "alpha": [1e-4, 1e-2],
    "learning_rate_init": [1e-3, 1e-2],
}
CV = 3


def make_data(quick):
    """``(X, y)`` of shapes (n_samples, 20) and (n_samples,): 3 classes."""
    return make_classification(
        n_samples=2000 if quick else 6000,
        n_features=20,
        n_informative=10,
        n_classes=3,
        random_state=0,
    )


def make_search(n_jobs, quick):
    """The grid search: 8 candidates x 3 folds, the same epochs in every fit."""
    estimator = BPClassifier(
        solver="adam",
        max_iter=10 if quick else 60,
        tol=0.0,
        n_iter_no_change=10_000,  # every epoch runs: equal work per fit
        random_state=0,
    )
    return GridSearchCV(estimator, GRID, cv=CV, n_jobs=n_jobs)


def run_search(X, y, quick, client=None):
    """Seconds one ``fit`` of the search takes, and its mean test scores.

    With ``client``, on that client's cluster through joblib's Dask
    backend; without, in this process with ``n_jobs=1``.
    """
    if client is None:
        search, backend = make_search(1, quick), nullcontext()
    else:
        # scatter: X and y go to each worker once, not with every task.
        search = make_search(-1, quick)
        backend = joblib.parallel_backend("dask", client=client, scatter=[X, y])
    with backend, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, search.cv_results_["mean_test_score"]


def blas_one_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext(), "BLAS threads not limited (no threadpoolctl)"
    return threadpool_limits(limits=1, user_api="blas"), "1 BLAS thread"


def start_clients(args, stack):
    """``[(label, client, start-up seconds)]``, clusters closed by ``stack``."""
    import distributed

    if args.address:
        start = time.perf_counter()
        client = stack.enter_context(
            distributed.Client(args.address, set_as_default=False)
        )
        return [(f"cluster at {args.address}", client, time.perf_counter() - start)]
    clients = []
    for n_workers in [int(k) for k in args.workers.split(",")]:
        start = time.perf_counter()
        cluster = stack.enter_context(
            distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: 8787 may be taken
            )
        )
        client = stack.enter_context(distributed.Client(cluster, set_as_default=False))
        label = f"LocalCluster, {n_workers} worker{'s' if n_workers > 1 else ''}"
        clients.append((label, client, time.perf_counter() - start))
    return clients


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2", help="local cluster sizes")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a smaller search")
    parser.add_argument(
        "--address", help="scheduler of a running cluster (instead of local ones)"
    )
    args = parser.parse_args(argv)

    import dask
    import distributed

    X, y = make_data(args.quick)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    limit, blas_note = blas_one_thread()
    with ExitStack() as stack:
        clients = start_clients(args, stack)
        for _, client, _ in clients:  # warm up: the workers import skbp
            run_search(X[:300], y[:300], True, client)
        baseline, times = [], {label: [] for label, _, _ in clients}
        for _ in range(args.repeats):
            with limit:
                seconds, expected = run_search(X, y, args.quick)
            baseline.append(seconds)
            for label, client, _ in clients:
                seconds, scores = run_search(X, y, args.quick, client)
                if not np.array_equal(scores, expected):
                    raise AssertionError(f"{label}: scores differ from n_jobs=1's")
                times[label].append(seconds)
        threads = {
            label: sum(w["nthreads"] for w in c.scheduler_info()["workers"].values())
            for label, c, _ in clients
        }
    load_after = os.getloadavg() if load_before is not None else None

    n_candidates = int(np.prod([len(v) for v in GRID.values()]))
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(
        f"GridSearchCV over BPClassifier: {n_candidates} candidates x {CV} folds "
        f"= {n_candidates * CV} fits, max_iter="
        f"{make_search(1, args.quick).estimator.max_iter}, "
        f"X {X.shape[0]} x {X.shape[1]}"
    )
    print(
        f"{platform.machine()}, os.cpu_count()={os.cpu_count()}, usable "
        f"cores={affinity}; python {platform.python_version()}, skbp "
        f"{skbp.__version__}, dask {dask.__version__}, distributed "
        f"{distributed.__version__}, joblib {joblib.__version__}"
    )
    print(f"{args.repeats} repeats, interleaved; baseline: {blas_note}")
    reference = times[clients[0][0]]
    header = (
        f"{'setup':<24} {'threads':>7} {'start-up s':>10} {'search s':>9} "
        f"{'speed-up':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = [("n_jobs=1, no cluster", 1, 0.0, baseline)]
    rows += [(label, threads[label], up, times[label]) for label, _, up in clients]
    for label, n_threads, startup, seconds in rows:
        speedup = statistics.median(r / s for r, s in zip(reference, seconds))
        print(
            f"{label:<24} {n_threads:>7} {startup:>10.1f} "
            f"{statistics.median(seconds):>9.2f} {speedup:>8.2f}x"
        )
    print(
        f"speed-up: over {clients[0][0]} in the same repeat (median); "
        "scores equal to n_jobs=1's in every run"
    )
    if load_before is not None:
        # The machine may be shared: say how busy it was.
        print(
            f"load average (1 min) before / after: {load_before[0]:.1f} / "
            f"{load_after[0]:.1f}"
        )


if __name__ == "__main__":
    main()
