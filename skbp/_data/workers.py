r"""Data-parallel training: the loss summed over chunks, where they live.

The training rows are cut into chunks (the row blocks of Dask arrays), each
kept in the memory of one Dask worker for the whole fit. One evaluation of
the training loss for L-BFGS is a tree of tasks:

1. the weights go to the workers with the tasks (:meth:`Workers.share`);
2. each chunk :math:`c` returns its total row weight :math:`S_c` and its
   sums :math:`S_c J_c` and :math:`S_c \nabla J_c` (:func:`chunk_sums`:
   the core's :func:`~skbp.core.backprop` on the chunk, without the L2
   term), the weighted means of :func:`~skbp.core.backprop` times the
   weight they average over;
3. the sums are added in a tree of tasks on the workers
   (:func:`tree_sum`), a few chunks' at a time, so that the client
   receives one gradient, and no task more than a few;
4. the client divides the sums by :math:`S = \sum_c S_c` and adds the L2
   term once, with :math:`n = S` (:class:`ChunkedLoss`):

.. math:: J = \frac{\sum_c S_c J_c}{\sum_c S_c}
          + \frac{\alpha}{2 S} \sum_l \lVert W_l \rVert_F^2

which is :func:`~skbp.core.backprop`'s :math:`J` on all the rows at once:
the chunks only change the order of the additions. The tree's shape depends
on the number of chunks alone, so that a fit gives the same numbers on any
number of workers.

The stochastic solvers' steps are trees of the same kind, over each
chunk's share of a batch (:mod:`skbp._data.chunks`).

One evaluation is one graph of tasks, sent at once and computed to one
result (:meth:`Workers.task`, :meth:`Workers.value`): a single round trip
between this process and the scheduler. Each chunk has a task of its own
(not one task per worker for all its chunks): the additions then follow
the chunks, never the placement of the chunks on workers. Each chunk's
task runs on the worker holding the chunk (:meth:`Workers.homes`), so that
every worker computes its share of each step.

Without a ``distributed`` Client the same tasks run on Dask's local
scheduler, in this process (:class:`Workers`). Dask is imported here only
when used: skbp needs it for Dask input only.
"""

import collections
import contextlib
import functools
import math
import operator
import uuid
from concurrent.futures import CancelledError

import numpy as np

from ..core import add_l2_gradient, backprop, l2_penalty

__all__ = ["Workers", "ChunkedLoss", "chunk_sums", "tree_sum", "mean_with_l2"]

#: Weights up to this size (bytes) travel inside every task that reads
#: them; larger ones as one piece of data that each worker fetches once.
SHARED_INLINE_BYTES = 1 << 16


def _add(*parts):
    """Chunks' (or subtrees') sums added term by term, in the order given
    (into new arrays: a task's inputs are read again if Dask recomputes)."""
    return tuple(functools.reduce(operator.add, terms) for terms in zip(*parts))


def tree_sum(workers, parts, split_every=8):
    """Add ``parts`` in a tree of tasks of ``workers``.

    The first ``split_every`` parts are added by one task, the next
    ``split_every`` by another, ... then the same on their sums, up to one
    (as dask's tree reductions do). The order of the additions depends on
    ``len(parts)`` alone, not on where or when the parts are computed.

    Parameters
    ----------
    workers : Workers
    parts : list of tasks
        From :meth:`Workers.task`: tuples of numbers and arrays (the same
        structure in each); at least one.
    split_every : int, default=8
        The most parts one task adds (at least 2).

    Returns
    -------
    task
        The total (compute it with :meth:`Workers.value`).
    """
    while len(parts) > 1:
        groups = [parts[i : i + split_every] for i in range(0, len(parts), split_every)]
        parts = [
            workers.task(_add, *group) if len(group) > 1 else group[0]
            for group in groups
        ]
    return parts[0]


def chunk_sums(
    X, Y, sample_weight, flat_weights, layout, activations, loss, dropout_masks=None
):
    r"""One chunk's total weight :math:`S_c` and summed loss and gradient.

    Parameters
    ----------
    X : ndarray of shape (m, n_features)
    Y : ndarray of shape (m, n_outputs)
    sample_weight : ndarray of shape (m,) or None
        None weighs every row 1 (:math:`S_c = m`).
    flat_weights : ndarray of shape (n_parameters,)
        The network's weights and biases in ``layout``, in ``X``'s dtype.
    layout : ParameterLayout
    activations : list of Activation
    loss : Loss
    dropout_masks : list, optional
        The rows' dropout masks (:func:`~skbp.core.dropout_masks`).

    Returns
    -------
    S_c : float
    SJ_c : float
        :math:`S_c J_c`, the chunk's weighted data loss summed over its rows.
    Sgrad_c : ndarray of shape (n_parameters,), float64
        :math:`S_c \nabla J_c` in ``layout``.
    """
    m = X.shape[0]
    total = float(m if sample_weight is None else np.sum(sample_weight))
    if total == 0:  # an empty chunk, or one of weightless rows: adds nothing
        return 0.0, 0.0, np.zeros(layout.size)
    coefs, intercepts = layout.views(flat_weights)
    J, coef_grads, intercept_grads = backprop(
        X,
        Y,
        coefs,
        intercepts,
        activations,
        loss,
        0.0,
        sample_weight,
        dropout_masks=dropout_masks,
    )
    grad = layout.pack(coef_grads, intercept_grads, dtype=np.float64)
    return total, total * float(J), total * grad


def mean_with_l2(total, weighted_loss, weighted_grad, coefs, layout, alpha):
    r"""The loss and gradient of rows from their chunks' sums, L2 term added.

    .. math:: J = \frac{\sum_c S_c J_c}{S}
              + \frac{\alpha}{2 S} \sum_l \lVert W_l \rVert_F^2,
              \qquad \nabla J = \frac{\sum_c S_c \nabla J_c}{S}
              + \frac{\alpha}{S} W, \qquad S = \sum_c S_c

    :func:`~skbp.core.backprop`'s :math:`J` on the rows at once.

    Parameters
    ----------
    total : float
        :math:`S`, positive.
    weighted_loss : float
        :math:`\sum_c S_c J_c`.
    weighted_grad : ndarray of shape (n_parameters,), float64
        :math:`\sum_c S_c \nabla J_c`, in ``layout``; overwritten.
    coefs : list of ndarray of shape (n_in, n_out)
        The weights the sums were computed at.
    layout : ParameterLayout
    alpha : float

    Returns
    -------
    J : float
    grad : ndarray of shape (n_parameters,), float64
        ``weighted_grad``, now :math:`\nabla J` in ``layout``.
    """
    grad = weighted_grad
    grad /= total
    coef_grads, _ = layout.views(grad)
    add_l2_gradient(coef_grads, coefs, alpha, total)
    return weighted_loss / total + l2_penalty(coefs, alpha, total), grad


class ChunkedLoss:
    """The training loss of rows held in chunks, and its gradient.

    Made once per fit; each call is one evaluation, a tree of tasks (see
    the module's description). What :func:`~skbp.core.minimize_lbfgs`
    needs, as :func:`~skbp.core.backprop` gives it for rows in memory.

    Parameters
    ----------
    workers : Workers
    chunks : list of tuple
        One ``(X_c, Y_c, sample_weight_c)`` per chunk: handles of
        ``workers`` (:meth:`Workers.blocks`).
    layout : ParameterLayout
        The network's.
    activations : list of Activation
    loss : Loss
    alpha : float
        L2 penalty strength.
    """

    def __init__(self, workers, chunks, layout, activations, loss, alpha):
        self.workers = workers
        self.chunks = chunks
        self.homes = workers.homes([chunk[0] for chunk in chunks])
        self.layout = layout
        self.activations = activations
        self.loss = loss
        self.alpha = alpha

    def __call__(self, coefs, intercepts):
        """:math:`J` and its gradient at ``coefs`` and ``intercepts``.

        Parameters
        ----------
        coefs : list of ndarray of shape (n_in, n_out)
        intercepts : list of ndarray of shape (n_out,)
            In the training data's dtype.

        Returns
        -------
        J : float
        coef_grads, intercept_grads : lists of ndarray, float64
        """
        weights = self.workers.share(self.layout.pack(coefs, intercepts))
        parts = [
            self.workers.task(
                chunk_sums,
                *chunk,
                weights,
                self.layout,
                self.activations,
                self.loss,
                home=home,
            )
            for chunk, home in zip(self.chunks, self.homes)
        ]
        total, weighted_loss, weighted_grad = self.workers.value(
            tree_sum(self.workers, parts)
        )
        J, grad = mean_with_l2(
            total, weighted_loss, weighted_grad, coefs, self.layout, self.alpha
        )
        coef_grads, intercept_grads = self.layout.views(grad)
        return J, coef_grads, intercept_grads


class Workers:
    """Where the chunks live and their tasks run.

    The workers of a ``distributed`` Client, or, with ``client=None``,
    Dask's local scheduler in this process (its default one, threads
    unless configured otherwise). Handles of kept data (chunks, and what
    :meth:`keep` makes) are futures on a cluster and the values themselves
    locally; tasks (:meth:`task`) are ``dask.delayed`` objects, computed a
    graph at a time by :meth:`value`.

    Parameters
    ----------
    client : distributed.Client or None
    """

    def __init__(self, client=None):
        self.client = client

    @classmethod
    def active(cls):
        """The current Client's workers (``Client.current()``: the default
        client, or the one of a ``client.as_current()`` block), or the local
        scheduler without one (or without ``distributed`` installed)."""
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - dask without distributed
            return cls(None)
        try:
            return cls(Client.current())
        except ValueError:  # "No clients found"
            return cls(None)

    def persist(self, *arrays):
        """Compute Dask ``arrays`` (None passes through) and keep their
        chunks where they are computed; errors raised in their tasks are
        raised here.

        Returns
        -------
        tuple of dask.array.Array
            The arrays, backed by the kept chunks.
        """
        import dask

        given = [a for a in arrays if a is not None]
        if self.client is None:
            kept = iter(dask.persist(*given))
        else:
            from distributed import futures_of

            kept = self.client.persist(given)
            self._wait(futures_of(kept))
            kept = iter(kept)
        return tuple(None if a is None else next(kept) for a in arrays)

    def _wait(self, futures):
        """Wait for ``futures``; the error of a task that failed is raised
        here (the client's own loop: it need not be the default client)."""
        from distributed import as_completed

        for future in as_completed(futures, loop=self.client.loop):
            if future.status in ("error", "cancelled"):
                with _losses_explained():
                    future.result()  # raises the task's exception

    def compute(self, *values):
        """Dask collections' values, brought to this process (small ones:
        labels, sums)."""
        import dask

        if self.client is None:
            return dask.compute(*values)
        with _losses_explained():
            return tuple(self.client.compute(list(values), sync=True))

    def blocks(self, array, n_blocks):
        """A handle of each row block of a kept ``array``.

        Parameters
        ----------
        array : dask.array.Array or None
            Kept by :meth:`persist`; one block along every axis but the rows.
        n_blocks : int
            The number of row blocks: of Nones, for ``array=None``.

        Returns
        -------
        list
            Futures (a cluster) or numpy arrays (local), in row order.
        """
        if array is None:
            return [None] * n_blocks
        if self.client is None:
            return list(self.compute(*array.to_delayed().ravel()))
        from dask.core import flatten
        from distributed import futures_of

        futures = {future.key: future for future in futures_of(array)}
        return [futures[key] for key in flatten(array.__dask_keys__())]

    def share(self, array):
        """A numpy ``array`` for the tasks of one :meth:`value`: in each
        task when small (:data:`SHARED_INLINE_BYTES`), else one piece of
        the graph that each worker fetches once.

        Never scattered: the graph can always send it again, while a
        scattered value dies with its workers, and scattering with
        ``broadcast=True`` to a worker that has just died can hang
        (dask/distributed#5704)."""
        if self.client is None or array.nbytes <= SHARED_INLINE_BYTES:
            return array
        import dask

        return dask.delayed(array, name=f"weights-{uuid.uuid4()}")

    def homes(self, handles):
        """The worker on which to run the tasks of each kept handle.

        A step waits for its slowest worker, so that each worker must get
        its share of the chunks, and each chunk's tasks must run where the
        chunk is. Left to itself, the scheduler sends a task to whichever
        worker holding one of its inputs (the chunk, or the weights) is
        less busy at that moment: then the chunk is copied, a worker holds
        two copies and runs more than its share of every later step (on 2
        workers, 4.5 chunks of 8 instead of 4).

        A worker's share is the number of handles times its share of the
        cluster's threads, rounded up. Each handle goes to the least loaded
        of the workers holding it that are under their share; a handle
        whose holders all have theirs (the scheduler kept 5 chunks on one
        worker and 3 on the other) goes to the least loaded worker of all,
        whose first task fetches it: moved once, where a fit computes on
        it many times.

        Parameters
        ----------
        handles : list
            From :meth:`blocks` or :meth:`keep`; waited for.

        Returns
        -------
        list of str or None
            Worker addresses, for :meth:`task` and :meth:`keep`; Nones
            without a Client, or without workers.
        """
        if self.client is None:
            return [None] * len(handles)
        self._wait(handles)
        holders = self.client.who_has(handles)
        threads = self.client.nthreads()
        if not threads:  # no worker now: wherever the scheduler can
            return [None] * len(handles)
        share = {
            worker: math.ceil(len(handles) * n / sum(threads.values()))
            for worker, n in threads.items()
        }
        load = collections.Counter({worker: 0 for worker in sorted(threads)})
        homes = []
        for handle in handles:
            where = [w for w in sorted(holders.get(handle.key, ())) if w in share]
            open_ = [w for w in where if load[w] < share[w]]
            # Least loaded relative to its share; ties: the first address.
            home = min(open_ or load, key=lambda w: load[w] / share[w])
            load[home] += 1
            homes.append(home)
        return homes

    def keep(self, function, *args, home=None):
        """``function(*args)`` run where its arguments are (on ``home``, a
        worker of :meth:`homes`, if given), its result kept there: a handle
        for later tasks (computed now, locally)."""
        if self.client is None:
            return function(*args)
        return self.client.submit(function, *args, pure=False, **_on(home))

    def task(self, function, *args, home=None):
        """A lazy task ``function(*args)``, run on ``home`` (a worker of
        :meth:`homes`) if given: ``args`` may be handles and other tasks;
        :meth:`value` computes it."""
        import dask

        with dask.annotate(**_on(home)):
            return dask.delayed(function, pure=False)(*args)

    def value(self, task):
        """Compute a task and the tasks it reads (one graph, sent at once)
        and bring its value to this process."""
        if self.client is None:
            return task.compute()
        with _losses_explained():
            return self.client.compute(task, sync=True)


def _on(home):
    """The restriction of a task to run on worker ``home`` (none for None).

    Loose (``allow_other_workers``): should ``home`` die, the task runs
    elsewhere, on the chunk Dask computes again there, rather than wait
    for a worker that will not come back."""
    if home is None:
        return {}
    return {"workers": [home], "allow_other_workers": True}


@contextlib.contextmanager
def _losses_explained():
    """Dask cancels the tasks that read data it lost with a worker and
    cannot compute again (no source in the graph: data scattered from a
    client); its error names a task key. Say what happened instead."""
    try:
        yield
    except CancelledError as exc:
        raise RuntimeError(
            "A Dask worker was lost with data Dask cannot compute again (a chunk "
            "with no source in the task graph, such as data scattered from a "
            f"client), and Dask cancelled the fit's tasks ({exc}). The estimator "
            "keeps the model it had before this fit. Build the Dask arrays from a "
            "source (dask.array.from_array, from_zarr, ...), so that Dask computes "
            "lost chunks again."
        ) from exc
