"""Workload 5: peak memory of workload 1's fit (float64), fresh subprocesses.

Each estimator is fitted in its own subprocess (``run.py --_memory-child``),
once under tracemalloc and once measuring the resident high-water mark, so
neither the other estimator nor the parent's arrays count.
"""

import gc
import json
import os
import subprocess
import sys
import tempfile
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skbp import BPClassifier

from .report import Row
from .workload_1 import W1_BATCH, bare_training_products, w1_data, w1_params

MIB = 2.0**20
# The children run the entry point, which hands ``--_memory-child`` here.
RUN_PY = Path(__file__).resolve().parent.parent / "run.py"
_NOTES = {
    "tracemalloc": "peak of traced (Python + numpy) allocations during fit, "
    "not counting X and y ({data_mib:.1f} MiB, loaded before)",
    "rss": "rise of the resident high-water mark during fit over the resident "
    "size before it (BLAS work buffers touched beforehand); includes "
    "allocator slack",
}


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


def _fit_peak(est, X, y, mode):
    """Fit ``est`` once; its peak in bytes and how it was measured."""
    if mode == "tracemalloc":
        tracemalloc.start()
        est.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, "tracemalloc"
    if _reset_peak_rss() and _proc_status_kib("VmHWM") is not None:
        before = _proc_status_kib("VmRSS")
        est.fit(X, y)
        return (_proc_status_kib("VmHWM") - before) * 1024, "VmHWM - VmRSS"
    import resource  # Unix only

    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    est.fit(X, y)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (after - before) * scale, "ru_maxrss delta (lower bound)"


def memory_child(estimator, data_dir, epochs, mode):
    """Entry point of the subprocess: fit once, print the peak as JSON.

    ``mode="tracemalloc"``: peak of traced allocations (numpy reports its
    buffers to tracemalloc) during ``fit``, counted from zero at the start.
    ``mode="rss"`` (no tracemalloc, so no bookkeeping in the figure): the
    rise of the resident set's high-water mark over the resident size just
    before ``fit``, after resetting the mark through /proc/self/clear_refs;
    where that is impossible, the rise of ``getrusage().ru_maxrss``.

    Parameters
    ----------
    estimator : {"skbp", "sklearn"}
    data_dir : str
        Holds ``X.npy`` and ``y.npy``.
    epochs : int
    mode : {"tracemalloc", "rss"}
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
    result["peak"], result["method"] = _fit_peak(est, X, y, mode)
    print(json.dumps(result))


def _run_children(X_train, y_train, epochs, blas_threads):
    """``{(mode, estimator): child's JSON}`` for both modes and estimators."""
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
                    str(RUN_PY),
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
    return results


def workload_5(sizes, rows, blas_threads):
    """Measure both estimators' peak memory two ways; append a row each.

    Parameters
    ----------
    sizes : dict
        See :mod:`bench.sizes` (workload 1's ``w1_`` keys).
    rows : list of Row
        Appended to.
    blas_threads : int
        Passed to the children as ``*_NUM_THREADS`` (0: not set).
    """
    X_train, _, y_train, _ = w1_data(sizes["w1_samples"])
    results = _run_children(X_train, y_train, sizes["w1_epochs"], blas_threads)
    data_mib = results["rss", "skbp"]["data_bytes"] / MIB
    for mode in ("tracemalloc", "rss"):
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
                note=_NOTES[mode].format(data_mib=data_mib),
            )
        )
