"""Where the rows live: one implementation per placement.

The interface is :mod:`skbp._data.rows`; :func:`placement_of` picks the
implementation, once per fit, from ``X``: the one place that asks where the
rows are.

- ``memory``: rows in this process (numpy, or any array-API library on its
  device), in mini-batches;
- ``dask``: rows in the chunks of Dask arrays and DataFrames, kept on the
  workers; ``chunks`` (the steps over them) and ``workers`` (the tasks,
  their sums and their failures);
- ``scores``: early stopping's accuracy and R^2, from sums, for both.

Below the engine; above the model description and :mod:`skbp.core`.
"""

from .dask import DaskPlacement, is_dask_input
from .memory import MemoryPlacement
from .rows import Dropout, HeldOutRows, Network, Placement, TrainingRows

__all__ = [
    "placement_of",
    "Placement",
    "TrainingRows",
    "HeldOutRows",
    "Network",
    "Dropout",
]


def placement_of(X):
    """The placement of a fit on ``X``.

    A Dask array, DataFrame or Series trains on its chunks where they are,
    whatever the array API setting: its chunks are numpy arrays on the
    workers (treating the Dask array as one more array library in this
    process failed differently for each solver). Anything else trains in
    this process, in the library and on the device of ``X``.

    Returns
    -------
    Placement
    """
    return DaskPlacement() if is_dask_input(X) else MemoryPlacement()
