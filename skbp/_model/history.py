"""What :func:`skbp.streaming.fit_chunks` records: a leaf module.

The description of a model (:mod:`skbp._model.attributes`) names this type, and
the training engine reads that description: the type lives here, below
both, so that :mod:`skbp.streaming` can use the engine. Its public name
stays ``skbp.streaming.StreamingHistory`` (pickles and skops files record
that name).
"""

from dataclasses import dataclass, field

__all__ = ["StreamingHistory"]


@dataclass
class StreamingHistory:
    """What :func:`fit_chunks` recorded, one entry per epoch.

    :func:`fit_chunks` stores it on the estimator as ``streaming_history_``.

    Attributes
    ----------
    loss : list of float
        Mean training loss of each epoch: the estimator's ``loss_`` after
        each chunk's ``partial_fit``, averaged with the chunks' row counts
        as weights (``nan`` when the estimator has no ``loss_``).
    validation_score : list of float
        ``estimator.score`` on the validation chunk after each epoch
        (accuracy for classifiers, R^2 for regressors, the negative mean
        pinball loss for ``loss='quantile'``); empty without
        validation.
    best_epoch : int or None
        Epoch (counting from 1) whose weights the estimator holds at the
        end: the best validation score. ``None`` without validation (the
        weights are the last epoch's).
    best_validation_score : float or None
        Validation score of ``best_epoch``.
    stopped_early : bool
        Whether early stopping ended training before ``n_epochs``.
    n_chunks : int
        Training chunks per epoch (the validation chunk excluded); ``None``
        when ``chunks`` is a callable.
    n_samples : int
        Training rows in the last epoch.
    """

    loss: list = field(default_factory=list)
    validation_score: list = field(default_factory=list)
    best_epoch: int | None = None
    best_validation_score: float | None = None
    stopped_early: bool = False
    n_chunks: int | None = None
    n_samples: int = 0

    @property
    def n_epochs(self):
        """Epochs run."""
        return len(self.loss)


# Its public home, where pickles and skops files look it up.
StreamingHistory.__module__ = "skbp.streaming"
