"""scikit-learn's callbacks (``sklearn.callback``) in skbp's fits.

scikit-learn 1.9 lets an estimator report its fit as a tree of *tasks* to
callbacks set with ``set_callbacks`` (:class:`sklearn.callback.ProgressBar`,
:class:`sklearn.callback.ScoringMonitor`, or one's own). skbp's tree is two
levels deep:

- the root task, ``"fit"`` (or ``"partial_fit"``), whose subtasks are at most
  ``max_iter``;
- one leaf per ``"epoch"`` (stochastic solvers) or L-BFGS iteration,
  ``"lbfgs-iter"`` (:class:`~sklearn.linear_model.LogisticRegression`'s
  name for the same task, so that the logs of the two read alike):
  its ``on_fit_task_begin`` hook sees the weights before the step, its
  ``on_fit_task_end`` hook those after it, as a ready-to-predict copy of the
  estimator (``fitted_estimator``), with the data given to ``fit``. A
  callback may keep it: it holds that step's weights, curves and optimizer
  state, which later steps and later fits do not change.

A callback's ``on_fit_task_end`` returning True stops the fit after that
step, as convergence would (no ``ConvergenceWarning``).

Under a meta-estimator (``Pipeline``, ``GridSearchCV``, ...) the root task is
merged into the meta-estimator's tree, by scikit-learn's own
``_init_callback_context``. With scikit-learn 1.7 and 1.8 (no
``sklearn.callback``) nothing here does anything.
"""

import copy

import numpy as np

from .._model.arrays import cast_like, convert_arrays, copied
from .._model.attributes import EPOCH_LOGS
from ..core.layout import ParameterLayout

try:
    from sklearn.callback import CallbackSupportMixin, ProgressBar, with_callbacks
except ImportError:  # scikit-learn < 1.9: no callbacks to support

    class CallbackSupportMixin:
        """Stand-in for scikit-learn >= 1.9's mixin: adds nothing."""

    def with_callbacks(method):
        return method

    ProgressBar = None


__all__ = [
    "CallbackSupportMixin",
    "with_callbacks",
    "FitTasks",
    "copied_weights",
    "IterateWeights",
    "STEP_NAMES",
]

#: The name of each step's task, by solver kind: an epoch, or an L-BFGS
#: iteration under LogisticRegression's name.
STEP_NAMES = {"stochastic": "epoch", "lbfgs": "lbfgs-iter"}


class FitTasks:
    """One call to ``fit`` (or ``partial_fit``) as scikit-learn's callbacks see it.

    Create it once the network is built (its weights are what the first
    step's hooks see); call :meth:`begin`, then :meth:`begin_step` and
    :meth:`end_step` around each epoch or iteration, then :meth:`end`.
    One step is open at a time: :meth:`begin_step` while one is open does
    nothing.

    Parameters
    ----------
    estimator : BaseBackprop
    X, y, sample_weight
        The data given to ``fit`` (``sample_weight`` may be None), passed on
        to the hooks as given.
    name : {"fit", "partial_fit"}
        The root task's name.
    step_name : {"epoch", "lbfgs-iter"}
        The name of each subtask (:data:`STEP_NAMES`).
    max_steps : int
        Most subtasks the root task may have (``max_iter``).
    """

    def __init__(self, estimator, X, y, sample_weight, *, name, step_name, max_steps):
        self._estimator = estimator
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self._data = {"X": X, "y": y, "metadata": metadata}
        self._step_name = step_name
        self._step = None
        # The tree is made when someone can see it: callbacks of the
        # estimator's own, or a meta-estimator's tree (which its callbacks
        # see) for the root task to join. Otherwise an epoch costs nothing.
        watched = bool(getattr(estimator, "_skl_callbacks", None)) or hasattr(
            estimator, "_parent_callback_ctx"
        )
        start = getattr(estimator, "_init_callback_context", None) if watched else None
        self._root = (
            None if start is None else start(task_name=name, max_subtasks=max_steps)
        )

    @property
    def watched(self):
        """Whether any callback sees this fit (else every hook does nothing)."""
        return self._root is not None

    @property
    def drawn_by_a_progress_bar(self):
        """Whether a :class:`sklearn.callback.ProgressBar` draws on the
        terminal during this fit: one of the estimator's (its own, or one a
        meta-estimator propagated to it), or a meta-estimator's above it
        (``max_propagation_depth`` reached)."""
        context = self._root
        while context is not None:
            # Each task of the tree holds its estimator's callbacks.
            callbacks = getattr(context, "_callbacks", ())
            if any(isinstance(callback, ProgressBar) for callback in callbacks):
                return True
            context = context.parent
        return False

    def begin(self):
        """Hooks at the start of the fit."""
        if self._root is not None:
            self._root.call_on_fit_task_begin(estimator=self._estimator, **self._data)

    def begin_step(self, weights):
        """Hooks at the start of an epoch or iteration.

        Parameters
        ----------
        weights : callable
            ``weights() -> (coefs, intercepts)``: the weights before the step,
            as arrays no training writes to. Called only if a hook asks for
            ``fitted_estimator``.
        """
        if self._root is None or self._step is not None:
            return
        self._step = self._root.subcontext(task_name=self._step_name)
        self._step.call_on_fit_task_begin(
            estimator=self._estimator,
            reconstruction_attributes=_attributes(self._estimator, weights),
            **self._data,
        )

    def end_step(self, weights):
        """Hooks at the end of an epoch or iteration.

        Parameters
        ----------
        weights : callable
            As for :meth:`begin_step`: the weights after the step.

        Returns
        -------
        bool
            True when a callback asks to stop training.
        """
        if self._step is None:
            return False
        step, self._step = self._step, None
        return bool(
            step.call_on_fit_task_end(
                estimator=self._estimator,
                reconstruction_attributes=_attributes(self._estimator, weights),
                **self._data,
            )
        )

    def abandon_step(self):
        """End the open step, if any, as an empty task (no data, no model):
        a step that began but did not complete, as scikit-learn's own
        L-BFGS ends its last one."""
        if self._step is not None:
            step, self._step = self._step, None
            step.call_on_fit_task_end(estimator=self._estimator)

    def end(self):
        """Hooks at the end of the fit: ``fitted_estimator`` is a copy of the
        model, which a later fit (a warm start writes into the weights) does
        not change."""
        if self._root is not None:
            weights = copied_weights(self._estimator)
            self._root.call_on_fit_task_end(
                estimator=self._estimator,
                reconstruction_attributes=_attributes(self._estimator, weights),
                **self._data,
            )


def _attributes(estimator, weights):
    """``reconstruction_attributes``, lazily: made only when a hook asks for
    a fitted estimator.

    scikit-learn makes that estimator a shallow copy of the live one with
    these attributes set, and a callback may keep it. So they are copies of
    what training goes on changing in place: the weights, the lists of the
    curves (appended to), the optimizer (its moments) and the random
    generator (its state: shuffling and dropout draw from it). A kept
    estimator then holds its step's model, whatever the fit does next, and
    whatever is done with it changes nothing in the fit.
    """

    def attributes():
        coefs, intercepts = weights()
        snapshot = {"coefs_": coefs, "intercepts_": intercepts}
        for name in EPOCH_LOGS:
            log = getattr(estimator, name, None)
            if log is not None:
                snapshot[name] = list(log)
        optimizer = getattr(estimator, "_optimizer", None)
        if optimizer is not None:
            snapshot["_optimizer"] = convert_arrays(optimizer, copied)
        generator = getattr(estimator, "_random_state", None)
        if generator is not None:
            snapshot["_random_state"] = copy.deepcopy(generator)
        return snapshot

    return attributes


def copied_weights(estimator):
    """``weights`` for :class:`FitTasks`: copies of the estimator's current
    ``coefs_`` and ``intercepts_`` (training overwrites them in place)."""

    def weights():
        return (
            [copied(W) for W in estimator.coefs_],
            [copied(b) for b in estimator.intercepts_],
        )

    return weights


class IterateWeights:
    """``weights`` for :class:`FitTasks` during L-BFGS: its iterate.

    scipy's iterate is a float64 vector on the host; the weights come in the
    dtype, library and device of the network's (copies, cut by the
    network's :class:`~skbp.core.ParameterLayout`).

    Parameters
    ----------
    coefs, intercepts : lists of ndarray
        The starting weights: the iterate before the first iteration.
    """

    def __init__(self, coefs, intercepts):
        self._layout = ParameterLayout.of(coefs, intercepts)
        self._template = coefs[0]
        self._x = self._layout.pack(coefs, intercepts)

    def move_to(self, x):
        """The iterate is now ``x`` (copied: scipy may reuse its vector)."""
        self._x = np.array(x, copy=True)

    def __call__(self):
        return self._layout.unpack(cast_like(self._x, self._template))
