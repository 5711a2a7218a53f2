"""The local Dask clusters the tests start."""


def local_cluster(n_workers=2, processes=True):
    """A ``LocalCluster`` of ``n_workers`` single-threaded workers: processes
    (each with a nanny that restarts it if killed), or threads of this
    process (``processes=False``: quicker to start)."""
    import distributed

    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",  # any free port: 8787 may be taken
    )
