"""Per-call overhead in CPU instructions, counted by valgrind: load-proof.

Usage::

    python benchmarks/instructions.py                      # this checkout
    python benchmarks/instructions.py --compare-with OLD   # A/B with another

``benchmarks/overhead.py`` times the same work in microseconds; on a shared
machine its figures move with the load. The number of instructions a call
executes does not: valgrind's callgrind counts them exactly, whatever else
runs. Each figure is the difference between two runs of one workload, with
``--low`` and ``--high`` repetitions, divided by the difference in
repetitions, so that starting Python and importing the libraries cancel out:

- ``bare``: the seed network's forward and backward pass written as plain
  numpy products (``overhead.py``'s ``bare_iteration``);
- ``core``: one :func:`skbp.core.backprop` and one sgd ``update`` on the
  seed's ``[1, 25, 1]`` logistic network, 20 rows (with a workspace, as the
  estimators train);
- ``fit``: one epoch of ``BPRegressor.fit`` on the same network and rows,
  full batch (the core's share plus the training engine's);
- ``predict``: one ``predict`` of one row through a fitted ``[10, 25, 1]``
  network.

BLAS runs on one thread (``OPENBLAS_NUM_THREADS=1``, then threadpoolctl's
limit of 1 as in ``overhead.py``: an idle BLAS thread spinning would count,
and the limit puts every BLAS library loaded in the same state, whatever
the order the checkout's imports loaded them in), and ``PYTHONHASHSEED=0``.
Needs valgrind; about two minutes per checkout and workload.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.environment import environment, print_environment  # noqa: E402

WORKLOADS = ("bare", "core", "fit", "predict")

# Runs under valgrind, with the checkout first on sys.path: the workload's
# setup, then ``n`` repetitions.
CHILD = """
import sys, warnings
sys.path.insert(0, {repo!r})
from threadpoolctl import threadpool_limits
threadpool_limits(1)  # as overhead.py: the same BLAS state in every checkout
import numpy as np
warnings.simplefilter("ignore")
from skbp import BPRegressor
from skbp.core import SGD, Workspace, backprop, get_activation, get_loss, packed_views

workload, n = {workload!r}, {n}
rng = np.random.RandomState(0)
x = np.linspace(0, 1, 20)[:, None]
y = 20 * np.sin(2 * np.pi * x[:, 0])
Y = y[:, None]
V0, V1, c0, c1 = rng.randn(1, 25), rng.randn(25, 1), rng.randn(25), rng.randn(1)
if workload == "bare":
    for _ in range(n):
        A = 1 / (1 + np.exp(-(x @ V0 + c0)))
        D = A @ V1 + c1 - Y
        gV1 = A.T @ D
        gV0 = x.T @ (D @ V1.T * A * (1 - A))
elif workload == "core":
    flat, V, c = packed_views([V0, V1], [c0, c1])
    activations = [get_activation("logistic"), get_activation("identity")]
    loss = get_loss("squared_error")
    workspace = Workspace([1, 25, 1], 20, np.float64, in_place=[True, True])
    optimizer = SGD([flat], learning_rate_init=1e-12, momentum=0.9, nesterov=True)
    for _ in range(n):
        backprop(x, Y, V, c, activations, loss, 1e-4, None, workspace)
        optimizer.update([flat], [workspace.flat_grads], overwrite_grads=True)
elif workload == "fit":
    BPRegressor(
        hidden_layer_sizes=(25,), activation="logistic", solver="sgd",
        batch_size=20, max_iter=n, shuffle=False, tol=0.0,
        n_iter_no_change=n + 1, learning_rate_init=0.01, random_state=0,
    ).fit(x, y)
else:
    X = rng.randn(200, 10)
    model = BPRegressor(hidden_layer_sizes=(25,), max_iter=20, random_state=0)
    model.fit(X, X[:, 0])
    row = X[:1].copy()
    for _ in range(n):
        model.predict(row)
"""


def count(repo, workload, n):
    """Instructions valgrind counts for ``n`` repetitions, setup included."""
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
    }
    code = CHILD.format(repo=str(repo), workload=workload, n=n)
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    result = subprocess.run(
        [*command, sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode or not found:
        raise RuntimeError(f"valgrind failed on {workload}:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def per_call(repo, workload, low, high):
    return (count(repo, workload, high) - count(repo, workload, low)) / (high - low)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare-with", type=Path, help="another skbp checkout")
    parser.add_argument("--low", type=int, default=50)
    parser.add_argument("--high", type=int, default=150)
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=WORKLOADS)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("benchmarks/instructions.py needs valgrind (apt install valgrind).")
    repos = {"this": ROOT}
    if args.compare_with:
        repos["before"] = args.compare_with.resolve()
    print_environment(environment(1), "Instructions per call (one BLAS thread)")
    counts = {
        (label, workload): per_call(repo, workload, args.low, args.high)
        for label, repo in repos.items()
        for workload in args.workloads
    }
    print(f"\n{'checkout':10}" + "".join(f"{w:>12}" for w in args.workloads))
    for label in repos:
        row = "".join(f"{counts[label, w]:12.0f}" for w in args.workloads)
        print(f"{label:10}{row}")
    if "bare" in args.workloads:
        print("\n/ bare, this checkout:")
        for w in args.workloads:
            print(f"  {w:8} {counts['this', w] / counts['this', 'bare']:.2f}")
    if "before" in repos:
        print("\nthis / before:")
        for w in args.workloads:
            ratio = counts["this", w] / counts["before", w]
            print(
                f"  {w:8} {ratio:.3f} ({counts['this', w] - counts['before', w]:+.0f})"
            )


if __name__ == "__main__":
    main()
