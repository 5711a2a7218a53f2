"""Export fitted skbp models to ONNX, for serving with onnxruntime.

An optional extra: needs ``skl2onnx`` (and ``onnxruntime`` to run the
result)::

    pip install skl2onnx onnxruntime

:func:`to_onnx` converts a fitted :class:`~skbp.BPClassifier` or
:class:`~skbp.BPRegressor`, or a pipeline ending in one, after
:func:`register_converters` has taught skl2onnx about skbp's estimators
(call it yourself to use ``skl2onnx.to_onnx`` or ``convert_sklearn``
directly).

The graph is the network's forward pass: ``MatMul`` and ``Add`` per layer,
then the layer's activation, built by its entry in a table with one per
activation of :data:`skbp.core.ACTIVATIONS`: one ONNX operator where there is
one (``Sigmoid`` for logistic, ``Tanh``, ``Relu``, ``Softmax``, ``Exp``...),
composed from elementary operators otherwise (``silu`` as
``x * Sigmoid(x)``, ``gelu``'s tanh approximation from ``Pow``, ``Mul``,
``Add`` and ``Tanh``) and where onnxruntime lacks the operator for float64
(``LeakyRelu``, ``Elu`` and ``Softplus``, then built from ``Where``,
``Greater``, ``Min``, ``Abs``, ``Neg``, ``Exp``, ``Log``, ``Sub`` and
``Relu``). Outputs follow skl2onnx's conversion of scikit-learn's MLPs:

- regressor: ``variable``, shape ``(n_samples, n_outputs)``;
- classifier: ``label`` (shape ``(n_samples,)``; ``(n_samples, n_labels)``
  of 0/1 for multilabel targets) and ``probabilities`` (``(n_samples,
  n_classes)``), or ``output_label`` and ``output_probability`` (a list of
  ``{class: probability}`` maps) with skl2onnx's default ``zipmap`` option;
  pass ``options={"zipmap": False}`` for a plain probability matrix.

The graph computes in float32 for float32 (or integer) inputs and in float64
for float64 inputs: give :func:`to_onnx` a sample of the dtype the server
will send.

Examples
--------
>>> import numpy as np
>>> from skbp import BPClassifier
>>> from skbp.onnx import to_onnx
>>> X = np.random.RandomState(0).randn(40, 3).astype(np.float32)
>>> clf = BPClassifier(hidden_layer_sizes=(5,), max_iter=300).fit(X, X[:, 0] > 0)
>>> onx = to_onnx(clf, X[:1], options={"zipmap": False})  # doctest: +SKIP
>>> import onnxruntime  # doctest: +SKIP
>>> session = onnxruntime.InferenceSession(onx.SerializeToString())  # doctest: +SKIP
>>> label, proba = session.run(None, {"X": X})  # doctest: +SKIP
"""

import numpy as np

from ._estimators.classifier import BPClassifier
from ._estimators.regressor import BPRegressor
from ._model.arrays import is_numpy_array
from .core import ACTIVATIONS, to_numpy

__all__ = ["to_onnx", "register_converters"]

_CLASSIFIER_ALIAS = "SkbpBPClassifier"
_REGRESSOR_ALIAS = "SkbpBPRegressor"


def _require_skl2onnx():
    try:
        import skl2onnx
    except ImportError as exc:
        raise ImportError(
            "Exporting skbp models to ONNX needs the optional package skl2onnx: "
            "pip install skl2onnx onnxruntime"
        ) from exc
    return skl2onnx


def register_converters():
    """Register skbp's shape calculators and converters with skl2onnx.

    Idempotent. After it, ``skl2onnx.to_onnx`` and
    ``skl2onnx.convert_sklearn`` convert :class:`~skbp.BPClassifier` and
    :class:`~skbp.BPRegressor`, alone or inside pipelines.

    Raises
    ------
    ImportError
        If skl2onnx is not installed.
    """
    skl2onnx = _require_skl2onnx()
    skl2onnx.update_registered_converter(
        BPClassifier,
        _CLASSIFIER_ALIAS,
        _classifier_shapes,
        _convert_classifier,
        options={
            "zipmap": [True, False, "columns"],
            "nocl": [False, True],
            "output_class_labels": [False, True],
        },
    )
    skl2onnx.update_registered_converter(
        BPRegressor, _REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor
    )


def to_onnx(estimator, X_sample, *, options=None, target_opset=None, **kwargs):
    """Convert a fitted skbp estimator (or a pipeline holding one) to ONNX.

    Parameters
    ----------
    estimator : BPClassifier, BPRegressor or scikit-learn pipeline
        Fitted.
    X_sample : ndarray of shape (n_samples, n_features)
        A few rows of input: their dtype sets the graph's input type
        (float32 or float64); their values are not stored.
    options : dict, optional
        skl2onnx conversion options, e.g. ``{"zipmap": False}`` for a
        classifier's probabilities as a plain matrix.
    target_opset : int, optional
        ONNX opset; skl2onnx's default when None.
    **kwargs
        Passed to ``skl2onnx.to_onnx``.

    Returns
    -------
    onnx.ModelProto

    Raises
    ------
    ImportError
        If skl2onnx is not installed.
    """
    skl2onnx = _require_skl2onnx()
    register_converters()
    return skl2onnx.to_onnx(
        estimator, X_sample, options=options, target_opset=target_opset, **kwargs
    )


# ---------------------------------------------------------------------------
# Shape calculators
# ---------------------------------------------------------------------------
def _class_labels(estimator, nocl=False):
    """``(labels, is_string)``: class labels as int64 or str values.

    With skl2onnx's option ``nocl``, the labels are the class indices.
    """
    classes = np.asarray(estimator.classes_)
    if nocl:
        return np.arange(len(classes), dtype=np.int64), False
    if classes.dtype.kind in "OUS":
        if not all(isinstance(c, (str, bytes)) for c in classes.tolist()):
            raise ValueError("ONNX export needs class labels that are all strings.")
        return [c if isinstance(c, str) else c.decode() for c in classes.tolist()], True
    if classes.dtype.kind == "f" and not np.array_equal(classes, np.round(classes)):
        raise ValueError(
            "ONNX export needs integer or string class labels; got non-integral "
            f"float classes {classes}."
        )
    if classes.dtype.kind not in "biuf":
        raise ValueError(f"ONNX export cannot store class labels of {classes.dtype}.")
    return classes.astype(np.int64), False


def _is_multilabel(estimator):
    return estimator._label_binarizer.y_type_.startswith("multilabel")


def _classifier_shapes(operator):
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType
    from skl2onnx.common.utils import check_input_and_output_numbers

    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=[1, 2]
    )
    estimator = operator.raw_operator
    if len(estimator.classes_) < 2:
        raise ValueError(
            "ONNX export needs a classifier fitted on two classes or more."
        )
    n = operator.inputs[0].get_first_dimension()
    n_classes = len(estimator.classes_)
    if _is_multilabel(estimator):
        operator.outputs[0].set_type(Int64TensorType(shape=[n, n_classes]))
    else:
        nocl = operator.scope_inst.get_options(estimator, {"nocl": False})["nocl"]
        _, is_string = _class_labels(estimator, nocl)
        label_type = StringTensorType if is_string else Int64TensorType
        operator.outputs[0].set_type(label_type(shape=[n]))
    if len(operator.outputs) > 1:
        operator.outputs[1].type = _float_type(operator)([n, n_classes])


def _regressor_shapes(operator):
    from skl2onnx.common.utils import check_input_and_output_numbers

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].set_type(
        _float_type(operator)([n, *_quantile_shape(operator.raw_operator)])
    )


def _quantile_shape(estimator):
    """The output's shape after the rows: ``[n_outputs]``, or, for several
    quantile levels, ``predict``'s ``[n_levels]`` (one target) or
    ``[n_targets, n_levels]``."""
    levels = estimator._levels()
    if not isinstance(levels, tuple):
        return [estimator.n_outputs_]
    n_targets = estimator.n_outputs_ // len(levels)
    return [len(levels)] if n_targets == 1 else [n_targets, len(levels)]


def _float_type(operator):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


# ---------------------------------------------------------------------------
# Converters
# ---------------------------------------------------------------------------
class _Graph:
    """Small helper adding nodes and constants of one float type."""

    def __init__(self, scope, container, operator):
        from skl2onnx.common.data_types import DoubleTensorType
        from skl2onnx.proto import onnx_proto

        self.scope, self.container = scope, container
        self.proto = onnx_proto.TensorProto
        if isinstance(operator.inputs[0].type, DoubleTensorType):
            self.dtype, self.float = np.float64, self.proto.DOUBLE
        else:
            self.dtype, self.float = np.float32, self.proto.FLOAT

    def name(self, hint):
        return self.scope.get_unique_variable_name(hint)

    def constant(self, value, hint="constant", onnx_type=None, shape=None):
        name = self.name(hint)
        if onnx_type is None:
            value = np.asarray(value, dtype=self.dtype)
            onnx_type = self.float
        if shape is None:
            shape = list(np.shape(value))
        content = value.ravel().tolist() if is_numpy_array(value) else value
        self.container.add_initializer(name, onnx_type, shape, content)
        return name

    def node(self, op_type, inputs, hint=None, output=None, **attrs):
        output = output or self.name(hint or op_type.lower())
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        self.container.add_node(
            op_type,
            inputs,
            output,
            name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return output

    def activation(self, activation, z, where):
        """The graph of ``activation`` (an object) on ``z``, from
        :data:`_ACTIVATION_GRAPHS`; ``where`` names its layer in errors.

        Only the built-in classes of :data:`skbp.core.ACTIVATIONS` have a
        graph (an instance keeps its constants: ``LeakyReLU(0.1)``); an
        object of a user's own class is Python code, which ONNX cannot hold.
        """
        if type(activation) not in _BUILTIN_ACTIVATIONS:
            raise ValueError(
                f"No ONNX conversion for the activation {activation!r} of the "
                f"{where}: it is an object of your own class "
                f"{type(activation).__qualname__}, whose forward() is Python "
                "code that an ONNX graph cannot hold. Export covers skbp's "
                f"built-in activations {sorted(ACTIVATIONS)}; serve this model "
                "with pickle, joblib or skops instead."
            )
        try:
            build = _ACTIVATION_GRAPHS[activation.name]
        except KeyError:
            raise ValueError(
                f"No ONNX conversion for the activation {activation.name!r}: the "
                "model fits and predicts, but its export needs a graph for that "
                "activation in _ACTIVATION_GRAPHS in skbp/onnx.py."
            ) from None
        return build(self, activation, z)

    def positive(self, z):
        """Boolean ``z > 0``."""
        return self.node("Greater", [z, self.constant(0.0)])

    def network(self, operator, estimator):
        """The forward pass; returns the name of the output layer's activations."""
        x = self.node(
            "Cast", operator.inputs[0].full_name, hint="cast_input", to=self.float
        )
        # The objects the model predicts with: names made objects, a user's
        # objects as they are, the output layer's from its loss.
        activations = estimator._activations()
        n_hidden = len(activations) - 1
        for layer, (W, b, activation) in enumerate(
            zip(estimator.coefs_, estimator.intercepts_, activations)
        ):
            # A model fitted on a GPU: its weights are copied to the host.
            W, b = to_numpy(W), to_numpy(b)
            z = self.node("MatMul", [x, self.constant(W, "coefficient")])
            z = self.node("Add", [z, self.constant(b, "intercepts")])
            where = "output layer" if layer == n_hidden else f"hidden layer {layer + 1}"
            x = self.activation(activation, z, where)
        return x


# ---------------------------------------------------------------------------
# Activations: one graph builder per activation, f(graph, activation, z)
# ---------------------------------------------------------------------------
def _onnx_op(op_type, **attrs):
    """The graph of an activation that is one ONNX operator."""
    return lambda graph, activation, z: graph.node(op_type, z, **attrs)


def _softplus(graph, activation, z):
    if graph.dtype == np.float32:
        return graph.node("Softplus", z)
    # onnxruntime has no float64 Softplus: max(z, 0) + log(1 + e^-|z|).
    tail = graph.node("Exp", graph.node("Neg", graph.node("Abs", z)))
    tail = graph.node("Log", graph.node("Add", [tail, graph.constant(1.0)]))
    return graph.node("Add", [graph.node("Relu", z), tail], hint="softplus")


def _leaky_relu(graph, activation, z):
    slope = float(activation.negative_slope)
    if graph.dtype == np.float32:
        return graph.node("LeakyRelu", z, alpha=slope)
    # onnxruntime has no float64 LeakyRelu: z where z > 0, else s z.
    scaled = graph.node("Mul", [z, graph.constant(slope)])
    return graph.node("Where", [graph.positive(z), z, scaled], hint="leaky")


def _elu(graph, activation, z):
    alpha = float(activation.alpha)
    if graph.dtype == np.float32:
        return graph.node("Elu", z, alpha=alpha)
    # onnxruntime has no float64 Elu: z where z > 0, else a (e^z - 1).
    e = graph.node("Exp", graph.node("Min", [z, graph.constant(0.0)]))
    e = graph.node("Sub", [e, graph.constant(1.0)])
    e = graph.node("Mul", [e, graph.constant(alpha)])
    return graph.node("Where", [graph.positive(z), z, e], hint="elu")


def _silu(graph, activation, z):
    return graph.node("Mul", [z, graph.node("Sigmoid", z)], hint="silu")


def _gelu(graph, activation, z):
    # 0.5 z (1 + tanh(c (z + k z^3))), the tanh approximation skbp uses.
    cube = graph.node("Pow", [z, graph.constant(3.0)])
    inner = graph.node(
        "Add", [z, graph.node("Mul", [cube, graph.constant(activation._k)])]
    )
    t = graph.node("Tanh", graph.node("Mul", [inner, graph.constant(activation._c)]))
    half = graph.node("Mul", [graph.node("Add", [t, graph.constant(1.0)]), z])
    return graph.node("Mul", [half, graph.constant(0.5)], hint="gelu")


#: The built-in activation classes: the only ones with a graph.
_BUILTIN_ACTIVATIONS = frozenset(ACTIVATIONS.values())

#: The ONNX graph of every activation of :data:`skbp.core.ACTIVATIONS`, by
#: name. A model whose activation has none fits and predicts; only its export
#: raises, naming the activation.
_ACTIVATION_GRAPHS = {
    "identity": _onnx_op("Identity"),
    "logistic": _onnx_op("Sigmoid"),
    "tanh": _onnx_op("Tanh"),
    "relu": _onnx_op("Relu"),
    "softmax": _onnx_op("Softmax", axis=1),
    "exp": _onnx_op("Exp"),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "gelu": _gelu,
    "softplus": _softplus,
    "silu": _silu,
}


def _convert_regressor(scope, operator, container):
    graph = _Graph(scope, container, operator)
    estimator = operator.raw_operator
    y = graph.network(operator, estimator)
    levels = estimator._levels()
    if isinstance(levels, tuple):
        y = _sorted_quantiles(graph, y, levels, _quantile_shape(estimator))
    graph.node("Identity", y, output=operator.outputs[0].full_name)


def _sorted_quantiles(graph, y, levels, shape):
    """The graph of :func:`skbp.core.sort_quantiles` and ``predict``'s shape:
    each target's outputs sorted by level (``TopK``, ascending), into the
    columns' order of ``levels``, shaped ``[rows, *shape]``."""
    n_levels = len(levels)
    int64 = graph.proto.INT64
    # [rows, targets, levels]; Reshape's 0 keeps the rows' dimension.
    grouped_shape = graph.constant([0, -1, n_levels], "grouped", int64, [3])
    grouped = graph.node("Reshape", [y, grouped_shape])
    order = np.argsort(np.asarray(levels, dtype=float), kind="stable")
    identity = np.array_equal(order, np.arange(n_levels))
    if not identity:  # into increasing levels
        index = graph.constant(
            order.tolist(), "levels", onnx_type=int64, shape=[n_levels]
        )
        grouped = graph.node("Gather", [grouped, index], axis=2)
    values, indices = graph.name("sorted"), graph.name("ranks")
    graph.container.add_node(
        "TopK",
        [grouped, graph.constant([n_levels], "k", onnx_type=int64, shape=[1])],
        [values, indices],
        name=graph.scope.get_unique_operator_name("TopK"),
        axis=2,
        largest=0,
        sorted=1,
        op_version=11,
    )
    if not identity:  # back to the columns' order
        inverse = np.argsort(order).tolist()
        back = graph.constant(inverse, "columns", onnx_type=int64, shape=[n_levels])
        values = graph.node("Gather", [values, back], axis=2)
    out_shape = graph.constant(
        [-1, *shape], "shape", onnx_type=int64, shape=[1 + len(shape)]
    )
    return graph.node("Reshape", [values, out_shape])


def _convert_classifier(scope, operator, container):
    estimator = operator.raw_operator
    graph = _Graph(scope, container, operator)
    p = graph.network(operator, estimator)
    label_out = operator.outputs[0].full_name
    proba_out = (
        operator.outputs[1].full_name
        if len(operator.outputs) > 1
        else graph.name("probabilities")
    )
    if _is_multilabel(estimator):
        graph.node("Identity", p, output=proba_out)
        above = graph.node("Greater", [p, graph.constant(0.5)])
        graph.node("Cast", above, output=label_out, to=graph.proto.INT64)
        return
    if estimator.n_outputs_ == 1:  # binary: the positive class's probability
        negative = graph.node("Sub", [graph.constant(1.0), p])
        graph.node("Concat", [negative, p], output=proba_out, axis=1)
    else:
        graph.node("Identity", p, output=proba_out)
    nocl = container.get_options(estimator, {"nocl": False})["nocl"]
    labels, is_string = _class_labels(estimator, nocl)
    if is_string:
        classes = graph.constant(
            [s.encode("utf-8") for s in labels],
            "classes",
            onnx_type=graph.proto.STRING,
            shape=[len(labels)],
        )
    else:
        classes = graph.constant(
            [int(c) for c in labels],
            "classes",
            onnx_type=graph.proto.INT64,
            shape=[len(labels)],
        )
    index = graph.node("ArgMax", proba_out, axis=1, keepdims=0)
    graph.node("Gather", [classes, index], output=label_out, axis=0)
