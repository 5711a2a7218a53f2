"""What the figures depend on (versions, CPUs, load, BLAS) and the BLAS limit."""

import os
import platform
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy
import sklearn

import skbp

try:
    import threadpoolctl
except ImportError:  # optional: without it the BLAS is left as configured
    threadpoolctl = None

# The keys of environment() printed one per line, in this order.
_PRINTED = (
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
)
_POOL_KEYS = (
    "user_api",
    "internal_api",
    "version",
    "num_threads",
    "threading_layer",
    "architecture",
    "filepath",
)


def blas_threads_now():
    """Thread count of every BLAS/OpenMP pool now (None without threadpoolctl)."""
    if threadpoolctl is None:
        return None
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()]


def environment(blas_threads, default_threads=None):
    """Versions, CPUs, load and BLAS pools, as a JSON-ready dict.

    Parameters
    ----------
    blas_threads : int
        The ``--blas-threads`` asked for (0: the library default).
    default_threads : list of int or None, default=None
        What :func:`blas_threads_now` gave before any limit.

    Returns
    -------
    info : dict
    """
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
            {key: pool.get(key) for key in _POOL_KEYS}
            for pool in threadpoolctl.threadpool_info()
        ]
    return info


def print_environment(info, title):
    """Print ``title`` and the header lines of :func:`environment`'s ``info``."""
    print(title)
    for key in _PRINTED:
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
    """Limit BLAS/OpenMP threads (0: leave the library default).

    Parameters
    ----------
    threads : int
        Threads per pool inside the ``with`` block; 0 or None changes
        nothing. Without threadpoolctl nothing is limited and a warning
        says so.
    """
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
