"""Quantile regression's bookkeeping: the levels, and the shape of predictions.

:class:`~skbp.BPRegressor` with ``loss='quantile'`` trains one network whose
output layer holds one column per (target, level) pair, target-major: target
``t`` owns columns ``t * n_levels`` to ``t * n_levels + n_levels - 1``. The
pinball loss and the rearrangement that keeps the quantiles from crossing
are the core's (:class:`skbp.core.PinballLoss`,
:func:`skbp.core.sort_quantiles`); this module checks ``quantile`` and turns
the network's columns into what ``predict`` returns.
"""

import functools
import numbers

import numpy as np
from sklearn.metrics import mean_pinball_loss

from ..core import namespace_of, sort_quantiles, to_numpy

__all__ = ["check_quantile", "quantile_predictions", "validation_score"]


def check_quantile(quantile):
    """The checked levels of ``quantile``: a float, or a tuple for a list.

    Parameters
    ----------
    quantile : float, array-like of float or None
        The estimator's ``quantile`` (``loss='quantile'``).

    Returns
    -------
    float or tuple of float
        A float for one level given as a number (``predict`` keeps its
        usual shape), a tuple for levels given as a list, even of one.
    """
    if isinstance(quantile, numbers.Real) and not isinstance(quantile, bool):
        key = float(quantile)
    elif isinstance(quantile, (list, tuple, np.ndarray)):
        key = tuple(np.ravel(np.asarray(quantile, dtype=object)).tolist())
        if np.ndim(quantile) != 1:
            raise ValueError(
                "quantile must be a number or a 1-D list of numbers, got an "
                f"array of shape {np.shape(quantile)}."
            )
    elif quantile is None:
        raise ValueError(
            "loss='quantile' needs the level(s) to predict: set quantile=0.9, "
            "for example, or quantile=[0.05, 0.5, 0.95] for one network that "
            "predicts all three."
        )
    else:
        raise TypeError(
            "quantile must be a number in (0, 1) or a list of them, got "
            f"{type(quantile).__name__}."
        )
    return _checked(key)


@functools.lru_cache(maxsize=64)
def _checked(key):
    """The check of :func:`check_quantile`, once per setting (``predict``
    asks for the levels on every call)."""
    levels = key if isinstance(key, tuple) else (key,)
    if not levels:
        raise ValueError("quantile is an empty list; give at least one level.")
    for q in levels:
        if not isinstance(q, numbers.Real) or isinstance(q, bool):
            raise TypeError(f"quantile levels must be numbers, got {q!r}.")
        if not 0.0 < float(q) < 1.0:
            raise ValueError(
                f"quantile levels must lie strictly between 0 and 1, got {q!r} "
                f"in quantile={list(levels) if isinstance(key, tuple) else key!r}."
            )
    floats = tuple(float(q) for q in levels)
    if len(set(floats)) != len(floats):
        raise ValueError(
            f"quantile holds a level twice: {list(floats)}; give each level once."
        )
    return floats if isinstance(key, tuple) else floats[0]


def quantile_predictions(output, levels, xp=None):
    """What ``predict`` returns from the network's ``output`` for ``levels``.

    Parameters
    ----------
    output : ndarray of shape (n_samples, n_targets * n_levels)
        The output layer's activations, in any array library.
    levels : tuple of float
        The checked levels (:func:`check_quantile`), in the columns' order.
    xp : namespace, optional
        ``output``'s namespace when the caller knows it.

    Returns
    -------
    ndarray of shape (n_samples, n_levels) or (n_samples, n_targets, n_levels)
        Sorted by level in each row (:func:`skbp.core.sort_quantiles`);
        the targets' axis only for several targets.
    """
    n_targets, left = divmod(output.shape[1], len(levels))
    if left or not n_targets:
        raise ValueError(
            f"The network has {output.shape[1]} outputs, which do not hold the "
            f"{len(levels)} levels of quantile={list(levels)} for each target: "
            "quantile was changed after fit. Refit, or set it back."
        )
    if xp is None:
        xp = namespace_of(output)
    ranked = sort_quantiles(output, levels, xp=xp)
    if n_targets == 1:
        return ranked
    return xp.reshape(ranked, (output.shape[0], n_targets, len(levels)))


def validation_score(estimator, X, y):
    """The score :func:`skbp.streaming.fit_chunks` stops on: ``estimator.score``,
    but the negative mean pinball loss for a quantile regressor.

    :math:`R^2` rewards predictions near the conditional mean; the levels'
    own loss is what a quantile fit improves. The pinball loss of each level
    (scikit-learn's :func:`~sklearn.metrics.mean_pinball_loss`, with
    ``alpha`` the level) is averaged over the levels and targets and
    negated: higher is better, as early stopping's
    :class:`~skbp._data.scores.NegativePinball` inside ``fit``.

    Parameters
    ----------
    estimator : fitted estimator
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)

    Returns
    -------
    float
    """
    levels = getattr(estimator, "_levels", lambda: None)()
    if levels is None:
        return float(estimator.score(X, y))
    predicted = to_numpy(estimator.predict(X))
    y = np.asarray(to_numpy(y), dtype=np.float64)
    levels = levels if isinstance(levels, tuple) else (levels,)
    # Rows, targets, levels: y's targets against each level's predictions.
    Y = y.reshape(y.shape[0], -1, 1)
    P = predicted.reshape(Y.shape[0], Y.shape[1], len(levels))
    losses = [
        mean_pinball_loss(Y[:, t, 0], P[:, t, j], alpha=tau)
        for t in range(Y.shape[1])
        for j, tau in enumerate(levels)
    ]
    return -float(np.mean(losses))
