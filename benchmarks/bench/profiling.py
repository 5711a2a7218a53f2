"""cProfile of skbp's fit on workload 1 (float64) or 2 (``--profile N``)."""

import cProfile
import pstats

from skbp import BPClassifier, BPRegressor

from .workload_1 import w1_data, w1_params
from .workload_2 import w2_data, w2_params


def profile(workload, sizes, top=30):
    """cProfile skbp's fit on workload 1 (float64) or 2 and print the top.

    Parameters
    ----------
    workload : {1, 2}
        Anything else exits with a message.
    sizes : dict
        See :mod:`bench.sizes`.
    top : int, default=30
        Functions printed per listing (by own, then by cumulative time).
    """
    if workload == 1:
        X_train, _, y_train, _ = w1_data(sizes["w1_samples"])
        est = BPClassifier(**w1_params(sizes["w1_epochs"]))
        args = (X_train, y_train)
    elif workload == 2:
        x, y = w2_data()
        est = BPRegressor(**w2_params(sizes["w2_iterations"], len(x)))
        args = (x, y)
    else:
        raise SystemExit("--profile takes workload 1 or 2")
    profiler = cProfile.Profile()
    profiler.runcall(est.fit, *args)
    stats = pstats.Stats(profiler).strip_dirs()
    for key, what in (("tottime", "own time"), ("cumulative", "cumulative time")):
        print(f"cProfile of skbp fit, workload {workload} (sorted by {what})")
        stats.sort_stats(key).print_stats(top)
