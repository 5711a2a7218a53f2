"""Time and memory of ``skbp.load`` on hostile files and on a genuine model.

Usage::

    python benchmarks/hostile_load.py                      # this checkout
    python benchmarks/hostile_load.py --compare-with OLD   # and another checkout

The files are built once: every shape of attack in ``tests/hostile_files.py``
(each about 1 MB or less: zip bombs and size lies, a directory of 22,250
entries, dense JSON documents, zero-byte items, parameters held as arrays),
a 16 MiB parameter array, and a genuine model of about 19 MiB of weights.
Each load then runs in a fresh subprocess (its address space capped at
8 GiB, so that a loader which believes a size fails instead of taking the
machine), which reports the wall time of ``skbp.load`` and its peak memory:
the rise of the resident high-water mark (``VmHWM``, reset through
``/proc/self/clear_refs`` just before the call) over the resident size at
that moment; and the address space it reserved (the rise of ``VmPeak``
over ``VmSize``: memory asked for, touched or not). Each figure is also
given per MB of file. The budget a hostile
file of up to 1 MB must keep is 0.1 s and 50 MiB; the last column says
whether this checkout kept it. ``OLD`` is a checkout of an earlier skbp
(``git worktree add /tmp/old <commit>``): the same files, loaded by its
code, give the "before" columns.

Loading is not BLAS-bound; the BLAS library and thread count are printed
all the same, as for every benchmark here.
"""

import argparse
import functools
import io
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the working tree, its tests

from bench.environment import environment, print_environment  # noqa: E402
from hostile_files import HOSTILE, as_format_2, parameter_array  # noqa: E402

import skbp  # noqa: E402

#: The promise for a hostile file of up to 1 MB.
BUDGET_SECONDS, BUDGET_MIB = 0.1, 50

# Runs in the child: load one file, report seconds and peak MiB.
CHILD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))
sys.path.insert(0, {repo!r})
import skbp

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM to the current VmRSS
rss, size = status("VmRSS"), status("VmSize")
start = time.perf_counter()
try:
    skbp.load({path!r})
    outcome = "loaded"
except ValueError as exc:
    outcome = "refused: " + str(exc).split(": ", 1)[-1][:70]
except Exception as exc:  # what a loader that trusts sizes meets
    outcome = type(exc).__name__ + ": " + str(exc)[:60]
seconds = time.perf_counter() - start
print(json.dumps([seconds, status("VmHWM") - rss, outcome, status("VmPeak") - size]))
"""


def _genuine(path):
    rng = np.random.RandomState(0)
    X = rng.randn(5, 1000)
    est = skbp.BPRegressor(hidden_layer_sizes=(2500,), solver="lbfgs", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, X[:, 0])
    buffer = io.BytesIO()
    skbp.save(est, buffer)
    path.write_bytes(as_format_2(buffer.getvalue()))  # read by OLD too
    return sum(a.nbytes for a in (*est.coefs_, *est.intercepts_)) / 2**20


def _measure(repo, path, repeats):
    runs = []
    for _ in range(repeats):
        code = CHILD.format(repo=str(repo), path=str(path))
        try:
            out = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                timeout=120,
            )
        except subprocess.TimeoutExpired:
            return float("nan"), float("nan"), "timed out after 120 s", float("nan")
        if out.returncode != 0:
            error = out.stderr.strip().splitlines()[-1][:70]
            return float("nan"), float("nan"), error, float("nan")
        runs.append(json.loads(out.stdout))
    seconds = float(np.median([r[0] for r in runs]))
    peak = float(np.median([r[1] for r in runs]))
    reserved = float(np.median([r[3] for r in runs]))
    return seconds, peak, runs[0][2], reserved


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare-with", type=Path, help="another skbp checkout")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not Path("/proc/self/clear_refs").exists():
        sys.exit("needs Linux's /proc/self/clear_refs to measure peak memory")
    repos = {"this": ROOT}
    if args.compare_with:
        repos["before"] = args.compare_with.resolve()
    print_environment(environment(0), "skbp.load on hostile files")
    builders = {
        **HOSTILE,
        "16 MiB parameter array": functools.partial(parameter_array, 2**21),
    }
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, build in builders.items():
            files[name] = Path(tmp, f"{len(files)}.skbp")
            files[name].write_bytes(build())
        own = _genuine(Path(tmp, "genuine.skbp"))
        files[f"genuine model ({own:.1f} MiB of weights)"] = Path(tmp, "genuine.skbp")
        print(f"\n{'file':38} {'MB':>6}", end="")
        for label in repos:
            print(f" {label + ' ms':>10} {'MiB':>6} {'reserved':>8}", end="")
        print(f" {'ms/MB':>7} {'MiB/MB':>7}  budget  outcome (this checkout; before)")
        for name, path in files.items():
            megabytes = path.stat().st_size / 1e6
            print(f"{name:38} {megabytes:6.2f}", end="")
            results = {}
            for label, repo in repos.items():
                results[label] = seconds, peak, _, reserved = _measure(
                    repo, path, args.repeats
                )
                print(f" {1e3 * seconds:10.1f} {peak:6.1f} {reserved:8.1f}", end="")
            seconds, peak, outcome, _ = results["this"]
            per_mb = max(megabytes, 1e-3)
            kept = "-"  # the budget is for hostile files of up to 1 MB
            if "genuine" not in name and megabytes <= 1.1:
                fast = seconds < BUDGET_SECONDS and peak < BUDGET_MIB
                kept = "kept" if fast else "BROKEN"
            before = f"; {results['before'][2][:40]}" if "before" in results else ""
            print(
                f" {1e3 * seconds / per_mb:7.1f} {peak / per_mb:7.1f}  {kept:6}  "
                f"{outcome[:60]}{before}"
            )


if __name__ == "__main__":
    main()
