"""Export to ONNX for serving (issue 7; optional: skl2onnx, onnxruntime).

Every hidden activation, both estimators, every target type: onnxruntime's
predictions and probabilities match skbp's to ~1e-5 in float32 (and to
float64 rounding for float64 inputs); outputs are named and shaped like
skl2onnx's conversion of scikit-learn's MLPClassifier and MLPRegressor.
"""

import sys
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skbp import BPClassifier, BPRegressor  # noqa: E402
from skbp.core import HIDDEN_ACTIVATIONS  # noqa: E402
from skbp.onnx import register_converters, to_onnx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ALLOWED_OPS = {
    "MatMul",
    "Add",
    "Relu",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "Identity",
    "Exp",
    "LeakyRelu",
    "Elu",
    "Softplus",
    "Mul",
    "Pow",
    # float64 softplus, leaky_relu and elu (onnxruntime has float32 only)
    "Abs",
    "Neg",
    "Log",
    "Min",
    "Where",
    # input cast, binary probabilities, labels
    "Cast",
    "Sub",
    "Concat",
    "ArgMax",
    "Gather",
    "Greater",
    "ZipMap",
    # several quantile levels, sorted by level in each row
    "Reshape",
    "TopK",
}

RNG = np.random.RandomState(0)
X32 = RNG.randn(80, 5).astype(np.float32)
TARGETS = {
    "binary": (X32[:, 0] + X32[:, 1] > 0).astype(int),
    "multiclass": np.digitize(X32[:, 0], [-0.5, 0.5]) + 10,
    "strings": np.array(["cat", "dog", "émeu"])[np.digitize(X32[:, 1], [-0.5, 0.5])],
    "bool": X32[:, 2] > 0,
    "multilabel": np.c_[X32[:, 0] > 0, X32[:, 1] > 0, X32[:, 2] > 0].astype(int),
}


def _session(model):
    return ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def _run(model, X):
    session = _session(model)
    return session.run(None, {session.get_inputs()[0].name: X})


def _ops(model):
    return {node.op_type for node in model.graph.node}


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_classifier_matches_onnxruntime(activation, target):
    y = TARGETS[target]
    clf = _fit(
        BPClassifier(
            hidden_layer_sizes=(7, 4),
            activation=activation,
            max_iter=60,
            random_state=0,
        ),
        X32,
        y,
    )
    model = to_onnx(clf, X32[:1], options={"zipmap": False})
    assert _ops(model) <= ALLOWED_OPS
    label, proba = _run(model, X32)
    expected = clf.predict_proba(X32)
    assert proba.dtype == np.float32 and proba.shape == expected.shape
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    predicted, label = clf.predict(X32), np.asarray(label)
    assert label.shape == predicted.shape
    # Labels agree wherever the decision is not a near tie.
    if target == "multilabel":
        clear = np.abs(expected - 0.5) > 1e-4
    else:
        top2 = np.sort(expected, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 1e-4
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(label[clear], predicted[clear])


@pytest.mark.parametrize("loss", ["squared_error", "poisson", "huber"])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regressor_matches_onnxruntime(activation, loss, n_outputs):
    y = np.abs(X32[:, :n_outputs]) + 0.1
    reg = _fit(
        BPRegressor(
            loss=loss,
            hidden_layer_sizes=(7, 4),
            activation=activation,
            max_iter=60,
            random_state=0,
        ),
        X32,
        y if n_outputs > 1 else y.ravel(),
    )
    model = to_onnx(reg, X32[:1])
    assert _ops(model) <= ALLOWED_OPS
    (pred,) = _run(model, X32)
    expected = reg.predict(X32).reshape(len(X32), -1)
    assert pred.dtype == np.float32 and pred.shape == (len(X32), n_outputs)
    np.testing.assert_allclose(pred, expected, rtol=1e-5, atol=1e-5)


def test_per_layer_activations_and_no_hidden_layer():
    for hidden, activation in [((6, 5, 4), ["gelu", "silu", "elu"]), ((), "relu")]:
        clf = _fit(
            BPClassifier(hidden_layer_sizes=hidden, activation=activation, max_iter=40),
            X32,
            TARGETS["multiclass"],
        )
        _, proba = _run(to_onnx(clf, X32[:1], options={"zipmap": False}), X32)
        np.testing.assert_allclose(proba, clf.predict_proba(X32), atol=1e-5)


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_float64_inputs_compute_in_float64(activation):
    X = X32.astype(np.float64)
    reg = _fit(BPRegressor(hidden_layer_sizes=(6,), activation=activation), X, X[:, 0])
    model = to_onnx(reg, X[:1])
    (pred,) = _run(model, X)
    assert pred.dtype == np.float64
    np.testing.assert_allclose(pred.ravel(), reg.predict(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("options", [None, {"zipmap": False}])
def test_outputs_are_named_like_sklearn_mlp(options):
    y = TARGETS["multiclass"]
    ours = _fit(BPClassifier(hidden_layer_sizes=(5,), max_iter=30), X32, y)
    theirs = _fit(MLPClassifier(hidden_layer_sizes=(5,), max_iter=30), X32, y)
    a = to_onnx(ours, X32[:1], options=options)
    b = skl2onnx.to_onnx(theirs, X32[:1], options=options)
    assert [i.name for i in a.graph.input] == [i.name for i in b.graph.input]
    assert [(o.name, o.type) for o in a.graph.output] == [
        (o.name, o.type) for o in b.graph.output
    ]
    if options is None:  # zipmap: one {label: probability} map per row
        label, maps = _run(a, X32[:3])
        expected = ours.predict_proba(X32[:3])
        for row, mapping in zip(expected, maps):
            assert sorted(mapping) == sorted(ours.classes_.tolist())
            np.testing.assert_allclose(
                [mapping[c] for c in ours.classes_], row, atol=1e-5
            )
        np.testing.assert_array_equal(label, ours.predict(X32[:3]))


def test_regressor_output_named_like_sklearn_mlp():
    ours = _fit(BPRegressor(hidden_layer_sizes=(5,), max_iter=30), X32, X32[:, 0])
    theirs = _fit(MLPRegressor(hidden_layer_sizes=(5,), max_iter=30), X32, X32[:, 0])
    a, b = to_onnx(ours, X32[:1]), skl2onnx.to_onnx(theirs, X32[:1])
    assert [(o.name, o.type) for o in a.graph.output] == [
        (o.name, o.type) for o in b.graph.output
    ]


def test_pipelines_convert():
    X = X32 * 100 + 5
    pipe = _fit(
        make_pipeline(StandardScaler(), BPClassifier(hidden_layer_sizes=(6,))),
        X,
        TARGETS["strings"],
    )
    label, proba = _run(to_onnx(pipe, X[:1], options={"zipmap": False}), X)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=1e-5)
    assert set(label) <= set(pipe.classes_)


def test_registered_converters_work_with_skl2onnx_directly():
    register_converters()
    register_converters()  # idempotent
    clf = _fit(
        BPClassifier(hidden_layer_sizes=(4,), max_iter=20), X32, TARGETS["binary"]
    )
    model = skl2onnx.convert_sklearn(
        clf,
        initial_types=[
            ("input", skl2onnx.common.data_types.FloatTensorType([None, 5]))
        ],
        options={id(clf): {"zipmap": False}},
    )
    label, proba = _run(model, X32)
    np.testing.assert_allclose(proba, clf.predict_proba(X32), atol=1e-5)


def test_nocl_option_gives_class_indices():
    y = TARGETS["strings"]
    clf = _fit(BPClassifier(hidden_layer_sizes=(4,), max_iter=30), X32, y)
    label, proba = _run(
        to_onnx(clf, X32[:1], options={"zipmap": False, "nocl": True}), X32
    )
    np.testing.assert_array_equal(label, proba.argmax(axis=1))


def test_missing_skl2onnx_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    clf = _fit(
        BPClassifier(hidden_layer_sizes=(3,), max_iter=5), X32, TARGETS["binary"]
    )
    with pytest.raises(ImportError, match="pip install skl2onnx"):
        to_onnx(clf, X32[:1])


def test_an_activation_without_a_graph_fits_and_predicts_but_export_names_it(
    monkeypatch,
):
    # A new activation with no ONNX graph yet: only the export says so.
    from skbp import onnx as skbp_onnx

    monkeypatch.delitem(skbp_onnx._ACTIVATION_GRAPHS, "silu")
    reg = _fit(
        BPRegressor(hidden_layer_sizes=(4,), activation="silu", max_iter=20),
        X32,
        X32[:, 0],
    )
    assert np.isfinite(reg.predict(X32)).all()
    with pytest.raises(ValueError, match="activation 'silu'.*_ACTIVATION_GRAPHS"):
        to_onnx(reg, X32[:1])


@pytest.mark.parametrize(
    ("quantile", "n_targets", "shape"),
    [
        (0.3, 1, (1,)),
        ([0.1, 0.5, 0.9], 1, (3,)),
        ([0.9, 0.1, 0.5], 1, (3,)),
        ([0.8, 0.2], 2, (2, 2)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quantile_levels_are_sorted_in_the_graph_as_predict_sorts_them(
    quantile, n_targets, shape, dtype
):
    y = X32[:, :n_targets] if n_targets > 1 else X32[:, 0]
    reg = _fit(
        BPRegressor(
            loss="quantile",
            quantile=quantile,
            hidden_layer_sizes=(6,),
            max_iter=5,
            random_state=0,
        ),
        X32,
        y,
    )
    # Output weights that make the levels' columns cross on most rows.
    reg.coefs_[-1] = np.random.RandomState(1).normal(
        scale=3.0, size=reg.coefs_[-1].shape
    )
    X = X32.astype(dtype)
    model = to_onnx(reg, X[:1])
    assert _ops(model) <= ALLOWED_OPS
    (pred,) = _run(model, X)
    assert pred.dtype == dtype and pred.shape == (len(X), *shape)
    expected = reg.predict(X).reshape(pred.shape)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(pred, expected, rtol=rtol, atol=rtol)
    if isinstance(quantile, list):
        raw = reg._forward(X).reshape(pred.shape)
        assert not np.allclose(raw, expected)  # the network's outputs crossed
