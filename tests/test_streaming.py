"""Out-of-core training with skbp.streaming: chunks from disk, epochs, memory."""

import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skbp import BPClassifier, BPRegressor
from skbp.streaming import (
    StreamingHistory,
    dask_chunks,
    fit_chunks,
    memmap_chunks,
)


# ----------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------
def _write_npy(path, shape, dtype, fill_chunks):
    """Write an .npy file chunk by chunk; return it opened read-only as a memmap."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    for start, values in fill_chunks:
        array[start : start + len(values)] = values
    array.flush()
    del array
    return np.load(path, mmap_mode="r")


@pytest.fixture(scope="module")
def disk_data(tmp_path_factory):
    """50,000 x 20 float64 rows and binary labels on disk (8 MB of X).

    The labels are a noiseless linear rule, so a small network learns them.
    """
    n_samples, n_features, block = 50_000, 20, 5_000
    rng = np.random.RandomState(0)
    w = rng.normal(size=n_features)
    blocks = [rng.normal(size=(block, n_features)) for _ in range(n_samples // block)]
    folder = tmp_path_factory.mktemp("disk")
    X = _write_npy(
        folder / "X.npy",
        (n_samples, n_features),
        np.float64,
        [(i * block, b) for i, b in enumerate(blocks)],
    )
    y = _write_npy(
        folder / "y.npy",
        (n_samples,),
        np.int64,
        [(i * block, (b @ w > 0).astype(np.int64)) for i, b in enumerate(blocks)],
    )
    return X, y


class _Recorder(BaseEstimator):
    """partial_fit keeps a copy of each chunk; ``loss_`` is its mean target."""

    def partial_fit(self, X, y):
        self.chunks_ = [*getattr(self, "chunks_", []), (X.copy(), y.copy())]
        self.loss_ = float(np.mean(y))
        return self

    def score(self, X, y):
        return 0.0


class _Scripted(BaseEstimator):
    """Scores follow a script; ``coefs_`` holds the number of partial_fit calls.

    With one training chunk per epoch, ``coefs_[0][0]`` is the epoch whose
    weights the estimator holds.
    """

    def __init__(self, scores=()):
        self.scores = scores

    def partial_fit(self, X, y):
        self.n_calls_ = getattr(self, "n_calls_", 0) + 1
        self.coefs_ = [np.array([float(self.n_calls_)])]
        self.intercepts_ = [np.zeros(1)]
        self.loss_ = 1.0 / self.n_calls_
        return self

    def score(self, X, y):
        return self.scores[self.n_calls_ - 1]


class _LoggedChunks(list):
    """A list of chunks that logs which indices were read."""

    def __init__(self, *args):
        super().__init__(*args)
        self.reads = []

    def __getitem__(self, index):
        self.reads.append(index)
        return super().__getitem__(index)


def _toy_chunks(n_chunks=4, rows=10):
    """``n_chunks`` chunks whose rows are numbered: X[:, 0] == y == row number."""
    y = np.arange(n_chunks * rows, dtype=float)
    X = np.column_stack([y, -y])
    return [(X[i : i + rows], y[i : i + rows]) for i in range(0, len(y), rows)]


# ----------------------------------------------------------------------
# Chunk sources
# ----------------------------------------------------------------------
def test_memmap_chunks_slices_rows_without_copying(disk_data):
    X, y = disk_data
    chunks = memmap_chunks(X, y, chunk_size=15_000)
    assert len(chunks) == 4
    assert [Xc.shape for Xc, _ in chunks] == [(15_000, 20)] * 3 + [(5_000, 20)]
    X_last, y_last = chunks[-1]
    assert_array_equal(X_last, X[45_000:])
    assert_array_equal(y_last, y[45_000:])
    assert np.shares_memory(X_last, X)  # a view of the file: nothing read yet
    with pytest.raises(IndexError):
        chunks[4]
    with pytest.raises(ValueError, match="different numbers of rows"):
        memmap_chunks(X, y[:-1], 10)
    with pytest.raises(ValueError, match="chunk_size"):
        memmap_chunks(X, y, 0)


def test_dask_chunks_follow_row_blocks():
    da = pytest.importorskip("dask.array")
    X = np.arange(60.0).reshape(20, 3)
    y = np.arange(20)
    # Columns split and y blocked differently: both are lined up with X's rows.
    X_dask = da.from_array(X, chunks=(8, 2))
    y_dask = da.from_array(y, chunks=5)
    chunks = dask_chunks(X_dask, y_dask)
    assert len(chunks) == 3
    pieces = list(chunks)
    assert [Xc.shape for Xc, _ in pieces] == [(8, 3), (8, 3), (4, 3)]
    assert all(isinstance(a, np.ndarray) for pair in pieces for a in pair)
    assert_array_equal(np.concatenate([Xc for Xc, _ in pieces]), X)
    assert_array_equal(np.concatenate([yc for _, yc in pieces]), y)
    Y2 = da.from_array(np.column_stack([y, y]), chunks=(5, 1))  # 2-D targets
    assert dask_chunks(X_dask, Y2)[0][1].shape == (8, 2)

    unknown = X_dask[X_dask[:, 0] > 10]  # row block sizes unknown (nan)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        dask_chunks(unknown, da.from_array(y[:10], chunks=5))


def test_dask_chunks_train_like_memmap_chunks(disk_data):
    """The same blocks, the same seed: bit for bit the same network."""
    da = pytest.importorskip("dask.array")
    X, y = disk_data
    X, y = X[:12_000], y[:12_000]
    params = dict(hidden_layer_sizes=(8,), solver="adam", random_state=0)
    kwargs = dict(classes=[0, 1], n_epochs=2, validation=-1, random_state=0)
    from_disk = fit_chunks(BPClassifier(**params), memmap_chunks(X, y, 3_000), **kwargs)
    X_dask = da.from_array(X, chunks=(3_000, -1))
    y_dask = da.from_array(y, chunks=3_000)
    from_dask = fit_chunks(
        BPClassifier(**params), dask_chunks(X_dask, y_dask), **kwargs
    )
    for W_disk, W_dask in zip(from_disk.coefs_, from_dask.coefs_):
        assert_array_equal(W_disk, W_dask)
    assert from_disk.streaming_history_ == from_dask.streaming_history_


# ----------------------------------------------------------------------
# The two acceptance checks: accuracy and memory
# ----------------------------------------------------------------------
def test_streaming_reaches_in_memory_accuracy():
    """8 chunks of 500 rows, 15 epochs: within 1 point of ``fit``'s 15 epochs."""
    X, y = make_classification(
        n_samples=6000,
        n_features=20,
        n_informative=5,
        n_redundant=5,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=2000, random_state=0
    )
    params = dict(
        hidden_layer_sizes=(16,),
        solver="adam",
        learning_rate_init=0.003,
        alpha=1e-3,
        batch_size=100,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=15 on purpose
        in_memory = BPClassifier(max_iter=15, **params).fit(X_train, y_train)
    chunks = memmap_chunks(X_train, y_train, chunk_size=500)
    assert len(chunks) == 8
    streamed = fit_chunks(
        BPClassifier(**params), chunks, classes=[0, 1], n_epochs=15, random_state=0
    )
    expected = in_memory.score(X_test, y_test)
    assert expected > 0.85
    assert abs(streamed.score(X_test, y_test) - expected) <= 0.01
    history = streamed.streaming_history_
    assert history.n_epochs == 15 and history.n_samples == 4000
    assert history.loss[-1] < history.loss[0]


def test_peak_memory_is_a_chunk_not_the_dataset(disk_data):
    """tracemalloc's peak while streaming a 10-chunk file: under 3 chunks."""
    X, y = disk_data
    chunk_size = 5_000
    chunk_bytes = chunk_size * X.shape[1] * X.itemsize
    assert X.nbytes == 10 * chunk_bytes
    chunks = memmap_chunks(X, y, chunk_size)
    clf = BPClassifier(hidden_layer_sizes=(16,), solver="adam", random_state=0)
    tracemalloc.start()
    try:
        fit_chunks(
            clf, chunks, classes=[0, 1], n_epochs=2, validation=-1, random_state=0
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * chunk_bytes, (peak, chunk_bytes)
    assert clf.streaming_history_.validation_score[-1] > 0.95


# ----------------------------------------------------------------------
# Epochs: order, shuffling, seeding, loss
# ----------------------------------------------------------------------
def test_each_epoch_shuffles_chunk_order_and_rows():
    chunks = _LoggedChunks(_toy_chunks(n_chunks=6))
    recorder = fit_chunks(_Recorder(), chunks, n_epochs=3, validation=2, random_state=0)
    assert chunks.reads[0] == 2  # the validation chunk, read once, up front
    epochs = [chunks.reads[1 + 5 * e : 6 + 5 * e] for e in range(3)]
    assert len(chunks.reads) == 16
    for order in epochs:
        assert sorted(order) == [0, 1, 3, 4, 5]  # every training chunk once
    assert len({tuple(order) for order in epochs}) > 1  # a new order per epoch

    for (X_seen, y_seen), index in zip(recorder.chunks_, sum(epochs, [])):
        X_orig, y_orig = chunks[index]
        assert_array_equal(np.sort(y_seen), y_orig)  # the chunk's rows...
        assert_array_equal(X_seen[:, 0], y_seen)  # ...X and y still aligned
    assert not all(
        np.array_equal(y_seen, np.sort(y_seen)) for _, y_seen in recorder.chunks_
    )
    # The epoch loss is the chunks' loss_ weighted by their rows: here the
    # mean target of the training rows.
    y_train = np.concatenate([chunks[i][1] for i in (0, 1, 3, 4, 5)])
    assert recorder.streaming_history_.loss == pytest.approx([y_train.mean()] * 3)


def test_shuffle_false_is_partial_fit_in_order():
    X, y = make_regression(n_samples=400, n_features=5, noise=1.0, random_state=0)
    chunks = memmap_chunks(X, y / 100, chunk_size=100)
    params = dict(hidden_layer_sizes=(6,), solver="sgd", random_state=0)
    streamed = fit_chunks(BPRegressor(**params), chunks, n_epochs=3, shuffle=False)
    by_hand = BPRegressor(**params)
    for _ in range(3):
        for X_chunk, y_chunk in chunks:
            by_hand.partial_fit(X_chunk, y_chunk)
    for W_streamed, W_by_hand in zip(streamed.coefs_, by_hand.coefs_):
        assert_array_equal(W_streamed, W_by_hand)


def test_random_state_makes_runs_repeatable():
    X, y = make_classification(n_samples=600, n_features=6, random_state=0)
    chunks = memmap_chunks(X, y, chunk_size=150)
    clf = BPClassifier(hidden_layer_sizes=(5,), solver="adam", random_state=0)

    def run(seed):
        return fit_chunks(
            clone(clf), chunks, classes=[0, 1], n_epochs=2, random_state=seed
        ).coefs_[0]

    assert_array_equal(run(0), run(0))
    assert not np.array_equal(run(0), run(1))


def test_callable_chunks_are_called_each_epoch():
    pieces = _toy_chunks(n_chunks=3)
    calls = []

    def read():
        calls.append(1)
        return iter(pieces)  # a fresh one-shot iterator per epoch

    recorder = fit_chunks(_Recorder(), read, n_epochs=4)
    assert len(calls) == 4
    assert len(recorder.chunks_) == 12
    assert recorder.streaming_history_.n_chunks is None


# ----------------------------------------------------------------------
# Early stopping and best weights
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "scores, tol, n_epochs_run, best_epoch",
    [
        # 2 epochs no better than the best + tol are allowed, the 3rd stops.
        ([0.5, 0.7, 0.6, 0.7, 0.65, 0.9, 0.9], 0.01, 5, 2),
        # Gains under tol do not reset the count, but the best weights are
        # still the best score's.
        ([0.5, 0.505, 0.509, 0.508, 0.9, 0.9], 0.01, 4, 3),
        # Never stalls: every epoch runs, the best is kept.
        ([0.1, 0.2, 0.3, 0.4, 0.35, 0.5], 0.01, 6, 6),
        # Stalls on the last epoch: the rule fires, but every epoch has run,
        # so that it did not stop early.
        ([0.1, 0.2, 0.5, 0.4, 0.45, 0.5], 0.01, 6, 3),
    ],
)
def test_early_stopping_keeps_best_epoch(scores, tol, n_epochs_run, best_epoch):
    chunks = _toy_chunks(n_chunks=2)  # 1 training chunk: 1 call per epoch
    est = fit_chunks(
        _Scripted(scores),
        chunks,
        n_epochs=6,
        validation=1,
        n_iter_no_change=2,
        tol=tol,
        random_state=0,
    )
    history = est.streaming_history_
    assert history.n_epochs == n_epochs_run == est.n_calls_
    assert history.validation_score == scores[:n_epochs_run]
    assert history.best_epoch == best_epoch
    assert history.best_validation_score == scores[best_epoch - 1]
    assert history.stopped_early == (n_epochs_run < 6)
    assert est.coefs_[0][0] == best_epoch  # the best epoch's weights are back
    assert history.loss == pytest.approx([1 / e for e in range(1, n_epochs_run + 1)])


def test_scores_that_never_improve_keep_the_last_weights():
    """NaN validation scores (a diverged network) never improve on the
    best, and reset the count: every epoch runs, none is the best, and no
    epoch's weights are put back (the last epoch's stay)."""
    est = fit_chunks(
        _Scripted([np.nan] * 4),
        _toy_chunks(n_chunks=2),
        n_epochs=4,
        validation=1,
        n_iter_no_change=1,
        random_state=0,
    )
    history = est.streaming_history_
    assert history.best_epoch is None and history.best_validation_score is None
    assert history.n_epochs == 4 and not history.stopped_early
    assert est.coefs_[0][0] == 4


def test_real_network_gets_best_weights_back():
    X, y = make_regression(n_samples=1200, n_features=8, noise=20.0, random_state=0)
    y = y / y.std()
    X_val, y_val = X[:200], y[:200]
    chunks = memmap_chunks(X[200:], y[200:], chunk_size=250)
    reg = BPRegressor(
        hidden_layer_sizes=(64,), solver="adam", learning_rate_init=0.05, random_state=0
    )
    fit_chunks(
        reg,
        chunks,
        n_epochs=25,
        validation=(X_val, y_val),
        n_iter_no_change=2,
        random_state=0,
    )
    history = reg.streaming_history_
    assert history.stopped_early
    assert history.best_epoch < history.n_epochs  # the last epoch was worse
    assert history.best_validation_score == max(history.validation_score)
    assert reg.score(X_val, y_val) == history.best_validation_score


def test_other_estimators_get_their_best_state_back():
    """Without coefs_ (here SGDClassifier) the whole fitted state is kept."""
    X, y = make_classification(n_samples=800, n_features=10, random_state=0)
    chunks = memmap_chunks(X, y, chunk_size=100)
    sgd = SGDClassifier(learning_rate="constant", eta0=0.5, random_state=0)
    fit_chunks(sgd, chunks, classes=[0, 1], n_epochs=8, validation=0, random_state=0)
    history = sgd.streaming_history_
    X_val, y_val = chunks[0]
    assert sgd.score(X_val, y_val) == history.best_validation_score
    assert np.isnan(history.loss).all()  # SGDClassifier has no loss_


def test_estimator_updating_weights_in_place_gets_best_weights_back():
    """scikit-learn's MLPClassifier writes into its ``coefs_`` arrays: the best
    epoch's weights must be a copy, not the live arrays that later epochs
    change."""
    X, y = make_classification(
        n_samples=600, n_features=10, n_informative=5, flip_y=0.1, random_state=0
    )
    chunks = memmap_chunks(X, y, chunk_size=100)
    X_val, y_val = chunks[0]
    params = dict(hidden_layer_sizes=(16,), learning_rate_init=0.1, random_state=0)
    kwargs = dict(classes=[0, 1], validation=0, n_iter_no_change=3, random_state=0)
    mlp = fit_chunks(MLPClassifier(**params), chunks, n_epochs=15, **kwargs)
    history = mlp.streaming_history_
    assert history.validation_score[-1] < history.best_validation_score, (
        "the test needs a last epoch worse than the best"
    )
    assert mlp.score(X_val, y_val) == history.best_validation_score
    # The same run stopped at the best epoch ends with the live weights of
    # that epoch.
    stopped = fit_chunks(
        MLPClassifier(**params), chunks, n_epochs=history.best_epoch, **kwargs
    )
    for ours, best in zip(
        mlp.coefs_ + mlp.intercepts_, stopped.coefs_ + stopped.intercepts_
    ):
        assert_array_equal(ours, best)


# ----------------------------------------------------------------------
# Progress display
# ----------------------------------------------------------------------
def test_verbose_uses_the_progress_display(capsys):
    fit_chunks(
        _Scripted([0.5, 0.6, 0.7]),
        _toy_chunks(2),
        n_epochs=3,
        validation=1,
        verbose=True,
    )
    out = capsys.readouterr().out
    assert "done: 3/3 epochs" in out
    assert "0.7000" in out


def test_quiet_by_default(capsys):
    fit_chunks(_Scripted([0.5, 0.6]), _toy_chunks(2), n_epochs=2, validation=1)
    assert capsys.readouterr().out == ""
    assert isinstance(StreamingHistory(), StreamingHistory)


# ----------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------
def test_errors_name_the_fix():
    chunks = _toy_chunks(2)
    with pytest.raises(ValueError, match="classes must be given"):
        fit_chunks(BPClassifier(solver="adam"), chunks)
    with pytest.raises(ValueError, match="validation= to fit_chunks"):
        fit_chunks(BPRegressor(solver="adam", early_stopping=True), chunks)
    with pytest.raises(TypeError, match="no partial_fit"):
        fit_chunks(BPClassifier(solver="lbfgs"), chunks, classes=[0, 1])
    with pytest.raises(TypeError, match="streams epochs of a stochastic solver"):
        fit_chunks(BPRegressor(solver="lbfgs"), chunks)
    with pytest.raises(TypeError, match="wrap it in a function"):
        fit_chunks(_Recorder(), iter(chunks))
    with pytest.raises(TypeError, match="chunk index only"):
        fit_chunks(_Recorder(), lambda: iter(chunks), validation=0)
    with pytest.raises(ValueError, match="No chunk left"):
        fit_chunks(_Recorder(), chunks[:1], validation=0)
    with pytest.raises(ValueError, match="n_epochs"):
        fit_chunks(_Recorder(), chunks, n_epochs=0)
    with pytest.raises(TypeError, match="pair"):
        fit_chunks(_Recorder(), [np.zeros((3, 2))])


def test_one_chunk_held_out_says_how_to_make_more():
    """docs/scaling.rst's recipe (chunk_size=50_000, validation=-1) on fewer
    rows: one chunk, held out. The error says how to get more chunks, and
    doing so trains."""
    X, y = make_classification(n_samples=1000, n_features=4, random_state=0)
    clf = BPClassifier(hidden_layer_sizes=(4,), solver="adam", random_state=0)
    kwargs = dict(classes=[0, 1], n_epochs=2, validation=-1, random_state=0)
    with pytest.raises(ValueError, match=r"memmap_chunks\(X, y, chunk_size=100\)"):
        fit_chunks(clf, memmap_chunks(X, y, chunk_size=50_000), **kwargs)
    with pytest.raises(ValueError, match=r"validation=-1 holds it out"):
        fit_chunks(clf, [(X, y)], **kwargs)
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match=r"X\.rechunk\(\{0: 100\}\)"):
        fit_chunks(clf, dask_chunks(da.from_array(X), da.from_array(y)), **kwargs)
    fit_chunks(clf, memmap_chunks(X, y, chunk_size=100), **kwargs)
    assert clf.streaming_history_.n_chunks == 9
