"""skbp.core.losses.PinballLoss and sort_quantiles: quantile regression's math."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from namespaces import NAMESPACES
from sklearn.metrics import mean_pinball_loss

from skbp.core import (
    AbsoluteError,
    PinballLoss,
    get_loss,
    initialize_parameters,
    sort_quantiles,
)
from skbp.core.activations import get_activation
from skbp.core.gradient_check import gradient_check, numerical_gradients

LEVELS = [0.05, 0.1, 0.5, 0.9, 0.95]


def _problem(levels=(0.9,), n_targets=2, m=9, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    Y = rng.normal(size=(m, n_targets * len(levels))).astype(dtype)
    Z = rng.normal(scale=2.0, size=Y.shape).astype(dtype)
    return Y, Z


def _pinball(r, tau):
    """rho_tau(r), r = y - z, written the other way round: as two cases."""
    return np.where(r >= 0, tau * r, (tau - 1) * r)


@pytest.mark.parametrize("tau", LEVELS)
@pytest.mark.parametrize("weighted", [False, True])
def test_value_is_sklearns_mean_pinball_loss(tau, weighted):
    Y, Z = _problem()
    sw = np.random.RandomState(3).uniform(0.2, 3.0, len(Y)) if weighted else None
    loss = get_loss("quantile", quantile=tau)
    # skbp sums over the outputs, scikit-learn averages: a factor n_outputs.
    expected = Y.shape[1] * mean_pinball_loss(Y, Z, alpha=tau, sample_weight=sw)
    assert loss.value(Y, Z, Z.copy(), sw) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(
        loss.per_sample(Y, Z, Z), _pinball(Y - Z, tau).sum(axis=1), rtol=1e-12
    )


def test_each_column_takes_its_level_target_major():
    levels = (0.1, 0.5, 0.9)
    Y, Z = _problem(levels, n_targets=2)
    loss = get_loss("quantile", quantile=levels)
    tau = np.tile(levels, 2)  # target 0's three levels, then target 1's
    np.testing.assert_allclose(
        loss.per_sample(Y, Z, Z), _pinball(Y - Z, tau).sum(axis=1), rtol=1e-12
    )
    dZ = loss.per_sample_gradient(Y, Z, Z.copy())
    np.testing.assert_array_equal(dZ, np.where(Z > Y, 1 - tau, -tau))
    with pytest.raises(ValueError, match="do not hold 3 quantile levels"):
        loss.per_sample(Y[:, :4], Z[:, :4], Z[:, :4])


@pytest.mark.parametrize("lib", NAMESPACES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("levels", [0.2, (0.05, 0.5, 0.95)])
def test_gradient_matches_finite_differences_away_from_the_kink(lib, dtype, levels):
    n_levels = len(levels) if isinstance(levels, tuple) else 1
    Y, Z = _problem(levels if n_levels > 1 else (levels,), dtype=dtype)
    assert np.abs(Y - Z).min() > 1e-3  # no residual within eps of the kink
    loss = get_loss("quantile", quantile=levels)
    out = lib.to(np.empty_like(Z))
    dZ = loss.per_sample_gradient(lib.to(Y), lib.to(Z), lib.to(Z), out=out)
    assert dZ is out
    Y64, Z64 = Y.astype(np.float64), Z.astype(np.float64)
    (numerical,) = numerical_gradients(
        lambda: float(loss.per_sample(Y64, Z64, Z64).sum()), [Z64]
    )
    np.testing.assert_allclose(lib.back(dZ), numerical, rtol=1e-6, atol=1e-8)
    value = loss.value(lib.to(Y), lib.to(Z), lib.to(Z))
    np.testing.assert_allclose(
        lib.scalar(value),
        loss.value(Y64, Z64, Z64),
        rtol=1e-6 if dtype == np.float32 else 1e-12,
    )


@pytest.mark.parametrize("tau", LEVELS)
def test_the_kink_takes_the_subgradient_zero(tau):
    Y, Z = _problem((tau,), n_targets=1)
    Z[::2] = Y[::2]  # on the target exactly
    dZ = get_loss("quantile", quantile=tau).per_sample_gradient(Y, Z, Z.copy())
    assert np.all(dZ[::2] == 0.0)
    # Elsewhere, 1 - tau above the target and -tau below.
    above, below = Z > Y, Z < Y
    np.testing.assert_array_equal(dZ[above], np.full(above.sum(), 1 - tau))
    np.testing.assert_array_equal(dZ[below], np.full(below.sum(), -tau))


def test_the_median_is_half_the_absolute_error():
    Y, Z = _problem((0.5,))
    Z[0, 0] = Y[0, 0]
    median, absolute = get_loss("quantile", quantile=0.5), AbsoluteError()
    np.testing.assert_allclose(
        2 * median.per_sample(Y, Z, Z), absolute.per_sample(Y, Z, Z), rtol=1e-15
    )
    np.testing.assert_array_equal(
        2 * median.per_sample_gradient(Y, Z, Z.copy()),
        absolute.per_sample_gradient(Y, Z, Z.copy()),
    )


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9])
def test_the_best_constant_is_the_sample_quantile(tau):
    # Minimising the mean pinball loss over a constant z gives the
    # tau-quantile of y: the loss is least there, and the mean subgradient
    # changes sign there (a fraction tau of the rows lies below it).
    y = np.random.RandomState(0).standard_normal(1001)[:, None]
    loss = get_loss("quantile", quantile=tau)
    grid = np.linspace(-3, 3, 6001)[:, None]
    values = [loss.value(y, np.full_like(y, z), np.full_like(y, z)) for z in grid]
    best = float(grid[int(np.argmin(values)), 0])
    assert best == pytest.approx(np.quantile(y, tau), abs=2e-3)
    q = np.quantile(y, tau, method="inverted_cdf")
    below = loss.per_sample_gradient(y, y * 0 + q - 1e-3, y * 0 + q - 1e-3).mean()
    above = loss.per_sample_gradient(y, y * 0 + q + 1e-3, y * 0 + q + 1e-3).mean()
    assert below < 0 < above


def test_backprop_through_a_network_with_the_pinball_loss():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 3))
    levels = (0.1, 0.5, 0.9)
    Y = np.repeat(rng.normal(size=(12, 1)), 3, axis=1)
    coefs, intercepts = initialize_parameters([3, 5, 3], rng)
    acts = [get_activation("tanh"), get_activation("identity")]
    loss = get_loss("quantile", quantile=levels)
    sw = rng.uniform(0.5, 2.0, 12)
    error = gradient_check(X, Y, coefs, intercepts, acts, loss, 0.1, sw)
    assert error < 1e-7


@pytest.mark.parametrize(
    "bad", [0.0, 1.0, -0.1, 1.5, (0.5, 1.0), (), float("nan")], ids=repr
)
def test_levels_outside_the_open_unit_interval_are_refused(bad):
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        PinballLoss(bad)


def test_equality_pickle_and_list_levels():
    assert PinballLoss([0.1, 0.9]) == PinballLoss((0.1, 0.9))
    assert PinballLoss([0.1, 0.9]).quantile == (0.1, 0.9)
    assert PinballLoss(0.9) != PinballLoss(0.1)
    loss = PinballLoss((0.05, 0.95))
    assert pickle.loads(pickle.dumps(loss)) == loss
    assert repr(loss) == "PinballLoss(quantile=(0.05, 0.95))"
    assert get_loss("quantile", quantile=0.3) == PinballLoss(0.3)


# ---------------------------------------------------------------------------
# The rearrangement: predicted quantiles never cross
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lib", NAMESPACES)
def test_sort_quantiles_sorts_each_targets_levels(lib):
    P = np.array(
        [
            [3.0, 1.0, 2.0, -1.0, -2.0, 0.0],  # two targets, crossing
            [0.0, 1.0, 2.0, 5.0, 6.0, 7.0],  # already monotone
        ]
    )
    levels = (0.1, 0.5, 0.9)
    out = lib.back(sort_quantiles(lib.to(P), levels))
    np.testing.assert_array_equal(
        out, [[1.0, 2.0, 3.0, -2.0, -1.0, 0.0], [0.0, 1.0, 2.0, 5.0, 6.0, 7.0]]
    )
    # Levels given out of order: each column gets the value of its rank.
    shuffled = (0.9, 0.1, 0.5)
    out = lib.back(sort_quantiles(lib.to(P), shuffled))
    np.testing.assert_array_equal(
        out, [[3.0, 1.0, 2.0, 0.0, -2.0, -1.0], [2.0, 0.0, 1.0, 7.0, 5.0, 6.0]]
    )
    assert not np.shares_memory(lib.back(P), out)


@settings(max_examples=60, deadline=None)
@given(
    P=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 3)).map(lambda s: (s[0], s[1] * 3)),
        elements=st.floats(-1e6, 1e6),
    ),
    permutation=st.permutations([0.05, 0.5, 0.95]),
)
def test_sorted_quantiles_are_monotone_in_the_level(P, permutation):
    levels = tuple(permutation)
    out = sort_quantiles(P, levels)
    order = np.argsort(levels)
    grouped = out.reshape(len(P), -1, 3)[:, :, order]  # in increasing level
    assert np.all(np.diff(grouped, axis=2) >= 0)
    # The same values, per row and target: a rearrangement, nothing new.
    np.testing.assert_array_equal(
        np.sort(grouped, axis=2), np.sort(P.reshape(len(P), -1, 3), axis=2)
    )


def test_the_levels_row_is_made_once_and_cannot_be_written():
    loss = PinballLoss((0.1, 0.9))
    A = np.zeros((4, 6), np.float32)
    row = loss._levels(A)
    assert row is loss._levels(A) and row.dtype == np.float32
    np.testing.assert_array_equal(row, np.float32([0.1, 0.9] * 3))
    with pytest.raises(ValueError, match="read-only"):
        row[0] = 0.5
