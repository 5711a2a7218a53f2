"""Out-of-core training: ``partial_fit`` fed chunk by chunk from disk.

:func:`fit_chunks` trains any estimator with ``partial_fit`` (skbp's
:class:`~skbp.BPRegressor` and :class:`~skbp.BPClassifier` with
``solver='sgd'`` or ``'adam'``, scikit-learn's MLPs, ``SGDClassifier``...)
for a number of epochs over data that is read one chunk at a time, so that
memory holds a chunk or two, never the whole data set:

- each epoch visits the chunks in a new random order and shuffles the rows
  within each chunk (both seeded by ``random_state``);
- with a held-out ``validation`` chunk, it scores the model after every
  epoch, stops early when the score stops improving (``n_iter_no_change``
  and ``tol``, the rule of the estimators' own ``early_stopping``) and
  keeps the weights of the best epoch;
- with ``verbose=True`` it shows the epochs' progress.

The chunks come from:

- :func:`memmap_chunks`: row slices of arrays on disk (a ``numpy.memmap``,
  ``numpy.load(path, mmap_mode="r")``, or anything sliced by rows without
  reading the rest: h5py and zarr arrays);
- :func:`dask_chunks`: the row blocks of a Dask array, each computed when
  needed (on the Dask scheduler in use, a ``distributed`` cluster included);
- any sequence of ``(X_chunk, y_chunk)`` pairs, or a callable returning a
  fresh iterable of them for each epoch.

Dask is imported only by :func:`dask_chunks`, so this module needs nothing
beyond skbp's own dependencies.

Examples
--------
>>> import numpy as np
>>> from skbp import BPClassifier
>>> from skbp.streaming import fit_chunks, memmap_chunks
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(1000, 4))  # np.load("X.npy", mmap_mode="r") on disk
>>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
>>> chunks = memmap_chunks(X, y, chunk_size=200)  # 5 chunks
>>> clf = BPClassifier(hidden_layer_sizes=(8,), solver="adam",
...                    learning_rate_init=0.01, random_state=0)
>>> clf = fit_chunks(clf, chunks, classes=[0, 1], n_epochs=5,
...                  validation=-1, random_state=0)  # last chunk held out
>>> history = clf.streaming_history_
>>> len(history.loss), history.n_samples  # 5 epochs of 4 chunks
(5, 800)
"""

import copy
import math
from collections.abc import Sequence
from numbers import Integral

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils import check_random_state
from sklearn.utils import shuffle as shuffle_arrays

from ._engine import Engine, Listener, Progress, Step
from ._engine.display import ProgressDisplay
from ._engine.rules import stalled, update_no_improvement
from ._model.best_weights import weights_of
from ._model.history import StreamingHistory
from ._model.quantiles import validation_score

__all__ = [
    "StreamingHistory",
    "fit_chunks",
    "memmap_chunks",
    "dask_chunks",
    "MemmapChunks",
    "DaskChunks",
]


# ----------------------------------------------------------------------
# Chunk sources
# ----------------------------------------------------------------------
class MemmapChunks(Sequence):
    """Row slices of two arrays, read only when a chunk is asked for.

    Made by :func:`memmap_chunks`; see there. ``chunks[i]`` is the pair
    ``(X[start:stop], y[start:stop])`` of the ``i``-th slice, as numpy
    arrays (views of a memmap: nothing is read until the rows are used).
    """

    def __init__(self, X, y, chunk_size):
        if not isinstance(chunk_size, Integral) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}.")
        if len(X) != len(y):
            raise ValueError(
                f"X and y have different numbers of rows: {len(X)} and {len(y)}."
            )
        self.X, self.y, self.chunk_size = X, y, int(chunk_size)
        self.n_samples = len(X)

    def __len__(self):
        return -(-self.n_samples // self.chunk_size)  # ceil

    def __getitem__(self, index):
        index = _check_index(index, len(self))
        start = index * self.chunk_size
        stop = min(start + self.chunk_size, self.n_samples)
        return np.asarray(self.X[start:stop]), np.asarray(self.y[start:stop])

    def __repr__(self):
        return (
            f"MemmapChunks(n_samples={self.n_samples}, "
            f"chunk_size={self.chunk_size}, n_chunks={len(self)})"
        )


class DaskChunks(Sequence):
    """The row blocks of a Dask array and its targets, computed on demand.

    Made by :func:`dask_chunks`; see there. ``chunks[i]`` computes the
    ``i``-th row block of ``X`` and of ``y`` together (one ``dask.compute``)
    and returns them as numpy arrays.
    """

    def __init__(self, X, y):
        import dask.array as da

        X, y = da.asarray(X), da.asarray(y)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got {X.ndim}-D.")
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D, got {y.ndim}-D.")
        if any(math.isnan(size) for size in (*X.chunks[0], *y.chunks[0])):
            raise ValueError(
                "The arrays' row chunk sizes are unknown (nan): call "
                "X.compute_chunk_sizes() and y.compute_chunk_sizes() first."
            )
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"X and y have different numbers of rows: {X.shape[0]} and "
                f"{y.shape[0]}."
            )
        # A chunk is whole rows: every column in one block, and y's row
        # blocks aligned with X's (both lazy: no data is read here).
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})
        y_chunks = {0: X.chunks[0]} if y.ndim == 1 else {0: X.chunks[0], 1: -1}
        if y.chunks[0] != X.chunks[0] or (y.ndim == 2 and y.numblocks[1] > 1):
            y = y.rechunk(y_chunks)
        self.X, self.y = X, y
        self.n_samples = X.shape[0]

    def __len__(self):
        return self.X.numblocks[0]

    def __getitem__(self, index):
        import dask

        index = _check_index(index, len(self))
        X_block, y_block = dask.compute(self.X.blocks[index], self.y.blocks[index])
        return np.asarray(X_block), np.asarray(y_block)

    def __repr__(self):
        return f"DaskChunks(n_samples={self.n_samples}, n_chunks={len(self)})"


def _check_index(index, length):
    if not isinstance(index, Integral):
        raise TypeError(f"chunk indices must be integers, got {index!r}.")
    if not -length <= index < length:
        raise IndexError(f"chunk index {index} out of range for {length} chunks.")
    return int(index) % length


def memmap_chunks(X, y, chunk_size):
    """Chunks of ``chunk_size`` consecutive rows of arrays on disk.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Sliced by rows, one chunk at a time: a ``numpy.memmap`` (e.g.
        ``numpy.load("X.npy", mmap_mode="r")``), or any array whose slices
        read only their rows (h5py, zarr). An in-memory array works too.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets, sliced like ``X`` (on disk or in memory).
    chunk_size : int
        Rows per chunk; the last chunk holds the remainder.

    Returns
    -------
    chunks : MemmapChunks
        A sequence of ``ceil(n_samples / chunk_size)`` pairs
        ``(X_chunk, y_chunk)`` of shapes ``(chunk_size, n_features)`` and
        ``(chunk_size,)`` (or ``(chunk_size, n_outputs)``), read from disk
        when used. Pass it to :func:`fit_chunks`.

    Examples
    --------
    >>> import numpy as np
    >>> chunks = memmap_chunks(np.zeros((10, 3)), np.arange(10), chunk_size=4)
    >>> len(chunks), [X.shape for X, _ in chunks]
    (3, [(4, 3), (4, 3), (2, 3)])
    """
    return MemmapChunks(X, y, chunk_size)


def dask_chunks(X, y):
    """The row blocks of a Dask array, as chunks for :func:`fit_chunks`.

    Dask is imported here, not before.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Its row blocks (``X.chunks[0]``) are the chunks. Blocks split along
        the columns are joined (``X.rechunk({1: -1})``, lazily). Row block
        sizes must be known (not ``nan``).
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
        Targets; rechunked lazily to ``X``'s row blocks if they differ.

    Returns
    -------
    chunks : DaskChunks
        A sequence of ``X.numblocks[0]`` pairs ``(X_block, y_block)`` of
        numpy arrays, each computed when asked for, on the Dask scheduler
        in use (a ``distributed.Client``'s cluster when one is active).

    Examples
    --------
    >>> import dask.array as da  # doctest: +SKIP
    >>> X = da.random.random((10_000, 20), chunks=(1_000, 20))  # doctest: +SKIP
    >>> y = (X[:, 0] > 0.5).astype(int)  # doctest: +SKIP
    >>> len(dask_chunks(X, y))  # doctest: +SKIP
    10
    """
    return DaskChunks(X, y)


# ----------------------------------------------------------------------
# Best weights
# ----------------------------------------------------------------------
def _snapshot(estimator):
    """A copy of the learned weights (all fitted state for other estimators)."""
    if hasattr(estimator, "coefs_") and hasattr(estimator, "intercepts_"):
        # skbp's estimators and scikit-learn's MLPs: the weights only, so
        # the optimizer's state and the counters go on.
        return ("weights", *weights_of(estimator))
    return ("state", copy.deepcopy(estimator.__dict__))


def _restore(estimator, snapshot):
    if snapshot[0] == "weights":
        estimator.coefs_, estimator.intercepts_ = snapshot[1], snapshot[2]
    else:
        estimator.__dict__.update(snapshot[1])


# ----------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------
def _epoch_chunks(chunks, train_indices, rng, shuffle):
    """The training chunks of one epoch, in a new random order if shuffling."""
    if train_indices is None:  # a callable: its own order
        yield from chunks()
        return
    order = rng.permutation(train_indices) if shuffle else train_indices
    for index in order:
        yield chunks[int(index)]


def _unpack(chunk):
    try:
        X_chunk, y_chunk = chunk
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"Each chunk must be a pair (X_chunk, y_chunk), got {type(chunk).__name__}."
        ) from exc
    return X_chunk, y_chunk


def fit_chunks(
    estimator,
    chunks,
    *,
    classes=None,
    n_epochs=10,
    validation=None,
    n_iter_no_change=5,
    tol=1e-4,
    shuffle=True,
    random_state=None,
    verbose=False,
):
    """Train ``estimator`` with ``partial_fit`` over chunks, for several epochs.

    Each epoch calls ``estimator.partial_fit`` once per training chunk, so
    only one chunk (and the copy its rows are shuffled into) is in memory
    at a time. Training continues from the estimator's current state: pass
    a fresh (or :func:`~sklearn.base.clone`\\ d) estimator to start over.

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
        E.g. :class:`~skbp.BPClassifier` or :class:`~skbp.BPRegressor` with
        ``solver='sgd'`` or ``'adam'`` and ``early_stopping=False`` (early
        stopping here is this function's, on ``validation``). Modified in
        place and returned.
    chunks : sequence or callable
        The training data, as pairs ``(X_chunk, y_chunk)`` of shapes
        ``(n_chunk_samples, n_features)`` and ``(n_chunk_samples,)`` (or
        ``(n_chunk_samples, n_outputs)``):

        - a sequence of pairs (``len`` and indexing), e.g. from
          :func:`memmap_chunks` or :func:`dask_chunks`, or a list: each
          epoch visits them in a new random order;
        - a callable taking no argument and returning a fresh iterable of
          pairs, called once per epoch: its order is kept (rows are still
          shuffled within each chunk).

        A one-shot iterator (a generator) cannot be read again next epoch:
        wrap it in a callable.
    classes : array-like of shape (n_classes,), default=None
        Every class of the whole data set, required by a classifier's first
        ``partial_fit`` (unless the estimator was already trained). Passed
        to every ``partial_fit`` call of a classifier; ignored otherwise.
    n_epochs : int, default=10
        Most passes over the training chunks.
    validation : int or tuple (X_val, y_val) or None, default=None
        Held-out data scored (``estimator.score``; for a quantile
        regressor, the negative mean pinball loss of its levels) after each
        epoch for early stopping:

        - an int: the index of a chunk of the sequence ``chunks`` (e.g.
          ``-1``, the last), which is then left out of training and
          fetched once (a Dask block is computed once);
        - a pair ``(X_val, y_val)`` of shapes ``(n_val_samples,
          n_features)`` and ``(n_val_samples,)`` (or ``(n_val_samples,
          n_outputs)``);
        - ``None``: no validation and no early stopping; all ``n_epochs``
          run and the last epoch's weights are kept.
    n_iter_no_change : int, default=5
        With ``validation``: training stops when the validation score has
        not improved on the best score by at least ``tol`` for more than
        ``n_iter_no_change`` consecutive epochs (the rule of the estimators'
        own ``early_stopping``). Whether it stops early or runs every
        epoch, the weights of the epoch with the best validation score are
        put back at the end (``coefs_`` and ``intercepts_``: the optimizer's
        state and counters are not rolled back). An estimator without
        ``coefs_`` (e.g. ``SGDClassifier``) gets its whole fitted state of
        that epoch back (a deep copy of its ``__dict__``).
    tol : float, default=1e-4
        Least improvement of the validation score that counts.
    shuffle : bool, default=True
        Shuffle the order of the chunks (sequences only) every epoch and the
        rows within every chunk.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling, for reproducible runs (the estimator's own
        ``random_state`` seeds its weights).
    verbose : bool, default=False
        Show each epoch's loss and validation score: skbp's progress display
        where available, else one printed line per epoch.

    Returns
    -------
    estimator : estimator
        The trained ``estimator``, with the attribute ``streaming_history_``,
        a :class:`StreamingHistory`: per-epoch mean training loss and
        validation score, the best epoch, whether it stopped early.

    Examples
    --------
    Data larger than memory, saved as ``.npy`` files::

        X = np.load("X.npy", mmap_mode="r")   # nothing read yet
        y = np.load("y.npy", mmap_mode="r")
        clf = BPClassifier(solver="adam", random_state=0)
        fit_chunks(clf, memmap_chunks(X, y, chunk_size=50_000),
                   classes=np.arange(10), n_epochs=20, validation=-1,
                   random_state=0, verbose=True)
        clf.streaming_history_.validation_score
    """
    fit_params = _check_arguments(estimator, classes, n_epochs, n_iter_no_change, tol)
    train_indices, X_val, y_val = _split_chunks(chunks, validation)
    rng = check_random_state(random_state)
    history = StreamingHistory(
        n_chunks=None if train_indices is None else int(train_indices.size)
    )
    # The training engine's loop and listeners: the history, the stopping
    # rule on the validation score, the progress display.
    rule = _ValidationRule(history, X_val, y_val, n_iter_no_change, tol)
    listeners = [_History(history), rule]
    if verbose:
        listeners.append(Progress(ProgressDisplay(n_epochs, stream=None)))
    engine = Engine(estimator, listeners)

    def run_epoch():
        return Step(
            *_run_epoch(estimator, chunks, train_indices, rng, shuffle, fit_params),
            None,
        )

    with engine.running():
        epochs = engine.run(run_epoch, n_epochs)
    history.stopped_early = engine.stopped and epochs < n_epochs
    if rule.best_weights is not None:
        _restore(estimator, rule.best_weights)
    estimator.streaming_history_ = history
    return estimator


class _History(Listener):
    """Each epoch's mean training loss and rows, in the history."""

    def __init__(self, history):
        self._history = history

    def step_ends(self, estimator, step):
        self._history.loss.append(step.loss)
        self._history.n_samples = step.n_samples
        return False


class _ValidationRule(Listener):
    """The no-improvement rule on the validation chunk's score: the best
    epoch's weights kept, the fit stopped once the score stalls (never
    without a validation chunk)."""

    def __init__(self, history, X_val, y_val, n_iter_no_change, tol):
        self._history, self._X, self._y = history, X_val, y_val
        self._n_iter_no_change, self._tol = n_iter_no_change, tol
        self._count, self._best = 0, -np.inf
        self.best_weights = None

    def step_ends(self, estimator, step):
        if self._X is None:
            return False
        step.score = score = validation_score(estimator, self._X, self._y)
        self._history.validation_score.append(score)
        self._count, self._best, improved = update_no_improvement(
            self._count, self._best, score, self._tol
        )
        if improved:
            self.best_weights = _snapshot(estimator)
            self._history.best_epoch = step.index
            self._history.best_validation_score = score
        return stalled(self._count, self._n_iter_no_change)


def _check_arguments(estimator, classes, n_epochs, n_iter_no_change, tol):
    """Check :func:`fit_chunks`' arguments; return ``partial_fit``'s keywords
    (``classes`` for a classifier)."""
    if not hasattr(estimator, "partial_fit"):
        raise TypeError(
            f"{type(estimator).__name__} has no partial_fit (skbp's estimators "
            "have it with solver='sgd' or 'adam')."
        )
    if getattr(estimator, "solver", None) == "lbfgs":
        # BPRegressor's partial_fit exists for L-BFGS (scikit-learn's does):
        # a whole L-BFGS run on one chunk, not a step of a stream.
        raise TypeError(
            "fit_chunks streams epochs of a stochastic solver: use "
            "solver='sgd' or 'adam' (solver='lbfgs' has no partial_fit that "
            "streams; its partial_fit runs L-BFGS to the end on each chunk)."
        )
    if getattr(estimator, "early_stopping", False):
        raise ValueError(
            "partial_fit does not support early_stopping=True: set "
            "early_stopping=False and pass validation= to fit_chunks instead."
        )
    if not isinstance(n_epochs, Integral) or n_epochs < 1:
        raise ValueError(f"n_epochs must be a positive int, got {n_epochs!r}.")
    if not n_iter_no_change >= 1:
        raise ValueError(
            f"n_iter_no_change must be at least 1, got {n_iter_no_change}."
        )
    if not tol >= 0:
        raise ValueError(f"tol must be non-negative, got {tol}.")

    fit_params = {}
    if is_classifier(estimator):
        if classes is None and not hasattr(estimator, "classes_"):
            raise ValueError(
                "classes must be given for a classifier: every class of the whole "
                "data set, which the first chunk may not all contain."
            )
        if classes is not None:
            fit_params["classes"] = classes
    return fit_params


def _split_chunks(chunks, validation):
    """The training chunks' indices and the validation data.

    Returns
    -------
    train_indices : ndarray of shape (n_train_chunks,) or None
        Indices into the sequence ``chunks`` (the validation chunk left
        out); None when ``chunks`` is a callable.
    X_val : array-like of shape (n_val_samples, n_features) or None
    y_val : array-like of shape (n_val_samples,) or (n_val_samples, n_outputs), or None
    """
    if callable(chunks) and not isinstance(chunks, Sequence):
        train_indices = None
        if isinstance(validation, Integral):
            raise TypeError(
                "validation can be a chunk index only when chunks is a sequence; "
                "pass validation=(X_val, y_val)."
            )
    elif isinstance(chunks, Sequence) or (
        hasattr(chunks, "__len__") and hasattr(chunks, "__getitem__")
    ):
        train_indices = np.arange(len(chunks))
    else:
        raise TypeError(
            "chunks must be a sequence of (X_chunk, y_chunk) pairs or a callable "
            "returning a fresh iterable of them each epoch, got "
            f"{type(chunks).__name__} (a generator is read only once: wrap it "
            "in a function)."
        )

    if validation is None:
        return train_indices, None, None
    if not isinstance(validation, Integral):
        X_val, y_val = _unpack(validation)
        return train_indices, X_val, y_val
    held_out = _check_index(validation, len(chunks))
    X_val, y_val = _unpack(chunks[held_out])
    train_indices = np.delete(train_indices, held_out)
    if train_indices.size == 0:
        raise ValueError(_no_chunk_left(chunks, validation))
    return train_indices, X_val, y_val


def _no_chunk_left(chunks, validation):
    """What to do when ``validation`` holds out the only chunk: more chunks
    (how, for :func:`memmap_chunks` and :func:`dask_chunks`), or other
    validation data."""
    n_samples = getattr(chunks, "n_samples", None)
    if isinstance(chunks, MemmapChunks):
        fix = (
            f"pass a chunk_size under its {n_samples} rows, e.g. "
            f"memmap_chunks(X, y, chunk_size={-(-n_samples // 10)}) for 10 chunks"
        )
    elif isinstance(chunks, DaskChunks):
        fix = (
            f"cut X's {n_samples} rows into several blocks, e.g. "
            f"dask_chunks(X.rechunk({{0: {-(-n_samples // 10)}}}), y) for 10"
        )
    else:
        fix = "give at least 2 chunks"
    return (
        f"No chunk left to train on besides the validation chunk: chunks holds "
        f"one chunk, and validation={validation} holds it out. To hold out a "
        f"chunk, {fix}; or pass validation=(X_val, y_val), or validation=None "
        "for no early stopping."
    )


def _run_epoch(estimator, chunks, train_indices, rng, shuffle, fit_params):
    """One ``partial_fit`` per training chunk.

    Returns
    -------
    loss : float
        The chunks' ``loss_`` (nan without one), weighted by their row counts.
    n_samples : int
        Rows trained on.
    """
    total_loss, n_samples = 0.0, 0
    for chunk in _epoch_chunks(chunks, train_indices, rng, shuffle):
        X_chunk, y_chunk = _unpack(chunk)
        if shuffle:
            # A shuffled in-memory copy of the chunk's rows: the one read of
            # a memmap slice, O(chunk) memory.
            X_chunk, y_chunk = shuffle_arrays(X_chunk, y_chunk, random_state=rng)
        estimator.partial_fit(X_chunk, y_chunk, **fit_params)
        n_rows = X_chunk.shape[0]
        total_loss += getattr(estimator, "loss_", np.nan) * n_rows
        n_samples += n_rows
        del X_chunk, y_chunk, chunk  # free before reading the next
    if n_samples == 0:
        raise ValueError("chunks gave no rows to train on.")
    return float(total_loss / n_samples), n_samples
