"""Timing: competitors interleaved repeat by repeat, medians of paired ratios."""

import gc
import statistics
import time


def interleaved(functions, repeats, warmup=False):
    """Time each callable ``repeats`` times, the callables taking turns.

    Repeat ``i`` runs every callable once (the order rotates from repeat to
    repeat), so slow phases of a shared machine hit all of them alike and
    ``times[a][i] / times[b][i]`` is a fair paired ratio.

    Parameters
    ----------
    functions : dict of str to callable
        The competitors, each called without arguments.
    repeats : int
        How many times each one runs.
    warmup : bool, default=False
        Call each one once, untimed, before the first repeat.

    Returns
    -------
    times : dict of str to list of float
        ``{name: [seconds, ...]}``, one entry per repeat.
    """
    names = list(functions)
    if warmup:
        for name in names:
            functions[name]()
    times = {name: [] for name in names}
    for i in range(repeats):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            start = time.perf_counter()
            functions[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median_ratio(numerator, denominator):
    """Median of the paired (same-repeat) ratios.

    Parameters
    ----------
    numerator, denominator : sequence of float
        Times of two competitors, entry ``i`` from repeat ``i``.

    Returns
    -------
    ratio : float
    """
    return statistics.median(a / b for a, b in zip(numerator, denominator))
