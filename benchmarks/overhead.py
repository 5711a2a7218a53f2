"""Per-call overhead: a one-row ``predict`` and one full-batch sgd iteration.

Usage::

    python benchmarks/overhead.py                      # this checkout
    python benchmarks/overhead.py --compare-with OLD   # A/B with another checkout

Where the matrix products are tiny, what a call costs is skbp's own Python:
validation, namespace dispatch, the training loop's bookkeeping. Two
figures measure it, each against the bare numpy products of the same
network in the same process:

- ``predict``: one row through the fitted ``[10, 25, 1]`` network
  (microseconds per call);
- ``sgd iteration``: the seed tutorial's ``[1, 25, 1]`` logistic network on
  20 rows, full-batch sgd, microseconds per epoch (``max_iter`` epochs of a
  fit, divided by their number).

Each has its core share beside it, what :mod:`skbp.core` alone costs for the
same work: ``core`` predict is ``forward_output`` on the fitted network,
``core`` iteration one ``backprop`` and one sgd ``update`` on the seed
network (with a training workspace, as the estimators train). The rest of
each figure is the estimator layer's (validation, the training engine).

Each checkout runs in its own subprocess with one BLAS thread, and the
checkouts alternate, best of ``--repeats`` runs each, so that both see the
same machine load. ``OLD`` is another checkout (``git worktree add OLD
<commit>``).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.environment import environment, print_environment  # noqa: E402

# Runs in the child, with the checkout first on sys.path.
CHILD = """
import json, sys, time, warnings
sys.path.insert(0, {repo!r})
from threadpoolctl import threadpool_limits
threadpool_limits(1)
import numpy as np
import skbp
from skbp import BPRegressor

warnings.simplefilter("ignore")
rng = np.random.RandomState(0)


def best(call, number):
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(number):
            call()
        times.append((time.perf_counter() - start) / number)
    return min(times)


X = rng.randn(200, 10)
model = BPRegressor(hidden_layer_sizes=(25,), max_iter=20, random_state=0)
model.fit(X, X[:, 0])
row = X[:1].copy()
W0, W1, b0, b1 = *model.coefs_, *model.intercepts_
predict = best(lambda: model.predict(row), 2000)
bare_predict = best(lambda: np.maximum(row @ W0 + b0, 0) @ W1 + b1, 2000)

x = np.linspace(0, 1, 20)[:, None]
y = 20 * np.sin(2 * np.pi * x[:, 0])
epochs = 400
seed = BPRegressor(
    hidden_layer_sizes=(25,), activation="logistic", solver="sgd",
    batch_size=20, max_iter=epochs, shuffle=False, tol=0.0,
    n_iter_no_change=epochs + 1, learning_rate_init=0.01, random_state=0,
)
iteration = best(lambda: seed.fit(x, y), 3) / epochs
V0, V1, c0, c1 = (a.copy() for a in (*seed.coefs_, *seed.intercepts_))


def bare_iteration():
    Z = x @ V0 + c0
    A = 1 / (1 + np.exp(-Z))
    out = A @ V1 + c1
    D = out - y[:, None]
    gV1 = A.T @ D
    dA = D @ V1.T * A * (1 - A)
    gV0 = x.T @ dA
    return gV0, gV1


bare = best(bare_iteration, 2000)

# The core's share: what skbp.core alone costs for the same work.
from skbp.core import (
    SGD, Workspace, backprop, forward_output, get_activation, get_loss,
    packed_views,
)

activations = [get_activation("relu"), get_activation("identity")]
coefs, intercepts = list(model.coefs_), list(model.intercepts_)
core_predict = best(
    lambda: forward_output(row, coefs, intercepts, activations), 2000
)
flat, V, c = packed_views([V0, V1], [c0, c1])
seed_activations = [get_activation("logistic"), get_activation("identity")]
loss = get_loss("squared_error")
workspace = Workspace([1, 25, 1], 20, np.float64, in_place=[True, True])
# A tiny rate: the weights, and so the work, stay those of the fit.
optimizer = SGD([flat], learning_rate_init=1e-12, momentum=0.9, nesterov=True)
Y = y[:, None]


def core_iteration():
    backprop(x, Y, V, c, seed_activations, loss, 1e-4, None, workspace)
    optimizer.update([flat], [workspace.flat_grads], overwrite_grads=True)


core = best(core_iteration, 2000)
print(json.dumps({{
    "predict_us": 1e6 * predict,
    "core_predict_us": 1e6 * core_predict,
    "bare_predict_us": 1e6 * bare_predict,
    "iteration_us": 1e6 * iteration,
    "core_iteration_us": 1e6 * core,
    "bare_iteration_us": 1e6 * bare,
}}))
"""


def _run(repo):
    code = CHILD.format(repo=str(repo))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare-with", type=Path, help="another skbp checkout")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    repos = {"this": ROOT}
    if args.compare_with:
        repos["before"] = args.compare_with.resolve()
    print_environment(environment(1), "Per-call overhead (one BLAS thread)")
    results = {label: [] for label in repos}
    for _ in range(args.repeats):  # alternating, so both see the same load
        for label, repo in repos.items():
            results[label].append(_run(repo))
    header = ("checkout", "predict us", "core", "/ bare")
    header += ("sgd iter us", "core", "/ bare")
    print("\n{:10} {:>11} {:>6} {:>7} {:>12} {:>6} {:>7}".format(*header))
    best = {}
    for label, runs in results.items():
        best[label] = {key: min(run[key] for run in runs) for key in runs[0]}
        b = best[label]
        print(
            f"{label:10} {b['predict_us']:11.2f} {b['core_predict_us']:6.2f} "
            f"{b['predict_us'] / b['bare_predict_us']:7.2f} "
            f"{b['iteration_us']:12.2f} {b['core_iteration_us']:6.2f} "
            f"{b['iteration_us'] / b['bare_iteration_us']:7.2f}"
        )
    if "before" in best:
        now, then = best["this"], best["before"]
        print("\nthis / before:")
        for key, name in (
            ("predict_us", "predict"),
            ("core_predict_us", "  of which core"),
            ("iteration_us", "sgd iteration"),
            ("core_iteration_us", "  of which core"),
        ):
            print(
                f"  {name:16} {now[key] / then[key]:.3f} "
                f"({now[key] - then[key]:+.2f} us)"
            )


if __name__ == "__main__":
    main()
