"""Workload 3: prediction latency and throughput (workload 1's network).

One row (mean over many calls, median over blocks) against scikit-learn,
and many rows against the three forward products ``X @ W1 @ W2 @ W3``.
"""

import statistics
import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier

from skbp import BPClassifier

from .measure import interleaved
from .report import timed_row
from .workload_1 import w1_data, w1_params


def w3_models():
    """Workload 1's network fitted by skbp and by scikit-learn.

    The timing of predict does not depend on how well the weights are
    trained: two epochs on a slice of workload 1's data give the network.

    Returns
    -------
    models : dict
        ``{"skbp": ..., "sklearn": ...}``, fitted.
    X_train : ndarray
        Their training data (the one row and the width come from it).
    """
    X_train, _, y_train, _ = w1_data(12_000)
    params = w1_params(2)
    models = {
        "skbp": BPClassifier(**params).fit(X_train, y_train),
        "sklearn": MLPClassifier(**params).fit(X_train, y_train),
    }
    if not np.array_equal(
        models["skbp"].predict(X_train[:500]), models["sklearn"].predict(X_train[:500])
    ):
        warnings.warn("skbp and sklearn predictions differ", stacklevel=1)
    return models, X_train


def _latency_row(models, row, sizes):
    """One row, many calls: median over blocks of the mean time per call."""
    coefs = models["skbp"].coefs_
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
    return timed_row(3, "predict latency, 1 row", times, sklearn_goal=(1 / 3, None))


def _bulk_row(models, n_features, sizes):
    """Many rows: throughput against the three forward products."""
    coefs = models["skbp"].coefs_
    n_rows = sizes["w3_bulk_rows"]
    X_bulk = np.random.default_rng(0).standard_normal((n_rows, n_features))

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
    return timed_row(
        3,
        f"predict {n_rows} rows",
        times,
        bare_goal=(1.2, None),
        note=f"{n_rows / statistics.median(times['skbp']):,.0f} rows/s (skbp); "
        "bare = the 3 forward products only",
    )


def workload_3(sizes, rows):
    """Time one-row and bulk prediction; append a row each.

    Parameters
    ----------
    sizes : dict
        See :mod:`bench.sizes` (``w3_`` keys).
    rows : list of Row
        Appended to.
    """
    models, X_train = w3_models()
    rows.append(_latency_row(models, X_train[:1].copy(), sizes))
    rows.append(_bulk_row(models, X_train.shape[1], sizes))
