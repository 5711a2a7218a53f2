"""skbp.core.gradient_check: one activation's or one loss's math, checked alone.

:func:`activation_error` and :func:`loss_error` compare a hand-written
backward pass with central finite differences of the forward pass. Right
math gives about 1e-9; wrong math gives errors of order 1. Kinks (relu's 0,
the absolute error at ``z = y``) and saturated units must not look wrong.
"""

import numpy as np
import pytest
from namespaces import NAMESPACES

from skbp.core import (
    ACTIVATIONS,
    AbsoluteError,
    BinaryLogLoss,
    HuberLoss,
    Identity,
    LeakyReLU,
    Logistic,
    Loss,
    MulticlassLogLoss,
    PoissonLoss,
    ReLU,
    SquaredError,
    Tanh,
    activation_error,
    loss_error,
    namespace_of,
)
from skbp.core.activations import Activation

RIGHT = 1e-8  # a right derivative, in float64
WRONG = 1e-2  # a wrong one is far above this


class SoftSign(Activation):
    """f(z) = z / (1 + |z|), f'(z) = 1 / (1 + |z|)^2."""

    name = "softsign"

    def forward(self, Z, out=None):
        xp = namespace_of(Z)
        return xp.divide(Z, 1.0 + xp.abs(Z), out=out)

    def derivative(self, Z, A=None):
        xp = namespace_of(Z)
        d = 1.0 + xp.abs(Z)
        return 1.0 / (d * d)


class SoftSignMissingSquare(SoftSign):
    def derivative(self, Z, A=None):
        return 1.0 / (1.0 + np.abs(Z))


class RowNormalize(Activation):
    """Not elementwise: each row divided by its norm, a = z / |z|.

    Its Jacobian is (I - a a^T) / |z| per row, so dZ = (dA - (dA . a) a) / |z|.
    """

    name = "row_normalize"

    def forward(self, Z, out=None):
        return Z / np.linalg.norm(Z, axis=1, keepdims=True)

    def backward(self, dA, Z, A=None, out=None):
        norm = np.linalg.norm(Z, axis=1, keepdims=True)
        A = Z / norm
        return (dA - np.sum(dA * A, axis=1, keepdims=True) * A) / norm


class RowNormalizeElementwiseBackward(RowNormalize):
    """The classic mistake: the diagonal of the Jacobian only."""

    def backward(self, dA, Z, A=None, out=None):
        return dA / np.linalg.norm(Z, axis=1, keepdims=True)


class TanhFromOutputOnly(Tanh):
    """Claims derivative_from_output but reads Z: wrong once Z holds A."""

    derivative_from_output = True

    def derivative(self, Z, A=None):
        return 1.0 - np.tanh(Z) ** 2


class TanhNeedsA(Tanh):
    """Right with A, wrong with A=None (as dropout calls it)."""

    def derivative(self, Z, A=None):
        return np.ones_like(Z) if A is None else 1.0 - A * A


class LogCosh(Loss):
    """l = sum log cosh(z - y), dl/dz = tanh(z - y)."""

    name = "log_cosh"
    output_activation = Identity()

    def per_sample(self, Y, Z, A):
        r = np.abs(A - Y)
        return np.sum(r + np.log1p(np.exp(-2.0 * r)) - np.log(2.0), axis=1)

    def per_sample_gradient(self, Y, Z, A, out=None):
        return np.tanh(A - Y)


class LogCoshWrong(LogCosh):
    def per_sample_gradient(self, Y, Z, A, out=None):
        return A - Y  # the squared error's


class WrongShape(LogCosh):
    def per_sample_gradient(self, Y, Z, A, out=None):
        return np.tanh(A - Y)[:, :1]


class NaNGradient(LogCosh):
    def per_sample_gradient(self, Y, Z, A, out=None):
        return np.full_like(A, np.nan)


def _points(shape=(8, 7), seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal(shape), rng.standard_normal(shape)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_builtin_activation_is_right(name):
    # Softmax, which is not elementwise, included.
    Z, dA = _points()
    assert activation_error(ACTIVATIONS[name](), Z, dA) < RIGHT


def test_a_hand_written_activation_right_and_wrong():
    Z, dA = _points()
    assert activation_error(SoftSign(), Z, dA) < RIGHT
    assert activation_error(SoftSignMissingSquare(), Z, dA) > WRONG


def test_a_non_elementwise_activation_is_checked_through_its_jacobian():
    Z, dA = _points()
    assert activation_error(RowNormalize(), Z, dA) < RIGHT
    assert activation_error(RowNormalizeElementwiseBackward(), Z, dA) > WRONG


def test_every_way_training_calls_backward_is_checked():
    Z, dA = _points()
    # Right from Z; wrong when Z's buffer holds A (derivative_from_output).
    assert activation_error(TanhFromOutputOnly(), Z, dA) > WRONG
    # Right with A; wrong with A=None (dropout's call).
    assert activation_error(TanhNeedsA(), Z, dA) > WRONG


@pytest.mark.parametrize("activation", [ReLU(), LeakyReLU(0.1)], ids=repr)
def test_kinks_are_not_mistaken_for_wrong_derivatives(activation):
    Z, dA = _points()
    Z[0, :4] = 0.0  # exactly at the kink
    Z[1, :4] = [1e-7, -1e-7, 5e-7, -9e-7]  # within eps of it
    assert activation_error(activation, Z, dA) < RIGHT


@pytest.mark.parametrize("activation", [Tanh(), Logistic()], ids=repr)
def test_saturated_units_are_not_mistaken_for_wrong_derivatives(activation):
    # Every unit at |z| in [20, 22] (logistic) or [10, 11] (tanh): f' ~ 1e-9,
    # and the differences are mostly rounding noise. The default floor sees
    # that; relative_error's own floor (1e-8) would not.
    rng = np.random.default_rng(0)
    Z = np.sign(rng.standard_normal((8, 7))) * (10 + rng.random((8, 7)))
    if isinstance(activation, Logistic):
        Z *= 2
    dA = rng.standard_normal(Z.shape)
    assert activation_error(activation, Z, dA) < 1e-5
    assert activation_error(activation, Z, dA, floor=1e-8) > 1e-3
    # A derivative that is wrong there is still wrong overall.
    assert activation_error(SoftSignMissingSquare(), Z, dA) > WRONG


@pytest.mark.parametrize(
    "loss",
    [SquaredError(), HuberLoss(delta=0.5), AbsoluteError(), LogCosh()],
    ids=repr,
)
def test_regression_losses_are_right(loss):
    Y, Z = _points((8, 3))
    assert loss_error(loss, Y, Z) < RIGHT


def test_canonical_losses_through_their_output_activation():
    _, Z = _points((8, 3))
    labels = np.eye(3)[np.arange(8) % 3]
    assert loss_error(MulticlassLogLoss(), labels, Z) < RIGHT
    assert loss_error(BinaryLogLoss(), labels, Z) < RIGHT
    assert loss_error(PoissonLoss(), np.abs(Z) * 3, Z) < RIGHT


def test_a_wrong_loss_gradient_is_caught():
    Y, Z = _points((8, 3))
    assert loss_error(LogCoshWrong(), Y, 3 * Z) > WRONG


def test_the_absolute_errors_kink_is_left_out():
    Y, Z = _points((8, 3))
    Z[:4] = Y[:4]  # z = y: the kink
    Z[4, 0] = Y[4, 0] + 1e-7
    assert loss_error(AbsoluteError(), Y, Z) < RIGHT
    assert loss_error(LogCoshWrong(), Y, 3 * Z) > WRONG


def test_shapes_and_non_finite_gradients():
    Y, Z = _points((8, 3))
    with pytest.raises(ValueError, match=r"per_sample_gradient returned .*\(8, 1\)"):
        loss_error(WrongShape(), Y, Z)
    assert loss_error(NaNGradient(), Y, Z) == np.inf


def test_the_inputs_are_left_as_they_were():
    Z, dA = _points()
    Z0, dA0 = Z.copy(), dA.copy()
    activation_error(SoftSign(), Z, dA)
    loss_error(LogCosh(), dA, Z)
    np.testing.assert_array_equal(Z, Z0)
    np.testing.assert_array_equal(dA, dA0)


@pytest.mark.parametrize("library", NAMESPACES, ids=repr)
def test_arrays_of_any_library_are_checked_on_the_host(library):
    Z, dA = _points()
    assert activation_error(SoftSign(), library.to(Z), library.to(dA)) < RIGHT
    assert activation_error(SoftSignMissingSquare(), library.to(Z), dA) > WRONG
    assert loss_error(LogCosh(), library.to(dA), library.to(Z)) < RIGHT
