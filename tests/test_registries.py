"""The estimators read their lists of names from the core's registries.

A class added to ``skbp.core`` (an activation, a regression loss, an
optimizer) is accepted by the estimators' parameter checks, listed in their
docstrings and given a graph in the ONNX export without being named again
elsewhere; these tests fail with a message naming the table to fill in where
one is still needed.
"""

import inspect

import pytest

from skbp import BPClassifier, BPRegressor
from skbp._engine.solvers import OPTIMIZER_HYPERPARAMETERS, make_optimizer
from skbp._estimators.base import _STOCHASTIC_SOLVERS
from skbp._estimators.docstrings import CLASSIFIER, COMMON, REGRESSOR, constraints
from skbp._model.settings import init_factors
from skbp.core import (
    ACTIVATIONS,
    HIDDEN_ACTIVATIONS,
    OPTIMIZERS,
    REGRESSION_LOSSES,
    SGD,
    Adam,
)
from skbp.core.optimizers import LEARNING_RATE_SCHEDULES
from skbp.onnx import _ACTIVATION_GRAPHS

ESTIMATORS = [BPClassifier, BPRegressor]


def _options(estimator, parameter):
    """The names a ``StrOptions`` constraint of ``parameter`` accepts."""
    (constraint,) = [
        c for c in estimator._parameter_constraints[parameter] if hasattr(c, "options")
    ]
    return constraint.options


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_constraints_come_from_the_registries(estimator):
    assert _options(estimator, "activation") == set(HIDDEN_ACTIVATIONS)
    assert _options(estimator, "solver") == {"lbfgs", *OPTIMIZERS}
    assert _options(estimator, "learning_rate") == set(LEARNING_RATE_SCHEDULES)
    assert set(_STOCHASTIC_SOLVERS) == set(OPTIMIZERS)


def test_regressor_loss_constraint_comes_from_the_loss_registry():
    assert _options(BPRegressor, "loss") == set(REGRESSION_LOSSES)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_docstrings_list_every_name(estimator):
    doc = estimator.__doc__
    names = [*HIDDEN_ACTIVATIONS, *OPTIMIZERS, "lbfgs", *LEARNING_RATE_SCHEDULES]
    if estimator is BPRegressor:
        names += REGRESSION_LOSSES
    missing = [name for name in names if f"'{name}'" not in doc]
    assert not missing, f"{estimator.__name__}'s docstring does not list {missing}"


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_keyword_has_an_estimator_hyperparameter(name):
    keywords = list(inspect.signature(OPTIMIZERS[name]).parameters)[1:]
    for estimator in ESTIMATORS:
        params = estimator().get_params()
        filled = {OPTIMIZER_HYPERPARAMETERS.get(kw, kw) for kw in keywords}
        unmapped = sorted(filled - set(params))
        if unmapped:
            pytest.fail(
                f"optimizer {name!r} takes {unmapped}, which no estimator "
                "hyperparameter fills: name the estimator's parameter as the "
                "keyword (a new one goes in both estimators' __init__ and in "
                "skbp/_estimators/docstrings.py), or map it in "
                "OPTIMIZER_HYPERPARAMETERS (skbp/_engine/solvers.py)"
            )
        assert set(OPTIMIZER_HYPERPARAMETERS.values()) <= set(params)


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_make_optimizer_builds_the_solver_from_hyperparameters(estimator, solver):
    est = estimator(
        solver=solver,
        learning_rate="invscaling",
        learning_rate_init=0.03,
        momentum=0.7,
        nesterovs_momentum=False,
        power_t=0.3,
        beta_1=0.8,
        beta_2=0.95,
        epsilon=1e-6,
    )
    optimizer = make_optimizer(est, [])
    assert type(optimizer) is OPTIMIZERS[solver]
    assert optimizer.learning_rate_init == 0.03
    if isinstance(optimizer, SGD):
        assert optimizer.lr_schedule == "invscaling"
        assert (optimizer.momentum, optimizer.nesterov) == (0.7, False)
        assert optimizer.power_t == 0.3
    if isinstance(optimizer, Adam):
        assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (
            0.8,
            0.95,
            1e-6,
        )


@pytest.mark.parametrize("solver", ["lbfgs", "no_such_solver", None])
def test_make_optimizer_raises_on_an_unknown_solver(solver):
    # Not Adam by default: a solver with no optimizer is an error.
    est = BPRegressor()
    est.solver = solver
    with pytest.raises(ValueError, match="Unknown stochastic solver"):
        make_optimizer(est, [])


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "activation, expected",
    [
        ("logistic", [2.0, 2.0, 2.0]),
        ("tanh", [6.0, 6.0, 6.0]),
        (["logistic", "relu"], [2.0, 6.0, 6.0]),
        (["relu", "logistic"], [6.0, 2.0, 2.0]),
    ],
)
def test_init_factors_read_the_activation_classes(estimator, activation, expected):
    est = estimator(hidden_layer_sizes=(3, 4), activation=activation)
    assert init_factors(est.activation, 2) == expected


def test_init_factors_without_hidden_layers():
    assert init_factors([], 0) == [6.0]


def test_onnx_export_has_a_graph_for_every_activation():
    # skl2onnx is not needed to read the table.
    missing = sorted(set(ACTIVATIONS) - set(_ACTIVATION_GRAPHS))
    if missing:
        pytest.fail(
            f"activations {missing} have no ONNX graph: add one to "
            "_ACTIVATION_GRAPHS in skbp/onnx.py"
        )
    assert not set(_ACTIVATION_GRAPHS) - set(ACTIVATIONS)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_parameter_has_one_row_in_the_table(estimator):
    # One row per parameter: its docstring entry and its constraints.
    own = CLASSIFIER if estimator is BPClassifier else REGRESSOR
    names = [p.name for p in (*COMMON, *own)]
    assert sorted(names) == sorted(estimator().get_params())
    assert len(set(names)) == len(names)
    assert estimator._parameter_constraints == constraints((*COMMON, *own))
    for parameter in (*COMMON, *own):
        assert f"    {parameter.name} : {parameter.kind}\n" in estimator.__doc__
