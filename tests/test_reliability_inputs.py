"""Bad inputs get a clear ValueError or TypeError, never a crash (issue 7).

Property-based tests (hypothesis) feed ``fit``, ``partial_fit``,
``predict``, ``predict_proba``, ``predict_log_proba`` and ``score`` with
generated inputs: empty arrays, one row, one feature, zero features, NaN and
inf anywhere in ``X``, ``y`` or ``sample_weight``, negative or all-zero
weights, wrong lengths, ragged lists, strings, objects, complex numbers,
targets of one class, labels unseen at fit, the wrong number of features,
and every parameter at and beyond its bounds. Each call either works, with
finite outputs and valid probabilities, or raises ``ValueError`` or
``TypeError`` with a message; anything else (``IndexError``,
``ZeroDivisionError``, ``FloatingPointError``, a NaN prediction, a
``RuntimeWarning``) fails the test.

The calls run under ``np.errstate(over/invalid/divide="raise")``: skbp must
not rely on numpy's default of warning about overflow. The examples are
derandomized (the same on every run) and small, to keep the module fast;
the explicit cases below the properties pin the messages.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import (
    ConvergenceWarning,
    DataConversionWarning,
    UndefinedMetricWarning,
)

from skbp import BPClassifier, BPRegressor
from skbp.core import HIDDEN_ACTIVATIONS

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

ERRORS = (ValueError, TypeError)


def _attempt(call):
    """Run ``call`` under strict numerics: ``(True, result)`` or ``(False, error)``.

    A ValueError or TypeError must carry a message; any other exception,
    and any RuntimeWarning or FloatingPointError, propagates (a failure).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DataConversionWarning)
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # R^2 of one row
        warnings.filterwarnings("ignore", message=".*batch_size.*clipped")
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            try:
                return True, call()
            except ERRORS as exc:
                assert str(exc).strip(), f"{type(exc).__name__} without a message"
                return False, exc


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _check_predictions(est, X):
    """Predictions on ``X`` work with finite values, or raise a clear error."""
    ok, pred = _attempt(lambda: est.predict(X))
    if not ok:
        return
    pred = np.asarray(pred)
    assert pred.shape[0] == _n_rows(X)
    if isinstance(est, BPRegressor):
        assert np.isfinite(pred).all(), pred
        return
    multilabel = est._label_binarizer.y_type_.startswith("multilabel")
    if not multilabel:
        assert set(pred.tolist()) <= set(est.classes_.tolist())
    ok, proba = _attempt(lambda: est.predict_proba(X))
    assert ok, proba  # predict worked, so predict_proba must
    assert np.isfinite(proba).all(), proba
    assert ((proba >= 0) & (proba <= 1)).all(), proba
    if not multilabel:
        assert proba.shape == (_n_rows(X), max(len(est.classes_), 2)) or (
            proba.shape == (_n_rows(X), 1)
        )
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    ok, log_proba = _attempt(lambda: est.predict_log_proba(X))
    assert ok, log_proba
    assert not np.isnan(log_proba).any()


def _check_fitted(est, X, y):
    for array in (*est.coefs_, *est.intercepts_):
        assert np.isfinite(array).all()
    assert est.n_iter_ >= 0
    _check_predictions(est, X)
    ok, score = _attempt(lambda: est.score(X, y))
    if ok and isinstance(est, BPRegressor):
        # R^2 of one row is undefined (scikit-learn warns and returns NaN);
        # that of predictions beyond 1e154 is -inf (its squares overflow).
        assert _n_rows(X) < 2 or np.isfinite(score) or score == -np.inf, score
    elif ok:
        assert np.isfinite(score), score


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------
SPECIAL = [0.0, -0.0, 1e-300, -5e-324, np.nan, np.inf, -np.inf, 1e6, -1e6]
ELEMENTS = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    st.sampled_from(SPECIAL),
)
ORDINARY = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@st.composite
def numeric_matrix(draw, n_rows, n_cols, elements=ELEMENTS):
    X = draw(hnp.arrays(np.float64, (n_rows, n_cols), elements=elements))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    if dtype is np.int64:
        X = np.where(np.isfinite(X), X, 0).clip(-1e6, 1e6)
    with np.errstate(over="ignore", invalid="ignore"):
        return X.astype(dtype)


@st.composite
def feature_input(draw, n_rows, n_cols):
    """``X`` of about ``(n_rows, n_cols)``, in every shape and type users send."""
    kind = draw(
        st.sampled_from(
            ["finite", "finite", "special", "sparse", "list", "ragged", "strings"]
            + ["objects", "complex", "1d", "3d", "scalar", "empty"]
        )
    )
    if kind == "finite":
        return draw(numeric_matrix(n_rows, n_cols, ORDINARY))
    if kind == "special":
        return draw(numeric_matrix(n_rows, n_cols))
    if kind == "sparse":
        X = draw(hnp.arrays(np.float64, (n_rows, n_cols), elements=ELEMENTS))
        return scipy.sparse.csr_matrix(X)
    if kind == "list":
        return draw(numeric_matrix(n_rows, n_cols, ORDINARY)).tolist()
    if kind == "ragged":
        return [[1.0] * (n_cols + (i % 2)) for i in range(max(n_rows, 2))]
    if kind == "strings":
        return np.array([["a"] * n_cols] * n_rows, dtype=object)
    if kind == "objects":
        X = np.ones((n_rows, n_cols), dtype=object)
        if X.size:
            X.flat[draw(st.integers(0, X.size - 1))] = draw(
                st.sampled_from([None, "1.5", object(), [1.0], {"a": 1}])
            )
        return X
    if kind == "complex":
        return np.ones((n_rows, n_cols)) + 1j
    if kind == "1d":
        return np.ones(n_rows)
    if kind == "3d":
        return np.ones((n_rows, n_cols, 2))
    if kind == "scalar":
        return 1.0
    return np.empty((0, n_cols))


@st.composite
def class_target(draw, n_rows):
    kind = draw(
        st.sampled_from(
            ["labels", "labels", "one_class", "strings", "floats", "special"]
            + ["mixed", "multilabel", "continuous", "wrong_length", "2d_column"]
        )
    )
    n = n_rows + (draw(st.sampled_from([-1, 1])) if kind == "wrong_length" else 0)
    n = max(n, 0)
    if kind in ("labels", "wrong_length"):
        return np.array(draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n)))
    if kind == "one_class":
        return np.full(n, 7)
    if kind == "strings":
        return np.array(draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n)))
    if kind == "floats":
        return np.array(
            draw(st.lists(st.sampled_from([0.0, 1.5]), min_size=n, max_size=n))
        )
    if kind == "special":
        y = np.zeros(n)
        if n:
            y[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.nan, np.inf]))
        return y
    if kind == "mixed":
        return np.array(["a", 1] * n, dtype=object)[:n]
    if kind == "multilabel":
        return draw(hnp.arrays(np.int64, (n, 2), elements=st.integers(0, 1)))
    if kind == "continuous":
        return np.linspace(0, 1, n) + 0.123
    return np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))[:, None]


@st.composite
def regression_target(draw, n_rows):
    kind = draw(
        st.sampled_from(
            ["values", "values", "special", "2d", "strings", "wrong_length", "big"]
        )
    )
    n = max(
        n_rows + (draw(st.sampled_from([-1, 1])) if kind == "wrong_length" else 0), 0
    )
    if kind in ("values", "wrong_length"):
        return draw(hnp.arrays(np.float64, n, elements=ORDINARY))
    if kind == "big":
        return draw(hnp.arrays(np.float64, n, elements=st.floats(-1e6, 1e6)))
    if kind == "special":
        return draw(hnp.arrays(np.float64, n, elements=ELEMENTS))
    if kind == "2d":
        return draw(hnp.arrays(np.float64, (n, 2), elements=ORDINARY))
    return np.array(["x"] * n, dtype=object)


@st.composite
def sample_weights(draw, n_rows):
    kind = draw(
        st.sampled_from(
            ["none", "none", "values", "special", "zeros", "negative", "scalar"]
            + ["wrong_length", "2d", "huge", "tiny"]
        )
    )
    if kind == "none":
        return None
    if kind == "values":
        return draw(hnp.arrays(np.float64, n_rows, elements=st.floats(0, 10)))
    if kind == "special":
        return draw(hnp.arrays(np.float64, n_rows, elements=st.sampled_from(SPECIAL)))
    if kind == "zeros":
        return np.zeros(n_rows)
    if kind == "negative":
        return -np.ones(n_rows)
    if kind == "scalar":
        return draw(st.sampled_from([0.0, -1.0, 2.0, np.nan, np.inf, 1e300]))
    if kind == "wrong_length":
        return np.ones(n_rows + 1)
    if kind == "2d":
        return np.ones((n_rows, 2))
    if kind == "huge":
        return np.full(n_rows, 1e308)
    return np.full(n_rows, 5e-324)


@st.composite
def estimators(draw, kind=None):
    kind = kind or draw(st.sampled_from(["classifier", "regressor"]))
    params = {
        "hidden_layer_sizes": draw(st.sampled_from([(3,), (), (2, 2)])),
        "activation": draw(st.sampled_from(HIDDEN_ACTIVATIONS)),
        "solver": draw(st.sampled_from(["adam", "sgd", "lbfgs"])),
        "max_iter": 3,
        "random_state": 0,
    }
    if kind == "classifier":
        return BPClassifier(**params)
    loss = draw(st.sampled_from(["squared_error", "poisson", "huber"]))
    return BPRegressor(loss=loss, **params)


@st.composite
def fit_cases(draw):
    est = draw(estimators())
    n_rows = draw(st.integers(0, 6))
    n_cols = draw(st.integers(0, 3))
    X = draw(feature_input(n_rows, n_cols))
    target = class_target if isinstance(est, BPClassifier) else regression_target
    y = draw(target(n_rows))
    return est, X, y, draw(sample_weights(n_rows))


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
@SETTINGS
@given(case=fit_cases())
def test_fit_works_or_raises_a_clear_error(case):
    est, X, y, sample_weight = case
    ok, _ = _attempt(lambda: est.fit(X, y, sample_weight=sample_weight))
    if ok:
        _check_fitted(est, X, y)


@SETTINGS
@given(case=fit_cases(), classes_kind=st.sampled_from(["from_y", "none", "extra"]))
def test_partial_fit_works_or_raises_a_clear_error(case, classes_kind):
    est, X, y, sample_weight = case
    if est.solver == "lbfgs":
        est.set_params(solver="adam")
    kwargs = {}
    if isinstance(est, BPClassifier) and classes_kind != "none":
        ok, classes = _attempt(lambda: np.unique(np.asarray(y)))
        classes = classes if ok else [0, 1]
        if classes_kind == "extra":
            classes = [*np.asarray(classes).tolist(), 99]
        kwargs["classes"] = classes
    ok, _ = _attempt(
        lambda: est.partial_fit(X, y, sample_weight=sample_weight, **kwargs)
    )
    if ok:
        _check_fitted(est, X, y)
        # A second call continues the same stream.
        ok, _ = _attempt(lambda: est.partial_fit(X, y, sample_weight=sample_weight))
        if ok:
            _check_fitted(est, X, y)


@pytest.fixture(scope="module")
def fitted_models():
    rng = np.random.RandomState(0)
    X = rng.randn(20, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models = [
            BPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(
                X, np.arange(20) % 3
            ),
            BPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(
                X, np.array(["no", "yes"])[np.arange(20) % 2]
            ),
            BPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(
                X, np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int)
            ),
            BPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(
                X.astype(np.float32), np.zeros(20, dtype=int)
            ),
            BPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(
                X, X[:, 0]
            ),
            BPRegressor(
                loss="poisson", hidden_layer_sizes=(4,), max_iter=20, random_state=0
            ).fit(X.astype(np.float32), np.abs(X[:, :2])),
        ]
    return models


@SETTINGS
@given(
    which=st.integers(0, 5),
    n_rows=st.integers(0, 5),
    n_cols=st.integers(0, 5),
    data=st.data(),
)
def test_predict_works_or_raises_a_clear_error(
    fitted_models, which, n_rows, n_cols, data
):
    est = fitted_models[which]
    X = data.draw(feature_input(n_rows, n_cols))
    _check_predictions(est, X)
    for method in ("predict", "predict_proba", "predict_log_proba"):
        if hasattr(est, method):
            _attempt(lambda method=method: getattr(est, method)(X))


@SETTINGS
@given(which=st.integers(0, 5), data=st.data())
def test_score_works_or_raises_a_clear_error(fitted_models, which, data):
    est = fitted_models[which]
    X = data.draw(numeric_matrix(4, 3, ORDINARY))
    target = class_target if isinstance(est, BPClassifier) else regression_target
    y = data.draw(target(4))
    ok, score = _attempt(lambda: est.score(X, y))
    if ok:
        assert np.isfinite(score), score


# Parameters at their bounds, just beyond, and of the wrong type. Callables
# make a fresh value per example (random generators are mutable).
PARAMETER_VALUES = {
    "hidden_layer_sizes": [1, (1,), (1, 1), (), [2], np.array([2]), (0,), 0, -1]
    + [(2.5,), "a", (True,), None, (np.int64(2),)],
    "activation": [*HIDDEN_ACTIVATIONS, "softmax", "foo", ["relu"], [], None, 1],
    "solver": ["lbfgs", "sgd", "adam", "newton", None],
    "alpha": [0, 1e-300, 1e300, -1e-300, np.nan, np.inf, "1"],
    "batch_size": [1, "auto", 10**6, 0, -1, 1.5, None],
    "learning_rate": ["constant", "invscaling", "adaptive", "cosine"],
    "learning_rate_init": [1e-300, 1e300, 0, -1, np.nan, np.inf],
    "power_t": [0, 1e300, -1, np.nan],
    "max_iter": [1, 2, 0, -1, 1.5, None],
    "shuffle": [True, False, 1, "yes", None],
    "random_state": [0, 2**32 - 1, lambda: np.random.RandomState(0), -1, 2**32]
    + [1.5, "x"],
    "tol": [0, 1e300, np.inf, -1, np.nan],
    "verbose": [False, 0, -1, "x"],
    "warm_start": [True, False, "x"],
    "momentum": [0, 1, 1 + 1e-9, -1e-9, np.nan],
    "nesterovs_momentum": [True, False, None],
    "early_stopping": [True, False, "x"],
    "validation_fraction": [0, 1e-9, 0.5, 1 - 1e-9, 1, -0.1, np.nan],
    "beta_1": [0, 1 - 1e-12, 1, -0.1],
    "beta_2": [0, 1 - 1e-12, 1, -0.1],
    "epsilon": [1e-300, 1e300, 0, -1],
    "n_iter_no_change": [1, np.inf, 0, -1, 1.5],
    "max_fun": [1, 0, -1],
    "dropout": [0, 0.999, 1, -0.1, [0.5], [0.5, 0.5], np.array([0.2]), np.nan],
    "restore_best_weights": [True, False, None],
}
CLASSIFIER_VALUES = {
    "class_weight": [None, "balanced", {0: 1e300, 1: 1e300, 2: 1e300}, {0: -1.0}]
    + [{0: np.nan}, {0: np.inf}, {9: 1.0}, "heavy", {0: 0, 1: 0, 2: 0}, {0: 5e-324}],
}
REGRESSOR_VALUES = {
    "loss": ["squared_error", "poisson", "huber", "absolute_error", "cubic"],
    "huber_delta": [5e-324, 1e300, 0, -1, np.nan],
}


@st.composite
def parameter_cases(draw):
    kind = draw(st.sampled_from(["classifier", "regressor"]))
    values = {**PARAMETER_VALUES}
    values.update(CLASSIFIER_VALUES if kind == "classifier" else REGRESSOR_VALUES)
    names = draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=3))
    params = {"hidden_layer_sizes": (3,), "max_iter": 3, "random_state": 0}
    for name in names:
        value = draw(st.sampled_from(values[name]))
        params[name] = value() if callable(value) else value
    cls = BPClassifier if kind == "classifier" else BPRegressor
    return cls(**params)


@pytest.fixture(scope="module")
def small_data():
    rng = np.random.RandomState(1)
    X = rng.randn(15, 3)
    return X, np.arange(15) % 3, np.abs(X[:, 0])


@settings(SETTINGS, max_examples=80)
@given(est=parameter_cases())
def test_parameters_at_and_beyond_bounds(small_data, est):
    X, y_class, y_value = small_data
    y = y_class if isinstance(est, BPClassifier) else y_value
    ok, _ = _attempt(lambda: est.fit(X, y))
    if ok:
        _check_fitted(est, X, y)
    if est.solver in ("sgd", "adam"):
        kwargs = {"classes": [0, 1, 2]} if isinstance(est, BPClassifier) else {}
        est = type(est)(**est.get_params())
        ok, _ = _attempt(lambda: est.partial_fit(X, y, **kwargs))
        if ok:
            _check_fitted(est, X, y)


# ---------------------------------------------------------------------------
# The listed bad inputs, each with the words its message must hold
# ---------------------------------------------------------------------------
_X = np.random.RandomState(0).randn(6, 2)
_Y = np.array([0, 1, 0, 1, 0, 1])


def _with(array, index, value):
    array = np.array(array, dtype=float)
    array[index] = value
    return array


BAD_FIT_INPUTS = {
    "empty X": (np.empty((0, 2)), np.empty(0), None, "0 sample"),
    "zero features": (np.empty((6, 0)), _Y, None, "0 feature"),
    "NaN in X": (_with(_X, (2, 1), np.nan), _Y, None, "NaN"),
    "inf in X": (_with(_X, (0, 0), -np.inf), _Y, None, "infinity"),
    "NaN in y": (_X, _with(_Y, 3, np.nan), None, "NaN"),
    "inf in y": (_X, _with(_Y, 3, np.inf), None, "infinity"),
    "NaN weight": (_X, _Y, _with(np.ones(6), 1, np.nan), "NaN"),
    "inf weight": (_X, _Y, _with(np.ones(6), 1, np.inf), "infinity"),
    "negative weight": (_X, _Y, _with(np.ones(6), 1, -1), "Negative"),
    "all-zero weights": (_X, _Y, np.zeros(6), "zero"),
    "short y": (_X, _Y[:4], None, "inconsistent numbers of samples"),
    "long weights": (_X, _Y, np.ones(7), "sample_weight"),
    "2-D weights": (_X, _Y, np.ones((6, 1)), "sample_weight"),
    "ragged X": ([[1.0, 2.0], [3.0]], [0, 1], None, "sequence|inhomogeneous"),
    "strings in X": ([["a", "b"], ["c", "d"]], [0, 1], None, "string"),
    "None in X": (
        np.array([[1.0, None], [2.0, 3.0]], dtype=object),
        [0, 1],
        None,
        "NaN",
    ),
    "complex X": (_X + 1j, _Y, None, "Complex"),
    "1-D X": (_X[:, 0], _Y, None, "2D array"),
    "3-D X": (_X[:, :, None], _Y, None, "dim 3"),
}


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("name", sorted(BAD_FIT_INPUTS))
def test_listed_bad_inputs_name_the_problem(cls, method, name):
    X, y, sample_weight, words = BAD_FIT_INPUTS[name]
    est = cls(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    kwargs = {"sample_weight": sample_weight}
    if method == "partial_fit" and cls is BPClassifier:
        kwargs["classes"] = [0, 1]
    ok, error = _attempt(lambda: getattr(est, method)(X, y, **kwargs))
    assert not ok, f"{name} was accepted"
    assert re.search(words, str(error)), str(error)
    # Nothing of the failed call is left behind: the estimator is unfitted.
    assert not [a for a in vars(est) if a.endswith("_") and not a.startswith("__")]


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_one_row_and_one_feature_work(cls):
    for X, y in [(_X[:1], _Y[:1]), (_X[:, :1], _Y)]:
        est = cls(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
        ok, error = _attempt(lambda est=est, X=X, y=y: est.fit(X, y))
        assert ok, error
        _check_fitted(est, X, y)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_one_class_gives_certain_probabilities(solver):
    # A classifier that saw one class predicts it, with probability 1: one
    # column, following classes_.
    est = BPClassifier(hidden_layer_sizes=(3,), max_iter=3, solver=solver)
    ok, error = _attempt(lambda: est.fit(_X, np.full(6, "only")))
    assert ok, error
    assert list(est.predict(_X)) == ["only"] * 6
    proba = est.predict_proba(_X)
    assert proba.shape == (6, len(est.classes_)) == (6, 1)
    np.testing.assert_array_equal(proba, 1.0)
    assert est.score(_X, np.full(6, "only")) == 1.0


def test_labels_unseen_at_fit_score_zero(fitted_models):
    est = fitted_models[0]  # classes 0, 1, 2
    ok, score = _attempt(lambda: est.score(_X[:, :1].repeat(3, axis=1), [7] * 6))
    assert ok and score == 0.0
    ok, result = _attempt(lambda: est.score(np.ones((6, 3)), ["a"] * 6))
    # scikit-learn >= 1.8 refuses to compare string and integer labels;
    # earlier versions count them as different labels.
    assert (not ok and "Mix of label input types" in str(result)) or (
        ok and result == 0.0
    )


@pytest.mark.parametrize("which", range(6))
def test_wrong_number_of_features_at_predict(fitted_models, which):
    est = fitted_models[which]
    for method in ("predict", "predict_proba", "score"):
        if not hasattr(est, method):
            continue
        args = (np.ones((2, 4)),) + ((np.zeros(2),) if method == "score" else ())
        ok, error = _attempt(
            lambda method=method, args=args: getattr(est, method)(*args)
        )
        assert not ok
        assert "4 features" in str(error) and "expecting 3" in str(error)


@pytest.mark.parametrize("cls", [BPClassifier, BPRegressor])
def test_predict_before_fit_is_a_clear_error(cls):
    ok, error = _attempt(lambda: cls().predict(_X))
    assert not ok and "not fitted" in str(error)


def test_early_stopping_without_validation_rows_is_named(small_data):
    X, y, _ = small_data
    est = BPClassifier(early_stopping=True, validation_fraction=0.0, max_iter=3)
    ok, error = _attempt(lambda: est.fit(X, y))
    assert not ok and "validation_fraction" in str(error)


@pytest.mark.parametrize(
    "class_weight", [{0: -1.0}, {0: np.nan}, {0: np.inf}], ids=["neg", "nan", "inf"]
)
def test_bad_class_weights_are_named(small_data, class_weight):
    X, y, _ = small_data
    est = BPClassifier(class_weight=class_weight, max_iter=3, hidden_layer_sizes=(3,))
    ok, error = _attempt(lambda: est.fit(X, y))
    assert not ok and "class_weight" in str(error), error


@pytest.mark.parametrize("scale", [1e-320, 1e300])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_extreme_weight_scales_match_unit_weights(small_data, scale, solver):
    # Losses are weighted means: one factor on every weight changes nothing,
    # however large or small, as long as it is positive.
    X, _, y = small_data
    params = dict(hidden_layer_sizes=(3,), max_iter=5, random_state=0, solver=solver)
    ok, ref = _attempt(lambda: BPRegressor(**params).fit(X, y))
    assert ok, ref
    ok, est = _attempt(lambda: BPRegressor(**params).fit(X, y, np.full(15, scale)))
    assert ok, est
    np.testing.assert_allclose(est.predict(X), ref.predict(X), rtol=1e-7, atol=1e-9)
