"""Where the rows live: one implementation per placement.

- ``memory``: rows in this process (numpy, or any array-API library on its
  device), in mini-batches;
- ``dask``: rows in the chunks of Dask arrays and DataFrames, kept on the
  workers; ``chunks`` (the steps over them) and ``workers`` (the tasks,
  their sums and their failures).

Below the engine; above the model description and :mod:`skbp.core`.
"""
