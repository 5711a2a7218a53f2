"""Training on a Dask cluster (issue 17): throughput on 1 and 2 workers, and beyond.

What it measures
----------------
Two compute-bound workloads, each fitted by :class:`skbp.BPClassifier` on
Dask arrays whose row chunks live on the workers of a ``LocalCluster``
(``n_workers=k, threads_per_worker=1, processes=True``) for each ``k`` of
``--workers``:

- ``lbfgs``: 100,000 x 128 float64 rows, 10 classes, hidden ``(512,)``
  relu, 10 L-BFGS iterations (``tol=0``: every one runs); each L-BFGS
  evaluation is one pass over the rows;
- ``adam``: the same rows, hidden ``(2048,)`` relu, 2 epochs of global
  batches of 25,000 rows (every epoch runs); the report says whether
  ``fit`` trained on the workers, from the tasks that ran there. With
  ``--adam-hidden 1024`` a step computes half as long and its overhead
  (40 to 50 ms) weighs twice as much: see the scaling page of the docs.

The data are 8 chunks made on the workers (chunk ``i`` on worker ``i mod
k``) by a seeded generator: Gaussian features, the labels of a fixed random
tanh network. The same generator makes the same rows in this process for
the in-memory competitors, which the house rule compares against:

- skbp's ``fit`` on the NumPy arrays, in this process;
- scikit-learn's ``MLPClassifier``, the same parameters and arrays;
- the bare matrix products of one pass (``bench.workload_1``'s floor:
  the forward and backward products over the pass's batches, nothing else).

A *step* is one tree of tasks on the workers: an L-BFGS evaluation, an adam
update. A *pass* is the rows once: an L-BFGS evaluation, an adam epoch.
Throughput is rows x passes / second. From each cluster fit's task stream
(``distributed.get_task_stream``): the steps (training tasks / chunks), the
compute of the chunk tasks on the workers (summed: ``C`` per step; and the
busiest worker's share), and the rest of each step's wall time (weights
out, scheduling, transfers, the tree reduction, the gather, the client's
own work): the overhead ``o(k)``. With ``C`` from 1 worker and ``o(k) = a +
b log2 k`` fitted to the measured ``k`` (tree reduction and broadcast grow
with log k), the model ``T(k) = C / k + a + b log2 k`` projects the
speed-up to 4, 8 and 32 workers (given at least one chunk per worker),
next to Spark MLlib's published figures.

Client memory: a small network fitted on data made on the workers, once on
``n / 10`` rows and once on ``n`` rows (the same 8 chunks, 10x bigger):
the client's peak of traced allocations (tracemalloc) and the rise of its
resident high-water mark during ``fit``. Flat means it grows by under 5 %
of what the data grew.

Timing: each cluster fit has a cluster of its own, started for it and
closed after it (no idle cluster running beside it; start-up not timed),
and every competitor is warmed up on one chunk's rows (a cluster, on
rows of each chunk: each worker imports and runs the training code before
the timed fit); then each repeat runs every competitor once, in a
rotating order (``bench.measure.interleaved``); medians of the times, and
of the paired ratios. BLAS: one thread in this process (threadpoolctl),
and in each worker (the nanny's ``OMP_NUM_THREADS=1``);
the report prints the workers' BLAS.

Goals: 2 workers reach at least 1.6x the throughput of 1 (each workload).

Reproduce, from the repository root (an idle machine: every core is a
worker)::

    python benchmarks/cluster.py                  # both workloads, ~5 min
    python benchmarks/cluster.py --quick          # small sizes, ~15 s
    python benchmarks/cluster.py --workers 1,2 --repeats 5 --json cluster.json
    python benchmarks/cluster.py --workload lbfgs --skip-memory

See ``benchmarks/README.md`` ("Cluster workload") and the scaling page of
the docs ("Training on a cluster").
"""

import argparse
import json
import math
import os
import re
import statistics
import sys
import time
import tracemalloc
import warnings
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Local workers start fresh interpreters: the working tree first for them too.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
)

import numpy as np  # noqa: E402
from bench.cli import positive, positive_ints  # noqa: E402
from bench.environment import (  # noqa: E402
    blas_limit,
    blas_threads_now,
    environment,
    print_environment,
)
from bench.measure import interleaved, median_ratio  # noqa: E402
from bench.report import fmt_value, format_columns  # noqa: E402
from bench.workload_1 import bare_training_products  # noqa: E402
from bench.workload_5 import _proc_status_kib, _reset_peak_rss  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from skbp import BPClassifier  # noqa: E402

N_CLASSES = 10
TEACHER_UNITS = 32  # hidden units of the random network that labels the rows
SEED = 0
MIB = 2.0**20
SPEEDUP_GOAL = 1.6  # 2 workers over 1, in throughput
FLAT = 0.05  # the client's memory may grow by this fraction of the data's
PROJECTED = (1, 2, 4, 8, 32)  # worker counts of the projection

FULL = {
    "n_samples": 100_000,
    "n_features": 128,
    "n_chunks": 8,
    "repeats": 3,
    "lbfgs_hidden": (512,),
    "lbfgs_iter": 10,
    "adam_hidden": (2048,),
    "adam_epochs": 2,
    "adam_batch": 25_000,
    "memory_hidden": (16,),
}
QUICK = {
    **FULL,
    "n_samples": 16_000,
    "n_features": 32,
    "repeats": 1,
    "lbfgs_hidden": (64,),
    "lbfgs_iter": 3,
    "adam_hidden": (128,),
    "adam_epochs": 1,
    "adam_batch": 4_000,
}

#: Spark MLlib's published scaling: Ulanov's benchmark of the Spark ANN
#: that became MLlib's MultilayerPerceptronClassifier
#: (https://github.com/avulanov/ann-benchmark, 2015): MNIST, 60,000 rows,
#: 784-2500-2000-1500-1000-500-10 sigmoid (about 12M weights), seconds per
#: epoch, total and compute, on 1 to 5 worker nodes (4-core Xeon E3-1240).
MLLIB = {1: (86.0, 84.0), 2: (47.0, 44.0), 3: (35.2, 33.0), 4: (27.0, 24.0)}
MLLIB_5 = (29.0, 21.0)  # 5 nodes: slower than 4


@dataclass
class Config:
    """Sizes and options of one run (all of it in the JSON output)."""

    n_samples: int
    n_features: int
    n_chunks: int
    repeats: int
    lbfgs_hidden: tuple
    lbfgs_iter: int
    adam_hidden: tuple
    adam_epochs: int
    adam_batch: int
    memory_hidden: tuple
    workers: tuple
    workloads: tuple
    in_process: bool
    memory: bool
    blas_threads: int
    quick: bool


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------
def parse_args(argv=None):
    """The command line (``argv`` None: ``sys.argv[1:]``) as a namespace."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See benchmarks/README.md, section 'Cluster workload'.",
    )
    parser.add_argument("--workers", type=positive_ints, default=(1, 2), help="1,2")
    parser.add_argument(
        "--workload",
        default="lbfgs,adam",
        help="lbfgs, adam or both (default lbfgs,adam)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat")
    parser.add_argument("--repeats", type=positive, help="timed fits of each (3)")
    parser.add_argument("--n-samples", type=positive, help="rows (100000)")
    parser.add_argument("--n-features", type=positive, help="features (128)")
    parser.add_argument("--chunks", type=positive, dest="n_chunks", help="chunks (8)")
    parser.add_argument(
        "--lbfgs-hidden", type=positive_ints, help="hidden layers (512)"
    )
    parser.add_argument("--lbfgs-iter", type=positive, help="L-BFGS iterations (10)")
    parser.add_argument(
        "--adam-hidden", type=positive_ints, help="hidden layers (2048)"
    )
    parser.add_argument("--adam-epochs", type=positive, help="adam epochs (2)")
    parser.add_argument("--adam-batch", type=positive, help="adam's batch (25000)")
    parser.add_argument(
        "--skip-memory", action="store_true", help="no client-memory check"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="workers as threads of this process (processes=False): tests the "
        "script; the times and the memory check then say little",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        metavar="T",
        help="BLAS threads in this process (default 1, as each worker has)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    return parser.parse_args(argv)


def make_config(args):
    """The :class:`Config` of ``args``: full or ``--quick`` sizes, overridden
    by the sizes given.

    Raises
    ------
    ValueError
        For an unknown workload, or fewer rows than chunks.
    """
    base = QUICK if args.quick else FULL
    sizes = {
        key: base[key] if getattr(args, key, None) is None else getattr(args, key)
        for key in base
    }
    workloads = tuple(w.strip() for w in args.workload.split(",") if w.strip())
    unknown = set(workloads) - {"lbfgs", "adam"}
    if unknown or not workloads:
        raise ValueError(f"--workload: lbfgs and/or adam, not {args.workload!r}")
    if sizes["n_samples"] < 10 * sizes["n_chunks"]:
        raise ValueError("--n-samples must be at least 10 rows per chunk")
    return Config(
        **sizes,
        workers=tuple(sorted(set(args.workers))),
        workloads=workloads,
        in_process=args.in_process,
        memory=not args.skip_memory,
        blas_threads=args.blas_threads,
        quick=args.quick,
    )


# ---------------------------------------------------------------------------
# The data: chunks made where they live
# ---------------------------------------------------------------------------
def chunk_sizes(n_samples, n_chunks):
    """Rows of each chunk, as even as can be."""
    return [len(part) for part in np.array_split(np.arange(n_samples), n_chunks)]


def make_chunk(index, rows, n_features, part):
    """Chunk ``index`` of the data set: ``part`` ``"X"`` (float64 Gaussian
    rows) or ``"y"`` (their labels by a fixed random tanh network)."""
    teacher = np.random.default_rng(SEED)
    A = teacher.standard_normal((n_features, TEACHER_UNITS)) / np.sqrt(n_features)
    B = teacher.standard_normal((TEACHER_UNITS, N_CLASSES))
    X = np.random.default_rng([SEED, index]).standard_normal((rows, n_features))
    return X if part == "X" else np.argmax(np.tanh(X @ A) @ B, axis=1)


def in_memory_data(n_samples, n_features, n_chunks):
    """The data set in this process: ``X`` (n_samples, n_features), ``y``."""
    sizes = chunk_sizes(n_samples, n_chunks)
    return tuple(
        np.concatenate(
            [make_chunk(i, n, n_features, part) for i, n in enumerate(sizes)]
        )
        for part in ("X", "y")
    )


def dask_data(client, n_samples, n_features, n_chunks):
    """The data set as Dask arrays whose chunk ``i`` is made on worker ``i``
    mod the number of workers (nothing made or held here)."""
    import dask.array as da

    workers = sorted(client.scheduler_info()["workers"])
    arrays = {"X": [], "y": []}
    for i, rows in enumerate(chunk_sizes(n_samples, n_chunks)):
        where = [workers[i % len(workers)]]
        for part, shape, dtype in (
            ("X", (rows, n_features), np.float64),
            ("y", (rows,), np.int64),
        ):
            future = client.submit(make_chunk, i, rows, n_features, part, workers=where)
            arrays[part].append(da.from_delayed(future, shape=shape, dtype=dtype))
    return da.concatenate(arrays["X"]), da.concatenate(arrays["y"])


# ---------------------------------------------------------------------------
# The workloads and their competitors
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    """One estimator configuration."""

    name: str
    hidden: tuple
    max_iter: int  # iterations (lbfgs) or epochs
    batch_size: int | None  # None: full batch (L-BFGS)

    def params(self):
        """Parameters of both skbp's and scikit-learn's estimator."""
        params = {
            "hidden_layer_sizes": self.hidden,
            "activation": "relu",
            "solver": self.name,
            "alpha": 1e-4,
            "max_iter": self.max_iter,
            "tol": 0.0,  # every iteration or epoch runs
            "random_state": SEED,
        }
        if self.batch_size is not None:
            params.update(
                batch_size=self.batch_size,
                learning_rate_init=1e-3,
                n_iter_no_change=10**9,
                shuffle=True,
            )
        return params

    def describe(self):
        if self.batch_size is None:
            return f"hidden {self.hidden} relu, L-BFGS, {self.max_iter} iterations"
        return (
            f"hidden {self.hidden} relu, {self.name}, {self.max_iter} epoch(s) of "
            f"batches of {self.batch_size}"
        )


def workloads(config):
    """The :class:`Workload` of each name in ``config.workloads``."""
    known = {
        "lbfgs": Workload("lbfgs", config.lbfgs_hidden, config.lbfgs_iter, None),
        "adam": Workload(
            "adam", config.adam_hidden, config.adam_epochs, config.adam_batch
        ),
    }
    return [known[name] for name in config.workloads]


@dataclass
class Run:
    """One timed fit."""

    seconds: float
    model: object
    stream: list | None = None  # the task stream, for fits on a cluster
    started: float | None = None  # time.time() at the start of fit


def timed(fit, runs):
    """A callable for :func:`bench.measure.interleaved`: each call appends
    ``fit()``'s :class:`Run` to ``runs``."""

    def run():
        runs.append(fit())

    return run


def on_cluster(k, config, params, warm):
    """A fit of skbp on the workers of a cluster of ``k`` started for it
    (and closed after): nothing else runs on the machine meanwhile, not
    even an idle cluster, whose heartbeats and profiler would take from the
    2-worker fits (which use every core) and not from the 1-worker ones.
    Warmed up first on every worker (``warm``: the parameters of a fit on
    one chunk's rows, taken from every chunk: imports, first allocations);
    the Run times the fit alone, with its task stream."""

    def fit():
        with ExitStack() as stack:
            client, X, y = start_cluster(k, config, stack)
            fit_on(client, warm, *every_chunk_sampled(X, y))()
            return fit_on(client, params, X, y)()

    return fit


def every_chunk_sampled(X, y):
    """The first rows of every chunk of Dask arrays ``X`` and ``y``, as
    many rows in all as one chunk has."""
    import dask.array as da

    n_chunks = X.numblocks[0]
    rows = max(1, X.chunks[0][0] // n_chunks)
    return tuple(
        da.concatenate([a.blocks[i][:rows] for i in range(n_chunks)]) for a in (X, y)
    )


def fit_on(client, params, X, y):
    """A fit of skbp on ``client``'s workers, with its task stream."""
    import distributed

    def fit():
        est = BPClassifier(**params)
        with client.as_current(), distributed.get_task_stream(client) as stream:
            started, start = time.time(), time.perf_counter()
            est.fit(X, y)
            seconds = time.perf_counter() - start
        return Run(seconds, est, stream.data, started)

    return fit


def in_memory(cls, params, X, y):
    def fit():
        start = time.perf_counter()
        model = cls(**params).fit(X, y)
        return Run(time.perf_counter() - start, model)

    return fit


def bare_pass(X, workload):
    """The matrix products of one pass over ``X`` (``bench.workload_1``)."""
    run = bare_training_products(
        X, N_CLASSES, 1, workload.batch_size or X.shape[0], workload.hidden
    )

    def fit():
        start = time.perf_counter()
        run()
        return Run(time.perf_counter() - start, None)

    return fit


# ---------------------------------------------------------------------------
# What a cluster fit did: steps, compute on the workers, the rest
# ---------------------------------------------------------------------------
_TOKEN = re.compile(r"-(?:[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})$")


def task_name(key):
    """The function or array name of a task's key (no token, no index)."""
    return _TOKEN.sub("", key[0] if isinstance(key, tuple) else str(key))


def is_training_task(name):
    """A chunk's share of a step: skbp's ``chunk_sums`` (L-BFGS) and
    ``batch_sums`` (data-parallel sgd/adam) return ``..._sums``."""
    return name.endswith("_sums")


def step_breakdown(run, n_chunks):
    """Steps and their compute, from a cluster fit's task stream.

    Returns
    -------
    dict
        ``steps`` (training tasks / chunks; 0 when none ran on the
        workers), ``setup`` (seconds from the start of ``fit`` to the first
        step: the pass that checks and keeps the chunks, the labels),
        ``wall`` (seconds per step after it), ``compute`` (chunk tasks'
        compute per step, summed over the workers), ``busiest`` (the
        busiest worker's share of it), ``overhead`` (``wall - busiest``),
        ``tasks`` (tasks by name) and ``chunks_per_worker`` (training tasks
        per step on each worker).
    """
    tasks, per_worker, compute, first = {}, {}, 0.0, math.inf
    for task in run.stream:
        name = task_name(task["key"])
        tasks[name] = tasks.get(name, 0) + 1
        if not is_training_task(name):
            continue
        seconds = sum(
            s["stop"] - s["start"]
            for s in task["startstops"]
            if s["action"] == "compute"
        )
        compute += seconds
        first = min([first, *(span["start"] for span in task["startstops"])])
        worker = per_worker.setdefault(task["worker"], [0, 0.0])
        worker[0] += 1
        worker[1] += seconds
    n_training = sum(n for name, n in tasks.items() if is_training_task(name))
    steps = n_training / n_chunks
    if not steps:
        return {"steps": 0, "tasks": tasks}
    busiest = max(seconds for _, seconds in per_worker.values()) / steps
    # The workers' clocks are this process's (a LocalCluster).
    setup = first - run.started
    wall = (run.seconds - setup) / steps
    return {
        "steps": steps,
        "setup": setup,
        "wall": wall,
        "compute": compute / steps,
        "busiest": busiest,
        "overhead": wall - busiest,
        "tasks": tasks,
        "chunks_per_worker": sorted(
            round(n / steps, 2) for n, _ in per_worker.values()
        ),
    }


def fit_model(breakdowns):
    """``T(k) = C / k + a + b log2 k`` from the median breakdown per ``k``.

    ``C`` is the compute per step on the fewest workers measured, times
    that number; ``a`` and ``b`` the least-squares line of the overhead
    against ``log2 k`` (``b = 0`` with one ``k``).

    Returns
    -------
    dict or None
        ``C``, ``a``, ``b`` (seconds), None when no step ran on workers.
    """
    measured = {k: b for k, b in breakdowns.items() if b and b["steps"]}
    if not measured:
        return None
    first = min(measured)
    C = measured[first]["compute"]
    logs = np.array([math.log2(k) for k in measured])
    overheads = np.array([b["overhead"] for b in measured.values()])
    if len(measured) == 1:
        a, b = float(overheads[0]), 0.0
    else:
        b, a = (float(v) for v in np.polyfit(logs, overheads, 1))
    return {"C": C, "a": a, "b": b}


def projection(model, ks):
    """Seconds per step and speed-up over 1 worker at each ``k`` of ``ks``."""

    def T(k):
        return model["C"] / k + model["a"] + model["b"] * math.log2(k)

    return {k: {"step": T(k), "speedup": T(1) / T(k)} for k in ks}


def median_breakdown(runs, n_chunks):
    """The breakdown of each run, and their medians (by key)."""
    each = [step_breakdown(run, n_chunks) for run in runs]
    if not all(b["steps"] for b in each):
        return each[-1]
    keys = ("steps", "setup", "wall", "compute", "busiest", "overhead")
    median = {key: statistics.median(b[key] for b in each) for key in keys}
    return {**each[-1], **median}


# ---------------------------------------------------------------------------
# One workload, every competitor
# ---------------------------------------------------------------------------
def measure_workload(workload, config, X, y):
    """Warm up, time every competitor (interleaved), analyse; a dict."""
    params = workload.params()
    chunk = chunk_sizes(config.n_samples, config.n_chunks)[0]
    warm = {**params, "max_iter": 1}
    if workload.batch_size is not None:  # not over the warm-ups' rows
        warm["batch_size"] = min(workload.batch_size, max(1, chunk // config.n_chunks))
    runs = {}
    competitors = {}
    for k in config.workers:
        name = cluster_name(k)
        runs[name] = []
        competitors[name] = timed(on_cluster(k, config, params, warm), runs[name])
    for name, fit in (
        ("skbp in memory", in_memory(BPClassifier, params, X, y)),
        ("sklearn in memory", in_memory(MLPClassifier, params, X, y)),
        ("bare, one pass", bare_pass(X, workload)),
    ):
        runs[name] = []
        competitors[name] = timed(fit, runs[name])
    for cls in (BPClassifier, MLPClassifier):
        in_memory(cls, warm, X[:chunk], y[:chunk])()
    print(f"timing {workload.name}: {', '.join(competitors)} ...", flush=True)
    started = time.perf_counter()
    interleaved(competitors, config.repeats)
    print(f"  timed in {time.perf_counter() - started:.1f} s", flush=True)
    return analyse(workload, config, runs, X, y)


def cluster_name(k):
    """A cluster competitor's name."""
    return f"cluster, {k} worker{'s' if k > 1 else ''}"


def analyse(workload, config, runs, X, y):
    times = {name: [r.seconds for r in rs] for name, rs in runs.items()}
    clusters = config.workers
    cluster_names = {k: cluster_name(k) for k in clusters}
    breakdowns = {
        k: median_breakdown(runs[name], config.n_chunks)
        for k, name in cluster_names.items()
    }
    on_workers = all(b["steps"] for b in breakdowns.values())
    first = cluster_names[min(clusters)]
    if workload.batch_size is None:  # a pass per L-BFGS evaluation
        passes = breakdowns[min(clusters)]["steps"] if on_workers else None
    else:
        passes = workload.max_iter
    result = {
        "workload": workload.name,
        "describe": workload.describe(),
        "params": workload.params(),
        "data_parallel": on_workers,
        "passes": passes,
        "times": times,
        "medians": {name: statistics.median(ts) for name, ts in times.items()},
        "breakdowns": breakdowns,
        "models": model_facts(runs, cluster_names, X, y),
    }
    bare = times["bare, one pass"]
    ratios = []
    for k, name in cluster_names.items():
        if k != min(clusters):
            ratios.append(
                ratio_entry(f"throughput, {k} workers / 1", times[first], times[name])
            )
    ratios.append(
        ratio_entry(
            "time, skbp 1 worker / in memory", times[first], times["skbp in memory"]
        )
    )
    ratios.append(
        ratio_entry(
            "time, skbp in memory / sklearn",
            times["skbp in memory"],
            times["sklearn in memory"],
        )
    )
    if passes:
        for name in (first, "skbp in memory"):
            per_pass = [t / passes for t in times[name]]
            ratios.append(ratio_entry(f"per pass, {name} / bare", per_pass, bare))
    result["ratios"] = ratios
    model = fit_model(breakdowns)
    result["model"] = model
    result["projection"] = (
        None
        if model is None
        else {str(k): v for k, v in projection(model, PROJECTED).items()}
    )
    return result


def ratio_entry(name, numerator, denominator):
    """A ratio (median of the paired repeats); a throughput ratio is the
    inverse of the times'."""
    if name.startswith("throughput"):
        value = median_ratio(numerator, denominator)
        return {
            "name": name,
            "value": value,
            "goal": SPEEDUP_GOAL,
            "met": value >= SPEEDUP_GOAL,
        }
    return {"name": name, "value": median_ratio(numerator, denominator)}


def model_facts(runs, cluster_names, X, y):
    """Whether every cluster fit gave the same weights, bit for bit, and
    how far the in-memory fit is from them (L-BFGS: the same iterates; a
    data-parallel stochastic solver draws other batches, so that its
    accuracy is what compares); the fits' final losses and accuracies on
    the training rows."""
    models = {name: rs[-1].model for name, rs in runs.items() if rs[-1].model}
    on_cluster = [models[name] for name in cluster_names.values()]
    first = on_cluster[0]

    def largest_difference(other):
        return max(
            float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
            for a, b in zip(first.coefs_, other.coefs_)
        )

    return {
        "same_on_every_cluster": all(largest_difference(m) == 0 for m in on_cluster),
        "in_memory_largest_relative_difference": largest_difference(
            models["skbp in memory"]
        ),
        "loss": {name: float(m.loss_) for name, m in models.items()},
        "accuracy": {name: float(m.score(X, y)) for name, m in models.items()},
        "n_iter": {name: int(m.n_iter_) for name, m in models.items()},
    }


# ---------------------------------------------------------------------------
# Client memory when the data grows 10x
# ---------------------------------------------------------------------------
def client_memory(client, config, solver):
    """The client's memory during fits on ``n / 10`` and ``n`` rows made on
    the workers (8 chunks each): traced peak and resident rise, in bytes."""
    params = {
        "hidden_layer_sizes": config.memory_hidden,
        "solver": solver,
        "max_iter": 2 if solver == "lbfgs" else 1,
        "random_state": SEED,
    }
    sizes = {"1x": config.n_samples // 10, "10x": config.n_samples}
    data = {
        label: dask_data(client, n, config.n_features, config.n_chunks)
        for label, n in sizes.items()
    }
    out = {}
    for label, (X, y) in data.items():
        if solver != "lbfgs":
            params["batch_size"] = max(1, sizes[label] // 4)
        fit = fit_on(client, params, X, y)
        if not out:
            fit()  # warm: imports, the first labels
        tracemalloc.start()
        try:
            fit()
            traced = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        rise = None
        if _reset_peak_rss() and _proc_status_kib("VmHWM") is not None:
            before = _proc_status_kib("VmRSS")
            fit()
            rise = (_proc_status_kib("VmHWM") - before) * 1024
        out[label] = {
            "rows": sizes[label],
            "data": X.nbytes,
            "traced": traced,
            "rss": rise,
        }
    grew = out["10x"]["data"] - out["1x"]["data"]
    out["traced_growth_fraction"] = (out["10x"]["traced"] - out["1x"]["traced"]) / grew
    out["flat"] = out["traced_growth_fraction"] <= FLAT
    return out


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------
def print_workload(result, config):
    passes = result["passes"]
    rows = config.n_samples
    print(
        f"\n[{result['workload']}] {rows} x {config.n_features} float64, "
        f"{N_CLASSES} classes, {config.n_chunks} chunks; {result['describe']}"
    )
    steps = {k: b.get("steps", 0) for k, b in result["breakdowns"].items()}
    print(
        "  data-parallel on the workers: "
        + (
            "yes"
            if result["data_parallel"]
            else "NO: no training task ran on the workers (the data were "
            "computed into this process); rerun where fit trains with "
            f"solver={result['workload']!r} on Dask"
        )
        + f"; steps per fit {steps}"
    )
    lines = []
    for name, seconds in result["medians"].items():
        bare = name.startswith("bare")
        n_passes = 1 if bare else passes
        lines.append(
            (
                name,
                fmt_value(seconds, "s"),
                "-" if not n_passes else fmt_value(seconds / n_passes, "s"),
                "-" if not n_passes else f"{rows * n_passes / seconds:,.0f}",
                " ".join(f"{t:.2f}" for t in result["times"][name]),
            )
        )
    header = ("competitor", "time", "per pass", "rows/s", "per repeat (s)")
    for line in format_columns(header, lines, left={0, 4}):
        print("  " + line)
    print()
    for ratio in result["ratios"]:
        goal = ""
        if "goal" in ratio:
            goal = f"  goal >= {ratio['goal']}: {'yes' if ratio['met'] else 'NO'}"
        print(f"  {ratio['name']:<45} {ratio['value']:7.3f}{goal}")
    facts = result["models"]
    accuracy = facts["accuracy"]
    print(
        f"  same weights on every cluster: {facts['same_on_every_cluster']}; in "
        "memory, largest relative difference "
        f"{facts['in_memory_largest_relative_difference']:.1e}; training "
        "accuracy "
        + ", ".join(f"{name} {value:.4f}" for name, value in accuracy.items())
    )
    if result["model"] is not None:
        print_steps(result)


def print_steps(result):
    print("\n  per step (one tree of tasks), medians, from the task stream:")
    lines = []
    for k, b in result["breakdowns"].items():
        lines.append(
            (
                str(k),
                fmt_value(b["setup"], "s"),
                fmt_value(b["wall"], "s"),
                fmt_value(b["compute"], "s"),
                fmt_value(b["busiest"], "s"),
                fmt_value(b["overhead"], "s"),
                str(b["chunks_per_worker"]),
            )
        )
    header = (
        "k",
        "setup (once)",
        "wall",
        "compute",
        "busiest worker",
        "overhead",
        "chunks/worker",
    )
    for line in format_columns(header, lines, left={6}):
        print("    " + line)
    print(
        "    compute: the chunk tasks' on the workers, summed; overhead: wall - "
        "busiest worker (weights out, scheduling, reduction, gather, L-BFGS here)"
    )
    breakdowns = result["breakdowns"]
    ks = sorted(breakdowns)
    for k in ks[1:]:
        slower = breakdowns[k]["compute"] / breakdowns[ks[0]]["compute"]
        print(
            f"    the same compute took {slower:.2f}x as long on {k} workers at "
            f"once: this machine's ceiling for {k} workers is "
            f"{k / ks[0] / slower:.2f}x"
        )
    m = result["model"]
    print(
        f"\n  model T(k) = C/k + a + b log2 k: C = {fmt_value(m['C'], 's')}, "
        f"a = {fmt_value(m['a'], 's')}, b = {fmt_value(m['b'], 's')}"
    )
    lines = []
    for k, p in result["projection"].items():
        k = int(k)
        mllib = MLLIB.get(k)
        lines.append(
            (
                str(k),
                fmt_value(p["step"], "s"),
                f"{p['speedup']:.2f}x",
                f"{p['speedup'] / k:.0%}",
                "-" if mllib is None else f"{mllib[0]:g} s",
                "-" if mllib is None else f"{MLLIB[1][0] / mllib[0]:.2f}x",
            )
        )
    header = ("k", "T(k)", "speed-up", "efficiency", "MLlib s/epoch", "MLlib speed-up")
    for line in format_columns(header, lines):
        print("    " + line)
    print(
        "    MLlib: Ulanov's benchmark (github.com/avulanov/ann-benchmark), 12M "
        f"weights, MNIST; 3 nodes {MLLIB[3][0]:g} s, 5 nodes {MLLIB_5[0]:g} s "
        "(slower than 4)"
    )


def print_memory(memory):
    print("\n[client memory] data made on the workers, a small network fitted:")
    lines = []
    for solver, m in memory.items():
        for label in ("1x", "10x"):
            f = m[label]
            lines.append(
                (
                    solver,
                    f"{f['rows']}",
                    fmt_value(f["data"] / MIB, "MiB"),
                    fmt_value(f["traced"] / MIB, "MiB"),
                    "-" if f["rss"] is None else fmt_value(f["rss"] / MIB, "MiB"),
                )
            )
        lines.append(
            (
                "",
                "",
                "",
                f"+{m['traced_growth_fraction']:.1%} of the data's growth",
                "flat: " + ("yes" if m["flat"] else "NO"),
            )
        )
    header = ("solver", "rows", "data", "client traced peak", "client RSS rise")
    for line in format_columns(header, lines, left={0}):
        print("  " + line)
    print(f"  flat: the traced peak grows by at most {FLAT:.0%} of the data's growth")


# ---------------------------------------------------------------------------
def _blas_info():
    """A worker's BLAS pools (threadpoolctl), or None without it."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return [
        f"{p['internal_api']} {p.get('version')} {p['num_threads']} thread(s)"
        for p in threadpoolctl.threadpool_info()
    ]


def start_cluster(k, config, stack):
    """A ``LocalCluster`` of ``k`` single-threaded workers, closed by
    ``stack``, and the data made on them: ``(client, X, y)``."""
    import distributed

    cluster = stack.enter_context(
        distributed.LocalCluster(
            n_workers=k,
            threads_per_worker=1,
            processes=not config.in_process,
            dashboard_address=":0",  # any free port: 8787 may be taken
        )
    )
    client = stack.enter_context(distributed.Client(cluster, set_as_default=False))
    client.wait_for_workers(k)
    X, y = dask_data(client, config.n_samples, config.n_features, config.n_chunks)
    # Made before the fits (and not brought here).
    for _ in distributed.as_completed(distributed.futures_of([X, y]), loop=client.loop):
        pass
    return client, X, y


def cluster_facts(config):
    """The workers' BLAS and the start-up seconds of the largest cluster
    (its start and the data made on it)."""
    with ExitStack() as stack:
        start = time.perf_counter()
        client, _, _ = start_cluster(max(config.workers), config, stack)
        startup = time.perf_counter() - start
        return client.run(_blas_info), startup


def run(config):
    """Every workload and the memory check; the JSON payload."""
    import dask
    import distributed

    default_threads = blas_threads_now()
    payload = {"config": asdict(config), "workloads": [], "memory": None}
    with ExitStack() as stack, blas_limit(config.blas_threads):
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore", ConvergenceWarning)
        info = environment(config.blas_threads, default_threads)
        info.update(dask=dask.__version__, distributed=distributed.__version__)
        info["worker_blas"], info["cluster_startup_s"] = cluster_facts(config)
        payload["environment"] = info
        print_environment(info, title(config))
        for key in ("dask", "distributed", "worker_blas", "cluster_startup_s"):
            print(f"  {key:24s} {info[key]}")
        X, y = in_memory_data(config.n_samples, config.n_features, config.n_chunks)
        for workload in workloads(config):
            result = measure_workload(workload, config, X, y)
            payload["workloads"].append(result)
            print_workload(result, config)
        if config.memory and config.in_process:
            print(
                "\n[client memory] not measured: the workers are threads of this "
                "process (--in-process), their memory is the client's"
            )
        elif config.memory:
            client, _, _ = start_cluster(max(config.workers), config, stack)
            payload["memory"] = {
                solver: client_memory(client, config, solver)
                for solver in config.workloads
            }
            print_memory(payload["memory"])
    print_goals(payload)
    payload["load_average_after"] = (
        [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    )
    print(f"\nload average after: {payload['load_average_after']}")
    return payload


def print_goals(payload):
    """One line per goal: the 2-worker throughput, the client's memory."""
    print("\ngoals:")
    for result in payload["workloads"]:
        for ratio in result["ratios"]:
            if "goal" in ratio:
                verdict = "yes" if ratio["met"] else "NO"
                if not result["data_parallel"]:
                    verdict += " (not data-parallel)"
                print(
                    f"  {result['workload']}: {ratio['name']} = {ratio['value']:.2f} "
                    f"(>= {ratio['goal']}): {verdict}"
                )
    for solver, memory in (payload["memory"] or {}).items():
        print(
            f"  {solver}: client memory flat when the data grow 10x: "
            f"{'yes' if memory['flat'] else 'NO'}"
        )


def title(config):
    sizes = "quick" if config.quick else "full"
    where = "threads of this process" if config.in_process else "processes"
    return (
        f"skbp on a Dask cluster, issue 17 ({sizes} sizes; LocalCluster of "
        f"{', '.join(map(str, config.workers))} single-threaded workers as {where}; "
        f"{config.repeats} repeat(s), interleaved)"
    )


def main(argv=None):
    """Run the benchmark; return the exit code (2: bad options)."""
    args = parse_args(argv)
    try:
        config = make_config(args)
    except ValueError as exc:
        print(f"benchmarks/cluster.py: {exc}", file=sys.stderr)
        return 2
    payload = run(config)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
