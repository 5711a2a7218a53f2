"""``check_gradients``: a user's own activations and loss, checked before training.

``activation=`` and ``BPRegressor(loss=...)`` take
:class:`~skbp.core.Activation` and :class:`~skbp.core.Loss` objects. The
built-in classes' derivatives are tested with skbp; an object of any other
class (a user's subclass, whose ``forward`` and ``derivative`` were written
by hand) is checked once per ``fit`` (and on the first ``partial_fit``)
before any training step: its backward pass against central finite
differences of its forward pass (:func:`skbp.core.activation_error`,
:func:`skbp.core.loss_error`), in float64 numpy on the host, at the
network's own pre-activations for the first training rows.

The check draws no number from the estimator's random generator (the
upstream gradients come from a generator of their own, seeded with
:data:`SEED`), so that a fit is the same with the check and without it.
"""

import numpy as np

from .._model.settings import shown
from ..core import (
    ACTIVATIONS,
    LOSSES,
    L_model_forward,
    activation_error,
    loss_error,
    to_numpy,
)

__all__ = [
    "TOLERANCE",
    "MAX_ROWS",
    "MAX_ENTRIES",
    "SEED",
    "check_estimator_math",
    "to_check",
    "check",
]

#: The largest relative error accepted. Central differences in float64 give
#: about 1e-9 for a right derivative; a wrong one gives errors of order 1.
TOLERANCE = 1e-4
#: The first training rows the check runs on.
MAX_ROWS = 8
#: The most pre-activation entries nudged per check (rows are dropped for
#: wide layers): each entry costs two forward evaluations.
MAX_ENTRIES = 2048
#: Seed of the upstream gradients ``dA``: the estimator's generator is left
#: alone.
SEED = 0


def check_estimator_math(estimator, place, X, Y):
    """Refuse an activation or loss object of the user's own in
    ``estimator`` whose derivative disagrees with its function, at the
    network's current weights and the first training rows.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
        With its weights (fresh or warm) and its targets learnt.
    place : Placement
        Where the rows live (:mod:`skbp._data`): it fetches the first rows,
        only when there is something to check.
    X, Y : arrays
        The checked training rows and target matrix, where they live.
    """
    activations = estimator._activations()
    checked = to_check(activations, estimator._output_loss())
    if not checked:  # built-in math only: no rows fetched
        return
    X_head, Y_head = place.head(X, Y, MAX_ROWS)
    check(
        checked,
        estimator.coefs_,
        estimator.intercepts_,
        activations,
        X_head,
        Y_head,
    )


def _is_builtin(obj, registry):
    """Whether ``obj`` is an instance of one of the registry's own classes
    (not of a subclass: a user's subclass is checked)."""
    return type(obj) in set(registry.values())


def to_check(activations, loss):
    """The objects of a user's own classes in a network, and where they are.

    Parameters
    ----------
    activations : list of Activation
        Every layer's activation, the output layer's last (not checked
        itself: the loss hands the backward pass its gradient).
    loss : Loss

    Returns
    -------
    list of (str, int or None, object)
        ``("activation", layer, activation)`` for each hidden layer (from
        0) whose activation is not built in, then ``("loss", None, loss)``
        for a loss that is not.
    """
    checked = [
        ("activation", layer, activation)
        for layer, activation in enumerate(activations[:-1])
        if not _is_builtin(activation, ACTIVATIONS)
    ]
    if not _is_builtin(loss, LOSSES):
        checked.append(("loss", None, loss))
    return checked


def check(checked, coefs, intercepts, activations, X, Y):
    """Refuse any of ``checked`` whose derivative disagrees with its forward.

    Parameters
    ----------
    checked : list
        What :func:`to_check` returned (not empty).
    coefs, intercepts : lists of arrays
        The network's weights, fresh or warm, in any library (read on the
        host, in float64).
    activations : list of Activation
        Every layer's, the output layer's last.
    X : numpy.ndarray of shape (n_rows, n_features)
        The first training rows, dense float64.
    Y : numpy.ndarray of shape (n_rows, n_outputs)
        Their encoded targets, float64.

    Raises
    ------
    ValueError
        Naming the object, its layer (or ``loss``) and the relative error.
    """
    coefs = [np.array(to_numpy(W), dtype=np.float64) for W in coefs]
    intercepts = [np.array(to_numpy(b), dtype=np.float64) for b in intercepts]
    _, caches = L_model_forward(X, coefs, intercepts, activations)
    rng = np.random.default_rng(SEED)
    for kind, layer, obj in checked:
        Z = caches[-1 if layer is None else layer].Z
        Z = Z[: max(1, min(MAX_ROWS, MAX_ENTRIES // max(Z.shape[1], 1)))]
        where = "loss" if layer is None else f"hidden layer {layer + 1}"
        try:
            if kind == "loss":
                error = loss_error(obj, Y[: Z.shape[0]], Z)
            else:
                error = activation_error(obj, Z, rng.standard_normal(Z.shape))
        except Exception as exc:
            exc.add_note(
                f"(raised while check_gradients checked {shown(obj)}, the {where}; "
                "set check_gradients=False to skip the check)"
            )
            raise
        if not error <= TOLERANCE:  # NaN too
            raise ValueError(_refusal(kind, where, obj, error, Z.shape[0]))


def _refusal(kind, where, obj, error, n_rows):
    """The message of a refused object."""
    if kind == "loss":
        what = (
            f"loss={shown(obj)}: its per_sample_gradient() and the central "
            "finite differences of its per_sample()"
        )
        hint = "Check per_sample_gradient()"
    else:
        what = (
            f"activation {shown(obj)} ({where}): its backward() (the chain "
            "rule through derivative()) and the central finite differences of "
            "its forward()"
        )
        hint = "Check derivative() (and backward() if you wrote one)"
    return (
        f"check_gradients refused {what} differ by a relative error of "
        f"{error:.3g} (more than {TOLERANCE:g}), on the first {n_rows} training "
        f"rows, in float64. {hint}; or set check_gradients=False to skip this "
        "check."
    )
