"""Shared test set-up."""

import os

# scikit-learn's array-API dispatch (and its estimator checks on PyTorch and
# array-api-strict) needs scipy's array-API mode, which scipy reads when it
# is first imported: set before anything imports it. CI sets it too.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402


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
