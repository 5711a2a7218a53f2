"""Problem sizes and repeats of every workload: full, and ``--quick``.

Keys start with the workload they size (``w1_`` ...); workload 5 measures
workload 1's fit, so it reads the ``w1_`` keys. ``--repeats`` overrides
every key ending in ``_repeats`` or ``_blocks``.
"""

FULL = {
    "w1_samples": 60_000,
    "w1_epochs": 10,
    "w1_repeats": 3,
    "w2_iterations": 4000,
    "w2_repeats": 5,
    "w3_calls": 100,  # one-row predictions per timed block
    "w3_blocks": 30,
    "w3_bulk_rows": 100_000,
    "w3_bulk_repeats": 5,
    "w4_samples": 20_000,
    "w4_max_iter": 200,
    "w4_repeats": 3,
}
QUICK = {
    "w1_samples": 12_000,
    "w1_epochs": 3,
    "w1_repeats": 2,
    "w2_iterations": 1000,
    "w2_repeats": 3,
    "w3_calls": 50,
    "w3_blocks": 10,
    "w3_bulk_rows": 20_000,
    "w3_bulk_repeats": 3,
    "w4_samples": 5_000,
    "w4_max_iter": 50,
    "w4_repeats": 2,
}


def choose_sizes(quick, repeats=None):
    """A fresh copy of the sizes, ``repeats`` overriding every repeat count.

    Parameters
    ----------
    quick : bool
        :data:`QUICK` instead of :data:`FULL`.
    repeats : int or None, default=None
        When given (and not 0), the number of repeats (and blocks) of every
        timing.

    Returns
    -------
    sizes : dict
    """
    sizes = dict(QUICK if quick else FULL)
    if repeats:
        for key in sizes:
            if key.endswith(("_repeats", "_blocks")):
                sizes[key] = repeats
    return sizes
