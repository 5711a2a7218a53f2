"""skbp.inspection.LossCurveDisplay: what it draws and what it refuses."""

import doctest
import sys
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier, BPRegressor, inspection
from skbp.inspection import LossCurveDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def regression_data():
    X, y = make_regression(n_samples=120, n_features=4, noise=1.0, random_state=0)
    return StandardScaler().fit_transform(X), y / y.std()


@pytest.fixture(scope="module")
def classification_data():
    return make_classification(
        n_samples=150, n_features=5, n_informative=3, n_classes=3, random_state=0
    )


def _regressor(**params):
    defaults = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    return BPRegressor(**{**defaults, **params})


def _classifier(**params):
    defaults = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    return BPClassifier(**{**defaults, **params})


# -- plot(): the lines hold the data ----------------------------------------
def test_plot_loss_curve_only():
    curve = [3.0, 2.0, 1.5, 1.25]
    display = LossCurveDisplay(curve).plot()

    assert display.ax_.figure is display.figure_
    np.testing.assert_array_equal(display.line_.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(display.line_.get_ydata(), curve)
    assert display.validation_line_ is None
    assert display.validation_ax_ is None
    assert display.ax_.get_xlabel() == "Iteration"
    assert display.ax_.get_ylabel() == "Training loss"
    assert display.line_.get_label() == "training loss"
    legend = display.ax_.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["training loss"]


def test_plot_with_validation_scores_on_twin_axis():
    curve, scores = [1.0, 0.5, 0.4], [0.2, 0.6, 0.7]
    display = LossCurveDisplay(curve, scores, estimator_name="net").plot()

    np.testing.assert_array_equal(display.line_.get_ydata(), curve)
    np.testing.assert_array_equal(display.validation_line_.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(display.validation_line_.get_ydata(), scores)
    # The validation curve lives on a twin y axis sharing the x axis.
    val_ax = display.validation_ax_
    assert val_ax is not display.ax_
    assert display.validation_line_.axes is val_ax
    assert display.line_.axes is display.ax_
    assert display.ax_.get_shared_x_axes().joined(display.ax_, val_ax)
    assert val_ax.figure is display.figure_
    assert val_ax.get_ylabel() == "Validation score"
    # One legend, on top, naming both curves.
    assert display.ax_.get_legend() is None
    texts = [t.get_text() for t in val_ax.get_legend().get_texts()]
    assert texts == ["net: training loss", "net: validation score"]


def test_plot_keyword_arguments_reach_the_lines():
    display = LossCurveDisplay([2.0, 1.0], [0.5, 0.6]).plot(
        color="red", label="mine", validation_kw={"color": "green", "marker": "o"}
    )
    assert display.line_.get_color() == "red"
    assert display.line_.get_label() == "mine"
    assert display.validation_line_.get_color() == "green"
    assert display.validation_line_.get_marker() == "o"
    assert display.validation_line_.get_linestyle() == "--"


def test_plot_name_overrides_estimator_name():
    display = LossCurveDisplay([1.0], estimator_name="a").plot(name="b")
    assert display.line_.get_label() == "b: training loss"


def test_plot_ax_passthrough():
    fig, ax = plt.subplots()
    display = LossCurveDisplay([1.0, 0.5], [0.1, 0.2]).plot(ax=ax)
    assert display.ax_ is ax
    assert display.figure_ is fig
    assert display.validation_ax_.figure is fig
    assert len(plt.get_fignums()) == 1


@pytest.mark.parametrize(
    "curve, validation",
    [([], None), ([[1.0, 2.0]], None), ([1.0, 0.5], []), ([1.0], [[0.5]])],
)
def test_plot_rejects_malformed_curves(curve, validation):
    with pytest.raises(ValueError, match="non-empty 1-D"):
        LossCurveDisplay(curve, validation).plot()


def test_plot_without_matplotlib(monkeypatch):
    # None in sys.modules makes `import matplotlib.pyplot` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"skbp\[plot\]"):
        LossCurveDisplay([1.0]).plot()
    with pytest.raises(ImportError, match=r"skbp\[plot\]"):
        LossCurveDisplay.from_estimator(_regressor())


def test_plot_validation_loss_on_the_same_axes():
    curve, val_loss = [3.0, 2.0, 1.5, 1.25], [3.5, 2.5, 2.25, 2.5]
    display = LossCurveDisplay(
        curve, estimator_name="net", validation_loss_curve=val_loss
    ).plot()

    line, val_line = display.line_, display.validation_loss_line_
    np.testing.assert_array_equal(val_line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(val_line.get_ydata(), val_loss)
    np.testing.assert_array_equal(line.get_ydata(), curve)
    # One axes, one y scale for both losses: no twin without scores.
    assert val_line.axes is line.axes is display.ax_
    assert display.validation_ax_ is None and display.validation_line_ is None
    assert display.ax_.get_ylabel() == "Loss"
    assert display.ax_.get_xlabel() == "Iteration"
    # Told apart by line style: same colour, dashed.
    assert val_line.get_color() == line.get_color()
    assert val_line.get_linestyle() == "--" and line.get_linestyle() == "-"
    texts = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert texts == ["net: training loss", "net: validation loss"]


def test_plot_three_curves_losses_on_ax_score_on_twin():
    display = LossCurveDisplay(
        [1.0, 0.5, 0.4],
        [0.2, 0.6, 0.7],
        validation_loss_curve=[1.1, 0.7, 0.8],
        score_name="accuracy",
    ).plot()

    assert display.line_.axes is display.ax_
    assert display.validation_loss_line_.axes is display.ax_
    assert display.validation_line_.axes is display.validation_ax_
    assert display.validation_ax_ is not display.ax_
    assert display.ax_.get_ylabel() == "Loss"
    assert display.validation_ax_.get_ylabel() == "Validation accuracy"
    # The one legend, on the twin drawn on top, lists all three curves.
    assert display.ax_.get_legend() is None
    texts = [t.get_text() for t in display.validation_ax_.get_legend().get_texts()]
    assert texts == ["training loss", "validation loss", "validation accuracy"]


def test_plot_shorter_validation_loss_is_aligned_from_step_one():
    # partial_fit after fit grows loss_curve_, not validation_loss_curve_.
    display = LossCurveDisplay(
        [4.0, 3.0, 2.0, 1.0, 0.5], validation_loss_curve=[4.5, 3.5]
    ).plot()
    np.testing.assert_array_equal(display.validation_loss_line_.get_xdata(), [1, 2])
    np.testing.assert_array_equal(display.line_.get_xdata(), [1, 2, 3, 4, 5])


def test_plot_rejects_validation_loss_longer_than_loss():
    display = LossCurveDisplay([1.0, 0.5], validation_loss_curve=[1.0, 0.9, 0.8])
    with pytest.raises(ValueError, match="cannot be longer than loss_curve.*3 values"):
        display.plot()


@pytest.mark.parametrize("bad", [[], [[1.0, 0.9]], 0.5, [[1.0], [0.9]]])
def test_plot_rejects_malformed_validation_loss(bad):
    display = LossCurveDisplay([1.0, 0.5], validation_loss_curve=bad)
    with pytest.raises(
        ValueError, match="validation_loss_curve must be a non-empty 1-D"
    ):
        display.plot()


def test_plot_validation_loss_kw_and_loss_kwargs():
    display = LossCurveDisplay(
        [2.0, 1.0], [0.5, 0.6], validation_loss_curve=[2.5, 1.5]
    ).plot(
        color="red",
        validation_loss_kw={"linestyle": ":", "marker": "x"},
        validation_kw={"color": "green"},
    )
    val_line = display.validation_loss_line_
    assert val_line.get_color() == "red"  # follows the training line
    assert val_line.get_linestyle() == ":"
    assert val_line.get_marker() == "x"
    assert display.validation_line_.get_color() == "green"  # the score's own kw
    override = LossCurveDisplay([2.0, 1.0], validation_loss_curve=[2.5, 1.5]).plot(
        validation_loss_kw={"color": "black", "label": "held out"}
    )
    assert override.validation_loss_line_.get_color() == "black"
    assert override.validation_loss_line_.get_label() == "held out"


@pytest.mark.parametrize(
    "step_name, xlabel", [(None, "Iteration"), ("epoch", "Epoch"), ("batch", "Batch")]
)
def test_plot_step_name_labels_the_x_axis(step_name, xlabel):
    display = LossCurveDisplay([1.0, 0.5], step_name=step_name).plot()
    assert display.ax_.get_xlabel() == xlabel


def test_several_displays_share_one_axes():
    fig, ax = plt.subplots()
    first = LossCurveDisplay([2.0, 1.0], validation_loss_curve=[2.2, 1.4]).plot(
        ax=ax, name="a"
    )
    second = LossCurveDisplay([3.0, 2.0], validation_loss_curve=[3.1, 2.5]).plot(
        ax=ax, name="b"
    )
    # Each estimator's pair in its own colour.
    assert first.line_.get_color() == first.validation_loss_line_.get_color()
    assert second.line_.get_color() == second.validation_loss_line_.get_color()
    assert first.line_.get_color() != second.line_.get_color()
    assert len(ax.get_lines()) == 4
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [
        "a: training loss",
        "a: validation loss",
        "b: training loss",
        "b: validation loss",
    ]


def test_docstring_examples():
    result = doctest.testmod(inspection, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


# -- from_estimator ----------------------------------------------------------
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_from_estimator_without_early_stopping(regression_data, solver):
    reg = _fit(_regressor(solver=solver), *regression_data)
    display = LossCurveDisplay.from_estimator(reg)

    np.testing.assert_allclose(display.line_.get_ydata(), reg.loss_curve_)
    assert len(display.line_.get_xdata()) == len(reg.loss_curve_) > 0
    assert display.validation_line_ is None
    assert display.validation_ax_ is None
    assert display.estimator_name == "BPRegressor"
    assert display.line_.get_label() == "BPRegressor: training loss"


@pytest.mark.parametrize(
    "make, data, score_name",
    [
        (_regressor, "regression_data", "R²"),
        (_classifier, "classification_data", "accuracy"),
    ],
)
def test_from_estimator_early_stopping_twin_axis(make, data, score_name, request):
    X, y = request.getfixturevalue(data)
    est = _fit(make(early_stopping=True, learning_rate_init=0.01), X, y)
    display = LossCurveDisplay.from_estimator(est)

    np.testing.assert_allclose(display.line_.get_ydata(), est.loss_curve_)
    np.testing.assert_allclose(
        display.validation_line_.get_ydata(), est.validation_scores_
    )
    assert display.validation_ax_ is not display.ax_
    assert display.ax_.get_shared_x_axes().joined(display.ax_, display.validation_ax_)
    assert display.validation_ax_.get_ylabel() == f"Validation {score_name}"


def test_from_estimator_ax_and_kwargs_passthrough(classification_data):
    clf = _fit(_classifier(early_stopping=True), *classification_data)
    fig, ax = plt.subplots()
    display = LossCurveDisplay.from_estimator(
        clf, ax=ax, name="mine", linewidth=3, validation_kw={"alpha": 0.5}
    )
    assert display.ax_ is ax
    assert display.figure_ is fig
    assert display.line_.get_linewidth() == 3
    assert display.line_.get_label() == "mine: training loss"
    assert display.validation_line_.get_alpha() == 0.5
    # ax may also be given positionally, as in the signature.
    assert LossCurveDisplay.from_estimator(clf, ax).ax_ is ax


def test_from_estimator_pipeline(regression_data):
    pipe = make_pipeline(StandardScaler(), _regressor(early_stopping=True))
    _fit(pipe, *regression_data)
    display = LossCurveDisplay.from_estimator(pipe)

    reg = pipe[-1]
    np.testing.assert_allclose(display.line_.get_ydata(), reg.loss_curve_)
    np.testing.assert_allclose(
        display.validation_line_.get_ydata(), reg.validation_scores_
    )
    assert display.estimator_name == "BPRegressor"


def test_from_estimator_nested_pipeline(classification_data):
    inner = make_pipeline(StandardScaler(), _classifier())
    pipe = _fit(make_pipeline(StandardScaler(), inner), *classification_data)
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_allclose(display.line_.get_ydata(), inner[-1].loss_curve_)


@pytest.mark.parametrize(
    "estimator",
    [
        _regressor(),
        _classifier(early_stopping=True),
        make_pipeline(StandardScaler(), _regressor()),
    ],
    ids=["BPRegressor", "BPClassifier", "Pipeline"],
)
def test_from_estimator_unfitted(estimator):
    with pytest.raises(NotFittedError, match="not fitted yet.*loss_curve_"):
        LossCurveDisplay.from_estimator(estimator)
    assert plt.get_fignums() == []  # nothing drawn


@pytest.mark.parametrize(
    "estimator",
    [LinearRegression(), make_pipeline(StandardScaler(), LinearRegression())],
    ids=["LinearRegression", "Pipeline"],
)
def test_from_estimator_rejects_other_estimators(estimator, regression_data):
    estimator.fit(*regression_data)
    with pytest.raises(TypeError, match="BPRegressor or BPClassifier"):
        LossCurveDisplay.from_estimator(estimator)


def test_from_estimator_sklearn_mlp(regression_data):
    # scikit-learn's MLP has the same attributes, except loss_curve_ for lbfgs.
    mlp = _fit(MLPRegressor(hidden_layer_sizes=(8,), max_iter=20), *regression_data)
    display = LossCurveDisplay.from_estimator(mlp)
    np.testing.assert_allclose(display.line_.get_ydata(), mlp.loss_curve_)
    assert display.validation_loss_line_ is None  # MLPs keep no validation loss
    assert display.ax_.get_xlabel() == "Epoch"

    mlp = _fit(
        MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20),
        *regression_data,
    )
    with pytest.raises(ValueError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(mlp)


# -- from_estimator: validation loss -----------------------------------------
def _split(X, y):
    return X[:-40], y[:-40], X[-40:], y[-40:]


@pytest.mark.parametrize("solver, xlabel", [("adam", "Epoch"), ("lbfgs", "Iteration")])
@pytest.mark.parametrize(
    "make, data",
    [(_regressor, "regression_data"), (_classifier, "classification_data")],
    ids=["BPRegressor", "BPClassifier"],
)
def test_from_estimator_with_X_val(make, data, solver, xlabel, request):
    X, y, X_val, y_val = _split(*request.getfixturevalue(data))
    est = make(solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, X_val=X_val, y_val=y_val)
    display = LossCurveDisplay.from_estimator(est)

    assert len(est.validation_loss_curve_) == len(est.loss_curve_)
    np.testing.assert_allclose(display.line_.get_ydata(), est.loss_curve_)
    np.testing.assert_allclose(
        display.validation_loss_line_.get_ydata(), est.validation_loss_curve_
    )
    np.testing.assert_array_equal(
        display.validation_loss_line_.get_xdata(), display.line_.get_xdata()
    )
    assert display.validation_loss_line_.axes is display.ax_
    assert display.validation_ax_ is None  # monitoring only: no scores
    assert display.ax_.get_xlabel() == xlabel
    assert display.ax_.get_ylabel() == "Loss"
    name = type(est).__name__
    texts = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert texts == [f"{name}: training loss", f"{name}: validation loss"]


@pytest.mark.parametrize("X_val", [False, True], ids=["split", "X_val"])
def test_from_estimator_early_stopping_three_curves(classification_data, X_val):
    X, y, X_va, y_va = _split(*classification_data)
    clf = _classifier(early_stopping=True, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if X_val:
            clf.fit(X, y, X_val=X_va, y_val=y_va)
        else:
            clf.fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)

    np.testing.assert_allclose(
        display.validation_loss_line_.get_ydata(), clf.validation_loss_curve_
    )
    np.testing.assert_allclose(
        display.validation_line_.get_ydata(), clf.validation_scores_
    )
    assert display.line_.axes is display.validation_loss_line_.axes is display.ax_
    assert display.validation_line_.axes is display.validation_ax_
    assert display.validation_ax_ is not display.ax_
    assert display.ax_.get_xlabel() == "Epoch"
    texts = [t.get_text() for t in display.validation_ax_.get_legend().get_texts()]
    assert texts == [
        "BPClassifier: training loss",
        "BPClassifier: validation loss",
        "BPClassifier: validation accuracy",
    ]


def test_from_estimator_without_validation_has_no_validation_loss_line(
    classification_data,
):
    clf = _fit(_classifier(), *classification_data)
    assert clf.validation_loss_curve_ is None
    display = LossCurveDisplay.from_estimator(clf)
    assert display.validation_loss_line_ is None
    assert display.ax_.get_ylabel() == "Training loss"
    assert len(display.ax_.get_lines()) == 1


def test_from_estimator_after_partial_fit(classification_data):
    # partial_fit records training losses only: its epochs' validation
    # losses are NaN, which matplotlib leaves out of the line.
    X, y, X_val, y_val = _split(*classification_data)
    clf = _classifier(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y, X_val=X_val, y_val=y_val)
    clf.partial_fit(X, y)
    clf.partial_fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)
    np.testing.assert_array_equal(display.line_.get_xdata(), np.arange(1, 8))
    np.testing.assert_array_equal(
        display.validation_loss_line_.get_xdata(), np.arange(1, 8)
    )
    drawn = np.asarray(display.validation_loss_line_.get_ydata())
    assert np.all(np.isfinite(drawn[:5])) and np.all(np.isnan(drawn[5:]))


def test_from_estimator_validation_loss_kw(regression_data):
    X, y, X_val, y_val = _split(*regression_data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = _regressor().fit(X, y, X_val=X_val, y_val=y_val)
    display = LossCurveDisplay.from_estimator(
        reg, color="purple", validation_loss_kw={"linewidth": 4}
    )
    assert display.validation_loss_line_.get_linewidth() == 4
    assert display.validation_loss_line_.get_color() == "purple"


def test_from_estimator_pipeline_routes_X_val(regression_data):
    X, y, X_val, y_val = _split(*regression_data)
    with sklearn.config_context(enable_metadata_routing=True):
        reg = _regressor().set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("reg", reg)])
        pipe.set_params(transform_input=["X_val"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X, y, X_val=X_val, y_val=y_val)
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_allclose(
        display.validation_loss_line_.get_ydata(), reg.validation_loss_curve_
    )
