"""Training on Dask arrays where their chunks are, and predicting blockwise.

``fit(X, y)`` with Dask arrays and ``solver='lbfgs'`` keeps each chunk on a
worker and runs L-BFGS on the client over sums of the chunks' losses and
gradients (``skbp/_data/dask.py``, ``skbp/_data/workers.py``). The model is the
one a fit in memory gives, up to rounding: L-BFGS on a network amplifies
the rounding of the summation order (the in-memory fit on the same rows in
another order drifts apart as fast), so that the comparisons at rtol 1e-8
stop after 25 iterations on networks and go to convergence on convex
models; for a given chunking, the model is the same bit for bit on any
number of workers and on the local scheduler.

With ``'sgd'`` and ``'adam'`` each optimizer step is minibatch SGD on a
global batch drawn from every chunk (``skbp/_data/chunks.py``): the
fit in memory on the rows in the order the batches take them, up to
rounding; for a given chunking, the same bit for bit on any number of
workers; as accurate as the fit in memory of the same data and epochs.

One ``LocalCluster`` of two worker processes (one thread each) serves the
module. Its Client is not the default one: the tests that use it enter
``client.as_current()``, and every other test runs on Dask's local
scheduler, whatever the order of the tests.
"""

import contextlib
import operator
import tracemalloc
from collections import Counter

import numpy as np
import pytest
from dask_clusters import local_cluster
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score, r2_score

from skbp import BPClassifier, BPRegressor
from skbp._data.chunks import ChunkedHeldOut, batch_shares, split_chunk
from skbp._data.rows import Network
from skbp._data.scores import R2, Accuracy
from skbp._data.workers import Workers, tree_sum
from skbp.core import (
    BinaryLogLoss,
    ParameterLayout,
    SquaredError,
    forward_loss,
    get_activation,
    initialize_parameters,
)

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

# Most fits stop at max_iter on purpose (comparisons before L-BFGS drifts).
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def client():
    """A client of a 2-process, 1-thread-per-worker local cluster, not the
    default client: enter ``client.as_current()`` to train there."""
    with local_cluster() as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            yield client


def _data(kind, n_samples=300):
    """X of shape (n_samples, 6), y and positive row weights."""
    if kind == "regression":
        X, y = make_regression(n_samples, n_features=6, noise=1.0, random_state=0)
        y = y / y.std()
    else:
        n_classes = {"binary": 2, "multiclass": 3}[kind]
        X, y = make_classification(
            n_samples,
            n_features=6,
            n_informative=4,
            n_classes=n_classes,
            random_state=0,
        )
    sample_weight = np.random.RandomState(1).uniform(0.1, 2.0, n_samples)
    return X, y, sample_weight


def _estimator(kind, **params):
    """A small tanh network trained by L-BFGS for 25 iterations."""
    params = {
        "hidden_layer_sizes": (8,),
        "activation": "tanh",
        "solver": "lbfgs",
        "max_iter": 25,
        "random_state": 0,
        **params,
    }
    return BPRegressor(**params) if kind == "regression" else BPClassifier(**params)


@contextlib.contextmanager
def _one_worker_client():
    """A client of a cluster of one in-process worker (not the default)."""
    with (
        local_cluster(1, processes=False) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


def _dask(chunks, *arrays):
    """``arrays`` as Dask arrays of row chunks ``chunks``."""
    return [da.from_array(a, chunks=(chunks, *a.shape[1:])) for a in arrays]


def _assert_same_model(got, expected, rtol=1e-8, atol=1e-10):
    for name in ("coefs_", "intercepts_"):
        for a, b in zip(getattr(got, name), getattr(expected, name)):
            assert type(a) is np.ndarray
            assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)
    assert got.n_iter_ == expected.n_iter_
    assert_allclose(got.loss_curve_, expected.loss_curve_, rtol=rtol)


def _assert_identical_models(a, b):
    for W_a, W_b in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_array_equal(W_a, W_b)
    assert a.loss_curve_ == b.loss_curve_


# ----------------------------------------------------------------------
# Without a Client: Dask's local scheduler, in this process
# ----------------------------------------------------------------------
def test_without_a_client_trains_on_the_local_scheduler():
    with pytest.raises(ValueError, match="No clients found"):
        distributed.Client.current()
    X, y, sample_weight = _data("multiclass")
    y = np.array(["ant", "bee", "cat"])[y]  # labels found on the chunks
    on_dask = _estimator("multiclass").fit(
        *_dask(70, X, y), sample_weight=_dask(70, sample_weight)[0]
    )
    in_memory = _estimator("multiclass").fit(X, y, sample_weight=sample_weight)
    _assert_same_model(on_dask, in_memory)
    assert on_dask.n_features_in_ == 6 and not hasattr(on_dask, "feature_names_in_")
    assert_array_equal(on_dask.classes_, in_memory.classes_)


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_array_api_dispatch_trains_on_the_chunks_the_same(kind, solver):
    """Under array_api_dispatch a Dask array trains on its chunks as
    without it: the same model bit for bit, and lazy predictions (before,
    adam raised a TypeError about mixed libraries and L-BFGS a broadcast
    error)."""
    import sklearn

    X, y, _ = _data(kind)
    X_dask, y_dask = _dask(100, X, y)
    params = {"solver": solver, "max_iter": 5}
    plain = _estimator(kind, **params).fit(X_dask, y_dask)
    with sklearn.config_context(array_api_dispatch=True):
        dispatched = _estimator(kind, **params).fit(X_dask, y_dask)
        predicted = dispatched.predict(X_dask)
    for got, expected in zip(
        [*dispatched.coefs_, *dispatched.intercepts_],
        [*plain.coefs_, *plain.intercepts_],
    ):
        assert_array_equal(got, expected)
    assert dispatched.loss_curve_ == plain.loss_curve_
    assert isinstance(predicted, da.Array)
    assert_array_equal(predicted.compute(), plain.predict(X))


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_a_dask_dataframe_trains_on_its_partitions(kind, solver):
    """A Dask DataFrame (and Series) trains where its partitions are, as the
    Dask array of its rows does (before, it was pulled into memory whole),
    keeps its column names, and predicts lazily (before: numpy)."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, _ = _data(kind)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    X_frame = dd.from_pandas(frame, npartitions=3)
    y_frame = dd.from_pandas(pd.Series(y, name="y"), npartitions=3)
    params = {"solver": solver, "max_iter": 5}
    on_frame = _estimator(kind, **params).fit(X_frame, y_frame)
    rows = X_frame.to_dask_array(lengths=True)
    on_array = _estimator(kind, **params).fit(rows, y_frame.to_dask_array(True))
    for got, expected in zip(on_frame.coefs_, on_array.coefs_):
        assert_array_equal(got, expected)
    assert list(on_frame.feature_names_in_) == list(frame.columns)
    predicted = on_frame.predict(X_frame)
    assert isinstance(predicted, da.Array)
    assert_array_equal(predicted.compute(), on_array.predict(rows).compute())
    assert on_frame.score(X_frame, y_frame) == on_array.score(rows, y)
    renamed = dd.from_pandas(frame.rename(columns={"f0": "other"}), npartitions=3)
    with pytest.raises(ValueError, match="feature names should match"):
        on_frame.predict(renamed)


def test_the_in_memory_loop_reports_each_iteration(capsys):
    """verbose, loss_curve_ and n_iter_ come from the in-memory L-BFGS loop."""
    X, y, _ = _data("binary")
    clf = _estimator("binary", max_iter=5, verbose=True).fit(*_dask(100, X, y))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        f"Iteration {i}" for i in range(1, 6)
    ]
    assert len(clf.loss_curve_) == clf.n_iter_ == 5


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_warm_start_and_partial_fit_continue_from_the_weights(kind):
    X, y, _ = _data("multiclass" if kind == "classifier" else "regression")
    X_dask, y_dask = _dask(70, X, y)
    fits = []
    for X_fit, y_fit in ((X_dask, y_dask), (X, y)):
        est = _estimator(
            "multiclass" if kind == "classifier" else "regression", max_iter=10
        )
        est.fit(X_fit, y_fit)
        if kind == "classifier":
            est.set_params(warm_start=True).fit(X_fit, y_fit)
        else:
            est.partial_fit(X_fit, y_fit)  # one more L-BFGS run
        fits.append(est)
    assert len(fits[0].loss_curve_) == 10  # the second run's
    _assert_same_model(*fits)


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_empty_chunks_and_column_vector_targets(kind):
    X, y, _ = _data(kind)
    chunks = (100, 0, 200)  # Dask makes such chunks, e.g. by filtering rows
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        on_dask = _estimator(kind).fit(*_dask(chunks, X, y[:, None]))
    _assert_same_model(on_dask, _estimator(kind).fit(X, y))
    assert on_dask.predict(_dask(chunks, X)[0]).compute().shape == (300,)


def test_tree_sum_adds_in_chunk_order():
    """Strings add by concatenation: the order of the additions shows."""
    workers = Workers(None)
    parts = [workers.task(tuple, letter) for letter in "abcdefg"]
    total = tree_sum(workers, parts, split_every=2)
    assert workers.value(total) == ("abcdefg",)
    adds = [key for key in total.__dask_graph__() if str(key).startswith("_add")]
    assert len(adds) == 6  # (ab)(cd)(ef)g, (abcd)(efg), (abcdefg)


# ----------------------------------------------------------------------
# Bad input: a clear error, and nothing computed
# ----------------------------------------------------------------------
def _refuse(block):
    raise AssertionError("a chunk was computed")


def _uncomputable(shape, chunks):
    """A Dask array whose every chunk raises when computed."""
    return da.zeros(shape, chunks=chunks).map_blocks(_refuse, dtype=float)


def _unknown_rows(array):
    """``array`` with unknown (NaN) row chunk sizes, every row kept."""
    return array[da.isfinite(array[:, 0] if array.ndim == 2 else array)]


# (X, y, sample_weight) by what is wrong with them, and the error's words.
_BAD_CHUNKS = {
    "X-column-chunks": (((100, 6), (50, 3)), (100, 50), None, "along its columns"),
    "y-other-row-chunks": (((100, 6), 50), (100, 40), None, "chunked differently"),
    "weights-other-row-chunks": (((100, 6), 50), (100, 50), (100, 25), "different"),
    "X-1-D": ((100, 50), (100, 50), None, "2-D"),
}


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("kind", ["binary", "regression"])
@pytest.mark.parametrize("bad", _BAD_CHUNKS)
def test_bad_chunking_is_refused_before_any_work(bad, kind, solver):
    *arrays, match = _BAD_CHUNKS[bad]
    X, y, sample_weight = (None if a is None else _uncomputable(*a) for a in arrays)
    with pytest.raises(ValueError, match=match):
        _estimator(kind, solver=solver).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
@pytest.mark.parametrize("unknown", ["X", "y", "sample_weight"])
def test_unknown_chunk_sizes_are_refused_before_any_work(unknown, solver):
    data = {
        "X": _uncomputable((100, 6), 50),
        "y": _uncomputable(100, 50),
        "sample_weight": _uncomputable(100, 50),
    }
    data[unknown] = _unknown_rows(data[unknown])
    with pytest.raises(ValueError, match=f"{unknown} has unknown chunk sizes"):
        _estimator("binary", solver=solver).fit(**data)


def test_in_memory_targets_of_another_length_are_refused():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _estimator("binary").fit(_uncomputable((100, 6), 50), np.zeros(90))


@pytest.mark.parametrize(
    "kind, spoil, match",
    [
        ("binary", lambda X, y, w: (np.where(X > 2, np.nan, X), y, w), "NaN"),
        ("binary", lambda X, y, w: (X, y, -w), "Negative values"),
        ("binary", lambda X, y, w: (X, y, 0 * w), "positive sum"),
        ("regression", lambda X, y, w: (X, np.where(y > 1, np.inf, y), w), "inf"),
    ],
    ids=["X-nan", "negative-weights", "zero-weights", "y-inf"],
)
def test_bad_values_raise_as_in_memory_and_keep_the_model(kind, spoil, match):
    X, y, sample_weight = _data(kind)
    est = _estimator(kind, max_iter=3).fit(X, y)
    before = [W.copy() for W in est.coefs_]
    X, y, sample_weight = spoil(X, y, sample_weight)
    with pytest.raises(ValueError, match=match):
        _estimator(kind).fit(X, y, sample_weight=sample_weight)  # in memory
    with pytest.raises(ValueError, match=match):
        est.fit(*_dask(70, X, y), sample_weight=_dask(70, sample_weight)[0])
    for W, W_before in zip(est.coefs_, before):
        assert_array_equal(W, W_before)


def test_poisson_refuses_a_negative_target_in_any_chunk():
    X, y, _ = _data("regression")
    y = np.abs(y)
    y[250] = -1.0  # in the last chunk only
    with pytest.raises(ValueError, match="non-negative targets"):
        _estimator("regression", loss="poisson").fit(*_dask(70, X, y))


def test_multilabel_dask_targets_are_refused():
    X, y, _ = _data("binary")
    Y = np.stack([y, 1 - y], axis=1)
    with pytest.raises(ValueError, match="Multilabel"):
        _estimator("binary").fit(*_dask(100, X, Y))


# ----------------------------------------------------------------------
# On the cluster
# ----------------------------------------------------------------------
def _fit_on(client, estimator, *args, **kwargs):
    """``estimator.fit(*args, **kwargs)`` on ``client``'s workers; checks
    that the losses were computed there."""
    with client.as_current(), distributed.get_task_stream(client) as stream:
        estimator.fit(*args, **kwargs)
    task = "chunk_sums" if estimator.solver == "lbfgs" else "batch_sums"
    assert _task_counts(stream)[task] > 0
    return estimator


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize(
    "chunks, y_in_memory",
    [(70, False), ((100, 37, 163), True)],
    ids=["even-chunks", "uneven-chunks-numpy-y"],
)
def test_lbfgs_on_the_cluster_is_the_fit_in_memory(client, kind, chunks, y_in_memory):
    X, y, sample_weight = _data(kind)
    X_dask, y_dask, w_dask = _dask(chunks, X, y, sample_weight)
    on_cluster = _fit_on(
        client,
        _estimator(kind),
        X_dask,
        y if y_in_memory else y_dask,
        sample_weight=w_dask,
    )
    in_memory = _estimator(kind).fit(X, y, sample_weight=sample_weight)
    _assert_same_model(on_cluster, in_memory)
    assert on_cluster.n_iter_ == 25


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_convex_models_agree_at_convergence(client, kind):
    """No hidden layer and an L2 penalty: one optimum, reached by both."""
    X, y, sample_weight = _data(kind)
    params = dict(hidden_layer_sizes=(), alpha=1e-2, max_iter=500, tol=1e-8)
    on_cluster = _fit_on(
        client,
        _estimator(kind, **params),
        *_dask(70, X, y),
        sample_weight=_dask(70, sample_weight)[0],
    )
    in_memory = _estimator(kind, **params).fit(X, y, sample_weight=sample_weight)
    assert on_cluster.n_iter_ < 500  # converged
    _assert_same_model(on_cluster, in_memory)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 2.0, 2: 0.5}])
def test_class_weight_times_sample_weight(client, class_weight):
    X, y, sample_weight = _data("multiclass")
    X_dask, y_dask, w_dask = _dask(70, X, y, sample_weight)
    on_cluster = _fit_on(
        client,
        _estimator("multiclass", class_weight=class_weight),
        X_dask,
        y_dask,
        sample_weight=w_dask,
    )
    in_memory = _estimator("multiclass", class_weight=class_weight)
    _assert_same_model(on_cluster, in_memory.fit(X, y, sample_weight=sample_weight))


def test_same_model_bit_for_bit_on_any_number_of_workers(client):
    """The tree of additions depends on the chunks alone: 2 worker
    processes, 1 worker thread and the local scheduler agree exactly, for
    more iterations than the in-memory fit stays within 1e-8 of them."""
    X, y, sample_weight = _data("binary")
    arrays = _dask((100, 37, 163), X, y, sample_weight)
    est = _estimator("binary", max_iter=60)
    local = est.fit(arrays[0], arrays[1], sample_weight=arrays[2])
    models = []
    with _one_worker_client() as one_worker_client:
        for on in (client, one_worker_client):
            est = _estimator("binary", max_iter=60)
            models.append(_fit_on(on, est, *arrays[:2], sample_weight=arrays[2]))
    assert local.n_iter_ == 60
    for model in models:
        _assert_identical_models(model, local)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="lbfgs"),
        dict(solver="adam", batch_size=50_000, early_stopping=True, n_iter_no_change=9),
    ],
    ids=["lbfgs", "adam-early-stopping"],
)
@pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")  # first fit
def test_the_training_data_is_never_gathered(client, params):
    """32 MB of rows made on the workers: this process's allocations stay
    an eighth of them (about 2 MB: the local cluster's scheduler, which
    lives here, and labels, sums and weights), where gathering the rows
    would take all 32."""
    rng = da.random.default_rng(0)
    X = rng.standard_normal((200_000, 20), chunks=(25_000, 20))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    clf = BPClassifier(hidden_layer_sizes=(4,), max_iter=3, **params)
    with client.as_current():  # what a first fit imports is not data
        clf.fit(X[:1000], y[:1000])
    tracemalloc.start()
    try:
        with client.as_current():
            clf.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clf.n_iter_ == 3
    assert peak < X.nbytes / 8, f"{peak / 1e6:.1f} MB traced"


def _task_counts(stream):
    """Tasks run, by the name of their array (a chunk's key is the array's
    name and token, and its index) or function (a task's key is its name
    and a uuid)."""
    return Counter(_task_name(task["key"]) for task in stream.data)


def _task_name(key):
    """A task's array name (its key: the name, a token, an index) or
    function name (its key: the name and a uuid)."""
    return key[0].rsplit("-", 1)[0] if isinstance(key, tuple) else key[:-37]


def test_the_data_is_read_once_and_each_evaluation_is_one_tree(client):
    """Reading and checking the chunks costs the same tasks for 2 iterations
    as for 20: the chunks are kept; every evaluation is one task per chunk
    and one addition (5 chunks)."""
    X, y, _ = _data("binary")
    evaluations, others = [], []
    for max_iter in (2, 20):
        with client.as_current(), distributed.get_task_stream(client) as stream:
            _estimator("binary", max_iter=max_iter).fit(*_dask(60, X, y))
        counts = _task_counts(stream)
        evaluations.append(counts.pop("_add"))
        assert counts.pop("chunk_sums") == 5 * evaluations[-1]
        others.append(counts)
        workers = set(client.scheduler_info()["workers"])
        assert {task["worker"] for task in stream.data} <= workers
    assert evaluations[0] >= 2 and evaluations[1] >= 20
    assert others[0] == others[1]
    assert sum(n for name, n in others[0].items() if "_checked_rows" in name) >= 5


def _placed(client, homes, X, y):
    """X and y as Dask arrays of 60-row chunks, chunk ``i`` made on worker
    ``homes[i]`` (from a task with its rows: it has a source)."""
    arrays = []
    for values in (X, y):
        blocks = [
            da.from_delayed(
                client.submit(
                    np.array, values[60 * i : 60 * (i + 1)], workers=[home], pure=False
                ),
                shape=(60, *values.shape[1:]),
                dtype=values.dtype,
            )
            for i, home in enumerate(homes)
        ]
        arrays.append(da.concatenate(blocks))
    return arrays


@pytest.mark.parametrize(
    "solver, tasks",
    [
        ("lbfgs", ["chunk_sums"]),
        ("adam", ["batch_sums", "shuffled_rows", "held_out_sums"]),
    ],
)
def test_each_chunk_task_runs_on_the_worker_holding_the_chunk(client, solver, tasks):
    """A step waits for its busiest worker: each worker runs the tasks of
    its own chunks, never another's (which the scheduler does when left to
    itself: the worker holding a step's weights attracts the tasks of the
    other's chunks). Chunks 3 and 2 on the two workers; weights of 77 KB,
    shared as a piece of each step's graph (over SHARED_INLINE_BYTES)."""
    X, y, _ = _data("binary")
    workers = sorted(client.scheduler_info()["workers"])
    homes = [workers[i % 2] for i in range(5)]
    params = dict(solver=solver, max_iter=6, hidden_layer_sizes=(1200,))
    if solver == "adam":
        params.update(batch_size=200, early_stopping=True, n_iter_no_change=99)
    est = _estimator("binary", **params)
    with client.as_current(), distributed.get_task_stream(client) as stream:
        est.fit(*_placed(client, homes, X, y))
    ran = Counter((_task_name(task["key"]), task["worker"]) for task in stream.data)
    for name in tasks:
        on = [ran[name, worker] for worker in workers]
        assert sum(on) > 0 and sum(on) % 5 == 0, (name, on)
        assert on == [sum(on) // 5 * 3, sum(on) // 5 * 2], (name, on)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


@pytest.mark.parametrize("on_a_cluster", [True, False])
def test_one_blas_thread_here_while_the_workers_train(
    client, monkeypatch, on_a_cluster
):
    """With a Client, this process's BLAS threads would spin between the
    small vector operations of each evaluation, taking CPUs from workers on
    the same machine: one thread for the fit, the caller's setting after.
    On the local scheduler, the tasks run here: BLAS left as it is."""
    from threadpoolctl import threadpool_limits

    from skbp._data.workers import ChunkedLoss

    seen = []
    evaluate = ChunkedLoss.__call__

    def spy(self, coefs, intercepts):
        seen.append(_blas_threads())
        return evaluate(self, coefs, intercepts)

    monkeypatch.setattr(ChunkedLoss, "__call__", spy)
    X, y, _ = _data("binary")
    est = _estimator("binary", max_iter=3)
    with threadpool_limits(limits=2, user_api="blas"):
        if on_a_cluster:
            _fit_on(client, est, *_dask(60, X, y))
        else:
            est.fit(*_dask(60, X, y))
        assert _blas_threads() == 2
    assert len(seen) >= 3
    assert set(seen) == ({1} if on_a_cluster else {2})


def test_homes_are_the_holders_shared_out_evenly(client):
    """A chunk held by both workers (copied) goes to the less loaded one;
    chunks over a worker's share (half of them, rounded up) go to another
    worker, which fetches each once."""
    workers = sorted(client.scheduler_info()["workers"])
    first = [
        client.submit(np.arange, 3 + i, workers=[workers[0]], pure=False)
        for i in range(5)
    ]
    client.gather(first)
    on = Workers(client)
    assert on.homes(first) == [workers[0]] * 3 + [workers[1]] * 2
    client.replicate(first[1:4])
    assert on.homes(first[:4]) == [workers[0], workers[1], workers[0], workers[1]]
    assert Workers(None).homes([np.arange(3)]) == [None]


def test_a_task_runs_on_its_home_away_from_its_inputs(client):
    """:meth:`Workers.task`'s ``home`` beats where the inputs are (a
    preference: the task would run elsewhere if its home died)."""
    workers = sorted(client.scheduler_info()["workers"])
    on = Workers(client)
    blocks = [client.submit(np.arange, 10**5, workers=[w], pure=False) for w in workers]
    sums = [
        on.task(np.sum, block, home=home)
        for block, home in zip(blocks, reversed(workers))
    ]
    with distributed.get_task_stream(client) as stream:
        assert on.value(on.task(operator.add, *sums)) == 2 * sum(range(10**5))
    ran = {task["key"]: task["worker"] for task in stream.data}
    assert [ran[task.key] for task in sums] == workers[::-1]


# ----------------------------------------------------------------------
# sgd and adam: synchronous data-parallel steps
# ----------------------------------------------------------------------
def _merged(sizes):
    """Brute force: (chunk, row) of every row, merged by (j + 1/2) / n_c."""
    rows = [(c, j) for c, n in enumerate(sizes) for j in range(n)]
    return sorted(rows, key=lambda r: ((r[1] + 0.5) / sizes[r[0]], r[0]))


@pytest.mark.parametrize(
    "sizes, batch_size",
    [((100, 37, 163), 64), ((0, 5, 0, 7), 3), ((10,) * 20, 3), ((1000, 1), 7)],
)
def test_batches_cut_the_merged_chunks(sizes, batch_size):
    merged = _merged(sizes)
    batches = list(batch_shares(sizes, batch_size))
    assert len(batches) == -(-sum(sizes) // batch_size)
    for k, (starts, stops) in enumerate(batches):
        expected = Counter(c for c, _ in merged[k * batch_size : (k + 1) * batch_size])
        assert dict(Counter({c: n for c, n in enumerate(stops - starts) if n})) == (
            expected
        )
        if k:
            assert_array_equal(starts, batches[k - 1][1])
    assert_array_equal(batches[-1][1], sizes)
    if len(set(sizes)) == 1:  # equal chunks: every share within 1 of its quota
        for _, stops in batches:
            assert np.all(np.abs(stops - stops.sum() / len(sizes)) < 1)


def test_the_validation_split_of_a_chunk_keeps_each_class_share():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    Y = np.eye(3, dtype=bool)[y]
    X = np.arange(100.0)[:, None]
    rows, (X_val, Y_val, w_val) = split_chunk((X, Y, None), 20, (7, 3), True)
    assert w_val is None and len(rows) == 80 and len(X_val) == 20
    assert sorted(np.concatenate([rows, X_val[:, 0].astype(int)])) == list(range(100))
    assert_array_equal(Y_val.sum(axis=0), [10, 6, 4])
    again = split_chunk((X, Y, None), 20, (7, 3), True)
    assert_array_equal(again[0], rows)
    other = split_chunk((X, Y, None), 20, (7, 4), True)
    assert not np.array_equal(other[0], rows)


def _network(layer_units, loss, rng):
    coefs, intercepts = initialize_parameters(layer_units, rng)
    hidden = [get_activation("relu")] * (len(layer_units) - 2)
    activations = [*hidden, loss.output_activation]
    return (
        coefs,
        intercepts,
        Network(ParameterLayout.of(coefs, intercepts), activations, loss),
    )


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_validation_loss_and_score_summed_over_chunks(kind):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 4))
    sample_weight = rng.uniform(0, 2, 90)
    sample_weight[30:40] = 0  # a chunk of weightless rows
    if kind == "regression":
        Y, loss, score = rng.normal(size=(90, 2)), SquaredError(), R2()
        metric = r2_score
    elif kind == "binary":
        Y, loss, score = rng.rand(90, 1) > 0.5, BinaryLogLoss(), Accuracy(2)
        metric = lambda Y, output, sample_weight: accuracy_score(  # noqa: E731
            Y[:, 0], output[:, 0] > 0.5, sample_weight=sample_weight
        )
    else:
        from skbp.core import MulticlassLogLoss

        Y = np.eye(3, dtype=bool)[rng.randint(3, size=90)]
        loss, score = MulticlassLogLoss(), Accuracy(3)
        metric = lambda Y, output, sample_weight: accuracy_score(  # noqa: E731
            Y.argmax(1), output.argmax(1), sample_weight=sample_weight
        )
    coefs, intercepts, network = _network([4, 5, Y.shape[1]], loss, rng)
    chunks = [
        (X[a:b], Y[a:b], sample_weight[a:b]) for a, b in ((0, 30), (30, 40), (40, 90))
    ]
    held_out = ChunkedHeldOut(Workers(None), chunks, network, score)
    got_loss, got_score = held_out.evaluate(coefs, intercepts)
    output, expected_loss = forward_loss(
        X, Y, coefs, intercepts, network.activations, loss, sample_weight
    )
    assert got_loss == pytest.approx(expected_loss, rel=1e-12)
    assert got_score == pytest.approx(
        metric(Y, output, sample_weight=sample_weight), rel=1e-12
    )


def _stochastic(kind, **params):
    """A small relu network trained by adam."""
    params = {
        "hidden_layer_sizes": (16,),
        "solver": "adam",
        "max_iter": 5,
        "random_state": 0,
        **params,
    }
    return BPRegressor(**params) if kind == "regression" else BPClassifier(**params)


@pytest.mark.parametrize(
    "solver, params",
    [("adam", {}), ("sgd", {"momentum": 0.9, "learning_rate": "invscaling"})],
)
def test_each_step_is_minibatch_sgd_on_its_global_batch(solver, params):
    """Without shuffling, the batches are fixed: the fit in memory of the
    rows in the order they come in the batches is the same fit, dropout,
    row weights and L2 penalty included (up to rounding)."""
    X, y, sample_weight = _data("multiclass")
    chunks, batch_size = (100, 37, 163), 64
    starts = np.cumsum((0, *chunks[:-1]))
    order = np.concatenate(
        [
            np.concatenate([np.arange(a, b) + s for a, b, s in zip(*shares, starts)])
            for shares in batch_shares(chunks, batch_size)
        ]
    )
    params = dict(
        solver=solver,
        shuffle=False,
        batch_size=batch_size,
        dropout=0.2,
        alpha=0.01,
        **params,
    )
    on_dask = _stochastic("multiclass", **params).fit(
        *_dask(chunks, X, y), sample_weight=_dask(chunks, sample_weight)[0]
    )
    in_memory = _stochastic("multiclass", **params).fit(
        X[order], y[order], sample_weight=sample_weight[order]
    )
    _assert_same_model(on_dask, in_memory, rtol=1e-9, atol=1e-12)
    assert on_dask._dropout_step == in_memory._dropout_step == 25


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_as_accurate_as_the_fit_in_memory(kind, solver):
    """4000 rows in 4 chunks, 20 epochs: test accuracy (R^2) within a point
    of the fit in memory (the local scheduler; a cluster gives the same
    model bit for bit, tested below)."""
    if kind == "regression":
        X, y = make_regression(5000, n_features=20, noise=10.0, random_state=0)
        y = y / y.std()
    else:
        X, y = make_classification(
            5000, n_features=20, n_informative=10, n_classes=3, random_state=0
        )
    params = dict(solver=solver, max_iter=20, hidden_layer_sizes=(32,))
    scores = [
        _stochastic(kind, **params).fit(X_fit, y_fit).score(X[4000:], y[4000:])
        for X_fit, y_fit in ((X[:4000], y[:4000]), _dask(1000, X[:4000], y[:4000]))
    ]
    assert abs(scores[1] - scores[0]) <= 0.01, scores


def test_early_stopping_on_chunks_keeps_the_best_epoch():
    """The validation rows are drawn in each chunk and scored there; the
    fit stops when the score stalls and keeps its best epoch's weights."""
    X, y, _ = _data("binary", n_samples=1000)
    params = dict(
        early_stopping=True, max_iter=60, n_iter_no_change=3, learning_rate_init=0.05
    )
    est = _stochastic("binary", **params).fit(*_dask(300, X, y))
    n = est.n_iter_
    assert n < 60
    assert len(est.loss_curve_) == len(est.validation_scores_) == n
    assert len(est.validation_loss_curve_) == n
    best = int(np.argmax(est.validation_scores_))
    assert est.best_validation_score_ == est.validation_scores_[best]
    assert best < n - 1 and 0.8 < est.best_validation_score_ <= 1
    # The fit cut at the best epoch is that epoch's model.
    params["max_iter"] = best + 1
    cut = _stochastic("binary", **params).fit(*_dask(300, X, y))
    for W, W_cut in zip(est.coefs_ + est.intercepts_, cut.coefs_ + cut.intercepts_):
        assert_array_equal(W, W_cut)
    assert cut.validation_scores_ == est.validation_scores_[: best + 1]


def test_partial_fit_and_validation_data_on_chunks():
    X, y, _ = _data("multiclass")
    X_dask, y_dask = _dask(70, X, y)
    clf = _stochastic("multiclass")
    for _ in range(2):
        clf.partial_fit(X_dask, y_dask, classes=[0, 1, 2])
    assert clf.n_iter_ == 1 and clf.t_ == 600 and len(clf.loss_curve_) == 2
    assert clf.loss_curve_[1] < clf.loss_curve_[0]
    with pytest.raises(ValueError, match="balanced"):
        _stochastic("multiclass", class_weight="balanced").partial_fit(
            X_dask, y_dask, classes=[0, 1, 2]
        )
    # X_val as Dask arrays: computed into this process, scored every epoch.
    reg = _stochastic("regression").fit(
        *_dask(70, *_data("regression")[:2]),
        X_val=_dask(50, X[:100])[0],
        y_val=_dask(50, X[:100, 0])[0],
    )
    assert len(reg.validation_loss_curve_) == 5


def test_stochastic_same_model_bit_for_bit_on_any_number_of_workers(client):
    """Shuffled chunks, early stopping's split, dropout, class and row
    weights: the local scheduler, 1 worker and 2 worker processes agree."""
    X, y, sample_weight = _data("multiclass")
    arrays = _dask((100, 37, 163), X, y, sample_weight)
    params = dict(
        early_stopping=True, dropout=0.1, class_weight="balanced", batch_size=50
    )
    models = [
        _stochastic("multiclass", **params).fit(*arrays[:2], sample_weight=arrays[2])
    ]
    with _one_worker_client() as one_worker_client:
        for on in (client, one_worker_client):
            est = _stochastic("multiclass", **params)
            models.append(_fit_on(on, est, *arrays[:2], sample_weight=arrays[2]))
    for model in models[1:]:
        _assert_identical_models(model, models[0])
        assert model.validation_scores_ == models[0].validation_scores_
    assert models[0].n_iter_ == 5


def test_each_step_is_one_tree_over_the_chunks_shares(client):
    """Per step, one task per chunk with rows in the batch and one
    addition (5 chunks); per epoch, one shuffle per chunk and one tree over
    the validation chunks; the chunks are read and split once."""
    X, y, _ = _data("binary")
    params = dict(batch_size=100, early_stopping=True, n_iter_no_change=99)
    counts = []
    for max_iter in (2, 4):
        est = _stochastic("binary", max_iter=max_iter, **params)
        with client.as_current(), distributed.get_task_stream(client) as stream:
            est.fit(*_dask(60, X, y))
        counts.append(_task_counts(stream))
        workers = set(client.scheduler_info()["workers"])
        assert {task["worker"] for task in stream.data} <= workers
    train_sizes = [54] * 5  # 6 rows of each chunk of 60 held out
    steps = list(batch_shares(train_sizes, 100))
    shares = sum(int(np.sum(stops > starts)) for starts, stops in steps)
    for epochs, count in zip((2, 4), counts):
        assert count.pop("batch_sums") == epochs * shares
        assert count.pop("shuffled_rows") == epochs * 5
        assert count.pop("held_out_sums") == epochs * 5
        assert count.pop("_add") == epochs * (len(steps) + 1)
    assert counts[0] == counts[1]  # the rest: reading, checking, splitting
    assert counts[0]["split_chunk"] == 5


# ----------------------------------------------------------------------
# Prediction: lazy, one task per row block
# ----------------------------------------------------------------------
def test_classifier_predictions_are_lazy_blocks(client):
    X, y, _ = _data("multiclass")
    labels = np.array(["ant", "bee", "cat"])[y]
    clf = _estimator("multiclass").fit(X, labels)
    X_dask = _dask((100, 37, 163), X)[0]
    for method in ("predict", "predict_proba", "predict_log_proba"):
        lazy = getattr(clf, method)(X_dask)
        assert isinstance(lazy, da.Array)
        assert lazy.chunks[0] == X_dask.chunks[0]
        with client.as_current(), distributed.get_task_stream(client) as stream:
            got = lazy.compute()
        assert _task_counts(stream)["_predict_block"] == 3
        expected = getattr(clf, method)(X)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if method == "predict":
            assert_array_equal(got, expected)
        else:
            assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    with client.as_current():
        assert clf.score(X_dask, _dask((100, 37, 163), labels)[0]) == clf.score(
            X, labels
        )


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regressor_predictions_are_lazy_blocks(n_outputs):
    X, y, _ = _data("regression")
    Y = np.stack([y, -y], axis=1)[:, :n_outputs].squeeze()
    reg = _estimator("regression").fit(X, Y)
    # Chunks along the columns and of unknown size: both fine to predict.
    X_dask = _unknown_rows(da.from_array(X, chunks=(70, 3)))
    lazy = reg.predict(X_dask)
    assert isinstance(lazy, da.Array) and lazy.ndim == Y.ndim
    assert_allclose(lazy.compute(), reg.predict(X), rtol=1e-12)
    assert reg.score(_dask(70, X)[0], Y) == pytest.approx(reg.score(X, Y), 1e-12)


def test_predicting_needs_a_fitted_model_of_the_same_width():
    X_dask = _dask(70, _data("binary")[0])[0]
    with pytest.raises(Exception, match="not fitted"):
        BPClassifier().predict(X_dask)
    clf = _estimator("binary", max_iter=2).fit(X_dask[:, :5], _data("binary")[1])
    with pytest.raises(ValueError, match="features"):
        clf.predict(X_dask)
