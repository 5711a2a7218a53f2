"""Faults during a fit on a Dask cluster: it completes, or it raises and the
previous model stays.

Issue 17: "A worker killed in the middle of a fit ends one of two ways: the
fit completes (Dask recomputes the lost chunks from their source), or it
raises a clear error with the previous model intact. Never a silent
partial model."

What the tests show, on a ``LocalCluster`` of two worker processes (their
nannies restart a killed worker):

- **Killed workers, data with a source** (``da.from_array``, and so any
  array read from files): the fit completes, and its model is the
  uninterrupted fit's, bit for bit. The scheduler recomputes the chunks
  the dead workers held from their source (with every worker killed, the
  tasks show it) and reruns the tasks they were running, whether they died
  between two steps or inside a task. (A chunk that the scheduler had also
  copied to the surviving worker, to run a task there, is read from it.)
- **A task that raises** (a worker's training code, or a chunk's source
  failing when recomputed): the fit raises that task's own exception, and
  the estimator is the one before the call, every attribute as it was
  (``skbp._model.rollback.keeps_fitted_state``).
- **Killed workers, data without a source** (chunks scattered from this
  process): Dask cannot recompute them; the fit raises a RuntimeError that
  says a worker was lost with data Dask cannot compute again, and the
  previous model stays.
- **A worker killed just before a step's weights leave**, before the
  scheduler knows: the weights travel in the task graph (never
  ``client.scatter(broadcast=True)``, which can replicate to the dead
  worker forever, dask/distributed#5704), so the fit completes. Run with a
  watchdog on a cluster of its own.

Every fault test is parametrized over the solvers that train on the
workers: a solver that does not (yet) is skipped, and becomes tested as
soon as ``fit`` trains with it where the chunks are.
"""

import contextlib
import os
import signal
import threading
import time

import numpy as np
import pytest
from dask_clusters import local_cluster
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification

from skbp import BPClassifier

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# 'sgd' runs the same tasks on the workers as 'adam' (only the update of the
# weights, in this process, differs): 'adam' stands for both.
SOLVERS = ["lbfgs", "adam"]
N_ROWS, CHUNK = 300, 60  # five chunks
KILL_AT = 3  # the step (iteration or epoch, from 0) after which a worker dies
FAULT_AFTER = 8  # a worker's loss evaluations before an injected fault
# Every epoch runs (no convergence test), 6 batches each.
STOCHASTIC = {"batch_size": 50, "tol": 0.0, "n_iter_no_change": 10**6}
# Seconds without a step's end: the fit has hung. A fit's steps take well
# under a second, and reading the chunks and restarting a worker a few
# seconds on a loaded 2-core machine.
HUNG = 30
WAIT = 30  # seconds: the most a worker's death or restart may take
HEAL = 15  # seconds: workers not running again by then are started anew


class LocalWorkers:
    """The module's cluster: 2 worker processes (1 thread each), which
    their nannies restart when killed, and its client (not the default
    one: the tests enter ``client.as_current()``).

    Started again when a test left it without its two workers: a nanny
    may close for good while it restarts its killed worker (a race in
    Dask: dask/distributed#7312).
    """

    def __init__(self):
        self.cluster = self.client = None

    def client_with_workers(self):
        """The client, once two workers are running (a new cluster's if
        they do not come back within ``HEAL`` seconds)."""
        if self.client is not None and not _running(self.client, 2, HEAL):
            self.close()
        if self.client is None:
            self.cluster = local_cluster()
            self.client = distributed.Client(self.cluster, set_as_default=False)
            self.client.wait_for_workers(2, timeout=WAIT)
        return self.client

    def close(self):
        if self.client is not None:
            self.client.close()
            self.cluster.close()
        self.cluster = self.client = None


@pytest.fixture(scope="module")
def local_workers():
    local = LocalWorkers()
    yield local
    local.close()


@pytest.fixture
def workers(local_workers):
    """The client of two running workers, and no fault left injected in
    them after the test."""
    client = local_workers.client_with_workers()
    yield client
    client.run(_clear_fault, on_error="ignore")


def _running(client, n, timeout):
    """Whether ``n`` workers are running within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        workers = client.scheduler_info()["workers"].values()
        if sum(w.get("status", "running") == "running" for w in workers) >= n:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _data():
    X, y = make_classification(N_ROWS, n_features=6, n_informative=4, random_state=0)
    return X, y


def _dask(*arrays):
    return [da.from_array(a, chunks=(CHUNK, *a.shape[1:])) for a in arrays]


def _estimator(solver, **params):
    """A small tanh network: 10 L-BFGS iterations, or 5 epochs of 6 batches."""
    params = {
        "hidden_layer_sizes": (8,),
        "activation": "tanh",
        "solver": solver,
        "max_iter": 10 if solver == "lbfgs" else 5,
        "random_state": 0,
        **({} if solver == "lbfgs" else STOCHASTIC),
        **params,
    }
    return BPClassifier(**params)


@pytest.fixture(params=SOLVERS)
def solver(request):
    """Each solver: all of them train where the chunks are."""
    return request.param


def _fit(client, estimator, X, y):
    """``estimator.fit(X, y)`` on ``client``'s workers, and the number of
    array chunks computed meanwhile (chunks' task keys are tuples)."""
    with (
        client.as_current(),
        distributed.get_task_stream(client) as stream,
        _never_without_workers(client),
    ):
        estimator.fit(X, y)
    return estimator, sum(isinstance(task["key"], tuple) for task in stream.data)


@contextlib.contextmanager
def _never_without_workers(client):
    """Start two workers anew whenever ``client``'s cluster has had none
    for ``HEAL`` seconds.

    A nanny may close for good while it restarts its killed worker (a race
    in Dask: dask/distributed#7312). With every worker killed, the cluster
    can be left with none, and a fit's tasks then wait for workers for
    ever, as any Dask computation does: the test would hang. New workers
    compute the lost chunks again from their source, as restarted ones
    would, and the test checks what it checks."""
    stop = threading.Event()

    def watch():
        since = time.monotonic()
        while not stop.wait(0.2):
            try:
                if client.scheduler_info()["workers"]:
                    since = time.monotonic()
                elif time.monotonic() - since > HEAL:
                    cluster = client.cluster
                    cluster.scale(len(cluster.worker_spec) + 2)
                    since = time.monotonic()
            except Exception:  # the client closing under a hung-fit test
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def _assert_identical_models(a, b):
    assert a.n_iter_ == b.n_iter_
    for W_a, W_b in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_array_equal(W_a, W_b)
    assert a.loss_curve_ == b.loss_curve_


def _comparable(value):
    """``value`` as nested tuples that compare equal when the values are."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_comparable(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _comparable(v)) for k, v in value.items()))
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return value
    if type(value).__module__.startswith(("skbp.", "sklearn.")) and hasattr(
        value, "__dict__"
    ):  # optimizers, label binarizers
        return (type(value).__name__, _comparable(vars(value)))
    return ("object", id(value))  # random generators, callbacks: the same ones


def _fitted_state(estimator):
    """Every attribute of ``estimator`` that is not a parameter."""
    params = estimator.get_params(deep=False)
    return {
        name: _comparable(value)
        for name, value in vars(estimator).items()
        if name not in params
    }


def _previous_model(solver, X, y, *callbacks):
    """A fitted estimator (3 steps, in memory) given ``callbacks`` for its
    next fit, its state and predictions."""
    est = _estimator(solver, max_iter=3).fit(X, y)
    est.set_params(max_iter=_estimator(solver).max_iter).set_callbacks(*callbacks)
    return est, _fitted_state(est), est.predict_proba(X)


def _assert_previous_model(est, state, proba, X):
    """The estimator is the one before the failed call, attribute by attribute."""
    assert _fitted_state(est).keys() == state.keys()  # none added, none lost
    for name, value in _fitted_state(est).items():
        assert value == state[name], f"{name} changed"
    assert_array_equal(est.predict_proba(X), proba)


# ----------------------------------------------------------------------
# Faults: a worker killed from here, and faults injected in the workers
# ----------------------------------------------------------------------
class KillWorkersAt:
    """A callback (``sklearn.callback``) that kills worker processes with
    SIGKILL at the end of step ``step`` (from 0) of the fit: the first
    worker (by address), or with ``every`` all of them.

    With ``wait``, the step ends once the scheduler has removed them (and,
    for ``every``, once their nannies have restarted them all); else at
    once, before the scheduler knows.
    """

    def __init__(self, client, step=KILL_AT, every=False, wait=True):
        self.client, self.step, self.every, self.wait = client, step, every, wait
        self.killed = []
        self.last_step_end = time.monotonic()  # when the fit last made progress

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name in ("lbfgs-iter", "epoch") and context.task_id == (
            self.step
        ):
            self.killed = _kill_workers(self.client, self.every, self.wait)
        self.last_step_end = time.monotonic()


def _kill_workers(client, every, wait):
    """SIGKILL the first worker (by address) or every worker; their addresses."""
    pids = client.run(os.getpid)
    addresses = sorted(pids) if every else sorted(pids)[:1]
    for address in addresses:
        os.kill(pids[address], signal.SIGKILL)
    deadline = time.monotonic() + WAIT
    while wait and set(addresses) & set(client.scheduler_info()["workers"]):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the scheduler still lists {addresses}")
        time.sleep(0.02)
    if wait and every:
        client.wait_for_workers(len(pids), timeout=WAIT)
    return addresses


def _inject_fault(kind, after, token):
    """In a worker: the core's ``backprop``, wherever skbp's modules hold
    it, replaced by one that, on its call number ``after + 1`` in this
    process, kills the process (``kind='kill'``) or raises
    ``RuntimeError`` (``'raise'``) - once in the cluster: the first worker
    to create the file ``token`` does it."""
    import sys

    import skbp  # noqa: F401 - every module that holds backprop
    from skbp.core import backprop

    calls = []

    def faulty(*args, **kwargs):
        calls.append(None)
        if len(calls) > after:
            try:
                os.close(os.open(token, os.O_CREAT | os.O_EXCL))
            except FileExistsError:  # another worker's fault
                pass
            else:
                if kind == "kill":
                    os._exit(1)
                raise RuntimeError("a fault injected in a worker's backprop")
        return backprop(*args, **kwargs)

    faulty.original = backprop
    for name, module in list(sys.modules.items()):
        if name.startswith("skbp") and getattr(module, "backprop", None) is backprop:
            module.backprop = faulty


def _clear_fault():
    """In a worker: the core's ``backprop`` back wherever it was replaced."""
    import sys

    for name, module in list(sys.modules.items()):
        original = getattr(getattr(module, "backprop", None), "original", None)
        if name.startswith("skbp") and original is not None:
            module.backprop = original


def _read_once(block, directory, block_id=None):
    """A chunk's source: readable once, then gone (raises ``OSError``)."""
    marker = os.path.join(directory, str(block_id[0]))
    if os.path.exists(marker):
        raise OSError(f"chunk {block_id[0]}'s source is gone")
    open(marker, "w").close()
    return block


# ----------------------------------------------------------------------
# A killed worker: the fit completes, as if nothing happened
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def uninterrupted():
    """``fit(solver, client)``: the fit without a fault, on the cluster of
    ``client`` (once per solver: the same bits on any cluster), and the
    chunks it computed."""
    X, y = _data()
    fits = {}

    def fit(solver, client):
        if solver not in fits:
            fits[solver] = _fit(client, _estimator(solver), *_dask(X, y))
        return fits[solver]

    return fit


@pytest.mark.parametrize("every", [False, True], ids=["one-worker", "every-worker"])
def test_workers_killed_between_steps_the_fit_completes(
    workers, solver, uninterrupted, every
):
    """One worker: its chunks are recomputed, or read from the other worker
    when the scheduler had copied them there. Every worker: every chunk is
    recomputed from its source."""
    X, y = _data()
    expected, expected_chunks = uninterrupted(solver, workers)
    kill = KillWorkersAt(workers, every=every)
    est, chunks = _fit(workers, _estimator(solver).set_callbacks(kill), *_dask(X, y))
    assert len(kill.killed) == (2 if every else 1)
    assert not set(kill.killed) & set(workers.scheduler_info()["workers"])
    if every:
        assert chunks > expected_chunks
    _assert_identical_models(est, expected)


def test_a_worker_killed_inside_a_task_the_fit_completes(
    workers, solver, uninterrupted, tmp_path
):
    X, y = _data()
    expected, _ = uninterrupted(solver, workers)
    addresses = set(workers.scheduler_info()["workers"])
    workers.run(_inject_fault, "kill", FAULT_AFTER, str(tmp_path / "fired"))
    est, _ = _fit(workers, _estimator(solver), *_dask(X, y))
    assert (tmp_path / "fired").exists()
    assert not addresses <= set(workers.scheduler_info()["workers"])  # one died
    _assert_identical_models(est, expected)


# ----------------------------------------------------------------------
# A task that raises: its error, and the previous model
# ----------------------------------------------------------------------
def test_a_task_that_raises_ends_the_fit_and_keeps_the_model(workers, solver, tmp_path):
    X, y = _data()
    est, state, proba = _previous_model(solver, X, y)
    workers.run(_inject_fault, "raise", FAULT_AFTER, str(tmp_path / "fired"))
    with pytest.raises(RuntimeError, match="a fault injected in a worker's backprop"):
        _fit(workers, est, *_dask(X, y))
    assert (tmp_path / "fired").exists()
    _assert_previous_model(est, state, proba, X)


def test_a_source_failing_when_recomputed_ends_the_fit_and_keeps_the_model(
    workers, solver, tmp_path
):
    """Killed workers' chunks are read again from a source that is gone
    (every worker: one chunk at least is lost for sure)."""
    X, y = _data()
    kill = KillWorkersAt(workers, every=True)
    est, state, proba = _previous_model(solver, X, y, kill)
    X_dask, y_dask = _dask(X, y)
    X_dask = X_dask.map_blocks(_read_once, str(tmp_path), dtype=X.dtype)
    with pytest.raises(OSError, match="source is gone"):
        _fit(workers, est, X_dask, y_dask)
    _assert_previous_model(est, state, proba, X)


# ----------------------------------------------------------------------
# Lost data that Dask cannot recompute
# ----------------------------------------------------------------------
def test_lost_chunks_without_a_source_end_the_fit_and_keep_the_model(workers, solver):
    """Chunks scattered from this process exist only in the workers' memory
    (every worker killed: the chunks are lost for sure)."""
    X, y = _data()
    est, state, proba = _previous_model(
        solver, X, y, KillWorkersAt(workers, every=True)
    )
    parts = workers.scatter([X[i : i + CHUNK] for i in range(0, N_ROWS, CHUNK)])
    X_dask = da.concatenate(
        [da.from_delayed(part, shape=(CHUNK, 6), dtype=X.dtype) for part in parts]
    )
    with pytest.raises(RuntimeError, match="worker was lost with data Dask cannot"):
        _fit(workers, est, X_dask, _dask(y)[0])
    _assert_previous_model(est, state, proba, X)


# ----------------------------------------------------------------------
# A worker killed before the scheduler knows it (weights being scattered)
# ----------------------------------------------------------------------
def test_a_worker_killed_as_the_weights_are_scattered(solver):
    """The kill comes just before the next step scatters the weights, before
    the scheduler has noticed it. A cluster of its own, closed under a hung
    fit (no step ended for ``HUNG`` seconds): a hung scatter holds the
    scheduler's replication lock for good."""
    X, y = _data()
    expected = _estimator(solver).fit(*_dask(X, y))  # the local scheduler's
    cluster = local_cluster()
    client = distributed.Client(cluster, set_as_default=False)
    outcome, hung = [], True
    try:
        kill = KillWorkersAt(client, wait=False)
        est = _estimator(solver).set_callbacks(kill)

        def fit():
            try:
                outcome.append(_fit(client, est, *_dask(X, y))[0])
            except BaseException as exc:  # the client closing under it
                outcome.append(exc)

        thread = threading.Thread(target=fit, daemon=True)
        kill.last_step_end = time.monotonic()
        thread.start()
        hung = _hangs(thread, kill)
    finally:
        _close(client, cluster, hung)
    assert not hung, f"the fit hung (no step ended for {HUNG} s)"
    (result,) = outcome
    assert result is est, f"the fit raised {result!r}"
    _assert_identical_models(est, expected)


def _hangs(thread, steps):
    """Whether ``thread`` (a fit) goes ``HUNG`` seconds without a step's end
    (``steps.last_step_end``) before it ends: progress, not the wall time
    of the whole fit, which a loaded machine stretches."""
    while thread.is_alive():
        if time.monotonic() - steps.last_step_end > HUNG:
            return True
        thread.join(timeout=0.1)
    return False


def _close(client, cluster, hung):
    """Close a test's own cluster, within ``WAIT`` seconds: closing kills
    the worker processes, which takes seconds on a loaded machine (a 2 s
    timeout expired there). Under a hung fit, the close may time out too:
    the test then reports the hang."""
    try:
        client.close(timeout=WAIT)
        cluster.close(timeout=WAIT)
    except TimeoutError:
        if not hung:
            raise
