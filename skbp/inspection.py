"""Visual inspection of fitted networks.

:class:`LossCurveDisplay` draws the training loss of a fitted
:class:`~skbp.BPRegressor` or :class:`~skbp.BPClassifier` after each
iteration and, when the estimator was fitted with ``early_stopping=True``,
the score on the held-out validation set on a second y axis. It follows
scikit-learn's display convention (:class:`sklearn.metrics.RocCurveDisplay`):
build it from an estimator with :meth:`LossCurveDisplay.from_estimator`, or
from stored values with the constructor and :meth:`LossCurveDisplay.plot`.

matplotlib is only needed to draw (``pip install "skbp[plot]"``).
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._classifier import BPClassifier
from ._regressor import BPRegressor

__all__ = ["LossCurveDisplay"]


def _import_pyplot(caller):
    """Import matplotlib.pyplot, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed. Install it "
            'with `pip install "skbp[plot]"` (or `pip install matplotlib`).'
        ) from exc
    return plt


def _as_curve(values, what):
    """``values`` as a non-empty 1-D float array (``what`` names it in errors)."""
    curve = np.asarray(values, dtype=float)
    if curve.ndim != 1 or curve.size == 0:
        raise ValueError(
            f"{what} must be a non-empty 1-D sequence of numbers; got shape "
            f"{curve.shape}."
        )
    return curve


def _final_estimator(estimator):
    """The estimator itself, or the last step of a (nested) Pipeline."""
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator


class LossCurveDisplay:
    """Training loss curve, with the validation score when early stopping.

    The recommended way to build one is
    :meth:`LossCurveDisplay.from_estimator`. Built from stored values, call
    :meth:`plot` to draw it. Every attribute that ends with ``_`` is set by
    :meth:`plot`.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter,)
        Training loss after each iteration (``loss_curve_`` of a fitted
        :class:`~skbp.BPRegressor` or :class:`~skbp.BPClassifier`).
    validation_scores : array-like of shape (n_iter,), default=None
        Score on the held-out validation set after each epoch
        (``validation_scores_``, set when fitted with ``early_stopping=True``).
        Drawn on a second y axis, sharing the x axis.
    estimator_name : str, default=None
        Name of the estimator, used in the legend. ``None`` leaves it out.
    score_name : str, default=None
        What the validation score measures, such as ``"accuracy"``: the
        second axis is labelled ``"Validation <score_name>"``. ``None`` means
        ``"score"``.

    Attributes
    ----------
    line_ : matplotlib.lines.Line2D
        The training loss curve.
    validation_line_ : matplotlib.lines.Line2D or None
        The validation score curve, or ``None`` without validation scores.
    ax_ : matplotlib.axes.Axes
        Axes holding the loss curve.
    validation_ax_ : matplotlib.axes.Axes or None
        Twin axes (``ax_.twinx()``) holding the validation curve, or
        ``None`` without validation scores.
    figure_ : matplotlib.figure.Figure
        Figure holding the axes.

    See Also
    --------
    LossCurveDisplay.from_estimator : Plot the loss curve of a fitted
        estimator.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbp import BPClassifier
    >>> from skbp.inspection import LossCurveDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     BPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01,
    ...                  early_stopping=True, random_state=0),
    ... ).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> len(display.line_.get_ydata()) == clf[-1].n_iter_
    True
    >>> display.validation_ax_ is not None
    True
    >>> plt.close("all")
    """

    def __init__(
        self,
        loss_curve,
        validation_scores=None,
        estimator_name=None,
        *,
        score_name=None,
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.score_name = score_name

    def plot(self, ax=None, *, name=None, validation_kw=None, **kwargs):
        """Draw the loss curve (and the validation scores, if any).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on. ``None`` draws on a new figure.
        name : str, default=None
            Name of the estimator in the legend; ``None`` uses
            ``estimator_name``.
        validation_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the validation curve (dashed, second colour by default).
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the loss curve.

        Returns
        -------
        display : LossCurveDisplay
            This object, with the attributes that end with ``_`` set.
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        loss = _as_curve(self.loss_curve, "loss_curve")
        scores = None
        if self.validation_scores is not None:
            scores = _as_curve(self.validation_scores, "validation_scores")

        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        prefix = "" if name is None else f"{name}: "

        line_kw = {"label": f"{prefix}training loss"}
        line_kw.update(kwargs)
        (self.line_,) = ax.plot(np.arange(1, loss.size + 1), loss, **line_kw)
        ax.set_xlabel("Iteration")
        ax.set_ylabel("Training loss")

        self.validation_ax_ = None
        self.validation_line_ = None
        axes = [ax]
        if scores is not None:
            score_name = "score" if self.score_name is None else self.score_name
            self.validation_ax_ = ax.twinx()
            val_kw = {
                "label": f"{prefix}validation {score_name}",
                "color": "C1",
                "linestyle": "--",
            }
            val_kw.update(validation_kw or {})
            (self.validation_line_,) = self.validation_ax_.plot(
                np.arange(1, scores.size + 1), scores, **val_kw
            )
            self.validation_ax_.set_ylabel(f"Validation {score_name}")
            axes.append(self.validation_ax_)
            # The twin axes is drawn on top of ax: its legend lists both curves.
            if ax.get_legend() is not None:
                ax.get_legend().remove()

        handles, labels = [], []
        for each in axes:
            more_handles, more_labels = each.get_legend_handles_labels()
            handles += more_handles
            labels += more_labels
        if handles:
            axes[-1].legend(handles, labels, loc="best")

        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, ax=None, *, name=None, validation_kw=None, **kwargs
    ):
        """Plot the loss curve of a fitted estimator.

        Reads ``loss_curve_`` and ``validation_scores_`` of a fitted
        :class:`~skbp.BPRegressor` or :class:`~skbp.BPClassifier` (or of
        scikit-learn's ``MLPRegressor`` / ``MLPClassifier``), or of the last
        step of a :class:`~sklearn.pipeline.Pipeline` that ends with one.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skbp.BPRegressor` or :class:`~skbp.BPClassifier`,
            or a fitted :class:`~sklearn.pipeline.Pipeline` whose last step is
            one.
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on. ``None`` draws on a new figure.
        name : str, default=None
            Name of the estimator in the legend; ``None`` uses its class name.
        validation_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the validation curve.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the loss curve.

        Returns
        -------
        display : LossCurveDisplay
            The drawn display.

        Raises
        ------
        TypeError
            If the (final) estimator is not a multi-layer perceptron.
        sklearn.exceptions.NotFittedError
            If it is not fitted yet.
        ValueError
            If it recorded no loss curve (scikit-learn's MLP fitted with
            ``solver='lbfgs'``).
        """
        _import_pyplot(f"{cls.__name__}.from_estimator")
        final = _final_estimator(estimator)
        if not isinstance(final, (BPRegressor, BPClassifier, *_sklearn_mlps())):
            raise TypeError(
                f"{cls.__name__}.from_estimator expects a fitted BPRegressor or "
                "BPClassifier, or a Pipeline whose last step is one; got "
                f"{type(final).__name__}."
            )
        check_is_fitted(
            final,
            msg=(
                f"This {type(final).__name__} instance is not fitted yet: "
                f"{cls.__name__} draws its loss_curve_. Call 'fit' with "
                "appropriate arguments first."
            ),
        )
        if getattr(final, "loss_curve_", None) is None:
            # scikit-learn's MLP keeps no loss curve with solver="lbfgs".
            raise ValueError(
                f"This {type(final).__name__} has no loss_curve_ "
                f"(solver={getattr(final, 'solver', None)!r}); fit a BPRegressor "
                "or BPClassifier, which record one for every solver."
            )
        if name is None:
            name = type(final).__name__
        validation_scores = getattr(final, "validation_scores_", None)
        score_name = None
        if validation_scores is not None:
            score_name = "accuracy" if is_classifier(final) else "R²"
        display = cls(
            loss_curve=final.loss_curve_,
            validation_scores=validation_scores,
            estimator_name=name,
            score_name=score_name,
        )
        return display.plot(ax=ax, validation_kw=validation_kw, **kwargs)


def _sklearn_mlps():
    """scikit-learn's MLPRegressor and MLPClassifier (same fitted attributes)."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return MLPClassifier, MLPRegressor
