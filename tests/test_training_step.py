"""TrainingStep built from its explicit arguments, with no estimator."""

import warnings

import numpy as np
import pytest

from skbp import BPRegressor
from skbp._data.memory import TrainingStep, mask_function
from skbp.core import (
    SGD,
    SquaredError,
    Workspace,
    backprop,
    dropout_masks,
    get_activation,
    initialize_parameters,
    row_keys,
)

LAYER_UNITS = [3, 5, 2]


@pytest.fixture
def problem():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, LAYER_UNITS[0]))
    Y = rng.normal(size=(12, LAYER_UNITS[-1]))
    coefs, intercepts = initialize_parameters(LAYER_UNITS, rng)
    activations = [get_activation("tanh"), get_activation("identity")]
    return X, Y, coefs, intercepts, activations


def make_step(problem, batch_size, dropout=None, sample_weight=None):
    X, Y, coefs, intercepts, activations = problem
    workspace = Workspace(LAYER_UNITS, batch_size, X.dtype)
    flat = workspace.layout.pack(coefs, intercepts)
    optimizer = SGD([flat], learning_rate_init=0.1, momentum=0.0)
    step = TrainingStep(
        flat,
        workspace,
        (X, Y, sample_weight),
        batch_size,
        activations=activations,
        loss=SquaredError(),
        optimizer=optimizer,
        alpha=0.01,
        dropout_masks=dropout,
    )
    return step, flat


def test_one_batch_epoch_is_one_gradient_step(problem):
    X, Y, coefs, intercepts, activations = problem
    loss, coef_grads, intercept_grads = backprop(
        X, Y, coefs, intercepts, activations, SquaredError(), 0.01
    )
    expected = [
        p - 0.1 * g for p, g in zip(coefs + intercepts, coef_grads + intercept_grads)
    ]

    step, flat = make_step(problem, batch_size=X.shape[0])
    epoch_loss = step.run_epoch(order=None)

    assert epoch_loss == pytest.approx(loss, rel=1e-12)
    for got, want in zip(step.coefs + step.intercepts, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # The step's weights are views of flat_params: the optimizer moved them.
    assert all(np.shares_memory(W, flat) for W in step.coefs + step.intercepts)


def test_shuffled_batches_and_weights(problem):
    X = problem[0]
    order = np.random.RandomState(1).permutation(X.shape[0])
    sample_weight = np.linspace(0.5, 2.0, X.shape[0])
    step, flat = make_step(problem, batch_size=5, sample_weight=sample_weight)
    before = flat.copy()
    assert len(step.batches) == 3
    assert np.isfinite(step.run_epoch(order))
    assert not np.array_equal(flat, before)


def test_dropout_mask_function_is_called_once_per_batch(problem):
    X = problem[0]
    salt = np.arange(1, X.shape[1] + 1, dtype=np.uint64)
    calls = []

    def masks(X_batch, rows):
        calls.append(X_batch.shape[0])
        assert rows == slice(5 * (len(calls) - 1), 5 * (len(calls) - 1) + len(X_batch))
        keys = row_keys(X_batch, salt)
        return dropout_masks(keys, [LAYER_UNITS[1]], [0.5], 7, len(calls), X.dtype)

    step, _ = make_step(problem, batch_size=5, dropout=masks)
    assert np.isfinite(step.run_epoch(order=None))
    assert calls == [5, 5, 2]


def test_params_must_be_in_the_gradients_layout(problem):
    X, Y, coefs, intercepts, activations = problem
    workspace = Workspace(LAYER_UNITS, 4, X.dtype)
    too_short = np.zeros(workspace.layout.size - 1)
    with pytest.raises(ValueError, match="layout"):
        TrainingStep(
            too_short,
            workspace,
            (X, Y, None),
            4,
            activations=activations,
            loss=SquaredError(),
            optimizer=SGD([too_short]),
            alpha=0.0,
        )


def test_estimators_bind_no_mask_function_without_dropout():
    """A fit without dropout gives its TrainingStep no function to call."""
    X = np.random.RandomState(0).normal(size=(20, 3))
    reg = BPRegressor(hidden_layer_sizes=(4, 3), max_iter=2, random_state=0)
    reg.set_params(dropout=[0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, X[:, 0])
    assert mask_function(reg._dropout()) is None
    reg.set_params(dropout=[0.0, 0.3])
    reg._dropout_salt = np.ones(3, dtype=np.uint64)
    reg._dropout_seed, reg._dropout_step = 0, 0
    masks = mask_function(reg._dropout())(X[:5])
    assert masks[0] is None and masks[1].shape == (5, 3) and masks[2] is None
    assert reg._dropout_step == 1
