"""What the two estimators share: parameters, the solvers, bookkeeping.

No math lives here: every forward/backward equation is in :mod:`skbp.core`.
``fit`` = validate -> build the network -> the solver's steps, run by the
training engine (:mod:`skbp._engine`), whose listeners keep the counters,
curves, checkpoint, display and callbacks -> store fitted attributes.
"""

import functools
import inspect
import math
import warnings
from abc import ABC, abstractmethod
from copy import deepcopy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._data import Dropout, Network, placement_of
from .._data.memory import MemoryPlacement, MemoryRows, check_data, mask_function
from .._engine import (
    BestIterate,
    Callbacks,
    Checkpoint,
    ConvergenceCheck,
    Engine,
    LossCurve,
    NoImprovement,
    Progress,
    Step,
    Verbose,
)
from .._engine.display import ProgressDisplay
from .._engine.tasks import (
    CallbackSupportMixin,
    FitTasks,
    IterateWeights,
    copied_weights,
    with_callbacks,
)
from .._model import moving
from .._model.arrays import (
    all_finite,
    follow,
    host_dtype,
    placement,
    to_host,
)
from .._model.attributes import check_state_names, check_unpickled, short_message
from .._model.best_weights import restore_best_weights, store_best_weights
from .._model.moving import converted, host_state, split_placement
from .._model.rollback import keeps_fitted_state
from .._model.settings import (
    check_dropout,
    check_hidden_activations,
    check_hidden_layer_sizes,
    check_sample_weight,
)
from .._model.versioning import check_version, stamp_version
from ..core import (
    HIDDEN_ACTIVATIONS,
    OPTIMIZERS,
    ParameterLayout,
    forward_output,
    get_activation,
    initialize_parameters,
    minimize_lbfgs,
    to_numpy,
)
from ..core.optimizers import LEARNING_RATE_SCHEDULES

#: Every ``solver``: L-BFGS, then the stochastic optimizers of the core.
_SOLVERS = ("lbfgs", *OPTIMIZERS)
_STOCHASTIC_SOLVERS = tuple(OPTIMIZERS)

#: The estimator hyperparameter behind each keyword of an optimizer's
#: constructor (:data:`skbp.core.OPTIMIZERS`); an optimizer gets those its
#: constructor takes.
_OPTIMIZER_HYPERPARAMETERS = {
    "learning_rate_init": "learning_rate_init",
    "lr_schedule": "learning_rate",
    "momentum": "momentum",
    "nesterov": "nesterovs_momentum",
    "power_t": "power_t",
    "beta_1": "beta_1",
    "beta_2": "beta_2",
    "epsilon": "epsilon",
}


def check_finite_loss(loss, dtype, where="at the starting weights"):
    """Raise the ValueError of a training loss that is not finite.

    The one message of every solver and every path (in memory, Dask
    chunks, warm start, ``partial_fit``). At the starting weights nothing
    has been trained yet, so a loss that overflows there is the data's:
    values so large that the first layer's products or the loss itself
    leave ``dtype``'s range.

    Parameters
    ----------
    loss : float or 0-d array
        The training loss.
    dtype : dtype
        The training data's float dtype (of any array library), named in
        the message.
    where : str, default="at the starting weights"
        Where the loss was computed, as the message says it.

    Raises
    ------
    ValueError
        If ``loss`` is NaN or infinite.
    """
    loss = float(loss)
    if math.isfinite(loss):
        return
    raise ValueError(
        f"The training loss is not finite ({loss}) {where}: X or y holds values "
        f"too large for {host_dtype(dtype)} arithmetic (the first layer's "
        "products, the loss or its gradient overflow). Scale the data (e.g. with "
        "sklearn.preprocessing.StandardScaler) before fitting."
    )


def _validation_data(X_val, y_val, sample_weight_val):
    """``fit``'s validation arguments as one tuple, or None without them."""
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val is given, but X_val and y_val are not.")
        return None
    if y_val is None:
        raise ValueError("X_val is given, but y_val is not.")
    if X_val is None:
        raise ValueError("y_val is given, but X_val is not.")
    return X_val, y_val, sample_weight_val


class BaseBackprop(CallbackSupportMixin, BaseEstimator, ABC):
    """Base class of :class:`~skbp.BPRegressor` and :class:`~skbp.BPClassifier`.

    Not to be used directly.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), list, tuple],
        "solver": [StrOptions(set(_SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions(set(LEARNING_RATE_SCHEDULES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple, np.ndarray],
        "restore_best_weights": ["boolean"],
        "progress": ["boolean"],
    }

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
        names = check_hidden_activations(self.activation, len(self.coefs_) - 1)
        hidden = [get_activation(name) for name in names]
        return hidden + [self._output_loss().output_activation]

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

    def _forward(self, X):
        """Network output for already validated ``X``; writes nothing shared."""
        return forward_output(X, self.coefs_, self.intercepts_, self._activations())

    def _predict_raw(self, X, method="predict"):
        """Validate ``X`` and return the output layer's activations, in
        ``X``'s library and device (``method`` names the caller in errors)."""
        if not hasattr(self, "coefs_"):
            check_is_fitted(self)  # raises NotFittedError
        # Overflow is reported below by a clear ValueError (and inf - inf in
        # scikit-learn's finiteness check, a sum, is no warning either).
        with np.errstate(over="ignore", invalid="ignore"):
            if not self._is_plain_input(X):
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
            held_out = self._held_out(*validation_data, placement(data.X), data.dtype)
            held_out = held_out.held_out(network, self._scoring())
        stochastic = self.solver in _STOCHASTIC_SOLVERS
        tasks = FitTasks(
            self,
            *given,
            name="partial_fit" if incremental else "fit",
            step_name="epoch" if stochastic else "iteration",
            max_steps=1 if incremental and stochastic else self.max_iter,
        )
        tasks.begin()
        # A diverging fit overflows: it ends with the clear ValueError of
        # _check_finite_weights (or the best weights), not numpy warnings.
        with (
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
            place.fit_context(),
        ):
            if stochastic:
                self._fit_stochastic(data, network, incremental, held_out, tasks)
            else:
                self._fit_lbfgs(data, network, held_out, tasks)
        self._check_finite_weights()
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
            self._check_warm_start_shapes(layer_units)
            self._check_stopping_state()
        if any(rates) and getattr(self, "_dropout_seed", None) is None:
            self._draw_dropout_seed(X.shape[1], placement(X))
        return place.rows(X, Y, sample_weight)

    def _check_solver_settings(self, n_hidden):
        """The dropout rates, checked with the activations against the
        solver; returns the rates."""
        check_hidden_activations(self.activation, n_hidden)
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
            self._init_factors(layer_units),
            like=like,
        )
        self._dropout_seed = None  # drawn on the first step that drops units
        self.loss_curve_ = []
        self.validation_loss_curve_ = None
        self._init_stopping_state()
        self._optimizer = None

    def _init_stopping_state(self):
        """Start the no-improvement rule afresh: on the validation score
        (early stopping, stochastic solvers) or on the training loss."""
        self._no_improvement_count = 0
        if self.early_stopping and self.solver in _STOCHASTIC_SOLVERS:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf
        if self.early_stopping or self.restore_best_weights:
            store_best_weights(self)

    def _check_stopping_state(self):
        """Before a warm-start fit: if ``early_stopping``, the solver or
        ``restore_best_weights`` changed since the last fit, the rule's
        bookkeeping no longer fits them (scikit-learn's MLP then fails with
        a TypeError); it starts afresh, while the weights carry on."""
        on_scores = self.early_stopping and self.solver in _STOCHASTIC_SOLVERS
        keeps_best = self.early_stopping or self.restore_best_weights
        if (getattr(self, "validation_scores_", None) is None) == on_scores or (
            keeps_best and not hasattr(self, "_best_coefs")
        ):
            self._init_stopping_state()

    def _init_factors(self, layer_units):
        """Initialisation factor of each layer, the ``init_factor`` of its
        activation (:class:`~skbp.core.Activation`: 2 for logistic units,
        scikit-learn's choice, 6 otherwise).

        A layer's weights take the factor of the activation they feed, and
        the output layer that of the last hidden layer (scikit-learn uses the
        one hidden activation for every layer; a single name gives the same).
        """
        n_hidden = len(layer_units) - 2
        if isinstance(self.activation, str):
            names = [self.activation] * (n_hidden + 1)
        else:
            names = list(self.activation)
            names.append(names[-1] if names else "identity")
        return [get_activation(name).init_factor for name in names]

    def _check_warm_start_shapes(self, layer_units):
        expected = list(zip(layer_units[:-1], layer_units[1:]))
        found = [W.shape for W in self.coefs_]
        if found != expected:
            raise ValueError(
                "The network's fitted weights have shapes "
                f"{found}, but the data and hidden_layer_sizes call for "
                f"{expected}. Set warm_start=False (or refit) to train a new "
                "network."
            )

    def _check_finite_weights(self):
        for array in (*self.coefs_, *self.intercepts_):
            if not all_finite(array):
                raise ValueError(
                    "Solver produced non-finite parameter weights. The input data "
                    "may contain large values and need to be preprocessed."
                )

    # ------------------------------------------------------------------
    # Stochastic solvers: fit -> _fit -> _fit_stochastic -> Engine.run
    # (skbp._engine: each epoch told to the listeners) -> run_epoch ->
    # TrainingStep.run_epoch (one epoch) -> TrainingStep.step (one batch);
    # on Dask arrays ChunkedTrainingStep (skbp._data.chunks) in its place.
    # L-BFGS: _fit_lbfgs -> minimize_lbfgs, whose iterations the same engine
    # tells the same listeners.
    # ------------------------------------------------------------------
    def _make_optimizer(self, params):
        """The optimizer named by ``solver``, built around ``params``.

        Its constructor's keywords get the estimator's hyperparameters of
        the same meaning (:data:`_OPTIMIZER_HYPERPARAMETERS`).
        """
        try:
            optimizer = OPTIMIZERS[self.solver]
        except (KeyError, TypeError):
            raise ValueError(
                f"Unknown stochastic solver {self.solver!r}; expected one of "
                f"{sorted(OPTIMIZERS)}."
            ) from None
        keywords = list(inspect.signature(optimizer).parameters)[1:]  # not params
        return optimizer(
            params,
            **{kw: getattr(self, _OPTIMIZER_HYPERPARAMETERS[kw]) for kw in keywords},
        )

    def _fit_stochastic(self, data, network, incremental, held_out, tasks):
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        # coefs_ and intercepts_ become views of one flat vector, in the
        # layout of the flat gradients, so that the optimizer steps every
        # parameter with a few operations per batch.
        # Re-packed on every call: the user may have assigned new arrays.
        flat = network.layout.pack(self.coefs_, self.intercepts_)
        self.coefs_, self.intercepts_ = network.layout.views(flat)
        optimizer = getattr(self, "_optimizer", None)
        if not incremental or optimizer is None:
            self._optimizer = self._make_optimizer([flat])
        train, validation = self._split_validation(data, held_out, network)
        step = train.epochs(
            network,
            flat,
            self._optimizer,
            self.alpha,
            self._batch_size(train.n_samples),
            self._dropout(),
        )
        self.n_iter_ = 0
        listeners = self._listeners(
            NoImprovement(validation), tasks, copied_weights(self), incremental
        )
        engine = Engine(self, listeners)
        run_epoch = self._epoch_runner(step, flat, data.dtype, incremental)
        with engine.running():
            engine.run(run_epoch, self.max_iter, once=incremental)
        engine.fit_ends(
            converged=incremental or self.n_iter_ < self.max_iter,
            message=(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet."
            ),
        )
        if self.early_stopping or (self.restore_best_weights and not incremental):
            # The weights of the best validation score (or training loss) are
            # the model.
            restore_best_weights(self)

    def _epoch_runner(self, step, flat, dtype, incremental):
        """``run_epoch() -> Step``: one epoch of ``step`` (a
        :class:`TrainingStep` or :class:`ChunkedTrainingStep`), for
        :meth:`Engine.run <skbp._engine.Engine.run>`."""
        keeps_best = self.early_stopping or (
            self.restore_best_weights and not incremental
        )
        # The first batch's loss is the loss at the starting weights (the
        # step comes after it): checked once, it fails data that overflow
        # at once, not after max_iter epochs of NaN.
        first = [functools.partial(check_finite_loss, dtype=dtype)]
        done = Step(None, step.n_samples, flat)  # one record, updated each epoch

        def run_epoch():
            order = step.epoch_order(self._random_state) if self.shuffle else None
            check = first.pop() if first else None
            done.loss = loss = step.run_epoch(order, check_first_loss=check)
            if not keeps_best and not math.isfinite(loss):
                # Diverged, with no best weights to fall back on: weights
                # that are no longer finite never become so again, so the
                # fit ends now with the error it would end with after
                # max_iter epochs (finite weights train on).
                self._check_finite_weights()
            return done

        return run_epoch

    def _listeners(self, rule, tasks, weights, incremental):
        """The listeners of a fit, in the order they hear each step: the
        counters, verbose output, the solver's stopping ``rule``, the
        interrupt checkpoint, the progress display, scikit-learn's
        callbacks (``tasks``, seeing ``weights()``), the convergence
        warning."""
        listeners = [LossCurve()]
        if self.verbose:
            listeners.append(Verbose())
        listeners += [rule, Checkpoint(self)]
        display = self._progress_display(incremental)
        if display is not None:
            listeners.append(Progress(display))
        if tasks.watched:
            listeners.append(Callbacks(tasks, weights))
        listeners.append(ConvergenceCheck())
        return listeners

    def _progress_display(self, incremental):
        """A :class:`ProgressDisplay` when ``progress=True`` (not for partial_fit,
        whose calls are one epoch each)."""
        if not self.progress or incremental:
            return None
        return ProgressDisplay(
            self.max_iter, unit="iteration" if self.solver == "lbfgs" else "epoch"
        )

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is "
                "going to be clipped",
                stacklevel=2,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    # ------------------------------------------------------------------
    # Early stopping
    # ------------------------------------------------------------------
    def _split_validation(self, data, held_out, network):
        """The training rows and the validation rows.

        Validation data given to ``fit`` (``held_out``) is the validation
        set; otherwise, when early stopping, ``validation_fraction`` of the
        rows are held out (:meth:`~skbp._data.rows.TrainingRows.split`).
        Without either, the validation set is None.

        Returns the :class:`~skbp._data.rows.TrainingRows` to train on and
        the :class:`~skbp._data.rows.HeldOutRows` (or None).
        """
        if held_out is not None or not self.early_stopping:
            return data, held_out
        self._check_validation_fraction()
        return data.split(
            self.validation_fraction,
            self._random_state,
            self._stratified(),
            network,
            self._scoring(),
        )

    def _check_validation_fraction(self):
        if not self.validation_fraction > 0:
            raise ValueError(
                "early_stopping=True scores each epoch on held-out rows: it needs "
                "validation_fraction > 0, got validation_fraction="
                f"{self.validation_fraction!r}."
            )

    def _held_out(self, X_val, y_val, sample_weight_val, where, dtype):
        """``fit``'s validation data, checked against the network and put
        where the training data lives (``where``, in its float ``dtype``).

        Rows are weighted by ``sample_weight_val`` alone (no class weights),
        as in scikit-learn's HistGradientBoosting.
        """
        X_val, y_val, sample_weight_val = follow(where, X_val, y_val, sample_weight_val)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                X_val, Y_val = self._validation_input(X_val, y_val)
        except ValueError as exc:  # scikit-learn's checks name X and y
            raise ValueError(f"Bad validation data (X_val, y_val): {exc}") from exc
        if X_val.dtype != dtype:  # the training data's float dtype
            xp = where.xp
            X_val = X_val.astype(dtype) if where.on_host else xp.astype(X_val, dtype)
        sample_weight_val = check_sample_weight(to_host(sample_weight_val), X_val)
        sample_weight_val = where.put(sample_weight_val, dtype)
        return MemoryRows(X_val, where.put(Y_val, dtype), sample_weight_val)

    def _validation_input(self, X_val, y_val):
        """Validated ``X_val`` and its target matrix ``Y_val`` (as training
        makes them), against the fitted network."""
        place = MemoryPlacement()
        X_val, y_val, _ = place.checked(
            self, X_val, y_val, None, reset=False, labels=is_classifier(self)
        )
        self._check_validation_labels(y_val)
        return X_val, self._encoded(y_val, place, X_val.dtype)

    # ------------------------------------------------------------------
    # L-BFGS
    # ------------------------------------------------------------------
    def _fit_lbfgs(self, data, network, held_out, tasks):
        evaluate = data.loss_function(network, self.alpha)
        # The iterate, not coefs_: they hold the last point the line search
        # evaluated.
        iterate = IterateWeights(self.coefs_, self.intercepts_)
        self.loss_curve_ = []
        self.validation_loss_curve_ = None
        self.n_iter_ = 0
        self.best_loss_ = np.inf  # of this run's iterations
        listeners = self._listeners(
            BestIterate(held_out, iterate), tasks, iterate, incremental=False
        )
        engine = Engine(self, listeners)
        with engine.running():
            result = minimize_lbfgs(
                self._lbfgs_evaluations(evaluate, engine, data.dtype),
                self.coefs_,
                self.intercepts_,
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
                callback=self._lbfgs_callback(engine, iterate, data.dtype),
            )
        # Out of evaluations (max_fun) mid-iteration: that iteration's task
        # ends, empty, with no model to see.
        engine.step_abandoned()
        self._end_lbfgs(engine, result, data.dtype)

    def _lbfgs_evaluations(self, evaluate, engine, dtype):
        """``loss_and_grads()`` at ``coefs_``, for
        :func:`~skbp.core.minimize_lbfgs`; each evaluation may begin an
        iteration (the engine's step)."""
        starting = [True]  # until the starting weights are evaluated

        def loss_and_grads():
            engine.step_begins()  # an iteration's first evaluation begins it
            J, coef_grads, intercept_grads = evaluate(self.coefs_, self.intercepts_)
            if starting and starting.pop():
                # The first evaluation is at the starting weights. Later ones
                # are the line search's trial points, which may overflow: it
                # then tries a shorter step.
                check_finite_loss(J, dtype)
            return J, coef_grads, intercept_grads

        return loss_and_grads

    def _lbfgs_callback(self, engine, iterate, dtype):
        """scipy's per-iteration callback: the iteration is the engine's
        step, told to the listeners at the new iterate."""

        def callback(intermediate_result):
            loss = float(intermediate_result.fun)
            check_finite_loss(loss, dtype, f"at L-BFGS iteration {self.n_iter_ + 1}")
            iterate.move_to(intermediate_result.x)
            if engine.step_ends(Step(loss, 0, intermediate_result.x)):
                raise StopIteration  # scipy ends the run at this iterate

        return callback

    def _end_lbfgs(self, engine, result, dtype):
        """The counters and the convergence warning of a finished run."""
        self.n_iter_ = min(int(result.nit), self.max_iter)
        # scipy reports the loss of the last point it evaluated: a line
        # search that failed on steps that overflow leaves a non-finite
        # loss, not the model's (the last iterate), as the result.
        check_finite_loss(
            result.fun,
            dtype,
            "at the last point L-BFGS evaluated (its line search, after "
            f"{self.n_iter_} iteration(s), ended on a step that overflowed)",
        )
        self.loss_ = float(result.fun)
        self.best_loss_ = min(self.loss_curve_, default=self.loss_)
        engine.fit_ends(
            converged=result.status == 0,
            message=(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                f"(status={result.status}): {result.message}. Increase the number "
                f"of iterations (max_iter={self.max_iter}) or the number of loss "
                f"evaluations (max_fun={self.max_fun}), or scale the data."
            ),
        )

    # ------------------------------------------------------------------
    # Gradient check: the one entry point of skbp.check_gradients
    # ------------------------------------------------------------------
    def _gradient_check_arguments(self, X, y, sample_weight=None):
        """The training loss at the current weights, as
        :func:`skbp.core.gradient_check`'s keyword arguments.

        The weights are the fitted ones, or for an unfitted estimator the
        ones ``fit`` would start from. ``self`` is not modified: the work is
        done on a copy (a fitted estimator) or a clone (an unfitted one).

        Parameters
        ----------
        X, y, sample_weight
            As for :meth:`fit`: ``X`` of shape (n_samples, n_features),
            ``y`` of shape (n_samples,) or (n_samples, n_outputs),
            ``sample_weight`` of shape (n_samples,) or None.

        Returns
        -------
        dict
            ``X`` of shape (n_samples, n_features), ``Y`` of shape
            (n_samples, n_outputs), ``coefs`` and ``intercepts`` (in the
            dtype of ``X``, as training casts them), ``activations``,
            ``loss``, ``alpha``, ``sample_weight`` of shape (n_samples,)
            (class weights included) or None, and ``dropout_masks``: one
            fixed draw when the estimator has dropout, else None.
        """
        if hasattr(self, "coefs_"):
            est = deepcopy(self)
            # The fitted classes are checked, not learnt; class weights are
            # those a fit on these rows would use.
            place = MemoryPlacement()
            X, y, sample_weight = place.checked(
                est, X, y, sample_weight, reset=False, labels=is_classifier(est)
            )
            est._learn_targets(y, place, incremental=True)
            Y = est._encoded(y, place, X.dtype)
            sample_weight = est._row_weights(Y, sample_weight, False, place)
            est._random_state = check_random_state(est.random_state)
        else:
            est = clone(self)
            est._validate_params()
            data = est._training_rows(
                MemoryPlacement(), X, y, sample_weight, incremental=False
            )
            X, Y, sample_weight = data.X, data.Y, data.sample_weight
        # The check runs on the host (in float64 finite differences),
        # whatever library and device the model trains on.
        dtype = host_dtype(X.dtype)
        X, Y, sample_weight = (to_host(a) for a in (X, Y, sample_weight))
        masks = mask_function(est._dropout())
        return {
            "X": X,
            "Y": Y,
            "coefs": [to_numpy(W).astype(dtype, copy=False) for W in est.coefs_],
            "intercepts": [
                to_numpy(b).astype(dtype, copy=False) for b in est.intercepts_
            ],
            "activations": est._activations(),
            "loss": est._output_loss(),
            "alpha": est.alpha,
            "sample_weight": sample_weight,
            "dropout_masks": None if masks is None else masks(X),
        }

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
        validation_data = _validation_data(X_val, y_val, sample_weight_val)
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
