r"""Early stopping's scores, from sums: one formula for every placement.

A score is computed from per-part sums that add up: the rows in memory are
one part, the validation chunks on Dask workers are many (added in a tree
of tasks). So the accuracy and :math:`R^2` of a validation set are the same
numbers wherever its rows live, and equal to scikit-learn's
``accuracy_score`` and ``r2_score`` (with ``sample_weight``) up to the
order of the additions.

Each score has ``prepare`` (what the whole set gives before the first
epoch), ``sums(output, Y, sample_weight)`` (one part's sums, on the host or
its worker) and ``value(total, sums)`` (the score of the added sums).
"""

import numpy as np

from ..core import sort_quantiles
from .workers import tree_sum

__all__ = ["Accuracy", "R2", "NegativePinball"]


class Accuracy:
    r"""Accuracy: :math:`\sum_i s_i [\hat y_i = y_i] / \sum_i s_i`.

    The labels are compared through the indicator matrix ``Y`` (what
    :class:`~sklearn.preprocessing.LabelBinarizer` made of them): the
    predicted class is the output's argmax (one logistic unit: above 0.5),
    and a multilabel row is right when every label is (``accuracy_score``'s
    subset accuracy).

    Parameters
    ----------
    n_classes : int
        A model of one class predicts it for every row.
    multilabel : bool, default=False
        ``Y``'s columns are independent labels.
    """

    def __init__(self, n_classes, multilabel=False):
        self.n_classes = n_classes
        self.multilabel = multilabel

    def prepare(self, workers, chunks):
        """Nothing to compute before the first epoch."""

    def prepare_rows(self, Y, sample_weight):
        """Nothing to compute before the first epoch."""

    def sums(self, output, Y, sample_weight):
        """A part's weight of rightly labelled rows, and its number of
        non-finite outputs (a diverged network scores NaN)."""
        if self.n_classes == 1:
            right = np.ones(Y.shape[0], dtype=bool)
        elif self.multilabel:
            right = np.all((output > 0.5) == (Y != 0), axis=1)
        elif Y.shape[1] == 1:  # binary: one logistic unit
            right = (output[:, 0] > 0.5) == (Y[:, 0] != 0)
        else:
            right = output.argmax(axis=1) == Y.argmax(axis=1)
        weight = right if sample_weight is None else sample_weight * right
        return float(np.sum(weight)), int(np.sum(~np.isfinite(output)))

    def value(self, total, sums):
        right, non_finite = sums
        return np.nan if non_finite else right / total


def _target_sums(data):
    """A part's :math:`\\sum_i s_i` and :math:`\\sum_i s_i y_i` (a task)."""
    _, Y, sample_weight = data
    weight = np.ones(Y.shape[0]) if sample_weight is None else sample_weight
    return float(np.sum(weight)), weight @ Y.astype(np.float64)


def _centred_squares(data, mean):
    """A part's :math:`\\sum_i s_i (y_i - \\bar y)^2` per output (a task)."""
    _, Y, sample_weight = data
    squares = (Y.astype(np.float64) - mean) ** 2
    if sample_weight is None:
        return (squares.sum(axis=0),)
    return (sample_weight @ squares,)


class R2:
    r""":math:`R^2`, as ``r2_score`` with ``sample_weight``, averaged over
    the outputs.

    .. math:: R^2_k = 1 - \frac{\sum_i s_i (y_{ik} - \hat y_{ik})^2}
                               {\sum_i s_i (y_{ik} - \bar y_k)^2}

    The denominators do not change during a fit: ``prepare`` computes
    them once, in two passes (the weighted mean :math:`\bar y_k`, then the
    squares about it); each epoch sums the residuals' squares. As
    ``r2_score``: an output of constant targets scores 1 when predicted
    exactly, else 0.
    """

    def prepare(self, workers, chunks):
        """The denominators, from the validation ``chunks`` (handles of
        ``(X, Y, sample_weight)`` on the workers)."""
        total, weighted = workers.value(
            tree_sum(workers, [workers.task(_target_sums, c) for c in chunks])
        )
        mean = weighted / total
        (self.denominator,) = workers.value(
            tree_sum(workers, [workers.task(_centred_squares, c, mean) for c in chunks])
        )

    def prepare_rows(self, Y, sample_weight):
        """The denominators, from rows in memory (on the host)."""
        total, weighted = _target_sums((None, Y, sample_weight))
        (self.denominator,) = _centred_squares(
            (None, Y, sample_weight), weighted / total
        )

    def sums(self, output, Y, sample_weight):
        """A part's residual squares per output, and its number of
        non-finite outputs."""
        squares = (Y.astype(np.float64) - output) ** 2
        residual = (
            squares.sum(axis=0) if sample_weight is None else sample_weight @ squares
        )
        return residual, int(np.sum(~np.isfinite(output)))

    def value(self, total, sums):
        residual, non_finite = sums
        if non_finite:
            return np.nan
        scores = np.ones_like(self.denominator)
        fitted = self.denominator != 0
        scores[fitted] = 1 - residual[fitted] / self.denominator[fitted]
        scores[~fitted & (residual != 0)] = 0.0
        return float(np.mean(scores))


class NegativePinball:
    r"""The negative mean pinball loss of quantile predictions.

    .. math:: -\frac{1}{K} \sum_k \frac{\sum_i s_i\,
              \rho_{\tau_k}(y_{ik} - \hat y_{ik})}{\sum_i s_i}

    over the :math:`K` output columns (every level of every target), each
    row's predictions sorted by level first, as ``predict`` sorts them:
    scikit-learn's ``mean_pinball_loss`` of each level, averaged and
    negated (higher is better), with the pinball loss of
    :class:`skbp.core.PinballLoss`. Early stopping of ``loss='quantile'``
    watches this: :math:`R^2` rewards predictions near the conditional
    mean, and would stop a network as its outer quantiles move away from
    it.

    Parameters
    ----------
    loss : PinballLoss
        The fit's loss, with its levels.
    """

    def __init__(self, loss):
        self.loss = loss

    def prepare(self, workers, chunks):
        """Nothing to compute before the first epoch."""

    def prepare_rows(self, Y, sample_weight):
        """Nothing to compute before the first epoch."""

    def sums(self, output, Y, sample_weight):
        """A part's weighted sum of the rows' mean pinball losses over the
        columns, and its number of non-finite outputs."""
        non_finite = int(np.sum(~np.isfinite(output)))
        if isinstance(self.loss.quantile, tuple):
            output = sort_quantiles(output, self.loss.quantile)
        Y = Y.astype(output.dtype, copy=False)
        with np.errstate(invalid="ignore", over="ignore"):  # non-finite: NaN
            rows = self.loss.per_sample(Y, output, output) / output.shape[1]
        total = np.sum(rows) if sample_weight is None else sample_weight @ rows
        return float(total), non_finite

    def value(self, total, sums):
        loss, non_finite = sums
        return np.nan if non_finite else -loss / total
