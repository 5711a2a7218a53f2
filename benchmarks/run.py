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

This file is the command line; the measuring, the table and each workload
live in the ``bench`` package next to it (see ``bench/__init__.py``), which
puts the repository root first on ``sys.path``.
"""

import argparse
import json
import os
import sys
import time
import warnings
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

# ``python benchmarks/run.py`` puts this folder first on sys.path, so the
# package next to this file imports without installing anything.
from bench.environment import (
    blas_limit,
    blas_threads_now,
    environment,
    print_environment,
)
from bench.profiling import profile
from bench.report import print_table
from bench.sizes import choose_sizes
from bench.workload_1 import workload_1
from bench.workload_2 import workload_2
from bench.workload_3 import workload_3
from bench.workload_4 import workload_4
from bench.workload_5 import memory_child, workload_5
from sklearn.exceptions import ConvergenceWarning

WORKLOADS = (1, 2, 3, 4, 5)


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
    """The command line (``argv`` None: ``sys.argv[1:]``) as a namespace."""
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


def run_workloads(chosen, sizes, blas_threads):
    """Run the chosen workloads in order, printing each one's duration.

    Returns
    -------
    rows : list of bench.report.Row
    """
    rows = []
    runners = {
        1: lambda: workload_1(sizes, rows),
        2: lambda: workload_2(sizes, rows),
        3: lambda: workload_3(sizes, rows),
        4: lambda: workload_4(sizes, rows),
        5: lambda: workload_5(sizes, rows, blas_threads),
    }
    for w in chosen:
        t0 = time.perf_counter()
        runners[w]()
        print(f"workload {w} done in {time.perf_counter() - t0:.1f} s", flush=True)
    return rows


def main(argv=None):
    """Run the benchmarks (or a profile, or a memory child); return the exit code."""
    args = parse_args(argv)
    if args.memory_child:
        name, data_dir, epochs, mode = args.memory_child
        memory_child(name, data_dir, int(epochs), mode)
        return 0

    sizes = choose_sizes(args.quick, args.repeats)
    chosen = (
        sorted({w for group in args.workload for w in group})
        if args.workload
        else list(WORKLOADS)
    )

    warnings.simplefilter("ignore", ConvergenceWarning)
    default_threads = blas_threads_now()
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
        started = time.perf_counter()
        rows = run_workloads(chosen, sizes, args.blas_threads)
        elapsed = time.perf_counter() - started
    print()
    print_table(rows)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(
        f"\n{elapsed:.0f} s in all; load average at the end "
        f"{load and [round(x, 2) for x in load]} on {info['cpu_count']} CPUs"
    )
    if args.json:
        payload = {
            "environment": info,
            "sizes": sizes,
            "rows": [asdict(r) for r in rows],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
