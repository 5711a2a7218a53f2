"""Dask arrays in ``fit`` and ``predict``: the estimators' side.

``fit`` (and ``partial_fit``) with ``X`` a Dask array trains where the
array's chunks are (the workers of the active ``distributed`` Client, or
Dask's local scheduler without one), with every solver, and never gathers
them in this process:

- the input's structure is checked first, before any work is sent
  (:func:`check_dask_input`): whole rows in each chunk, ``y`` and
  ``sample_weight`` chunked as ``X``, known chunk sizes;
- each chunk is checked (as ``validate_data`` checks arrays in memory),
  its targets encoded and its row weights computed on its worker, and kept
  there for the whole fit (:meth:`DaskPlacement.checked`); only
  labels and sums come back (``classes_``, the weights' totals). A chunk
  that fails its checks is refused by its task (:class:`Refusal`, not an
  exception that every worker would log) and the client raises one
  ValueError naming the rows;
- each L-BFGS evaluation is a tree of tasks over the chunks
  (:mod:`skbp._data.workers`), run by the estimator's own L-BFGS loop;
- each step of ``'sgd'`` and ``'adam'`` is a tree of tasks over every
  chunk's share of a global batch, and the epochs are the estimator's own
  loop (:mod:`skbp._data.chunks`); early stopping's validation rows
  are drawn in each chunk and stay on its worker
  (:meth:`DaskRows.split`).

``predict`` and the other prediction methods, given a Dask array, return a
lazy Dask array: one task per row block, as dask-ml's ``ParallelPostFit``
does (:func:`dask_blocks`).

Dask is imported only when Dask arrays are given: skbp does not need it
otherwise.
"""

import contextlib
import copy
import functools
import math
import operator
import sys
import warnings
from numbers import Number
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from .._model.arrays import is_numpy_array
from .._model.settings import (
    check_class_weighted,
    check_validation_size,
    check_weight_total,
    check_weight_values,
    class_index,
    class_weights_of_totals,
    weight_scale,
)
from .chunks import (
    ChunkedHeldOut,
    ChunkedTrainingStep,
    DropoutDraw,
    TrainingChunk,
    chunk_row_keys,
    split_chunk,
    validation_sizes,
)
from .rows import Placement, TrainingRows
from .workers import ChunkedLoss, Workers

__all__ = [
    "is_dask_array",
    "check_dask_input",
    "DaskPlacement",
    "DaskRows",
    "dask_blocks",
    "distinct_labels",
    "target_blocks",
    "class_weighted",
]


def is_dask_array(value):
    """Whether ``value`` is a Dask array (without importing Dask)."""
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(value, dask_array.Array)


def is_dask_frame(value):
    """Whether ``value`` is a Dask DataFrame or Series (without importing Dask)."""
    frames = sys.modules.get("dask.dataframe")
    return frames is not None and isinstance(value, (frames.DataFrame, frames.Series))


def is_dask_input(value):
    """Whether ``value`` lives in Dask chunks: a Dask array, DataFrame or Series."""
    return is_dask_array(value) or is_dask_frame(value)


def columns_of(X):
    """What scikit-learn's checks of the width and feature names read: for a
    Dask DataFrame, its empty pandas counterpart (``_meta``: the columns and
    dtypes, no rows, nothing computed); anything else as it is."""
    return X._meta if is_dask_frame(X) else X


def dask_array_of(value):
    """``value`` as a Dask array: a DataFrame's or Series' partitions become
    its row chunks, their sizes computed (``to_dask_array(lengths=True)``:
    the lengths, not the data, come back). Anything else is returned as it
    is."""
    if is_dask_frame(value):
        return value.to_dask_array(lengths=True)
    return value


# ----------------------------------------------------------------------
# The input's structure: checked before any work is sent
# ----------------------------------------------------------------------
def check_dask_input(X, y, sample_weight):
    """Refuse Dask input whose chunks are not whole, aligned rows.

    Nothing is computed. ``y`` and ``sample_weight`` given in memory (a
    numpy array, a list; a number for ``sample_weight``) are cut into the
    row chunks of ``X``, and a column vector ``y`` becomes 1-D (with
    scikit-learn's ``DataConversionWarning``).

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), float or None

    Returns
    -------
    X, y, sample_weight : dask.array.Array (sample_weight may be None)
        With the same row chunks, one chunk across the columns.

    Raises
    ------
    ValueError
        For unknown (NaN) chunk sizes, chunks along the columns, other row
        chunks in ``y`` or ``sample_weight`` than in ``X``, wrong shapes.
    """
    _check_chunks(X, "X", ndims=(2,))
    if X.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of "
            "1 is required."
        )
    y = _rows_of(y, X, "y", ndims=(1, 2))
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=2,
        )
        y = y[:, 0]
    if sample_weight is not None:
        sample_weight = _rows_of(sample_weight, X, "sample_weight", ndims=(1,))
    return X, y, sample_weight


def _check_chunks(array, name, ndims):
    """Refuse ``array`` of another dimension, of unknown chunk sizes or
    chunked along its columns."""
    if array.ndim not in ndims:
        raise ValueError(
            f"{name} must be a {' or '.join(f'{n}-D' for n in ndims)} array, got "
            f"a {array.ndim}-D Dask array of shape {array.shape}."
        )
    if any(math.isnan(size) for sizes in array.chunks for size in sizes):
        raise ValueError(
            f"{name} has unknown chunk sizes (NaN): which rows each chunk holds "
            f"is known only once it is computed. Call {name}.compute_chunk_sizes() "
            "first, or make the array with known chunks (a Dask DataFrame's "
            "to_dask_array(lengths=True))."
        )
    if array.ndim == 2 and array.numblocks[1] > 1:
        raise ValueError(
            f"{name} is chunked along its columns ({array.numblocks[1]} column "
            "chunks): each chunk must hold whole rows, every column, for the "
            f"rows to be trained on where they are. Rechunk it with "
            f"{name}.rechunk({{1: -1}})."
        )


def _rows_of(values, X, name, ndims):
    """``values`` (``y`` or ``sample_weight``) as a Dask array in ``X``'s
    row chunks: checked when it is one, cut into them when in memory."""
    import dask.array as da

    if is_dask_array(values):
        _check_chunks(values, name, ndims)
    elif isinstance(values, Number):  # one weight for every row
        return da.full(X.shape[0], values, chunks=(X.chunks[0],))
    else:
        values = np.asarray(values)
        if values.ndim not in ndims:
            raise ValueError(
                f"{name} must be {' or '.join(f'{n}-D' for n in ndims)}, got an "
                f"array of shape {values.shape}."
            )
    if values.shape[0] != X.shape[0]:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{X.shape[0]}, {values.shape[0]}] (X, {name})."
        )
    if not is_dask_array(values):
        return da.from_array(values, chunks=(X.chunks[0], *values.shape[1:]))
    if values.chunks[0] != X.chunks[0]:
        first = next(
            i for i, (a, b) in enumerate(zip(X.chunks[0], values.chunks[0])) if a != b
        )
        raise ValueError(
            f"X and {name} are chunked differently along the rows (row chunk "
            f"{first} of X holds {X.chunks[0][first]} rows, of {name} "
            f"{values.chunks[0][first]}): the rows of a chunk must be trained "
            f"on together. Rechunk {name} as X: {name}.rechunk({{0: X.chunks[0]}})."
        )
    return values


# ----------------------------------------------------------------------
# Each chunk, on its worker: what validate_data does to arrays in memory
# ----------------------------------------------------------------------
class Refusal(NamedTuple):
    """What a chunk's check found wrong: the message of its ValueError.

    A check's task returns it in place of the chunk rather than raise: a
    task that raises makes every worker log a "Compute Failed" traceback
    (one per bad chunk) before the client gets the error. The client looks
    for refusals once the chunks are kept (:func:`_raise_refusals`) and
    raises one ValueError, as a fit in memory does.
    """

    message: str


def _refusing(check):
    """``check`` (a task on a chunk), returning a :class:`Refusal` where it
    would raise a ValueError (its name kept: the tasks' keys show it)."""

    @functools.wraps(check)
    def checked_or_refused(*args):
        try:
            return check(*args)
        except ValueError as exc:
            return Refusal(str(exc))

    return checked_or_refused


def _refusal_of(chunk):
    """A kept chunk's :class:`Refusal`, or None for a checked chunk (a task:
    only the answer, a few bytes, comes back)."""
    return chunk if isinstance(chunk, Refusal) else None


def _raise_refusals(workers, *arrays):
    """Raise one ValueError for the first chunk that a check refused.

    Parameters
    ----------
    workers : Workers
    *arrays : dask.array.Array or None
        Kept by :meth:`Workers.persist`, in the same row chunks; None
        passes.

    Raises
    ------
    ValueError
        The check's message, and which rows (and how many chunks) it
        refused.
    """
    import dask

    blocks = [
        (array, index, block)
        for array in arrays
        if array is not None
        for index, block in enumerate(array.to_delayed().ravel())
    ]
    answers = workers.compute(*(dask.delayed(_refusal_of)(b) for *_, b in blocks))
    refused = [(a, i, r) for (a, i, _), r in zip(blocks, answers) if r is not None]
    if refused:
        array, index, refusal = refused[0]
        start = sum(array.chunks[0][:index])
        stop = start + array.chunks[0][index]
        more = f"; {len(refused) - 1} more refused" if len(refused) > 1 else ""
        raise ValueError(
            f"{refusal.message} (row chunk {index} of {array.numblocks[0]}, rows "
            f"{start}:{stop}{more})"
        )


@_refusing
def _checked_rows(X, dtype):
    """A chunk of ``X``: 2-D, finite, in the training ``dtype``."""
    return check_array(X, dtype=dtype, ensure_min_samples=0, input_name="X")


@_refusing
def _checked_targets(y):
    """A chunk of ``y``: finite, not complex (any dtype: labels)."""
    return check_array(
        y, ensure_2d=False, dtype=None, ensure_min_samples=0, input_name="y"
    )


@_refusing
def _checked_weights(sample_weight, dtype):
    """A chunk of ``sample_weight``: finite, non-negative, in ``dtype``."""
    sample_weight = check_array(
        sample_weight,
        ensure_2d=False,
        dtype=dtype,
        ensure_min_samples=0,
        input_name="sample_weight",
    )
    check_weight_values(sample_weight)
    return sample_weight


def _blockwise(array, check, dtype, *args):
    """``check(chunk, *args)`` on each chunk of ``array``, lazily (the same
    shape; ``dtype`` that of the result)."""
    meta = np.empty((0,) * array.ndim, dtype=dtype)
    return array.map_blocks(check, *args, dtype=dtype, meta=meta)


def _training_dtype(dtype):
    """The float dtype ``validate_data`` gives arrays of ``dtype``."""
    return dtype if dtype in (np.float64, np.float32) else np.dtype(np.float64)


def target_blocks(y, encode, n_outputs, dtype, *args):
    """The lazy target matrix: ``encode(y_chunk, *args)`` for each chunk.

    Parameters
    ----------
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
    encode : callable
        Returns a chunk's rows of the target matrix.
    n_outputs : int
        The target matrix's width.
    dtype : dtype
        Of the target matrix.
    *args
        Passed to ``encode`` (not Dask arrays).

    Returns
    -------
    Y : dask.array.Array of shape (n_samples, n_outputs)
    """
    return y.map_blocks(
        _encoded,
        encode,
        n_outputs,
        dtype,
        *args,
        dtype=dtype,
        chunks=(y.chunks[0], (n_outputs,)),
        new_axis=1 if y.ndim == 1 else None,
        meta=np.empty((0, 0), dtype=dtype),
    )


@_refusing
def _encoded(y, encode, n_outputs, dtype, *args):
    """A chunk's rows of the target matrix (none for an empty chunk, which
    the encoders, made for whole data sets, refuse)."""
    if y.shape[0] == 0:
        return np.empty((0, n_outputs), dtype=dtype)
    return encode(y, *args)


def distinct_labels(y, workers):
    """The distinct values of a Dask ``y``, sorted (computed on the workers).

    Parameters
    ----------
    y : dask.array.Array of shape (n_samples,)
    workers : Workers

    Returns
    -------
    ndarray of shape (n_labels,)
    """
    import dask.array as da

    (labels,) = workers.compute(da.unique(y))
    return labels


def _take(index, values):
    """``values[index]``: each row's value (a task on a chunk's index)."""
    return values[index]


def class_weighted(class_weight, Y, classes, sample_weight, workers):
    """Each row's class weight times its sample weight, for a Dask ``Y``.

    What :func:`~skbp._model.settings.class_weight_rows` gives single-label
    targets in memory: the classes' total weights are summed over the
    chunks on the workers, the class weights computed from them here, and
    each chunk's rows weighted on its worker.

    Parameters
    ----------
    class_weight : dict or 'balanced'
    Y : dask.array.Array of shape (n_samples, n_outputs), bool
        The indicator matrix.
    classes : ndarray of shape (n_classes,)
    sample_weight : dask.array.Array of shape (n_samples,) or None
    workers : Workers

    Returns
    -------
    dask.array.Array of shape (n_samples,), float64
    """
    import dask.array as da

    index = class_index(Y)
    (totals,) = workers.compute(
        da.bincount(index, weights=sample_weight, minlength=len(classes))
    )
    per_class = class_weights_of_totals(class_weight, classes, totals)
    weight = index.map_blocks(_take, per_class, dtype=per_class.dtype)
    if sample_weight is not None:
        weight = weight * sample_weight
    valid, total = workers.compute(
        da.isfinite(weight).all() & ~(weight < 0).any(), weight.sum()
    )
    check_class_weighted(class_weight, bool(valid), total, weight.dtype)
    return _rescaled(weight, total, workers)


def _checked_total(sample_weight, workers):
    """``sample_weight`` with a positive sum, rescaled as in memory
    (:func:`~skbp._model.settings.rescale_weights`); None stays None."""
    if sample_weight is None:
        return None
    (total,) = workers.compute(sample_weight.sum())
    check_weight_total(total)
    return _rescaled(sample_weight, total, workers)


def _rescaled(weight, total, workers):
    """``weight`` divided by its largest where its scale risks overflow."""
    (top,) = workers.compute(weight.max())
    scale = weight_scale(total, top, weight.dtype)
    return weight if scale is None else weight / scale


class DaskPlacement(Placement):
    """Rows in the chunks of Dask arrays (or DataFrames), on the workers of
    the active ``distributed`` Client (Dask's local scheduler without one).

    What :class:`~skbp._data.memory.MemoryPlacement` does in memory, done on
    each chunk where it is: only labels and sums come back (``classes_``,
    the weights' totals).
    """

    def __init__(self):
        self.workers = Workers.active()

    def checked(self, estimator, X, y, sample_weight, *, reset, labels):
        # The width and feature names (a DataFrame's columns), read from
        # the shape and the columns: nothing computed.
        validate_data(estimator, columns_of(X), reset=reset, skip_check_array=True)
        X, y, sample_weight = (dask_array_of(v) for v in (X, y, sample_weight))
        X, y, sample_weight = check_dask_input(X, y, sample_weight)
        dtype = _training_dtype(X.dtype)
        if sample_weight is not None:
            sample_weight = _blockwise(sample_weight, _checked_weights, dtype, dtype)
        # The one pass over the source data; a chunk's bad values raise here,
        # as one ValueError (the checks refuse chunks rather than raise).
        X, y, sample_weight = self.workers.persist(
            _blockwise(X, _checked_rows, dtype, dtype),
            _blockwise(y, _checked_targets, y.dtype),
            sample_weight,
        )
        _raise_refusals(self.workers, X, y, sample_weight)
        return X, y, _checked_total(sample_weight, self.workers)

    def label_sample(self, y):
        if y.ndim != 1:
            raise ValueError(
                "Multilabel targets (a 2-D y) are not supported as Dask arrays; "
                "pass y in memory, with X in memory too."
            )
        return distinct_labels(y, self.workers)

    def is_multilabel(self, y):
        # A Dask y stays where it is: its chunks are checked there, and a
        # 2-D one (multilabel) refused (label_sample).
        return False

    def encode(self, y, encode, n_outputs, dtype, *args):
        # Kept, so that a target the encoder refuses (a negative one for the
        # Poisson loss) raises here, once.
        (Y,) = self.workers.persist(target_blocks(y, encode, n_outputs, dtype, *args))
        _raise_refusals(self.workers, Y)
        return Y

    def class_weighted(self, class_weight, Y, classes, sample_weight, multilabel):
        return class_weighted(class_weight, Y, classes, sample_weight, self.workers)

    def rows(self, X, Y, sample_weight):
        Y, sample_weight = self.workers.persist(Y, sample_weight)
        return DaskRows(self.workers, X, Y, sample_weight)

    def weights_like(self, X):
        return None  # numpy weights, sent to the chunks with each task

    def head(self, X, Y, n_rows):
        # A few rows of the first chunk(s), fetched from where they are.
        rows = self.workers.compute(X[:n_rows], Y[:n_rows])
        return tuple(np.array(a, dtype=np.float64) for a in rows)

    def fit_context(self):
        """On a ``distributed`` Client's workers, one BLAS thread in this
        process.

        This process only adds the chunks' sums and steps the weights
        (vector operations) while the workers compute. Multithreaded BLAS
        (OpenBLAS) keeps its idle threads spinning after each call, taking
        CPUs from workers on the same machine (a ``LocalCluster``): on 2
        cores, a 2-worker adam fit took 3.2 s with this process's 2 BLAS
        threads, 2.85 s with one. scikit-learn's ``KMeans`` limits BLAS
        around its loops in the same way."""
        if self.workers.client is None:
            return contextlib.nullcontext()
        return threadpool_limits(limits=1, user_api="blas")


class DaskRows(TrainingRows):
    """Training rows in the chunks of Dask arrays, kept on the workers.

    Parameters
    ----------
    workers : Workers
    X, Y, sample_weight : dask.array.Array
        Persisted, in the same row chunks (``sample_weight`` may be None).
    """

    def __init__(self, workers, X, Y, sample_weight):
        self.workers = workers
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.dtype = X.dtype
        n_chunks = X.numblocks[0]
        blocks = [workers.blocks(a, n_chunks) for a in (X, Y, sample_weight)]
        self.blocks = list(zip(*blocks))
        self.sizes = list(X.chunks[0])
        self.rows = [None] * n_chunks  # each chunk's training rows: all
        self.n_samples = sum(self.sizes)
        self._data = None

    def _chunk_data(self):
        """Each chunk's X, Y and weights in one piece, where its X is."""
        if self._data is None:
            self._data = [self.workers.keep(_together, *b) for b in self.blocks]
        return self._data

    def epochs(self, network, flat, optimizer, alpha, batch_size, dropout):
        data = self._chunk_data()
        draw, keys = self._dropout(data, dropout, flat.dtype)
        chunks = [
            TrainingChunk(*chunk) for chunk in zip(data, self.rows, self.sizes, keys)
        ]
        return ChunkedTrainingStep(
            flat,
            self.workers,
            chunks,
            batch_size,
            network=network,
            optimizer=optimizer,
            alpha=alpha,
            dropout=draw,
            dropout_step=None if dropout is None else dropout.next_step,
        )

    def _dropout(self, data, dropout, dtype):
        """The dropout draw of a fit on chunks, and each chunk's handle of
        its rows' keys (None and Nones without dropout)."""
        if dropout is None:
            return None, [None] * len(data)
        draw = DropoutDraw(dropout.hidden_units, dropout.rates, dropout.seed, dtype)
        keep = self.workers.keep
        return draw, [keep(chunk_row_keys, chunk, dropout.salt) for chunk in data]

    def loss_function(self, network, alpha):
        """:class:`~skbp._data.workers.ChunkedLoss`: each evaluation a tree
        of tasks over the chunks, summed where they are."""
        return ChunkedLoss(
            self.workers,
            self.blocks,
            network.layout,
            network.activations,
            network.loss,
            alpha,
        )

    def split(self, fraction, random_state, stratified, network, score):
        """Early stopping's split, drawn in each chunk on its worker
        (:func:`~skbp._data.chunks.split_chunk`, stratified by class for
        a classifier): ``ceil(fraction * n_c)`` rows of each chunk of
        ``n_c`` rows are held out, and stay there."""
        sizes = self.sizes
        n_val = validation_sizes(sizes, fraction)
        check_validation_size(sum(n_val))
        if sum(n_val) == sum(sizes):
            raise ValueError(
                f"With n_samples={sum(sizes)} and validation_fraction="
                f"{fraction}, every row is held out for validation: none is "
                "left to train on."
            )
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        keep, data = self.workers.keep, self._chunk_data()
        splits = [
            keep(split_chunk, chunk, k, (seed, index), stratified)
            for index, (chunk, k) in enumerate(zip(data, n_val))
        ]
        train = copy.copy(self)
        train.rows = [keep(operator.getitem, split, 0) for split in splits]
        train.sizes = [n - k for n, k in zip(sizes, n_val)]
        train.n_samples = sum(train.sizes)
        held_out = [
            keep(operator.getitem, split, 1) for split, k in zip(splits, n_val) if k
        ]
        return train, ChunkedHeldOut(self.workers, held_out, network, score)

    def held_out(self, network, score):
        return ChunkedHeldOut(self.workers, self._chunk_data(), network, score)


def _together(X, Y, sample_weight):
    """A chunk's arrays as one piece of data (a task)."""
    return X, Y, sample_weight


# ----------------------------------------------------------------------
# Prediction: one task per row block
# ----------------------------------------------------------------------
def dask_blocks(method):
    """Decorate a prediction method ``method(self, X)``: a Dask ``X`` gets a
    lazy Dask array, the method applied to each row block (on the workers
    when the array is computed there), as dask-ml's ``ParallelPostFit``.

    Anything else goes to ``method`` as it is.
    """

    @functools.wraps(method)
    def blockwise(self, X):
        if is_numpy_array(X) or not is_dask_input(X):  # numpy first: no lookups
            return method(self, X)
        return _predict_blocks(self, method.__name__, X)

    return blockwise


def _predict_block(X, estimator, name, empty, columns=None):
    """``estimator.name(X)`` on one row block (a task); ``empty`` (the output
    of no rows) for an empty block, which validation refuses. ``columns``:
    the DataFrame's column names, which the block gets back (the model was
    fitted with them)."""
    if not X.shape[0]:
        return empty
    if columns is not None:
        import pandas as pd  # Dask DataFrames need it: it is there

        X = pd.DataFrame(X, columns=columns, copy=False)
    return getattr(estimator, name)(X)


def _predict_blocks(estimator, name, X):
    """The lazy output of ``estimator.name`` on the row blocks of ``X``.

    The fitted estimator travels in the graph, once. Its output's width
    and dtype are those of a prediction on one row of zeros.
    """
    check_is_fitted(estimator)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D Dask array, got shape {X.shape}.")
    # The width and a DataFrame's column names, checked here, once.
    validate_data(estimator, columns_of(X), reset=False, skip_check_array=True)
    columns = list(X.columns) if is_dask_frame(X) else None
    # The partitions' lengths are computed (not their predictions): the
    # output then lines up with y, as scoring needs.
    X = dask_array_of(X)
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})  # whole rows per task (lazy, as everything here)
    probe = np.zeros((1, X.shape[1]), dtype=X.dtype)
    probe = _predict_block(probe, estimator, name, None, columns)
    return X.map_blocks(
        _predict_block,
        estimator,
        name,
        probe[:0],
        columns,
        dtype=probe.dtype,
        chunks=(X.chunks[0], *((n,) for n in probe.shape[1:])),
        drop_axis=1 if probe.ndim == 1 else None,
        # Quantile predictions of several targets: (rows, targets, levels).
        new_axis=list(range(2, probe.ndim)) or None,
        meta=probe[:0],
    )
