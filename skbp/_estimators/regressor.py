"""BPRegressor: a multi-layer perceptron regressor on the hand-written core."""

import functools

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_array, column_or_1d

from .._data.dask import dask_blocks
from .._data.scores import R2, NegativePinball
from .._engine.tasks import with_callbacks
from .._model.arrays import namespace_of
from .._model.quantiles import check_quantile, quantile_predictions
from .._model.rollback import keeps_fitted_state
from .._model.settings import check_finite_targets
from ..core import PinballLoss, PoissonLoss, get_loss
from .base import BaseBackprop
from .docstrings import (
    COMMON_ATTRIBUTES,
    COMMON_PARAMETERS,
    LOSS_CONSTANTS,
    REGRESSION_LOSS,
    REGRESSOR,
    constraints,
)
from .html_repr import DocLinkMixin


def target_matrix(y, dtype, nonnegative=False, n_levels=1):
    """The 2-D target matrix of validated regression targets.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Numeric and finite (``validate_data``'s ``y``), in any library.
    dtype : dtype
        The training data's float dtype, of ``y``'s library.
    nonnegative : bool, default=False
        Refuse negative targets (the Poisson loss's).
    n_levels : int, default=1
        Quantile levels per target (``loss='quantile'``): each target's
        column is repeated ``n_levels`` times, side by side, one per output
        column of the network (:mod:`skbp._model.quantiles`).

    Returns
    -------
    Y : ndarray of shape (n_samples, n_outputs * n_levels)
    """
    xp = namespace_of(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    if nonnegative and bool(xp.any(y < 0)):
        raise ValueError(
            "loss='poisson' requires non-negative targets; y has negative values."
        )
    Y = xp.reshape(y, (-1, 1)) if y.ndim == 1 else y
    if n_levels > 1:
        n, n_targets = Y.shape
        Y = xp.broadcast_to(Y[:, :, None], (n, n_targets, n_levels))
        Y = xp.reshape(Y, (n, n_targets * n_levels))
    return xp.astype(Y, dtype, copy=False)


@functools.lru_cache(maxsize=64)
def _pinball_loss(levels):
    """The pinball loss of checked ``levels``: made once per setting, as
    ``predict`` asks for the loss (its output activation) on every call."""
    return get_loss("quantile", quantile=levels)


class BPRegressor(DocLinkMixin, RegressorMixin, BaseBackprop):
    # Pickles and skops files name the public home, skbp.BPRegressor: it stays
    # where it is whatever the private modules' layout (numpy's set_module).
    __module__ = "skbp"

    __doc__ = f"""Multi-layer perceptron regressor trained by hand-written backprop.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    same parameters, attributes and methods.

    Parameters
    ----------
{REGRESSION_LOSS}
{COMMON_PARAMETERS}
{LOSS_CONSTANTS}
    Attributes
    ----------
{COMMON_ATTRIBUTES}
    See Also
    --------
    BPClassifier : The classifier.
    sklearn.neural_network.MLPRegressor : scikit-learn's implementation.

    Examples
    --------
    >>> import numpy as np
    >>> from skbp import BPRegressor
    >>> x = np.arange(0.0, 1.0, 0.01).reshape(-1, 1)
    >>> y = 20 * np.sin(2 * np.pi * x).ravel()
    >>> reg = BPRegressor(hidden_layer_sizes=(25,), activation="tanh",
    ...                   solver="lbfgs", max_iter=2000, random_state=0)
    >>> reg.fit(x, y).score(x, y) > 0.99
    True
    """

    _parameter_constraints: dict = {
        **BaseBackprop._parameter_constraints,
        **constraints(REGRESSOR),
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        restore_best_weights=False,
        progress=False,
        check_gradients=True,
        huber_delta=1.0,
        quantile=None,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.restore_best_weights = restore_best_weights
        self.progress = progress
        self.check_gradients = check_gradients
        self.huber_delta = huber_delta
        self.quantile = quantile

    # -- what BaseBackprop asks of an estimator ------------------------
    def _learn_targets(self, y, place, incremental):
        """Nothing to learn from numbers."""

    def _encoded(self, y, place, dtype):
        levels = self._levels()
        n_levels = len(levels) if isinstance(levels, tuple) else 1
        n_outputs = (1 if y.ndim == 1 else y.shape[1]) * n_levels
        nonnegative = isinstance(self._output_loss(), PoissonLoss)
        return place.encode(
            y, target_matrix, n_outputs, dtype, dtype, nonnegative, n_levels
        )

    def _out_activation(self):
        return self._output_loss().output_activation.name

    def _output_loss(self):
        if self.loss == "huber":
            return get_loss("huber", delta=self.huber_delta)
        if self.loss == "quantile":
            return _pinball_loss(self._levels())
        return get_loss(self.loss)

    def _levels(self):
        """The checked quantile levels with ``loss='quantile'`` (a float, or
        a tuple for a list), or those of a :class:`~skbp.core.PinballLoss`
        object given as ``loss``; None for the other losses."""
        if isinstance(self.loss, str):
            return check_quantile(self.quantile) if self.loss == "quantile" else None
        if isinstance(self.loss, PinballLoss):
            return self.loss.quantile
        return None

    def _scoring(self):
        loss = self._output_loss()
        if isinstance(loss, PinballLoss):  # R^2 would pull to the mean
            return NegativePinball(loss)
        return R2()

    @staticmethod
    def _one_column_as_1d(y_pred):
        return y_pred[:, 0] if y_pred.shape[1] == 1 else y_pred

    # -- public API ----------------------------------------------------
    @dask_blocks
    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values, in the dtype of the training data. With
            ``loss='quantile'`` and a list of levels, shape
            ``(n_samples, n_quantiles)`` for one target and
            ``(n_samples, n_targets, n_quantiles)`` for several, the levels
            in the order of ``quantile`` and sorted in each row (they never
            cross).
        """
        output = self._predict_raw(X, "predict")
        levels = self._levels()
        if isinstance(levels, tuple):
            return quantile_predictions(output, levels)
        return self._one_column_as_1d(output)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination :math:`R^2` of :meth:`predict` on ``X``.

        As for every scikit-learn regressor, whatever the loss. With
        ``loss='quantile'`` and a list of levels, the mean of the :math:`R^2`
        of each level's predictions against ``y`` (scikit-learn's
        ``'uniform_average'`` over those columns). To judge quantiles, use
        :func:`sklearn.metrics.mean_pinball_loss` with ``alpha`` set to the
        level, and the coverage of the predicted intervals.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_finite_targets(y, sample_weight)
        levels = self._levels()
        with np.errstate(over="ignore"):  # astronomically wrong predictions: -inf
            if not isinstance(levels, tuple):
                return super().score(X, y, sample_weight=sample_weight)
            # Every level's column against y (repeated), as the network
            # holds them: one (n_samples, n_targets * n_levels) matrix each.
            output = self._predict_raw(X, "score")
            predicted = quantile_predictions(output, levels)
            predicted = namespace_of(output).reshape(predicted, output.shape)
            y = check_array(y, ensure_2d=False, dtype="numeric")
            Y = target_matrix(y, predicted.dtype, n_levels=len(levels))
            return float(r2_score(Y, predicted, sample_weight=sample_weight))

    @keeps_fitted_state
    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None):
        """Update the network with one epoch over ``X`` and ``y``.

        With ``solver='lbfgs'``, one more L-BFGS run (up to ``max_iter``
        iterations) from the current weights, as scikit-learn's
        :class:`~sklearn.neural_network.MLPRegressor` does: what
        ``learning_curve(..., exploit_incremental_learning=True)`` needs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object

        Notes
        -----
        ``partial_fit`` takes no validation data: ``validation_loss_curve_``
        does not grow. Score held-out rows between calls, or give ``fit``
        its ``X_val`` and ``y_val``.
        """
        return self._partial_fit(X, y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
