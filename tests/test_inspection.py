"""skbp.inspection.LossCurveDisplay: what it draws and what it refuses."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier, BPRegressor
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

    mlp = _fit(
        MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20),
        *regression_data,
    )
    with pytest.raises(ValueError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(mlp)
