"""The pieces of ``benchmarks/run.py``: measuring, the report, the workloads.

``measure`` times callables in turn and takes medians of paired ratios,
``environment`` limits BLAS and records what the figures depend on,
``report`` turns the figures into the table, ``sizes`` holds the full and
``--quick`` sizes, ``workload_1`` ... ``workload_5`` each build their data,
parameters and bare floor and add their rows, and ``profiling`` runs
cProfile on one fit. ``benchmarks/gpu.py`` reuses ``environment``,
``measure`` and ``report``, and imports ``scipy_array_api`` first.

Importing the package puts the repository root first on ``sys.path``, so
the benchmarks measure the working tree, not whatever skbp is installed.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
if str(REPO) not in sys.path:
    # Benchmark the working tree, not whatever skbp is installed.
    sys.path.insert(0, str(REPO))
