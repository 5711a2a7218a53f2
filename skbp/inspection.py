"""Visual inspection of fitted networks.

:class:`LossCurveDisplay` draws the training loss of a fitted
:class:`~skbp.BPRegressor` or :class:`~skbp.BPClassifier` after each epoch
(stochastic solvers) or iteration (L-BFGS) and, on the same axes, its loss on
the validation rows when it was fitted with some (``X_val``, or early
stopping's split): one y axis for both, so that the gap between them, or the
validation loss turning up as the network overfits, reads directly. When the
estimator was fitted with ``early_stopping=True``, the score on the held-out
validation set is drawn on a second y axis. It follows scikit-learn's display
convention (:class:`sklearn.metrics.RocCurveDisplay`): build it from an
estimator with :meth:`LossCurveDisplay.from_estimator`, or from stored values
with the constructor and :meth:`LossCurveDisplay.plot`.

matplotlib is only needed to draw (``pip install "skbp[plot]"``).
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._estimators.base import _STOCHASTIC_SOLVERS
from ._estimators.classifier import BPClassifier
from ._estimators.regressor import BPRegressor

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
    """Training and validation loss curves, with the validation score when
    early stopping.

    The training loss and the validation loss are drawn on the same axes
    (one scale, one y axis), the validation score on a second y axis. The
    recommended way to build one is :meth:`LossCurveDisplay.from_estimator`.
    Built from stored values, call :meth:`plot` to draw it. Every attribute
    that ends with ``_`` is set by :meth:`plot`.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter,)
        Training loss after each epoch or iteration (``loss_curve_`` of a
        fitted :class:`~skbp.BPRegressor` or :class:`~skbp.BPClassifier`).
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
    validation_loss_curve : array-like of shape (n_val_iter,), default=None
        Loss on the validation rows after each epoch or iteration
        (``validation_loss_curve_``, recorded when fitted with ``X_val`` or
        with early stopping's split), drawn on the axes of the training loss.
        Its ``i``-th value (from 1) is drawn at step ``i``, with the
        ``i``-th value of ``loss_curve``: a fitted estimator's curve has an
        entry per epoch, NaN (not drawn) for epochs trained without
        validation data. It may be shorter than ``loss_curve``, not longer.
    step_name : str, default=None
        What one step of the curves is, such as ``"epoch"``: the x axis is
        labelled with it (capitalised). ``None`` means ``"iteration"``.

    Attributes
    ----------
    line_ : matplotlib.lines.Line2D
        The training loss curve.
    validation_loss_line_ : matplotlib.lines.Line2D or None
        The validation loss curve, on ``ax_``, or ``None`` without a
        validation loss curve.
    validation_line_ : matplotlib.lines.Line2D or None
        The validation score curve, or ``None`` without validation scores.
    ax_ : matplotlib.axes.Axes
        Axes holding the loss curves.
    validation_ax_ : matplotlib.axes.Axes or None
        Twin axes (``ax_.twinx()``) holding the validation score curve, or
        ``None`` without validation scores.
    figure_ : matplotlib.figure.Figure
        Figure holding the axes.

    See Also
    --------
    LossCurveDisplay.from_estimator : Plot the loss curves of a fitted
        estimator.

    Notes
    -----
    Both losses are the data loss per row (log-loss for the classifier, half
    the squared error, ... for the regressor), but they differ in two ways
    beside the rows they are computed on: the training loss includes the L2
    penalty (``alpha``) and, for the stochastic solvers, is the mean of the
    epoch's batch losses while the weights changed (and units dropped out);
    the validation loss is that of the weights at the end of the epoch,
    without the penalty or dropout.

    Examples
    --------
    With validation data of one's own (``X_val``), both losses share the
    axes:

    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbp import BPClassifier
    >>> from skbp.inspection import LossCurveDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> X_train, X_val, y_train, y_val = train_test_split(
    ...     X, y, stratify=y, random_state=0
    ... )
    >>> clf = BPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01,
    ...                    max_iter=300, random_state=0)
    >>> clf = clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> display.validation_loss_line_.axes is display.ax_
    True
    >>> display.ax_.get_xlabel(), display.ax_.get_ylabel()
    ('Epoch', 'Loss')

    With early stopping, the validation accuracy is drawn too, on a second
    y axis:

    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     BPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01,
    ...                  early_stopping=True, random_state=0),
    ... ).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> len(display.line_.get_ydata()) == clf[-1].n_iter_
    True
    >>> display.validation_ax_.get_ylabel()
    'Validation accuracy'
    >>> plt.close("all")
    """

    def __init__(
        self,
        loss_curve,
        validation_scores=None,
        estimator_name=None,
        *,
        score_name=None,
        validation_loss_curve=None,
        step_name=None,
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.score_name = score_name
        self.validation_loss_curve = validation_loss_curve
        self.step_name = step_name

    def plot(
        self,
        ax=None,
        *,
        name=None,
        validation_kw=None,
        validation_loss_kw=None,
        **kwargs,
    ):
        """Draw the loss curves (and the validation scores, if any).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on. ``None`` draws on a new figure.
        name : str, default=None
            Name of the estimator in the legend; ``None`` uses
            ``estimator_name``.
        validation_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the validation score curve (dashed, second colour by default).
        validation_loss_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the validation loss curve (dashed, in the training loss's colour
            by default).
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the training loss curve.

        Returns
        -------
        display : LossCurveDisplay
            This object, with the attributes that end with ``_`` set.

        Raises
        ------
        ValueError
            If a curve is not a non-empty 1-D sequence of numbers, or the
            validation loss curve is longer than the training loss curve.
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        loss, validation_loss, scores = self._curves()
        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        prefix = "" if name is None else f"{name}: "

        self._plot_losses(ax, loss, validation_loss, prefix, kwargs, validation_loss_kw)
        axes = [ax]
        self.validation_ax_ = None
        self.validation_line_ = None
        if scores is not None:
            axes.append(self._plot_scores(ax, scores, prefix, validation_kw))
        _legend(axes)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _curves(self):
        """The training loss, validation loss and validation score curves as
        1-D float arrays (the last two None when not given), checked."""
        loss = _as_curve(self.loss_curve, "loss_curve")
        validation_loss = scores = None
        if self.validation_loss_curve is not None:
            validation_loss = _as_curve(
                self.validation_loss_curve, "validation_loss_curve"
            )
            if validation_loss.size > loss.size:
                # Its values belong to the first epochs of loss_curve: more
                # of them than epochs means the two curves do not match.
                raise ValueError(
                    "validation_loss_curve cannot be longer than loss_curve "
                    f"(one value per epoch or iteration): got {validation_loss.size}"
                    f" values for {loss.size} training losses."
                )
        if self.validation_scores is not None:
            scores = _as_curve(self.validation_scores, "validation_scores")
        return loss, validation_loss, scores

    def _plot_losses(self, ax, loss, validation_loss, prefix, kwargs, val_kw):
        """Draw both losses on ``ax``; set ``line_`` and
        ``validation_loss_line_``."""
        line_kw = {"label": f"{prefix}training loss", **kwargs}
        (self.line_,) = ax.plot(_steps(loss), loss, **line_kw)
        self.validation_loss_line_ = None
        if validation_loss is not None:
            # The training line's colour: with several displays on one axes,
            # each estimator's two losses are told apart by line style only.
            loss_kw = {
                "label": f"{prefix}validation loss",
                "color": self.line_.get_color(),
                "linestyle": "--",
                **(val_kw or {}),
            }
            (self.validation_loss_line_,) = ax.plot(
                _steps(validation_loss), validation_loss, **loss_kw
            )
        step_name = "iteration" if self.step_name is None else str(self.step_name)
        ax.set_xlabel(step_name[:1].upper() + step_name[1:])
        ax.set_ylabel("Training loss" if validation_loss is None else "Loss")

    def _plot_scores(self, ax, scores, prefix, val_kw):
        """Draw the validation scores on a twin of ``ax``; set
        ``validation_ax_`` and ``validation_line_`` and return the twin."""
        score_name = "score" if self.score_name is None else self.score_name
        self.validation_ax_ = ax.twinx()
        score_kw = {
            "label": f"{prefix}validation {score_name}",
            "color": "C1",
            "linestyle": "--",
            **(val_kw or {}),
        }
        (self.validation_line_,) = self.validation_ax_.plot(
            _steps(scores), scores, **score_kw
        )
        self.validation_ax_.set_ylabel(f"Validation {score_name}")
        return self.validation_ax_

    @classmethod
    def from_estimator(
        cls,
        estimator,
        ax=None,
        *,
        name=None,
        validation_kw=None,
        validation_loss_kw=None,
        **kwargs,
    ):
        """Plot the loss curves of a fitted estimator.

        Reads ``loss_curve_``, ``validation_loss_curve_`` and
        ``validation_scores_`` of a fitted :class:`~skbp.BPRegressor` or
        :class:`~skbp.BPClassifier` (or ``loss_curve_`` and
        ``validation_scores_`` of scikit-learn's ``MLPRegressor`` /
        ``MLPClassifier``, which record no validation loss), or of the last
        step of a :class:`~sklearn.pipeline.Pipeline` that ends with one.
        The x axis counts epochs for the stochastic solvers (``"sgd"``,
        ``"adam"``) and iterations for ``"lbfgs"``.

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
            the validation score curve.
        validation_loss_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the validation loss curve.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the training loss curve.

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
        _check_fitted_mlp(final, cls.__name__)
        validation_scores = getattr(final, "validation_scores_", None)
        score_name = None
        if validation_scores is not None:
            score_name = "accuracy" if is_classifier(final) else "R²"
        solver = getattr(final, "solver", None)
        display = cls(
            loss_curve=final.loss_curve_,
            validation_scores=validation_scores,
            estimator_name=type(final).__name__ if name is None else name,
            score_name=score_name,
            # scikit-learn's MLPs keep no validation loss.
            validation_loss_curve=getattr(final, "validation_loss_curve_", None),
            step_name="epoch" if solver in _STOCHASTIC_SOLVERS else "iteration",
        )
        return display.plot(
            ax=ax,
            validation_kw=validation_kw,
            validation_loss_kw=validation_loss_kw,
            **kwargs,
        )


def _steps(curve):
    """x positions of ``curve``'s values: steps 1, 2, ..."""
    return np.arange(1, curve.size + 1)


def _legend(axes):
    """One legend listing the curves of every axes in ``axes``, drawn on the
    last: a twin axes is drawn on top of the axes it twins."""
    handles, labels = [], []
    for each in axes:
        more_handles, more_labels = each.get_legend_handles_labels()
        handles += more_handles
        labels += more_labels
    for each in axes[:-1]:
        if each.get_legend() is not None:
            each.get_legend().remove()
    if handles:
        axes[-1].legend(handles, labels, loc="best")


def _check_fitted_mlp(final, caller):
    """Raise unless ``final`` is a fitted MLP that recorded a loss curve."""
    if not isinstance(final, (BPRegressor, BPClassifier, *_sklearn_mlps())):
        raise TypeError(
            f"{caller}.from_estimator expects a fitted BPRegressor or "
            "BPClassifier, or a Pipeline whose last step is one; got "
            f"{type(final).__name__}."
        )
    check_is_fitted(
        final,
        msg=(
            f"This {type(final).__name__} instance is not fitted yet: "
            f"{caller} draws its loss_curve_. Call 'fit' with "
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


def _sklearn_mlps():
    """scikit-learn's MLPRegressor and MLPClassifier (same fitted attributes)."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return MLPClassifier, MLPRegressor
