"""The solvers' loops: the stochastic epochs and L-BFGS's iterations.

Both run through one :class:`~skbp._engine.Engine`, with the same listeners
(:func:`listeners`), on rows wherever they live (the data interface,
:mod:`skbp._data.rows`): the path of a fit descends from the estimator
(validation, labels) to here, to the data placement (batches, chunks), to
:mod:`skbp.core` (the math). Nothing here calls the estimator's methods:
it reads the hyperparameters and writes the fitted attributes, as the
listeners do.
"""

import functools
import inspect
import math
import warnings
from typing import NamedTuple

import numpy as np

from .._model.arrays import all_finite, host_dtype
from .._model.best_weights import restore_best_weights
from ..core import OPTIMIZERS, minimize_lbfgs
from .callbacks import Callbacks
from .checkpoint import Checkpoint
from .convergence import ConvergenceCheck
from .counters import LossCurve
from .display import ProgressDisplay
from .engine import Engine, Step
from .progress import Progress
from .stopping import BestIterate, NoImprovement
from .tasks import IterateWeights, copied_weights
from .verbose import Verbose

__all__ = [
    "Fit",
    "run_stochastic",
    "run_lbfgs",
    "listeners",
    "make_optimizer",
    "batch_size_for",
    "check_finite_loss",
    "check_finite_weights",
    "OPTIMIZER_HYPERPARAMETERS",
]


class Fit(NamedTuple):
    """What one fit's solver is given, prepared by the estimator.

    Attributes
    ----------
    data : TrainingRows
        The rows to train on (early stopping's validation rows already
        split off).
    network : Network
        The layout, activations and loss.
    validation : HeldOutRows or None
        The validation rows, if any.
    tasks : FitTasks
        scikit-learn's callbacks of this fit.
    incremental : bool
        ``partial_fit``: one epoch, the optimizer's state kept.
    dropout : Dropout or None
    """

    data: object
    network: object
    validation: object
    tasks: object
    incremental: bool
    dropout: object = None


#: The estimator hyperparameter behind each keyword of an optimizer's
#: constructor (:data:`skbp.core.OPTIMIZERS`) where their names differ; an
#: optimizer gets those its constructor takes.
OPTIMIZER_HYPERPARAMETERS = {
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


def make_optimizer(estimator, params):
    """The optimizer named by ``solver``, built around ``params``.

    Its constructor's keywords get the estimator's hyperparameters of
    the same meaning (:data:`OPTIMIZER_HYPERPARAMETERS`; by default, the
    hyperparameter of the keyword's name).
    """
    try:
        optimizer = OPTIMIZERS[estimator.solver]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown stochastic solver {estimator.solver!r}; expected one of "
            f"{sorted(OPTIMIZERS)}."
        ) from None
    keywords = list(inspect.signature(optimizer).parameters)[1:]  # not params
    return optimizer(
        params,
        **{
            kw: getattr(estimator, OPTIMIZER_HYPERPARAMETERS.get(kw, kw))
            for kw in keywords
        },
    )


def run_stochastic(estimator, fit):
    """Train ``estimator`` with its stochastic solver (``'sgd'``, ``'adam'``):
    epochs of :meth:`~skbp._data.rows.TrainingRows.epochs`, told to the
    listeners by the engine.

    Parameters
    ----------
    estimator : BaseBackprop
        Its hyperparameters are read; its weights stepped and fitted
        attributes written (by the listeners).
    fit : Fit
    """
    network, incremental = fit.network, fit.incremental
    # coefs_ and intercepts_ become views of one flat vector, in the
    # layout of the flat gradients, so that the optimizer steps every
    # parameter with a few operations per batch.
    # Re-packed on every call: the user may have assigned new arrays.
    flat = network.layout.pack(estimator.coefs_, estimator.intercepts_)
    estimator.coefs_, estimator.intercepts_ = network.layout.views(flat)
    if not incremental or getattr(estimator, "_optimizer", None) is None:
        estimator._optimizer = make_optimizer(estimator, [flat])
    step = fit.data.epochs(
        network,
        flat,
        estimator._optimizer,
        estimator.alpha,
        batch_size_for(estimator.batch_size, fit.data.n_samples),
        fit.dropout,
    )
    estimator.n_iter_ = 0
    rule, weights = NoImprovement(fit.validation), copied_weights(estimator)
    engine = Engine(
        estimator, listeners(estimator, rule, fit.tasks, weights, incremental)
    )
    run_epoch = _epoch_runner(estimator, step, flat, fit.data.dtype, incremental)
    with engine.running():
        engine.run(run_epoch, estimator.max_iter, once=incremental)
    engine.fit_ends(
        converged=incremental or estimator.n_iter_ < estimator.max_iter,
        message=(
            f"Stochastic Optimizer: Maximum iterations ({estimator.max_iter}) "
            "reached and the optimization hasn't converged yet."
        ),
    )
    if estimator.early_stopping or (estimator.restore_best_weights and not incremental):
        # The weights of the best validation score (or training loss) are
        # the model.
        restore_best_weights(estimator)


def _epoch_runner(estimator, step, flat, dtype, incremental):
    """``run_epoch() -> Step``: one epoch of ``step`` (a
    :class:`TrainingStep` or :class:`ChunkedTrainingStep`), for
    :meth:`Engine.run <skbp._engine.Engine.run>`."""
    keeps_best = estimator.early_stopping or (
        estimator.restore_best_weights and not incremental
    )
    # The first batch's loss is the loss at the starting weights (the
    # step comes after it): checked once, it fails data that overflow
    # at once, not after max_iter epochs of NaN.
    first = [functools.partial(check_finite_loss, dtype=dtype)]
    done = Step(None, step.n_samples, flat)  # one record, updated each epoch

    def run_epoch():
        order = step.epoch_order(estimator._random_state) if estimator.shuffle else None
        check = first.pop() if first else None
        done.loss = loss = step.run_epoch(order, check_first_loss=check)
        if not keeps_best and not math.isfinite(loss):
            # Diverged, with no best weights to fall back on: weights
            # that are no longer finite never become so again, so the
            # fit ends now with the error it would end with after
            # max_iter epochs (finite weights train on).
            check_finite_weights(estimator)
        return done

    return run_epoch


def listeners(estimator, rule, tasks, weights, incremental):
    """The listeners of a fit, in the order they hear each step: the
    counters, verbose output, the solver's stopping ``rule``, the
    interrupt checkpoint, the progress display, scikit-learn's
    callbacks (``tasks``, seeing ``weights()``), the convergence
    warning."""
    listeners = [LossCurve()]
    if estimator.verbose:
        listeners.append(Verbose())
    listeners += [rule, Checkpoint(estimator)]
    display = progress_display(estimator, incremental, tasks)
    if display is not None:
        listeners.append(Progress(display))
    if tasks.watched:
        listeners.append(Callbacks(tasks, weights))
    listeners.append(ConvergenceCheck())
    return listeners


def progress_display(estimator, incremental, tasks):
    """A :class:`ProgressDisplay` when ``progress=True`` (not for partial_fit,
    whose calls are one epoch each), unless a ``ProgressBar`` callback
    draws this fit (``tasks``: its :class:`FitTasks`): both would redraw
    the same terminal line, so the callback's bar is the one shown."""
    if not estimator.progress or incremental:
        return None
    if tasks.drawn_by_a_progress_bar:
        # Attributed to the estimator's _fit, as the ConvergenceWarning:
        # here, listeners, the solver, then _fit.
        warnings.warn(
            "progress=True is ignored because a ProgressBar callback is set: "
            "it shows this fit's progress (two displays would overwrite each "
            "other on the terminal). Set progress=False to silence this "
            "warning, or drop the ProgressBar to see skbp's display (loss, "
            "validation score).",
            UserWarning,
            stacklevel=4,
        )
        return None
    return ProgressDisplay(
        estimator.max_iter, unit="iteration" if estimator.solver == "lbfgs" else "epoch"
    )


def batch_size_for(batch_size, n_samples):
    """The rows per step: ``batch_size`` (``'auto'``: ``min(200, n_samples)``),
    clipped to ``[1, n_samples]`` with scikit-learn's warning."""
    if batch_size == "auto":
        return min(200, n_samples)
    if batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is "
            "going to be clipped",
            stacklevel=2,
        )
    return int(np.clip(batch_size, 1, n_samples))


def check_finite_weights(model):
    """Refuse weights that are no longer finite (a diverged fit)."""
    for array in (*model.coefs_, *model.intercepts_):
        if not all_finite(array):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data "
                "may contain large values and need to be preprocessed."
            )


def run_lbfgs(estimator, fit):
    """Train ``estimator`` with L-BFGS (:func:`~skbp.core.minimize_lbfgs`):
    each iteration is the engine's step, told to the same listeners.

    Parameters
    ----------
    estimator : BaseBackprop
    fit : Fit
        Its ``dropout`` is None and ``incremental`` ignored (each call is
        a run from the current weights).
    """
    data, held_out, tasks = fit.data, fit.validation, fit.tasks
    evaluate = data.loss_function(fit.network, estimator.alpha)
    # The iterate, not coefs_: they hold the last point the line search
    # evaluated.
    iterate = IterateWeights(estimator.coefs_, estimator.intercepts_)
    estimator.loss_curve_ = []
    estimator.validation_loss_curve_ = None
    estimator.n_iter_ = 0
    estimator.best_loss_ = np.inf  # of this run's iterations
    rule = BestIterate(held_out, iterate)
    engine = Engine(estimator, listeners(estimator, rule, tasks, iterate, False))
    with engine.running():
        result = minimize_lbfgs(
            _lbfgs_evaluations(estimator, evaluate, engine, data.dtype),
            estimator.coefs_,
            estimator.intercepts_,
            max_iter=estimator.max_iter,
            max_fun=estimator.max_fun,
            tol=estimator.tol,
            callback=_lbfgs_callback(estimator, engine, iterate, data.dtype),
        )
    # Out of evaluations (max_fun) mid-iteration: that iteration's task
    # ends, empty, with no model to see.
    engine.step_abandoned()
    # Told here, so that the ConvergenceWarning points at the estimator's
    # fit as the stochastic solvers' does.
    engine.fit_ends(**_end_lbfgs(estimator, result, data.dtype))


def _lbfgs_evaluations(estimator, evaluate, engine, dtype):
    """``loss_and_grads()`` at ``coefs_``, for
    :func:`~skbp.core.minimize_lbfgs`; each evaluation may begin an
    iteration (the engine's step)."""
    starting = [True]  # until the starting weights are evaluated

    def loss_and_grads():
        engine.step_begins()  # an iteration's first evaluation begins it
        J, coef_grads, intercept_grads = evaluate(
            estimator.coefs_, estimator.intercepts_
        )
        if starting and starting.pop():
            # The first evaluation is at the starting weights. Later ones
            # are the line search's trial points, which may overflow: it
            # then tries a shorter step.
            check_finite_loss(J, dtype)
        return J, coef_grads, intercept_grads

    return loss_and_grads


def _lbfgs_callback(estimator, engine, iterate, dtype):
    """scipy's per-iteration callback: the iteration is the engine's
    step, told to the listeners at the new iterate."""

    def callback(intermediate_result):
        loss = float(intermediate_result.fun)
        check_finite_loss(loss, dtype, f"at L-BFGS iteration {estimator.n_iter_ + 1}")
        iterate.move_to(intermediate_result.x)
        if engine.step_ends(Step(loss, 0, intermediate_result.x)):
            raise StopIteration  # scipy ends the run at this iterate

    return callback


def _end_lbfgs(estimator, result, dtype):
    """The counters of a finished run; returns how it ended, for
    :meth:`Engine.fit_ends <skbp._engine.Engine.fit_ends>`."""
    estimator.n_iter_ = min(int(result.nit), estimator.max_iter)
    # scipy reports the loss of the last point it evaluated: a line
    # search that failed on steps that overflow leaves a non-finite
    # loss, not the model's (the last iterate), as the result.
    check_finite_loss(
        result.fun,
        dtype,
        "at the last point L-BFGS evaluated (its line search, after "
        f"{estimator.n_iter_} iteration(s), ended on a step that overflowed)",
    )
    estimator.loss_ = float(result.fun)
    estimator.best_loss_ = min(estimator.loss_curve_, default=estimator.loss_)
    return {
        "converged": result.status == 0,
        "message": (
            f"lbfgs failed to converge after {estimator.n_iter_} iteration(s) "
            f"(status={result.status}): {result.message}. Increase the number "
            f"of iterations (max_iter={estimator.max_iter}) or the number of loss "
            f"evaluations (max_fun={estimator.max_fun}), or scale the data."
        ),
    }
