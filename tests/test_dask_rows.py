"""Which rows a fit on Dask chunks trains on, in which dtype, and how a bad
chunk is refused.

The chunks' tasks are watched where they run: the fits here use Dask's
local scheduler (threads of this process) or a cluster of in-process
workers, so that a test can record the rows each task is given
(``chunk_sums`` for training, ``held_out_sums`` for validation) and read
the workers' log records.
"""

import contextlib
import logging
import threading

import numpy as np
import pytest
from dask_clusters import local_cluster
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from skbp import BPClassifier, BPRegressor
from skbp._data import chunks as chunks_module
from skbp._data import workers as workers_module
from skbp._data.chunks import batch_shares, shuffled_rows, validation_sizes

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

# Most fits stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class _Tasks:
    """What the chunks' training and validation tasks were given: each
    call's rows (``X[:, 0]``, the row's index in the tests below), in the
    order the calls ran; the dtypes of the rows and weights that the
    training tasks' backprop computed in; the rows of each stochastic step
    (over all its chunks)."""

    def __init__(self, monkeypatch):
        self.trained, self.validated, self.dtypes = [], [], set()
        self.batches = []
        step = chunks_module.ChunkedTrainingStep.step

        def recorded_step(training_step, orders, starts, stops):
            self.batches.append(int((stops - starts).sum()))
            return step(training_step, orders, starts, stops)

        monkeypatch.setattr(chunks_module.ChunkedTrainingStep, "step", recorded_step)
        self._lock = threading.Lock()  # the local scheduler runs threads
        chunk_sums, held_out_sums = (
            chunks_module.chunk_sums,
            chunks_module.held_out_sums,
        )
        backprop = workers_module.backprop

        def recorded_chunk_sums(X, *args, **kwargs):
            with self._lock:
                self.trained.append(X[:, 0].copy())
            return chunk_sums(X, *args, **kwargs)

        def recorded_backprop(X, Y, coefs, intercepts, *args, **kwargs):
            with self._lock:
                self.dtypes.add((X.dtype, coefs[0].dtype, intercepts[0].dtype))
            return backprop(X, Y, coefs, intercepts, *args, **kwargs)

        def recorded_held_out_sums(data, weights, network, score):
            with self._lock:
                self.validated.append(data[0][:, 0].copy())
            return held_out_sums(data, weights, network, score)

        # batch_sums (sgd, adam) and ChunkedLoss (L-BFGS) look them up when
        # they run.
        monkeypatch.setattr(chunks_module, "chunk_sums", recorded_chunk_sums)
        monkeypatch.setattr(workers_module, "chunk_sums", recorded_chunk_sums)
        monkeypatch.setattr(chunks_module, "held_out_sums", recorded_held_out_sums)
        monkeypatch.setattr(workers_module, "backprop", recorded_backprop)


def _indexed(sizes, n_features=3, seed=0):
    """X whose first column is each row's index, and binary labels, as Dask
    arrays of row chunks ``sizes`` (and in memory)."""
    n = sum(sizes)
    rng = np.random.RandomState(seed)
    X = np.column_stack([np.arange(n, dtype=float), rng.normal(size=(n, n_features))])
    y = (X[:, 1] > 0).astype(int)
    chunks = (tuple(sizes),)
    return X, y, da.from_array(X, chunks=(*chunks, -1)), da.from_array(y, chunks=chunks)


# ----------------------------------------------------------------------
# Early stopping's validation rows: how many per chunk, and never trained on
# ----------------------------------------------------------------------
def test_each_chunk_holds_out_what_train_test_split_would():
    """``ceil(fraction * n_c)`` rows of each chunk (rounded up, as
    train_test_split rounds its test size), not rounded down."""
    assert validation_sizes([95, 95, 9], 0.1) == [10, 10, 1]
    assert validation_sizes([0, 1, 10, 11], 0.1) == [0, 1, 1, 2]
    for fraction in (0.1, 0.15, 0.2, 1 / 3):
        for n in range(2, 120):
            _, held_out = train_test_split(np.arange(n), test_size=fraction)
            assert validation_sizes([n], fraction) == [len(held_out)], (n, fraction)


def test_small_chunks_hold_out_a_row_each(monkeypatch):
    """10 chunks of 9 rows at 0.1: one validation row in each (rounded down:
    none at all, and "The validation set is too small")."""
    tasks = _Tasks(monkeypatch)
    _, _, X, y = _indexed([9] * 10)
    clf = BPClassifier(
        hidden_layer_sizes=(4,),
        solver="adam",
        early_stopping=True,
        validation_fraction=0.1,
        max_iter=2,
        random_state=0,
    ).fit(X, y)
    assert len(clf.validation_scores_) == 2
    held_out = tasks.validated[:10]  # the first epoch's evaluation
    assert sorted(len(rows) for rows in held_out) == [1] * 10
    assert sorted(int(rows[0]) // 9 for rows in held_out) == list(range(10))


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_held_out_rows_are_never_trained_on(monkeypatch, kind):
    """Each epoch's shuffled batches hold every training row once and no
    validation row: the shuffled order of each chunk is drawn over its
    training rows (mapped through them), not over the first rows of the
    chunk."""
    tasks = _Tasks(monkeypatch)
    sizes = (40, 35, 45)
    X_mem, y_mem, X, y = _indexed(sizes)
    params = dict(
        hidden_layer_sizes=(4,),
        solver="sgd",
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=99,
        batch_size=16,
        max_iter=3,
        random_state=0,
    )
    if kind == "classifier":
        BPClassifier(**params).fit(X, y)
    else:
        BPRegressor(**params).fit(X, da.from_array(X_mem[:, 1], chunks=(sizes,)))
    validation = np.sort(np.concatenate(tasks.validated[:3]))  # the first epoch's
    assert len(validation) == sum(validation_sizes(sizes, 0.2)) == 24
    training = np.setdiff1d(np.arange(sum(sizes)), validation)
    trained = np.concatenate(tasks.trained)
    assert len(trained) == 3 * len(training)  # 3 epochs, each row once
    epochs = trained.reshape(3, len(training))  # the steps run one by one
    for epoch in epochs:
        assert_array_equal(np.sort(epoch), training)
        assert not np.isin(epoch, validation).any()
    assert not np.array_equal(epochs[0], epochs[1])  # a new order each epoch
    # The batches cut the 96 training rows (not the chunks' 120).
    assert tasks.batches == [16] * 6 * 3
    # Every epoch scores the same validation rows.
    assert_array_equal(
        np.sort(np.concatenate(tasks.validated)), np.repeat(validation, 3)
    )


def test_an_empty_chunk_holds_out_no_validation_chunk(monkeypatch):
    """Dask makes empty chunks (filtering rows): early stopping holds out
    nothing there, and scores only the chunks with validation rows."""
    tasks = _Tasks(monkeypatch)
    _, _, X, y = _indexed([100, 0, 200])
    clf = BPClassifier(
        hidden_layer_sizes=(4,),
        solver="adam",
        early_stopping=True,
        n_iter_no_change=99,
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    assert np.isfinite(clf.validation_loss_curve_).all()
    assert sorted(len(rows) for rows in tasks.validated) == [10] * 3 + [20] * 3
    assert sum(tasks.batches) == 3 * 270


def test_a_chunks_shuffled_order_is_of_its_training_rows():
    data = (np.zeros((10, 2)), np.zeros((10, 1)), None)
    rows = np.array([1, 3, 4, 8, 9])
    order = shuffled_rows(data, rows, (0, 1))
    assert_array_equal(np.sort(order), rows)
    assert not np.array_equal(order, rows)  # shuffled
    assert_array_equal(np.sort(shuffled_rows(data, None, (0, 1))), np.arange(10))


# ----------------------------------------------------------------------
# float32: the chunks train in float32, as a fit in memory does
# ----------------------------------------------------------------------
def _float32_data(kind):
    X, y = make_classification(
        300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), (y if kind == "classifier" else y.astype(np.float32))


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_float32_chunks_train_and_predict_in_float32(monkeypatch, kind, solver):
    """float32 Dask input: the chunks' tasks compute in float32, and
    ``coefs_``, ``intercepts_`` and the predictions are float32, as after a
    fit in memory."""
    tasks = _Tasks(monkeypatch)
    X, y = _float32_data(kind)
    Est = BPClassifier if kind == "classifier" else BPRegressor
    params = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=5, random_state=0)
    on_dask = Est(**params).fit(
        da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    )
    in_memory = Est(**params).fit(X, y)
    assert tasks.dtypes == {(np.dtype(np.float32),) * 3}
    for W in on_dask.coefs_ + on_dask.intercepts_:
        assert W.dtype == np.float32
    method = "predict_proba" if kind == "classifier" else "predict"
    lazy = getattr(on_dask, method)(da.from_array(X, chunks=(100, -1)))
    assert lazy.dtype == lazy.compute().dtype == np.float32
    assert getattr(in_memory, method)(X).dtype == np.float32


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_float32_chunks_give_the_float32_fit_in_memory(kind, solver):
    """Without shuffling, a stochastic fit on float32 chunks is the float32
    fit in memory of the rows in the order of the batches, up to float32
    rounding. (L-BFGS's path amplifies the rounding of the chunks' sums,
    which are added in float64: its dtypes are tested above.)"""
    X, y = _float32_data(kind)
    Est = BPClassifier if kind == "classifier" else BPRegressor
    sizes, batch_size = (100, 37, 163), 64
    starts = np.cumsum((0, *sizes[:-1]))
    order = np.concatenate(
        [
            np.concatenate([np.arange(a, b) + s for a, b, s in zip(*shares, starts)])
            for shares in batch_shares(sizes, batch_size)
        ]
    )
    params = dict(
        hidden_layer_sizes=(8,),
        activation="tanh",
        solver=solver,
        shuffle=False,
        batch_size=batch_size,
        max_iter=5,
        random_state=0,
    )
    on_dask = Est(**params).fit(
        da.from_array(X, chunks=(sizes, -1)), da.from_array(y, chunks=(sizes,))
    )
    in_float32 = Est(**params).fit(X[order], y[order])
    for got, expected in zip(
        on_dask.coefs_ + on_dask.intercepts_,
        in_float32.coefs_ + in_float32.intercepts_,
    ):
        assert got.dtype == expected.dtype == np.float32
        assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------
# A bad value in a chunk: one ValueError, no worker tracebacks
# ----------------------------------------------------------------------
@contextlib.contextmanager
def _in_process_client():
    """A client of 2 in-process workers (their log records reach caplog)."""
    with (
        local_cluster(2, processes=False) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
        client.as_current(),
    ):
        yield client


# The array spoiled, the value put in 3 of its rows, the error's words.
_SPOILED = {
    "X-nan": (
        "X",
        np.nan,
        r"Input X contains NaN\. \(row chunk 1 of 3, rows 100:200; ",
    ),
    "X-inf": ("X", np.inf, r"Input X contains infinity"),
    "y-nan": ("y", np.nan, r"Input y contains NaN"),
    "weights-negative": (
        "sample_weight",
        -1.0,
        r"Negative values in data passed to sample_weight",
    ),
    "poisson-negative-y": ("y", -1.0, r"non-negative targets"),
}


@pytest.mark.parametrize("spoiled", _SPOILED)
def test_a_bad_chunk_raises_one_clean_error(caplog, spoiled):
    """The chunks' checks run in their tasks and refuse a bad chunk there:
    the client raises one ValueError naming the problem and the rows, and
    no worker logs a failed task ("Compute Failed", with a traceback per
    chunk)."""
    name, value, match = _SPOILED[spoiled]
    X, y = make_classification(300, n_features=4, random_state=0)
    data = {"X": X, "y": y.astype(float), "sample_weight": np.ones(300)}
    data[name][[150, 160, 250]] = value  # chunks 1 and 2 of 3
    loss = "poisson" if spoiled == "poisson-negative-y" else "squared_error"
    reg = BPRegressor(hidden_layer_sizes=(4,), max_iter=3, loss=loss)
    arrays = {k: da.from_array(v, chunks=(100, *v.shape[1:])) for k, v in data.items()}
    with _in_process_client(), caplog.at_level(logging.INFO, "distributed.worker"):
        with pytest.raises(ValueError, match=match) as error:
            reg.fit(**arrays)
    assert "1 more refused" in str(error.value)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert not hasattr(reg, "coefs_")


def test_a_bad_chunk_is_refused_alike_without_a_client():
    X, y = make_classification(300, n_features=4, random_state=0)
    X[250, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN\. \(row chunk 2 of 3, rows 200:300\)$"):
        BPClassifier(max_iter=3).fit(
            da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
        )


# ----------------------------------------------------------------------
# Row weights of extreme scale: rescaled on the chunks as in memory
# ----------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e300, 1e-300])
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_weights_of_extreme_scale_train_as_in_memory(solver, scale):
    """Row weights whose sum overflows (1e300) or whose squares vanish
    (1e-300) are divided by their largest on the chunks, as in memory
    (``rescale_weights``): the same model, L2 penalty included. Left as
    they are, the loss is inf or nan."""
    X, y = make_classification(300, n_features=4, random_state=0)
    weight = scale * np.random.RandomState(0).uniform(0.5, 2.0, 300)
    params = dict(
        hidden_layer_sizes=(4,),
        solver=solver,
        alpha=0.1,
        shuffle=False,
        batch_size=300,
        max_iter=5,
        random_state=0,
    )
    in_memory = BPClassifier(**params).fit(X, y, sample_weight=weight)
    on_dask = BPClassifier(**params).fit(
        da.from_array(X, chunks=(300, -1)),
        da.from_array(y, chunks=300),
        sample_weight=da.from_array(weight, chunks=300),
    )
    assert np.isfinite(on_dask.loss_curve_).all()
    for got, expected in zip(
        on_dask.coefs_ + on_dask.intercepts_,
        in_memory.coefs_ + in_memory.intercepts_,
    ):
        assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert_allclose(on_dask.loss_curve_, in_memory.loss_curve_, rtol=1e-9)
