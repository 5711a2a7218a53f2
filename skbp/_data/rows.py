"""The data interface: what the engine asks of the rows, wherever they live.

One implementation per placement (:mod:`skbp._data.memory`: this process,
numpy or any array-API library on its device; :mod:`skbp._data.dask`: the
chunks of Dask arrays on their workers). :func:`skbp._data.placement_of`
picks it once per fit, from ``X``; nothing else tests where the rows are.

A fit goes through three objects:

- a :class:`Placement` checks the raw input and builds targets and row
  weights where the rows are (the estimators say *what* to encode and
  weigh; the placement says *where*), then hands over
- :class:`TrainingRows`: the batches of an epoch (:meth:`~TrainingRows.epochs`),
  the loss and gradient for L-BFGS (:meth:`~TrainingRows.loss_function`)
  and early stopping's split (:meth:`~TrainingRows.split`), which gives
- :class:`HeldOutRows`: the validation loss and score of weights.

The network travels as a :class:`Network` (the layout, activations and
loss: small objects, sent inside each Dask task), dropout as a
:class:`Dropout` description.
"""

import contextlib
from abc import ABC, abstractmethod
from typing import NamedTuple

__all__ = ["Network", "Dropout", "Placement", "TrainingRows", "HeldOutRows"]


class Network(NamedTuple):
    """What training needs of the network besides its weights.

    Attributes
    ----------
    layout : ParameterLayout
        Where each layer's weights sit in the flat parameter vector.
    activations : list of Activation
        One per layer, the output layer's last.
    loss : Loss
        The output loss.
    """

    layout: object
    activations: list
    loss: object


class Dropout(NamedTuple):
    """One fit's dropout: rates and the seeds the masks are drawn from.

    Attributes
    ----------
    hidden_units : list of int
        The width of each hidden layer.
    rates : list of float
        Each hidden layer's dropout rate.
    seed : int
        The estimator's dropout seed.
    salt : ndarray of shape (n_features,), uint64
        The rows' hash salt (:func:`~skbp.core.row_keys`), on the host.
    next_step : callable
        ``next_step() -> int``: the training step number of the next masks
        (each step draws fresh ones; kept by the estimator, across
        ``partial_fit`` calls and pickles).
    """

    hidden_units: list
    rates: list
    seed: int
    salt: object
    next_step: object


class HeldOutRows(ABC):
    """Validation rows, where they live; scored each step."""

    @abstractmethod
    def evaluate(self, coefs, intercepts, scored=True):
        """The validation loss and score of weights.

        Parameters
        ----------
        coefs, intercepts : lists of arrays
            The network's weights, where the model lives.
        scored : bool, default=True
            Whether the score is wanted (early stopping); else it is None.

        Returns
        -------
        loss : float
            The weighted mean data loss (``validation_loss_curve_``).
        score : float or None
            Accuracy or :math:`R^2`; NaN for a network that diverged.
        """


class TrainingRows(ABC):
    """One fit's training rows, where they live.

    Attributes
    ----------
    n_samples : int
        Rows to train on.
    dtype : dtype
        The training float dtype (of any array library).
    """

    n_samples: int
    dtype: object

    @abstractmethod
    def epochs(self, network, flat, optimizer, alpha, batch_size, dropout):
        """The epochs of a stochastic solver on these rows.

        Parameters
        ----------
        network : Network
        flat : array of shape (n_parameters,)
            The weights in ``network.layout``, stepped in place.
        optimizer : Optimizer
        alpha : float
        batch_size : int
        dropout : Dropout or None

        Returns
        -------
        object
            With ``n_samples``, ``epoch_order(random_state)`` and
            ``run_epoch(order, check_first_loss=None) -> float``.
        """

    @abstractmethod
    def loss_function(self, network, alpha):
        """``(coefs, intercepts) -> (J, coef_grads, intercept_grads)``: the
        training loss and its gradients on these rows (L-BFGS)."""

    @abstractmethod
    def split(self, fraction, random_state, stratified):
        """Early stopping's split: ``(TrainingRows, HeldOutRows)``.

        Parameters
        ----------
        fraction : float
            ``validation_fraction``.
        random_state : RandomState
        stratified : bool
            Split each class in proportion (single-label classifiers).
        """

    @abstractmethod
    def held_out(self, network, score):
        """These rows as validation rows (:class:`HeldOutRows`) of
        ``network``, scored by ``score`` (an :mod:`skbp._data.scores`
        object)."""


class Placement(ABC):
    """Where a fit's rows live: the checks and encodings done there."""

    @abstractmethod
    def checked(self, estimator, X, y, sample_weight, *, reset, labels):
        """``X``, ``y`` and ``sample_weight`` checked, where they will train.

        Sets ``n_features_in_`` (and ``feature_names_in_``) on
        ``estimator`` when ``reset``, as ``validate_data`` does. ``labels``:
        ``y`` holds class labels (they go to the host, where the label
        bookkeeping is done), else numbers (they follow ``X``).

        Returns ``X`` (in its float training dtype), ``y`` and the row
        weights (None: equal).
        """

    @abstractmethod
    def label_sample(self, y):
        """What a label binarizer learns the classes from: ``y`` itself in
        memory, its distinct values for rows elsewhere."""

    @abstractmethod
    def is_multilabel(self, y):
        """Whether the raw labels ``y`` are a multilabel indicator matrix
        (checked finite first, where that needs no pass over the rows)."""

    @abstractmethod
    def encode(self, y, encode, n_outputs, dtype, *args):
        """The target matrix ``encode(y, *args)`` of shape (n_samples,
        n_outputs), built where the rows are."""

    @abstractmethod
    def class_weighted(self, class_weight, Y, classes, sample_weight, multilabel):
        """Each row's class weight times its sample weight
        (:func:`~skbp._model.settings.class_weight_rows`'s rule)."""

    @abstractmethod
    def rows(self, X, Y, sample_weight):
        """The :class:`TrainingRows` of checked ``X``, ``Y`` and weights."""

    @abstractmethod
    def weights_like(self, X):
        """The ``like`` array fresh weights are moved to (None: numpy)."""

    @abstractmethod
    def head(self, X, Y, n_rows):
        """The first ``n_rows`` rows of checked ``X`` and of the target
        matrix ``Y``, as dense float64 numpy arrays on the host (the rows
        ``check_gradients`` checks a user's derivatives on)."""

    def fit_context(self):
        """A context around the solver (nothing by default)."""
        return contextlib.nullcontext()
