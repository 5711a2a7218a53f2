"""Version stamps: pickles (and skops files) record which skbp wrote them.

The estimators' ``__getstate__`` adds the skbp version to their state, and
``__setstate__`` warns :class:`~skbp.exceptions.InconsistentVersionWarning`
when a model comes from another version (or from one that did not record it).
"""

import inspect
import warnings

from .. import _version
from ..exceptions import InconsistentVersionWarning

__all__ = ["stamp_version", "check_version", "skbp_version", "with_new_parameters"]


def skbp_version():
    """The running skbp's version (read when called, from the leaf module)."""
    return _version.__version__


_VERSION_KEY = "_skbp_version"


def stamp_version(state):
    """Return a copy of ``state`` (an estimator's ``__dict__``) with skbp's version.

    For ``__getstate__``.
    """
    return {**state, _VERSION_KEY: skbp_version()}


def check_version(state, estimator_name):
    """Return ``state`` without its version stamp; warn if another version wrote it.

    For ``__setstate__``. A state without a stamp was pickled by an skbp
    version that did not record it, and is reported as ``"unknown"``.

    Parameters
    ----------
    state : dict
        What ``__getstate__`` returned when the model was pickled.
    estimator_name : str
        Name of the estimator's class, for the message.

    Returns
    -------
    dict
    """
    state = dict(state)
    original = state.pop(_VERSION_KEY, "unknown")
    current = skbp_version()
    if original != current:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name,
                current_version=current,
                original_version=original,
            ),
            stacklevel=3,
        )
    return state


def with_new_parameters(state, cls):
    """``state`` with the default of each constructor parameter it lacks.

    For ``__setstate__``: a model pickled before skbp added a parameter
    (``check_gradients`` and ``quantile`` came with 0.1's quantile loss)
    holds no value for it, and ``get_params``, ``clone`` and ``fit`` would
    fail with a bare ``AttributeError``. The default is what the model did
    before the parameter existed. Parameters present are left as they are.

    Parameters
    ----------
    state : dict
        The unpickled ``__dict__`` (modified in place and returned).
    cls : type
        The estimator class.

    Returns
    -------
    dict
    """
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name in state or name == "self" or parameter.default is parameter.empty:
            continue
        state[name] = parameter.default
    return state
