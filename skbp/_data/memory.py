"""One fit's batches: what they share, worked out once, and the step itself.

Bookkeeping only, like the rest of the estimator code: the math of a step is
:func:`skbp.core.backprop` and the optimizer's ``update``.
"""

import numpy as np
from sklearn.utils import gen_batches

from ..core import backprop, device, get_namespace, to_numpy

__all__ = ["TrainingStep"]


class TrainingStep:
    """Everything one fit's batches share, worked out once per fit.

    Bookkeeping only: the batches (from :func:`sklearn.utils.gen_batches`),
    buffers to gather shuffled rows into, the activation and loss objects,
    and the flat parameter and gradient vectors the optimizer steps. The
    math is :func:`skbp.core.backprop` and the optimizer's ``update``. It
    is given what a step needs, not the estimator: an optimizer, ``alpha``
    and a dropout-mask function can train a network without one.

    The optimizer pairs ``flat_params`` with ``workspace.flat_grads`` element
    by element: both must be in ``workspace.layout``. The step reads the
    weights through that layout's views of ``flat_params`` (the estimator's
    ``coefs_`` and ``intercepts_`` are views of it too).

    Parameters
    ----------
    flat_params : ndarray of shape (n_parameters,)
        The weights then biases, in ``workspace.layout``; updated in place.
    workspace : Workspace
        Buffers for batches of up to ``batch_size`` rows, with the flat
        gradient vector ``workspace.flat_grads``.
    train : tuple (X, Y, sample_weight)
        ``X`` of shape (n_samples, n_features) (ndarray or sparse matrix),
        ``Y`` of shape (n_samples, n_outputs), ``sample_weight`` of shape
        (n_samples,) or None.
    batch_size : int
    activations : list of Activation
        One per layer, the output layer's last.
    loss : Loss
        The output loss.
    optimizer : Optimizer
        Its ``update`` steps ``[flat_params]`` with ``[workspace.flat_grads]``.
    alpha : float
        L2 penalty.
    dropout_masks : callable or None, default=None
        ``dropout_masks(X, rows)`` returns the masks of a batch ``X`` (the
        training data's ``rows``: a slice or numpy indices) of shape
        ``(n_batch, n_features)`` in :func:`skbp.core.backprop`'s format, a
        fresh draw on each call; None without dropout.
    """

    def __init__(
        self,
        flat_params,
        workspace,
        train,
        batch_size,
        *,
        activations,
        loss,
        optimizer,
        alpha,
        dropout_masks=None,
    ):
        self.X, self.Y, self.sample_weight = train
        self.n_samples = self.X.shape[0]
        self.batches = list(gen_batches(self.n_samples, batch_size))
        self._order = None  # the last epoch's order of the rows
        self.workspace = workspace
        self.activations = activations
        self.loss = loss
        self.optimizer = optimizer
        self.alpha = alpha
        self.dropout_masks = dropout_masks
        if flat_params.shape != workspace.flat_grads.shape:
            raise ValueError(
                f"flat_params has shape {flat_params.shape}, not the layout "
                f"{workspace.layout!r} of the gradients it is stepped with."
            )
        self.coefs, self.intercepts = workspace.layout.views(flat_params)
        self.params, self.grads = [flat_params], [workspace.flat_grads]
        # Arrays of another library (a GPU's) are gathered there by take;
        # the zero-weight checks read a host copy of the weights, so that no
        # batch waits for the device.
        self.on_host = isinstance(self.Y, np.ndarray)
        self.host_weight = self.sample_weight
        if not self.on_host:
            self.xp, self.device = get_namespace(self.Y), device(self.Y)
            if self.sample_weight is not None:
                self.host_weight = to_numpy(self.sample_weight)
            return
        # Shuffled batches are gathered into these (np.take with out=):
        # no new array per batch. Sparse X is gathered by scipy.
        self.X_buffer = None
        if isinstance(self.X, np.ndarray):
            self.X_buffer = np.empty((batch_size, self.X.shape[1]), self.X.dtype)
        self.Y_buffer = np.empty((batch_size, self.Y.shape[1]), self.Y.dtype)

    def _gather(self, rows, weight):
        """``X``, ``Y`` and the weights of the batch ``rows`` (numpy
        indices; on a device, the same indices there). ``weight`` is the
        batch's weights on the host, or None."""
        if not self.on_host:
            take = self.xp.take
            if weight is not None:
                weight = take(self.sample_weight, rows, axis=0)
            return take(self.X, rows, axis=0), take(self.Y, rows, axis=0), weight
        m = len(rows)
        if self.X_buffer is None:
            X = self.X[rows]
        else:
            X = np.take(self.X, rows, axis=0, out=self.X_buffer[:m])
        return X, np.take(self.Y, rows, axis=0, out=self.Y_buffer[:m]), weight

    def epoch_order(self, random_state):
        """The rows' order for the next epoch, drawn from ``random_state``.

        Indices are shuffled, not the data: no copy of ``X`` per epoch. Each
        epoch reshuffles the last order in place, as scikit-learn does;
        shuffling in place draws the same permutation as
        ``sklearn.utils.shuffle(order)`` without its two copies.
        """
        if self._order is None:
            self._order = np.arange(self.n_samples)
        random_state.shuffle(self._order)
        return self._order

    def run_epoch(self, order, check_first_loss=None):
        """One pass over the rows; the mean batch loss, a float.

        Parameters
        ----------
        order : ndarray of shape (n_samples,) or None
            The rows' order (numpy indices) when shuffling, else None.
        check_first_loss : callable, default=None
            Called with the loss of the epoch's first batch (of non-zero
            weight), computed at the weights the epoch starts from; it may
            raise to end the epoch there.
        """
        total_loss, total_weight = 0.0, 0.0
        device_order = order
        if order is not None and not self.on_host:
            device_order = self.xp.asarray(order, device=self.device)  # once
        for batch in self.batches:
            rows = batch if order is None else order[batch]
            weight = None if self.host_weight is None else self.host_weight[rows]
            batch_weight = batch.stop - batch.start if weight is None else weight.sum()
            if batch_weight == 0:
                continue  # rows of zero weight carry no gradient
            if order is None:  # views: no copy
                X, Y = self.X[batch], self.Y[batch]
                if weight is not None and not self.on_host:  # the device's
                    weight = self.sample_weight[batch]
            else:
                X, Y, weight = self._gather(device_order[batch], weight)
            batch_loss = self.step(X, Y, weight, rows)
            if check_first_loss is not None:
                # On a device this waits for the batch: once, not per batch.
                check_first_loss(batch_loss)
                check_first_loss = None
            # As scikit-learn: batch losses averaged by batch size, so that
            # tol and n_iter_no_change read the same numbers. On a device the
            # sum stays there until the epoch ends.
            total_loss += batch_loss * (batch.stop - batch.start)
            total_weight += batch_weight
        if total_weight == 0:
            raise ValueError("Every training row has a sample_weight of zero.")
        return float(total_loss) / self.n_samples

    def step(self, X, Y, sample_weight, rows=None):
        """Backprop on one batch, then one optimizer step; returns the loss.

        ``X`` of shape (n_batch, n_features), ``Y`` of shape (n_batch,
        n_outputs), ``sample_weight`` of shape (n_batch,) or None; ``rows``
        (a slice or numpy indices) says which rows of the training data
        they are, for the dropout masks.
        """
        masks = self.dropout_masks
        loss, _, _ = backprop(
            X,
            Y,
            self.coefs,
            self.intercepts,
            self.activations,
            self.loss,
            self.alpha,
            sample_weight,
            self.workspace,
            dropout_masks=None if masks is None else masks(X, rows),
        )
        # The gradients are recomputed for every batch: the step may use
        # them as working memory (no optimizer scratch the size of the model).
        self.optimizer.update(self.params, self.grads, overwrite_grads=True)
        return loss
