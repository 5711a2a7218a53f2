"""Shared test set-up."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread():
    """Run BLAS on one thread.

    On small shared CI machines, multi-threaded OpenBLAS on the tests' tiny
    matrices spins and stalls (the same fit was seen to take 0.2 s or 6 s);
    one thread makes the suite's run time steady. Threaded behaviour itself is
    tested explicitly where it matters (prediction from several threads).
    """
    with threadpool_limits(limits=1):
        yield
