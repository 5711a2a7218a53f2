"""The hand-written backpropagation core: rows are samples.

Every function takes numpy arrays, or arrays of any array-API library
(PyTorch, CuPy, array-api-strict, ...), and computes in that library, on
the arrays' device; each equation is written once (see
:mod:`~skbp.core.namespace`).

Modules, one concept each:

- :mod:`~skbp.core.namespace`: which library holds the arrays; numpy's own
  functions (and ``out=`` buffers) for numpy arrays.
- :mod:`~skbp.core.activations`: activation functions and their derivatives.
- :mod:`~skbp.core.losses`: output losses with their gradient.
- :mod:`~skbp.core.regularization`: the L2 penalty.
- :mod:`~skbp.core.layers`: one layer's forward and backward building blocks.
- :mod:`~skbp.core.dropout`: inverted dropout masks, forward and backward.
- :mod:`~skbp.core.network`: initialisation, whole-network forward/backward.
- :mod:`~skbp.core.layout`: the flat parameter vector (weights then biases).
- :mod:`~skbp.core.optimizers`: SGD (momentum, Nesterov, schedules) and Adam.
- :mod:`~skbp.core.lbfgs`: L-BFGS on the flattened parameters.
- :mod:`~skbp.core.gradient_check`: finite-difference gradient check.
- :mod:`~skbp.core.workspace`: preallocated training buffers.

Nothing here imports scikit-learn.
"""

from .activations import (
    ACTIVATIONS,
    ELU,
    GELU,
    HIDDEN_ACTIVATIONS,
    Activation,
    Exp,
    Identity,
    LeakyReLU,
    Logistic,
    ReLU,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    get_activation,
    log_sum_exp,
    max_shifted_exp,
    softplus,
)
from .dropout import (
    dropout_backward,
    dropout_forward,
    dropout_mask,
    dropout_masks,
    row_keys,
    uniform_hash,
)
from .gradient_check import (
    activation_error,
    gradient_check,
    loss_error,
    numerical_gradients,
    relative_error,
)
from .layers import (
    LayerCache,
    check_layer_shapes,
    linear_activation_backward,
    linear_activation_forward,
    linear_backward,
    linear_forward,
)
from .layout import ParameterLayout, pack, packed_views, unpack
from .lbfgs import minimize_lbfgs
from .losses import (
    LOSSES,
    REGRESSION_LOSSES,
    AbsoluteError,
    BinaryLogLoss,
    HuberLoss,
    Loss,
    MulticlassLogLoss,
    PinballLoss,
    PoissonLoss,
    SquaredError,
    get_loss,
    sort_quantiles,
)
from .namespace import (
    NUMPY,
    ArrayNamespace,
    device,
    get_namespace,
    host_scalar,
    is_numpy,
    library_dtype,
    namespace_of,
    to_numpy,
)
from .network import (
    L_model_backward,
    L_model_forward,
    backprop,
    forward_loss,
    forward_output,
    initialize_parameters,
    parameters_like,
)
from .optimizers import OPTIMIZERS, SGD, Adam, Optimizer
from .regularization import add_l2_gradient, l2_penalty
from .workspace import Workspace

__all__ = [
    "NUMPY",
    "ArrayNamespace",
    "namespace_of",
    "get_namespace",
    "is_numpy",
    "device",
    "to_numpy",
    "host_scalar",
    "library_dtype",
    "ACTIVATIONS",
    "HIDDEN_ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "REGRESSION_LOSSES",
    "Activation",
    "Adam",
    "AbsoluteError",
    "BinaryLogLoss",
    "HuberLoss",
    "ELU",
    "Exp",
    "GELU",
    "LeakyReLU",
    "SiLU",
    "Softplus",
    "Identity",
    "L_model_backward",
    "L_model_forward",
    "LayerCache",
    "Logistic",
    "Loss",
    "MulticlassLogLoss",
    "Optimizer",
    "ParameterLayout",
    "PinballLoss",
    "PoissonLoss",
    "ReLU",
    "SGD",
    "Softmax",
    "SquaredError",
    "Tanh",
    "Workspace",
    "activation_error",
    "add_l2_gradient",
    "dropout_backward",
    "dropout_forward",
    "dropout_mask",
    "dropout_masks",
    "backprop",
    "forward_output",
    "forward_loss",
    "get_activation",
    "get_loss",
    "sort_quantiles",
    "gradient_check",
    "initialize_parameters",
    "l2_penalty",
    "linear_activation_backward",
    "linear_activation_forward",
    "linear_backward",
    "check_layer_shapes",
    "linear_forward",
    "log_sum_exp",
    "loss_error",
    "max_shifted_exp",
    "minimize_lbfgs",
    "numerical_gradients",
    "pack",
    "packed_views",
    "parameters_like",
    "relative_error",
    "row_keys",
    "softplus",
    "uniform_hash",
    "unpack",
]
