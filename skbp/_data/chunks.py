r"""Stochastic solvers on rows in chunks: synchronous data-parallel steps.

The rows are the row blocks ("chunks") of Dask arrays, each kept on one
worker for the whole fit (:mod:`skbp._data.dask`). One optimizer step is
minibatch SGD (or Adam) on a global batch of ``batch_size`` rows drawn from
every chunk (synchronous gradient averaging: Dean et al., 2012; Goyal et
al., 2017, "Accurate, Large Minibatch SGD"):

1. the weights go to the workers with the step's tasks;
2. each chunk :math:`c` returns the sums :math:`S_c`, :math:`S_c J_c`,
   :math:`S_c \nabla J_c` of its share of the batch (:func:`batch_sums`:
   the core's :func:`~skbp.core.backprop` on those rows, without the L2
   term, dropout included);
3. the sums are added in a tree of tasks on the workers
   (:func:`~skbp._data.workers.tree_sum`), in an order fixed by the chunks;
4. this process divides by :math:`S = \sum_c S_c`, adds the L2 term once
   (:func:`~skbp._data.workers.mean_with_l2`: the batch loss that
   :func:`~skbp.core.backprop` gives the batch's rows in memory), and the
   optimizer (:mod:`skbp.core.optimizers`) steps the weights.

The batches (:func:`batch_shares`): each epoch, each chunk's rows are put
in an order of their own, drawn on its worker (:func:`shuffled_rows`); the
chunks' rows are then merged as if they were dealt out at even intervals,
and the merged sequence is cut into batches of ``batch_size`` rows, as in
memory. Each batch takes from each chunk its proportional share of rows,
rounded to a neighbouring integer, and every row once per epoch.

Early stopping's validation rows are drawn per chunk (:func:`split_chunk`)
and stay on the workers; the validation loss and score are sums over
them (:class:`ChunkedHeldOut`, scored by :mod:`skbp._data.scores`).

The task functions (and the score objects' ``sums``) run on the workers,
the rest on this process.
"""

import math
from typing import NamedTuple

import numpy as np

from ..core import dropout_masks, forward_loss, row_keys
from .rows import HeldOutRows
from .workers import chunk_sums, mean_with_l2, tree_sum

__all__ = [
    "TrainingChunk",
    "DropoutDraw",
    "batch_shares",
    "validation_sizes",
    "split_chunk",
    "ChunkedTrainingStep",
    "ChunkedHeldOut",
]


class TrainingChunk(NamedTuple):
    """One chunk's training rows, as this process knows them.

    ``data`` is a handle of the chunk's ``(X, Y, sample_weight)`` on its
    worker; ``rows`` one of the indices of its training rows (None: all);
    ``n_rows`` their number; ``keys`` a handle of the rows' dropout keys
    (:func:`~skbp.core.row_keys`), None without dropout.
    """

    data: object
    rows: object
    n_rows: int
    keys: object = None


class DropoutDraw(NamedTuple):
    """The dropout masks of a batch's rows, drawn where the rows are: those
    the fit in memory would draw for the same rows at the same step
    (:func:`~skbp.core.dropout_masks`)."""

    hidden_units: list
    rates: list
    seed: int
    dtype: object

    def masks(self, keys, step):
        """The masks of rows of ``keys`` at training step ``step``."""
        return dropout_masks(
            keys, self.hidden_units, self.rates, self.seed, step, self.dtype
        )


# ----------------------------------------------------------------------
# The batches of an epoch
# ----------------------------------------------------------------------
def batch_shares(sizes, batch_size):
    r"""Each batch's rows from each chunk, for one epoch.

    Row :math:`j` (0-based, in its chunk's epoch order) of chunk :math:`c`
    of :math:`n_c` rows gets the time :math:`(j + \frac12) / n_c` (a
    float64 division); all the rows are merged by time, ties in chunk
    order, and the merged sequence is cut into batches of ``batch_size``
    rows (the last one: the rest). So a batch takes from each chunk a
    contiguous run of its epoch order, and after :math:`p` merged rows a
    chunk has given its share :math:`p n_c / n` rounded to a neighbouring
    integer (the Sainte-Laguë/Webster apportionment of :math:`p` rows).

    Parameters
    ----------
    sizes : sequence of int
        :math:`n_c`, each chunk's number of rows (zeros allowed).
    batch_size : int

    Yields
    ------
    starts, stops : ndarray of shape (n_chunks,), int64
        A batch holds rows ``starts[c]:stops[c]`` of each chunk ``c``'s
        epoch order; ``ceil(n / batch_size)`` batches.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n, n_chunks = int(sizes.sum()), len(sizes)
    taken = np.zeros(n_chunks, dtype=np.int64)
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        # The m next rows of the merge span a time T with n T - C <= m <=
        # n T + C, and hold (n_c T - 1, n_c T + 1) rows of chunk c: so
        # between the bounds below (2 rows of slack for float rounding). The
        # rows under the lower bound are in the batch; the few between the
        # bounds are merged here: O(C) work and memory, whatever m.
        remaining = sizes - taken
        lower = np.minimum(np.maximum(((m - n_chunks) * sizes) // n - 2, 0), remaining)
        upper = np.minimum(2 + ((m + n_chunks) * sizes) // n, remaining)
        count = upper - lower
        chunk = np.repeat(np.arange(n_chunks), count)
        first = np.cumsum(count) - count
        j = (taken + lower)[chunk] + np.arange(len(chunk)) - first[chunk]
        times = (j + 0.5) / sizes[chunk]
        merged = np.lexsort((chunk, times))[: m - int(lower.sum())]
        stops = taken + lower + np.bincount(chunk[merged], minlength=n_chunks)
        yield taken, stops
        taken = stops


def shuffled_rows(data, rows, seed):
    """A chunk's training rows in an epoch's order (a task: on the worker).

    Parameters
    ----------
    data : tuple (X, Y, sample_weight)
        The chunk.
    rows : ndarray of shape (n_rows,) or None
        Its training rows (None: all of them).
    seed : sequence of int
        Of :func:`numpy.random.default_rng`: the epoch's seed, then the
        chunk's index.

    Returns
    -------
    ndarray of shape (n_rows,)
    """
    n = data[0].shape[0] if rows is None else len(rows)
    order = np.random.default_rng(seed).permutation(n)
    return order if rows is None else rows[order]


def batch_sums(data, order, start, stop, weights, network, keys, dropout, step):
    """A chunk's share of a batch: :func:`~skbp._data.workers.chunk_sums`
    on rows ``order[start:stop]`` of the chunk ``data`` (a task).

    ``order`` is None for the rows in their order; ``keys``, ``dropout``
    and ``step`` (:class:`DropoutDraw`) are None without dropout.
    """
    X, Y, sample_weight = data
    rows = slice(start, stop) if order is None else order[start:stop]
    if sample_weight is not None:
        sample_weight = sample_weight[rows]
    masks = None if dropout is None else dropout.masks(keys[rows], step)
    return chunk_sums(
        X[rows], Y[rows], sample_weight, weights, *network, dropout_masks=masks
    )


def chunk_row_keys(data, salt):
    """The dropout keys of a chunk's rows (a task)."""
    return row_keys(data[0], salt)


class ChunkedTrainingStep:
    """:class:`~skbp._data.memory.TrainingStep`'s counterpart for rows in
    chunks: one fit's epochs of synchronous data-parallel steps.

    Bookkeeping only: the math of a step is the chunks' sums
    (:func:`batch_sums`), :func:`~skbp._data.workers.mean_with_l2` and the
    optimizer's ``update``.

    Parameters
    ----------
    flat_params : ndarray of shape (n_parameters,)
        The weights then biases, in ``network.layout``; updated in place.
    workers : Workers
    chunks : list of TrainingChunk
    batch_size : int
        Rows per step, over all chunks.
    network : Network
    optimizer : Optimizer
        Its ``update`` steps ``[flat_params]``.
    alpha : float
        L2 penalty.
    dropout : DropoutDraw or None, default=None
    dropout_step : callable, optional
        Returns a fresh training step number for the masks at each call
        (with ``dropout``).
    """

    def __init__(
        self,
        flat_params,
        workers,
        chunks,
        batch_size,
        *,
        network,
        optimizer,
        alpha,
        dropout=None,
        dropout_step=None,
    ):
        self.flat = flat_params
        self.workers = workers
        self.chunks = chunks
        self.homes = workers.homes([chunk.data for chunk in chunks])
        self.sizes = [chunk.n_rows for chunk in chunks]
        self.n_samples = sum(self.sizes)
        self.batch_size = batch_size
        self.layout = network.layout
        self.coefs, self.intercepts = network.layout.views(flat_params)
        # Small: it travels inside each task, so a lost worker loses nothing
        # Dask cannot send again (see Workers.share).
        self.network = network
        self.optimizer = optimizer
        self.alpha = alpha
        self.dropout = dropout
        self.dropout_step = dropout_step

    def epoch_order(self, random_state):
        """The epoch's seed, from ``random_state``: each chunk's rows are
        put in an order drawn from it and the chunk's index."""
        return int(random_state.randint(np.iinfo(np.int32).max))

    def _orders(self, seed):
        """Each chunk's handle of its rows in the epoch's order (``seed``),
        or of its training rows in their order (None: all of them)."""
        if seed is None:
            return [chunk.rows for chunk in self.chunks]
        return [
            self.workers.keep(
                shuffled_rows, chunk.data, chunk.rows, (seed, index), home=home
            )
            if chunk.n_rows
            else None
            for index, (chunk, home) in enumerate(zip(self.chunks, self.homes))
        ]

    def run_epoch(self, order, check_first_loss=None):
        """One pass over the rows; the mean batch loss, a float.

        Parameters
        ----------
        order : int or None
            :meth:`epoch_order`'s seed when shuffling, else None.
        check_first_loss : callable, default=None
            As :meth:`TrainingStep.run_epoch
            <skbp._data.memory.TrainingStep.run_epoch>`'s: called with the
            loss of the epoch's first batch of non-zero weight.
        """
        orders = self._orders(order)
        total_loss, total_weight = 0.0, 0.0
        for starts, stops in batch_shares(self.sizes, self.batch_size):
            loss, weight = self.step(orders, starts, stops)
            if weight == 0:
                continue  # rows of zero weight carry no gradient
            if check_first_loss is not None:
                check_first_loss(loss)
                check_first_loss = None
            # As in memory: batch losses averaged by batch size.
            total_loss += loss * int((stops - starts).sum())
            total_weight += weight
        if total_weight == 0:
            raise ValueError("Every training row has a sample_weight of zero.")
        return total_loss / self.n_samples

    def step(self, orders, starts, stops):
        """One optimizer step on rows ``starts[c]:stops[c]`` of each chunk's
        order (``orders``); returns the batch's loss and total weight (no
        step for a batch of zero weight)."""
        workers = self.workers
        weights = workers.share(self.flat)
        step = None if self.dropout is None else self.dropout_step()
        parts = [
            workers.task(
                batch_sums,
                chunk.data,
                order,
                int(start),
                int(stop),
                weights,
                self.network,
                chunk.keys,
                self.dropout,
                step,
                home=home,
            )
            for chunk, home, order, start, stop in zip(
                self.chunks, self.homes, orders, starts, stops
            )
            if stop > start
        ]
        total, weighted_loss, weighted_grad = workers.value(tree_sum(workers, parts))
        if total == 0:
            return 0.0, 0.0
        loss, grad = mean_with_l2(
            total, weighted_loss, weighted_grad, self.coefs, self.layout, self.alpha
        )
        grad = grad.astype(self.flat.dtype, copy=False)
        self.optimizer.update([self.flat], [grad], overwrite_grads=True)
        return loss, total


# ----------------------------------------------------------------------
# Validation rows on the workers
# ----------------------------------------------------------------------
def validation_sizes(sizes, fraction):
    """Each chunk's number of validation rows: ``ceil(fraction * n_c)``, as
    :func:`~sklearn.model_selection.train_test_split` rounds its test size."""
    return [math.ceil(fraction * n) for n in sizes]


def split_chunk(data, n_val, seed, stratify):
    """A chunk's training rows and its validation chunk (a task).

    The rows are shuffled (``numpy.random.default_rng(seed)``), grouped by
    their target row when ``stratify`` (stable: shuffled within a class),
    and rows ``floor((i + 1/2) n / n_val)``, ``i < n_val``, of that order
    go to validation: evenly spaced, so that each class keeps its share of
    the chunk's validation rows give or take one.

    Parameters
    ----------
    data : tuple (X, Y, sample_weight)
        The chunk, of ``n`` rows.
    n_val : int
        At most ``n``.
    seed : sequence of int
    stratify : bool

    Returns
    -------
    rows : ndarray of shape (n - n_val,)
        The training rows, in their order.
    validation : tuple (X, Y, sample_weight)
        The validation rows (copies).
    """
    X, Y, sample_weight = data
    n = X.shape[0]
    order = np.random.default_rng(seed).permutation(n)
    if stratify and n:
        _, groups = np.unique(Y[order], axis=0, return_inverse=True)
        order = order[np.argsort(groups.ravel(), kind="stable")]
    picked = order[(2 * np.arange(n_val) + 1) * n // (2 * max(n_val, 1))]
    held_out = np.zeros(n, dtype=bool)
    held_out[picked] = True
    rows, val = np.flatnonzero(~held_out), np.flatnonzero(held_out)
    weight = None if sample_weight is None else sample_weight[val]
    return rows, (X[val], Y[val], weight)


def held_out_sums(data, weights, network, score):
    """A validation chunk's total weight, summed loss and score sums (a task).

    ``(S_c, S_c J_c, *score.sums(...))``: :math:`J_c` the weighted mean
    data loss of :func:`~skbp.core.forward_loss`.
    """
    X, Y, sample_weight = data
    total = float(X.shape[0] if sample_weight is None else np.sum(sample_weight))
    coefs, intercepts = network.layout.views(weights)
    output, loss = forward_loss(
        X,
        Y,
        coefs,
        intercepts,
        network.activations,
        network.loss,
        sample_weight if total else None,  # rows of zero weight add nothing
    )
    return (total, total * float(loss), *score.sums(output, Y, sample_weight))


class ChunkedHeldOut(HeldOutRows):
    """Validation rows in chunks on the workers, evaluated there each epoch.

    :meth:`evaluate` gives the validation loss (``validation_loss_curve_``)
    and score (accuracy, :math:`R^2`) of weights, from one tree of tasks.

    Parameters
    ----------
    workers : Workers
    chunks : list
        Handles of each validation chunk's ``(X, Y, sample_weight)`` (none
        empty).
    network : Network
    score : Accuracy or R2
        (:mod:`skbp._data.scores`).
    """

    def __init__(self, workers, chunks, network, score):
        self.workers = workers
        self.chunks = chunks
        self.layout = network.layout
        self.network = network  # inside each task, as in ChunkedTrainingStep
        self.score = score
        self.homes = workers.homes(chunks)
        score.prepare(workers, chunks)

    def evaluate(self, coefs, intercepts, scored=True):
        """The validation loss and score of ``coefs`` and ``intercepts``
        (the score's sums come with the loss's: one tree of tasks)."""
        workers = self.workers
        weights = workers.share(self.layout.pack(coefs, intercepts))
        parts = [
            workers.task(
                held_out_sums, chunk, weights, self.network, self.score, home=home
            )
            for chunk, home in zip(self.chunks, self.homes)
        ]
        total, weighted_loss, *sums = workers.value(tree_sum(workers, parts))
        score = self.score.value(total, sums) if scored else None
        return weighted_loss / total, score
