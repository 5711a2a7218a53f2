"""The no-improvement rule of early stopping, written once.

scikit-learn's MLP stops training when its score has not improved for too
long, and skbp keeps its rule exactly, so that ``n_iter_`` and the loss
curves match. The estimators apply it to the validation score
(``early_stopping=True``) or to the training loss, and
:func:`skbp.streaming.fit_chunks` to its validation score. Bookkeeping only:
no estimator, no arrays.
"""

from typing import NamedTuple

__all__ = ["NoImprovement", "update_no_improvement", "stalled"]


class NoImprovement(NamedTuple):
    """The rule's state after one epoch (see :func:`update_no_improvement`).

    Attributes
    ----------
    count : int
        Consecutive epochs that did not beat the best score by ``tol``.
    best : float
        Best score so far.
    improved : bool
        Whether this epoch's score is the new ``best`` (keep its weights).
    """

    count: int
    best: float
    improved: bool


def update_no_improvement(count, best, score, tol):
    """One epoch of the no-improvement rule, on a score (higher is better).

    As scikit-learn's ``_update_no_improvement_count``: the epoch adds one
    to ``count`` unless its score beats ``best`` by at least ``tol``, which
    resets ``count`` to 0; ``best`` follows any gain, however small. Both
    the counter and the best score therefore move on a small gain: ``count``
    goes up while ``best`` rises.

    A loss enters negated (``score=-loss``, ``best=-best_loss``): negation
    is exact in floating point and ``-loss < -best_loss + tol`` holds exactly
    when ``loss > best_loss - tol``, scikit-learn's test on the training
    loss, so the numbers are bit for bit those of its loss branch.

    Parameters
    ----------
    count : int
        Consecutive epochs without improvement before this one.
    best : float
        Best score before this epoch (``-inf`` before any).
    score : float
        This epoch's score. NaN (a diverged network) never improves and,
        as in scikit-learn, resets ``count`` (every comparison is False).
    tol : float
        Least gain that counts as an improvement.

    Returns
    -------
    tuple
        ``(count, best, improved)`` after this epoch, the fields of
        :class:`NoImprovement`; ``best`` is ``score`` itself (the same
        object) when ``improved``.
    """
    count = count + 1 if score < best + tol else 0
    # A plain tuple, as NoImprovement's fields: built once per epoch, and a
    # named tuple's construction measurably slowed the smallest fits.
    if score > best:
        return count, score, True
    return count, best, False


def stalled(count, n_iter_no_change):
    """Whether to stop: more than ``n_iter_no_change`` epochs without improvement.

    Parameters
    ----------
    count : int
        From :func:`update_no_improvement`.
    n_iter_no_change : int or inf
        ``inf`` never stops.

    Returns
    -------
    bool
    """
    # "More than", as scikit-learn: n_iter_no_change=10 stops after the
    # 11th epoch without improvement.
    return count > n_iter_no_change
