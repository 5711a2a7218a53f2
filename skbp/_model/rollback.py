"""Nothing lost: failed fits keep the previous model, interrupted ones an epoch.

- :func:`keeps_fitted_state` wraps ``fit`` and ``partial_fit``: when they
  raise, the estimator's fitted state is put back as it was before the call.
- :class:`EpochCheckpoint` keeps the weights of the last completed epoch (or
  L-BFGS iteration), so that a ``KeyboardInterrupt`` leaves a consistent,
  usable model before it propagates. An interrupt that comes before any
  epoch of the call has completed is a failed call like any other: the
  estimator is put back exactly as it was before it.
"""

import contextlib
import functools
import signal
import threading

import numpy as np

from ..core.layout import ParameterLayout
from .arrays import cast_like, copied, host_dtype, is_device_array, is_numpy_array
from .attributes import EPOCH_LOGS, EPOCH_VALUES

__all__ = [
    "keeps_fitted_state",
    "EpochCheckpoint",
    "deferred_interrupts",
    "estimator_param_names",
]


_KEEP_STATE = "_skbp_keeps_epoch_state"


def _copy_value(value):
    """A copy of a fitted attribute's value that a failed fit cannot change.

    Arrays are copied; lists, tuples, dicts and skbp's own objects (the
    optimizers, which fits update in place) are rebuilt around copies of
    their contents. Everything else is shared: immutable values, random
    generators (a fit draws its own from ``random_state``; a user's must
    stay the object the user holds), and objects a fit replaces rather than
    changes (label binarizers) or that others own (scikit-learn's callback
    contexts).
    """
    if is_numpy_array(value):
        return value.copy()
    if is_device_array(value):  # a GPU's weights are copied on the GPU
        return copied(value)
    if isinstance(value, list):
        return [_copy_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_copy_value(item) for item in value)
    if isinstance(value, dict):
        return {key: _copy_value(item) for key, item in value.items()}
    if type(value).__module__.startswith("skbp.") and hasattr(value, "__dict__"):
        clone = object.__new__(type(value))
        clone.__dict__.update(_copy_value(vars(value)))
        return clone
    return value


@functools.cache
def estimator_param_names(cls):
    return frozenset(cls._get_param_names())


class _Log:
    """An append-only list of numbers (a loss curve): its length, not a copy.

    Fits only append to these lists (or replace them), so truncating the
    list to its length restores it, at no cost per entry: a stream of many
    ``partial_fit`` calls does not copy its growing loss curve each time.
    """

    __slots__ = ("items", "length")

    def __init__(self, items):
        self.items, self.length = items, len(items)

    def restore(self):
        del self.items[self.length :]
        return self.items


_NUMBERS = (int, float, np.number)


def _snapshot(value):
    if (
        isinstance(value, list)
        and value
        and isinstance(value[0], _NUMBERS)
        and isinstance(value[-1], _NUMBERS)
    ):
        return _Log(value)
    return _copy_value(value)


def _fitted_state(estimator, param_names):
    return {
        name: _snapshot(value)
        for name, value in vars(estimator).items()
        if name not in param_names
    }


def _restore_fitted_state(estimator, state, param_names):
    attributes = vars(estimator)
    for name in list(attributes):
        if name not in param_names and name not in state:
            del attributes[name]
    for name, value in state.items():
        attributes[name] = value.restore() if isinstance(value, _Log) else value


def keeps_fitted_state(method):
    """Decorate ``fit``/``partial_fit``: on error, restore the state before the call.

    Every attribute that is not a constructor parameter is copied before the
    call; if the call raises (or is interrupted before any epoch completed),
    attributes it added are removed and the copies put back, so a fit that
    diverges or finds bad input late leaves the previously fitted model (or
    the unfitted estimator) as it was, optimizer state included. The
    exception propagates unchanged.

    A ``KeyboardInterrupt`` that an :class:`EpochCheckpoint` has handled
    after a completed epoch keeps the state of that epoch instead.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        param_names = estimator_param_names(type(self))
        state = _fitted_state(self, param_names)
        try:
            return method(self, *args, **kwargs)
        except BaseException as exc:
            if not getattr(exc, _KEEP_STATE, False):
                # A second Ctrl-C must not leave the estimator half restored.
                with deferred_interrupts():
                    _restore_fitted_state(self, state, param_names)
            raise

    return wrapper


@contextlib.contextmanager
def deferred_interrupts():
    """Hold SIGINT back while the block runs, then deliver it.

    Restoring a model takes a few assignments; an interrupt landing among
    them would leave it half old, half new. In the main thread, SIGINT's
    handler is swapped for one that only records the signal, and the
    recorded interrupt is raised when the block ends. Elsewhere (signals
    only reach the main thread) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *args: received.append(args))
    except ValueError:  # not in the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(*received[0])


def _empty_like(layout, flat, template):
    """A flat vector where ``flat`` lives, in the dtype of ``template``."""
    if is_numpy_array(flat):
        return layout.empty(host_dtype(template.dtype))
    return layout.empty(template.dtype, like=flat)


def _copy_weights(saved, flat):
    """Write ``flat`` into ``saved`` (the checkpoint's copy, where ``flat``
    lives), casting if needed."""
    if is_numpy_array(saved):
        np.copyto(saved, flat, casting="same_kind")
        return
    saved[...] = cast_like(flat, saved)


class EpochCheckpoint:
    """The weights and counters of an estimator at the end of its last epoch.

    Create one before the training loop, call :meth:`save` after each
    completed epoch (or L-BFGS iteration) and :meth:`restore` on
    ``KeyboardInterrupt`` before re-raising it: the estimator is then a
    consistent fitted model holding the weights of the last completed epoch,
    usable for ``predict`` and for continuing with ``warm_start`` or
    ``partial_fit`` (which start a fresh optimizer: the interrupted one's
    moments belong to a partial epoch). Before the first :meth:`save` there
    is no epoch to keep: :meth:`restore` then leaves the estimator to
    :func:`keeps_fitted_state`, which puts back the state before the call.

    One copy of the weights is kept, written in place after each epoch (no
    epoch allocates). While that copy is being written it is half old, half
    new, so the epoch being saved is first recorded as *pending* together
    with its source: the source (the live weights, or the L-BFGS iterate)
    holds that completed epoch and is not touched until training goes on,
    so an interrupt arriving mid-save restores from it instead.

    Parameters
    ----------
    estimator : BaseBackprop
        An estimator with ``coefs_`` and ``intercepts_``.
    """

    # What an epoch changes besides the weights, from the one list of a
    # model's attributes (skbp._model.attributes): values, and lists it appends to.
    _VALUES = EPOCH_VALUES
    _LISTS = EPOCH_LOGS

    def __init__(self, estimator):
        self._layout = ParameterLayout.of(estimator.coefs_, estimator.intercepts_)
        # The weights are kept as one flat vector in that layout: saving an
        # epoch is then a single copy. The copy lives where the saved vector
        # does (a GPU's weights, or L-BFGS's iterate on the host), made at
        # the first save; restoring puts it in the dtype, library and device
        # of the weights (the template).
        self._template = estimator.coefs_[0]
        self._weights = None
        self._state = None  # no completed epoch yet
        self._pending = None

    def _counters(self, estimator):
        # Called after every epoch, so cheap: a shallow copy of the instance
        # dict (one C-level call; restore reads the _VALUES back from it) and
        # the lengths of the lists, which training only appends to.
        attributes = vars(estimator)
        lengths = [
            (name, len(attributes[name]))
            for name in self._LISTS
            if type(attributes.get(name)) is list
        ]
        return attributes.copy(), lengths

    def save(self, estimator, flat=None):
        """Record the estimator's current weights and counters.

        Parameters
        ----------
        estimator : BaseBackprop
        flat : ndarray of shape (n_parameters,), optional
            The weights as one vector (weights then biases, in the
            :class:`~skbp.core.ParameterLayout` of ``coefs_`` and
            ``intercepts_``): the flat vector that they view during
            stochastic training, or an L-BFGS iterate. It must stay
            unchanged until training goes on. By default it is packed from
            ``coefs_`` and ``intercepts_``.
        """
        if flat is None:
            flat = self._layout.pack(estimator.coefs_, estimator.intercepts_)
        values, lengths = self._counters(estimator)
        self._pending = (flat, values, lengths)  # each assignment is atomic
        if self._weights is None:
            self._weights = _empty_like(self._layout, flat, self._template)
        _copy_weights(self._weights, flat)
        self._state = (self._weights, values, lengths)
        self._pending = None

    def restore(self, estimator, interrupt=None):
        """Put the saved epoch back into ``estimator``.

        Parameters
        ----------
        estimator : BaseBackprop
        interrupt : BaseException, optional
            The exception about to be re-raised: marked so that
            :func:`keeps_fitted_state` keeps the restored epoch rather than
            rolling back to the state before the call.

        Returns
        -------
        bool
            False, and nothing changed, when no epoch has completed.
        """
        # Interrupted mid-save: the pending epoch's source is intact.
        pending = self._pending
        saved = self._state if pending is None else pending
        if saved is None:
            return False
        flat, values, lengths = saved
        # A pending L-BFGS iterate is float64 (and on the host) whatever
        # the weights' dtype (and device).
        flat = cast_like(flat, self._template)
        estimator.coefs_, estimator.intercepts_ = self._layout.unpack(flat)
        for name in self._VALUES:
            if name in values:
                setattr(estimator, name, values[name])
        for name, length in lengths:
            del getattr(estimator, name)[length:]
        estimator._optimizer = None
        if interrupt is not None:
            setattr(interrupt, _KEEP_STATE, True)
        return True
