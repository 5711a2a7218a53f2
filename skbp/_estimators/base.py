"""What the two estimators share: validation, the network, fit's outline.

No math lives here (every forward/backward equation is in :mod:`skbp.core`)
and no loop (:mod:`skbp._engine.solvers`). ``fit`` = ask the placement of
``X`` (:mod:`skbp._data`) to check the input and build targets and row
weights -> build (or check) the network -> hand a
:class:`~skbp._engine.solvers.Fit` to the solver, whose engine tells its
listeners each step -> check the weights. See ``docs/architecture.rst``.
"""

import functools
from abc import ABC, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._data import Dropout, Network, placement_of
from .._data.memory import check_data
from .._engine.solvers import Fit, check_finite_weights, run_lbfgs, run_stochastic
from .._engine.stopping import check_stopping_state, init_stopping_state
from .._engine.tasks import (
    STEP_NAMES,
    CallbackSupportMixin,
    FitTasks,
    with_callbacks,
)
from .._model import moving
from .._model.arrays import (
    all_finite,
    host_dtype,
    placement,
)
from .._model.attributes import check_state_names, check_unpickled, short_message
from .._model.moving import converted, host_state, split_placement
from .._model.rollback import keeps_fitted_state
from .._model.settings import (
    check_dropout,
    check_hidden_activations,
    check_hidden_layer_sizes,
    check_output_loss,
    check_warm_start_shapes,
    init_factors,
)
from .._model.versioning import check_version, stamp_version, with_new_parameters
from ..core import (
    NUMPY,
    OPTIMIZERS,
    Activation,
    ParameterLayout,
    forward_output,
    get_activation,
    initialize_parameters,
    to_numpy,
)
from . import user_math
from .docstrings import COMMON, constraints
from .validation_data import split_validation, validation_arguments, validation_rows

_STOCHASTIC_SOLVERS = tuple(OPTIMIZERS)


@functools.lru_cache(maxsize=64)
def _hidden_activations(activation, n_hidden):
    """The checked activation objects of ``n_hidden`` hidden layers for the
    ``activation`` setting (names, objects, or a tuple mixing them). They
    hold no state, so they are made once per setting, not on every
    ``predict`` (a share of a one-row prediction); an object is used as it
    is (:func:`~skbp.core.get_activation`)."""
    entries = check_hidden_activations(activation, n_hidden)
    return tuple(get_activation(entry) for entry in entries)


def _hidden_of(activation, n_hidden):
    """The hidden layers' activation objects for the ``activation`` setting:
    cached for names, uncached when objects are given."""
    if isinstance(activation, str):
        return _hidden_activations(activation, n_hidden)
    if isinstance(activation, Activation) or not _all_names(activation):
        # Objects are used as they are, uncached: the model predicts with its
        # own (an equal one cached from another model would do, but a user's
        # object may be unhashable, or mutated since).
        return _hidden_activations.__wrapped__(activation, n_hidden)
    return _hidden_activations(tuple(activation), n_hidden)


def _all_names(activation):
    """Whether the ``activation`` setting is an iterable of names only."""
    try:
        return all(isinstance(entry, str) for entry in activation)
    except TypeError:  # not iterable: refused by the uncached check
        return False


class BaseBackprop(CallbackSupportMixin, BaseEstimator, ABC):
    """Base class of :class:`~skbp.BPRegressor` and :class:`~skbp.BPClassifier`.

    Not to be used directly.
    """

    _parameter_constraints: dict = constraints(COMMON)

    # ------------------------------------------------------------------
    # What each estimator defines
    # ------------------------------------------------------------------
    @abstractmethod
    def _output_loss(self):
        """The :class:`~skbp.core.Loss` of the fitted output layer."""

    @abstractmethod
    def _out_activation(self):
        """Name of the output activation for the targets seen at fit."""

    @abstractmethod
    def _learn_targets(self, y, place, incremental):
        """Learn what the targets ``y`` say about the network (the
        classifier's classes: learnt afresh, or checked against those known
        when ``incremental``), asking ``place`` (a
        :class:`~skbp._data.rows.Placement`) for what it needs of ``y``."""

    @abstractmethod
    def _encoded(self, y, place, dtype):
        """The 2-D target matrix of checked ``y``, built by ``place``
        (regression: floats in ``dtype``; classification: bool
        indicators)."""

    @abstractmethod
    def _scoring(self):
        """A fresh early-stopping score (:mod:`skbp._data.scores`)."""

    def _row_weights(self, Y, sample_weight, incremental, place):
        """Final training weights of the rows (the classifier multiplies
        in class weights, through ``place``)."""
        return sample_weight

    def _stratified(self):
        """Whether early stopping's split is stratified by class."""
        return False

    def _check_validation_labels(self, y_val):
        """Refuse validation targets the network has no output for."""

    # ------------------------------------------------------------------
    # The network
    # ------------------------------------------------------------------
    def _activations(self):
        """Activation objects of every layer, output layer last."""
        hidden = _hidden_of(self.activation, len(self.coefs_) - 1)
        return [*hidden, self._output_loss().output_activation]

    def _network(self):
        """The fitted network's :class:`~skbp._data.rows.Network`: the
        layout of its weights, its activations and its loss."""
        return Network(
            ParameterLayout.of(self.coefs_, self.intercepts_),
            self._activations(),
            self._output_loss(),
        )

    def _dropout(self):
        """This fit's :class:`~skbp._data.rows.Dropout`, or None without.

        Made once per fit: the rates are checked here, not on every batch,
        and a fit without dropout gets None, so that its batches pay nothing.
        """
        rates = check_dropout(self.dropout, len(self.coefs_) - 1)
        if not any(rates):
            return None
        return Dropout(
            [W.shape[1] for W in self.coefs_[:-1]],
            rates,
            self._dropout_seed,
            to_numpy(self._dropout_salt),  # once per fit: rows hash on the host
            self._next_dropout_step,
        )

    def _next_dropout_step(self):
        """The training step number of the next dropout masks (each step
        draws fresh ones); kept on the estimator, so that masks stay fresh
        across ``partial_fit`` calls and pickles."""
        step = self._dropout_step
        self._dropout_step += 1
        return step

    def _forward(self, X, xp=None):
        """Network output for already validated ``X``; writes nothing shared.
        ``xp``: ``X``'s namespace when the caller knows it."""
        return forward_output(
            X, self.coefs_, self.intercepts_, self._activations(), xp=xp
        )

    def _predict_raw(self, X, method="predict"):
        """Validate ``X`` and return the output layer's activations, in
        ``X``'s library and device (``method`` names the caller in errors)."""
        if not hasattr(self, "coefs_"):
            check_is_fitted(self)  # raises NotFittedError
        # Overflow is reported below by a clear ValueError (and inf - inf in
        # scikit-learn's finiteness check, a sum, is no warning either).
        with np.errstate(over="ignore", invalid="ignore"):
            if self._is_plain_input(X):  # numpy, checked: no dispatch
                output = self._forward(X, xp=NUMPY)
            else:
                X = check_data(self, X, reset=False, method=method)
                output = self._forward(X)
        if not all_finite(output):
            raise ValueError(
                "The network's output is not finite (it overflowed) for some rows "
                "of X: X holds values far beyond the training data's scale. Scale "
                "X as the training data was scaled."
            )
        return output

    @property
    def _fitted_array(self):
        """The first weight matrix: its library and device are the model's."""
        return self.coefs_[0]

    def _is_plain_input(self, X):
        """True for input ``validate_data`` would pass through unchanged.

        A finite 2-D float array of the fitted width, for a numpy model
        fitted without feature names. Checking that takes a few microseconds where
        ``validate_data`` takes tens, which is most of a one-row prediction;
        anything else (and every error) goes through ``validate_data``.
        """
        return (
            type(X) is np.ndarray
            and type(self.coefs_[0]) is np.ndarray  # a numpy model
            and X.ndim == 2
            and X.dtype in (np.float64, np.float32)
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            and bool(np.isfinite(X).all())
        )

    # ------------------------------------------------------------------
    # fit
    # ------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False, validation_data=None):
        """Train on ``X, y``; ``validation_data`` is ``fit``'s ``(X_val,
        y_val, sample_weight_val)`` or None."""
        given = (X, y, sample_weight)
        place = placement_of(X)  # the one question of where the rows live
        data = self._training_rows(place, X, y, sample_weight, incremental)
        network = self._network()
        held_out = None
        if validation_data is not None:
            held_out = validation_rows(
                self, *validation_data, placement(data.X), data.dtype
            )
            held_out = held_out.held_out(network, self._scoring())
        stochastic = self.solver in _STOCHASTIC_SOLVERS
        tasks = FitTasks(
            self,
            *given,
            name="partial_fit" if incremental else "fit",
            step_name=STEP_NAMES["stochastic" if stochastic else "lbfgs"],
            max_steps=1 if incremental and stochastic else self.max_iter,
        )
        tasks.begin()
        # A diverging fit overflows: it ends with the clear ValueError of
        # check_finite_weights (or the best weights), not numpy warnings.
        with (
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
            place.fit_context(),
        ):
            if stochastic:
                run_stochastic(
                    self,
                    self._stochastic_fit(data, network, held_out, tasks, incremental),
                )
            else:
                run_lbfgs(self, Fit(data, network, held_out, tasks, incremental))
        check_finite_weights(self)
        tasks.end()
        return self

    def _checked(self, place, X, y, sample_weight, incremental, reset):
        """``X``, the target matrix ``Y`` and the final row weights, checked
        and built by ``place`` (where the rows live)."""
        # Bad values get the checks' clear ValueErrors, not numpy warnings
        # (inf - inf in scikit-learn's finiteness sum, casts that overflow).
        with np.errstate(over="ignore", invalid="ignore"):
            X, y, sample_weight = place.checked(
                self, X, y, sample_weight, reset=reset, labels=is_classifier(self)
            )
            self._learn_targets(y, place, incremental)
            Y = self._encoded(y, place, X.dtype)
            sample_weight = self._row_weights(Y, sample_weight, incremental, place)
        return X, Y, sample_weight

    def _training_rows(self, place, X, y, sample_weight, incremental):
        """Validate everything and build (or check) the network; no training.

        Returns the :class:`~skbp._data.rows.TrainingRows` of the fit.
        """
        hidden_layer_sizes = check_hidden_layer_sizes(self.hidden_layer_sizes)
        rates = self._check_solver_settings(len(hidden_layer_sizes))
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, Y, sample_weight = self._checked(
            place, X, y, sample_weight, incremental, reset=first_pass
        )
        layer_units = [X.shape[1], *hidden_layer_sizes, Y.shape[1]]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(layer_units, X, place.weights_like(X))
        else:
            check_warm_start_shapes(self.coefs_, layer_units)
            check_stopping_state(self)
        if self.check_gradients and (first_pass or not incremental):
            # Once per fit (and first partial_fit), never per batch.
            user_math.check_estimator_math(self, place, X, Y)
        if any(rates) and getattr(self, "_dropout_seed", None) is None:
            self._draw_dropout_seed(X.shape[1], placement(X))
        return place.rows(X, Y, sample_weight)

    def _check_solver_settings(self, n_hidden):
        """The dropout rates, checked with the activations against the
        solver; returns the rates."""
        check_hidden_activations(self.activation, n_hidden)
        # The regressor's loss= (the classifier picks its own loss).
        check_output_loss(getattr(self, "loss", None))
        rates = check_dropout(self.dropout, n_hidden)
        if any(rates) and self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                "dropout makes the loss random, which L-BFGS's line search cannot "
                f"handle: use solver='sgd' or 'adam' with dropout={self.dropout!r}."
            )
        return rates

    def _draw_dropout_seed(self, n_features, where):
        """Draw the dropout seed and the rows' hash salt.

        Drawn only when dropout is on, so that without it the random stream
        (and every result) is scikit-learn's; drawn before any shuffling,
        whose use of the stream depends on n_samples.
        """
        salt = self._random_state.randint(
            0, 2**62, size=n_features, dtype=np.int64
        ).astype(np.uint64)
        # A fitted array, so it lives where the weights do (as scikit-learn's
        # array-API rules have it); hashed on the host.
        self._dropout_salt = where.put(salt)
        self._dropout_seed = int(self._random_state.randint(2**31))
        self._dropout_step = 0

    def _initialize(self, layer_units, X, like):
        """Draw fresh weights (in numpy, then moved to ``like``'s library
        and device: the same weights everywhere) and reset every fitted
        attribute."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = layer_units[-1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._out_activation()
        self.coefs_, self.intercepts_ = initialize_parameters(
            layer_units,
            self._random_state,
            host_dtype(X.dtype),
            init_factors(self.activation, len(layer_units) - 2),
            like=like,
        )
        self._dropout_seed = None  # drawn on the first step that drops units
        self.loss_curve_ = []
        self.validation_loss_curve_ = None
        init_stopping_state(self)
        self._optimizer = None

    def _stochastic_fit(self, data, network, held_out, tasks, incremental):
        """The :class:`~skbp._engine.solvers.Fit` of a stochastic solver:
        early stopping's validation rows split off, the dropout drawn."""
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        data, held_out = split_validation(self, data, held_out, network)
        return Fit(data, network, held_out, tasks, incremental, self._dropout())

    # ------------------------------------------------------------------
    # Public API shared by both estimators
    # ------------------------------------------------------------------
    # Callbacks are torn down (with_callbacks) before a failed fit's state
    # is put back (keeps_fitted_state): the teardown reads the fit's context.
    @keeps_fitted_state
    @with_callbacks
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (rows are samples).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: class labels (classification) or real values
            (regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row; ``None`` weighs all rows
            equally.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            Validation data of your own. Its loss is recorded after every
            epoch (or L-BFGS iteration) in ``validation_loss_curve_``; with
            ``early_stopping=True`` it replaces the ``validation_fraction``
            split, and its score decides when to stop. In a
            :class:`~sklearn.pipeline.Pipeline`, have it transformed as
            ``X`` is with ``Pipeline(..., transform_input=["X_val"])`` and
            metadata routing (``set_fit_request(X_val=True, y_val=True)``).
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), \
default=None
            Targets of ``X_val``; given with it. Class labels must be among
            those of ``y``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weight of each validation row (class weights are not applied
            to them).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        validation_data = validation_arguments(X_val, y_val, sample_weight_val)
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            incremental=False,
            validation_data=validation_data,
        )

    def _partial_fit(self, X, y, sample_weight):
        """One epoch (stochastic solvers) or one more L-BFGS run from the
        current weights (``BPRegressor`` with ``solver='lbfgs'``, as
        scikit-learn's ``MLPRegressor`` does)."""
        self._validate_params()
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags

    # Pickles record the skbp version; loading one written by another version
    # warns skbp.exceptions.InconsistentVersionWarning. A model on a device
    # pickles its arrays as numpy, and goes back to that device where this
    # machine has it (skbp._model.moving). An unpickled state (pickle, joblib,
    # skops) is checked as skbp.load checks a file (skbp._model.attributes).
    def __getstate__(self):
        return stamp_version(host_state(super().__getstate__()))

    def __setstate__(self, state):
        cls = type(self)
        state, record = split_placement(check_version(state, cls.__name__))
        try:
            check_state_names(cls, state)
            with_new_parameters(state, cls)
            super().__setstate__(state)
            check_unpickled(self)
        except ValueError as exc:
            raise ValueError(
                f"Cannot unpickle this {cls.__name__}: {short_message(exc)}."
            ) from exc
        moving.place(self, record)

    def __sklearn_array_api_convert__(self, converter):
        """A copy of this model in another library or device (what
        scikit-learn's ``move_estimator_to`` calls): the weights, best
        weights, optimizer moments and dropout salt go through
        ``converter``; labels, curves and counters stay host data."""
        return converted(self, converter)
