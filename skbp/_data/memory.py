"""Rows in this process: numpy, or any array-API library on its device.

The memory placement of the data interface (:mod:`skbp._data.rows`):
:class:`MemoryPlacement` checks the input with ``validate_data`` and builds
targets and row weights; :class:`MemoryRows` gives the engine an epoch's
mini-batches (:class:`TrainingStep`), the full-batch loss for L-BFGS and
early stopping's split; :class:`MemoryHeldOut` scores validation rows.

Bookkeeping only, like the rest of the estimator code: the math of a step is
:func:`skbp.core.backprop` and the optimizer's ``update``.
"""

import numpy as np
import scipy.sparse
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d, validate_data

from .._model.arrays import (
    check_device_input,
    check_fitted_placement,
    float_dtypes,
    follow,
    host_dtype,
    placement,
    take_rows,
    to_host,
)
from .._model.settings import (
    check_finite_targets,
    check_sample_weight,
    check_validation_size,
    class_weight_rows,
)
from ..core import (
    Identity,
    Workspace,
    backprop,
    device,
    dropout_masks,
    forward_loss,
    namespace_of,
    row_keys,
    to_numpy,
)
from .rows import HeldOutRows, Placement, TrainingRows

__all__ = [
    "MemoryPlacement",
    "MemoryRows",
    "MemoryHeldOut",
    "TrainingStep",
    "check_data",
    "workspace_for",
    "mask_function",
]


def check_data(estimator, X, y="no_validation", *, reset, method="fit", **kwargs):
    """``validate_data`` (``kwargs`` go to it) with the array API's rules.

    ``X`` is kept in its own library's float dtypes, and must come from
    the library and device of the weights (except in ``fit``); float16
    and sparse arrays of other libraries than scipy are refused. ``y``
    is validated where the caller put it. Returns ``X``, or ``X, y`` when
    ``y`` is given.
    """
    where = placement(X)
    check_device_input(X, where)
    if method != "fit":
        check_fitted_placement(X, estimator, method)
    return validate_data(
        estimator,
        X,
        y,
        accept_sparse=["csr", "csc"],
        dtype=float_dtypes(where),
        reset=reset,
        **kwargs,
    )


def _layer_units(layout):
    """``[n_features, *hidden, n_outputs]`` of a parameter layout."""
    coef_shapes = layout.shapes[: layout.n_layers]
    return [coef_shapes[0][0], *(shape[1] for shape in coef_shapes)]


def workspace_for(network, max_rows, X, dropout=None):
    """Training buffers for batches of up to ``max_rows`` rows of ``X``, in
    its dtype, library and device.

    A layer's activation overwrites its ``Z`` where that is safe (see
    :class:`~skbp.core.Workspace`'s ``in_place``): where the derivative
    reads the output, and no dropout mask scales it.
    """
    activations = network.activations
    rates = dropout.rates if dropout is not None else [0] * (len(activations) - 1)
    in_place = [
        activation.derivative_from_output and not rate
        for activation, rate in zip(activations[:-1], rates)
    ]
    # An identity output is its pre-activation: nothing to keep apart.
    in_place.append(isinstance(activations[-1], Identity))
    return Workspace(
        _layer_units(network.layout),
        max_rows,
        X.dtype,
        in_place=in_place,
        like=None if isinstance(X, np.ndarray) else X,
    )


def mask_function(dropout, X_train=None):
    """The function drawing one training batch's dropout masks, or None.

    The function takes a batch ``X`` of shape ``(n_batch, n_features)``
    and, optionally, the batch's ``rows`` of ``X_train`` (a slice or numpy
    indices), and returns :func:`~skbp.core.dropout_masks`' list, one mask
    of shape ``(n_batch, n_units)`` per hidden layer (None at rate 0) and
    None for the output layer. Each call is a new training step, hence
    fresh masks (``dropout.next_step``).

    The masks hang on each row's key (:func:`~skbp.core.row_keys`), a
    hash of its values made on the host. With ``X_train``, every row is
    hashed once per fit, and a batch given its ``rows`` reads its keys:
    a GPU's batch never comes back to the host.
    """
    if dropout is None:
        return None
    salt = dropout.salt
    keys = None if X_train is None else row_keys(X_train, salt)

    def masks(X, rows=None):
        return dropout_masks(
            row_keys(X, salt) if rows is None or keys is None else keys[rows],
            dropout.hidden_units,
            dropout.rates,
            dropout.seed,
            dropout.next_step(),
            host_dtype(X.dtype),
            like=X,  # drawn in numpy, moved to X's library and device
        )

    return masks


class MemoryPlacement(Placement):
    """Rows in this process (numpy, or an array-API library's device)."""

    def checked(self, estimator, X, y, sample_weight, *, reset, labels):
        if not labels:  # targets follow X to its library and device
            (y,) = follow(placement(X), y)
        X, y = check_data(
            estimator, X, y, reset=reset, multi_output=True, y_numeric=not labels
        )
        if labels:
            # Labels live on the host (they may be strings): the binarizer
            # and the class weights work there, once per fit.
            y = to_host(y)
            if y.ndim == 2 and y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
        # Row weights are checked on the host, once per fit; training reads
        # them where X lives.
        return X, y, check_sample_weight(to_host(sample_weight), X)

    def label_sample(self, y):
        return y

    def is_multilabel(self, y):
        check_finite_targets(y)
        return type_of_target(y).startswith("multilabel")

    def encode(self, y, encode, n_outputs, dtype, *args):
        return encode(y, *args)

    def class_weighted(self, class_weight, Y, classes, sample_weight, multilabel):
        return class_weight_rows(
            class_weight, Y, classes, sample_weight, multilabel=multilabel
        )

    def rows(self, X, Y, sample_weight):
        where = placement(X)
        return MemoryRows(X, where.put(Y, X.dtype), where.put(sample_weight, X.dtype))

    def weights_like(self, X):
        return None if isinstance(X, np.ndarray) else X

    def head(self, X, Y, n_rows):
        return tuple(_host_float64(a[:n_rows, :]) for a in (X, Y))


def _host_float64(rows):
    """Rows of an array or sparse matrix as a dense float64 numpy array."""
    if scipy.sparse.issparse(rows):
        rows = rows.toarray()
    return np.array(to_numpy(rows), dtype=np.float64)


class MemoryRows(TrainingRows):
    """Training rows in this process.

    Parameters
    ----------
    X : array or sparse matrix of shape (n_samples, n_features)
    Y : array of shape (n_samples, n_outputs)
        The target matrix, where ``X`` lives.
    sample_weight : array of shape (n_samples,) or None
        Where ``X`` lives.
    """

    def __init__(self, X, Y, sample_weight):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.n_samples, self.dtype = X.shape[0], X.dtype

    def epochs(self, network, flat, optimizer, alpha, batch_size, dropout):
        return TrainingStep(
            flat,
            workspace_for(network, batch_size, self.X, dropout),
            (self.X, self.Y, self.sample_weight),
            batch_size,
            activations=network.activations,
            loss=network.loss,
            optimizer=optimizer,
            alpha=alpha,
            dropout_masks=mask_function(dropout, self.X),
        )

    def loss_function(self, network, alpha):
        X, Y, sample_weight = self.X, self.Y, self.sample_weight
        activations, loss = network.activations, network.loss
        workspace = workspace_for(network, self.n_samples, X)
        xp = namespace_of(Y)  # once per fit, not once per evaluation

        def evaluate(coefs, intercepts):
            return backprop(
                X,
                Y,
                coefs,
                intercepts,
                activations,
                loss,
                alpha,
                sample_weight,
                workspace,
                xp=xp,
            )

        return evaluate

    def split(self, fraction, random_state, stratified, network, score):
        # The rows train_test_split picks: it draws indices from the number
        # of rows and the labels, not the values. A device's Y holds
        # 0.0/1.0 floats: stratified by the same rows as bools.
        stratify = (to_host(self.Y) != 0) if stratified else None
        train_rows, val_rows = train_test_split(
            np.arange(self.n_samples),
            random_state=random_state,
            test_size=fraction,
            stratify=stratify,
        )
        check_validation_size(val_rows.shape[0])
        arrays = (self.X, self.Y, self.sample_weight)
        train = MemoryRows(*(take_rows(a, train_rows) for a in arrays))
        held_out = MemoryRows(*(take_rows(a, val_rows) for a in arrays))
        return train, held_out.held_out(network, score)

    def held_out(self, network, score):
        return MemoryHeldOut(self.X, self.Y, self.sample_weight, network, score)


class MemoryHeldOut(HeldOutRows):
    """Validation rows in this process, scored on the host.

    The loss is computed where the rows live; the score's sums read the
    output on the host (labels may be strings, and the sums are small).
    """

    def __init__(self, X, Y, sample_weight, network, score):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.network, self.score = network, score
        self.host_Y, self.host_weight = to_host(Y), to_host(sample_weight)
        self.total = float(
            Y.shape[0] if self.host_weight is None else np.sum(self.host_weight)
        )
        score.prepare_rows(self.host_Y, self.host_weight)

    def evaluate(self, coefs, intercepts, scored=True):
        network = self.network
        output, loss = forward_loss(
            self.X,
            self.Y,
            coefs,
            intercepts,
            network.activations,
            network.loss,
            self.sample_weight,
        )
        if not scored:
            return float(loss), None
        sums = self.score.sums(to_host(output), self.host_Y, self.host_weight)
        return float(loss), self.score.value(self.total, sums)


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
        # The namespace is decided once per fit, not once per batch.
        self.xp = namespace_of(self.Y)
        if not self.on_host:
            self.device = device(self.Y)
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
            xp=self.xp,
        )
        # The gradients are recomputed for every batch: the step may use
        # them as working memory (no optimizer scratch the size of the model).
        self.optimizer.update(self.params, self.grads, overwrite_grads=True)
        return loss
