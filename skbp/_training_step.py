"""One fit's batches: what they share, worked out once, and the step itself.

Bookkeeping only, like the rest of the estimator code: the math of a step is
:func:`skbp.core.backprop` and the optimizer's ``update``.
"""

import numpy as np
from sklearn.utils import gen_batches

from ._validation import check_dropout
from .core import backprop

__all__ = ["TrainingStep"]


class TrainingStep:
    """Everything one fit's batches share, worked out once per fit.

    Bookkeeping only: the batches (from :func:`sklearn.utils.gen_batches`),
    buffers to gather shuffled rows into, the activation and loss objects,
    and the flat parameter and gradient vectors the optimizer steps. The
    math is :func:`skbp.core.backprop` and the optimizer's ``update``.

    The optimizer pairs ``flat_params`` with ``workspace.flat_grads`` element
    by element: both must be in ``workspace.layout`` (the estimator's
    ``coefs_`` and ``intercepts_`` are then that layout's views of
    ``flat_params``).
    """

    def __init__(self, estimator, flat_params, workspace, train, batch_size):
        self.estimator = estimator
        self.X, self.Y, self.sample_weight = train
        self.batches = list(gen_batches(self.X.shape[0], batch_size))
        self.workspace = workspace
        self.activations = estimator._activations()
        self.loss = estimator._output_loss()
        self.dropout = any(check_dropout(estimator.dropout, len(self.activations) - 1))
        if flat_params.shape != workspace.flat_grads.shape:
            raise ValueError(
                f"flat_params has shape {flat_params.shape}, not the layout "
                f"{workspace.layout!r} of the gradients it is stepped with."
            )
        self.params, self.grads = [flat_params], [workspace.flat_grads]
        # Shuffled batches are gathered into these (np.take with out=):
        # no new array per batch. Sparse X is gathered by scipy.
        self.X_buffer = None
        if isinstance(self.X, np.ndarray):
            self.X_buffer = np.empty((batch_size, self.X.shape[1]), self.X.dtype)
        self.Y_buffer = np.empty((batch_size, self.Y.shape[1]), self.Y.dtype)

    def _gather(self, rows):
        m = len(rows)
        if self.X_buffer is None:
            X = self.X[rows]
        else:
            X = np.take(self.X, rows, axis=0, out=self.X_buffer[:m])
        return X, np.take(self.Y, rows, axis=0, out=self.Y_buffer[:m])

    def run_epoch(self, order):
        """One pass over the rows (in ``order`` when shuffling); mean loss."""
        total_loss, total_weight = 0.0, 0.0
        for batch in self.batches:
            rows = batch if order is None else order[batch]
            weight = None if self.sample_weight is None else self.sample_weight[rows]
            batch_weight = batch.stop - batch.start if weight is None else weight.sum()
            if batch_weight == 0:
                continue  # rows of zero weight carry no gradient
            if order is None:
                X, Y = self.X[batch], self.Y[batch]  # views: no copy
            else:
                X, Y = self._gather(rows)
            batch_loss = self.step(X, Y, weight)
            # As scikit-learn: batch losses averaged by batch size, so that
            # tol and n_iter_no_change read the same numbers.
            total_loss += batch_loss * (batch.stop - batch.start)
            total_weight += batch_weight
        if total_weight == 0:
            raise ValueError("Every training row has a sample_weight of zero.")
        return total_loss / self.X.shape[0]

    def step(self, X, Y, sample_weight):
        """Backprop on one batch, then one optimizer step; returns the loss."""
        est = self.estimator
        loss, _, _ = backprop(
            X,
            Y,
            est.coefs_,
            est.intercepts_,
            self.activations,
            self.loss,
            est.alpha,
            sample_weight,
            self.workspace,
            dropout_masks=est._dropout_masks(X) if self.dropout else None,
        )
        # The gradients are recomputed for every batch: the step may use
        # them as working memory (no optimizer scratch the size of the model).
        est._optimizer.update(self.params, self.grads, overwrite_grads=True)
        return loss
