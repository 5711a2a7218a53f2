"""The no-improvement rule (skbp/_engine/rules.py), against scikit-learn's own.

The rule is read from scikit-learn's ``_update_no_improvement_count``, run on
a stand-in object, so that a change on either side shows here first: the
parity tests of ``n_iter_`` and the loss curves depend on it.
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.neural_network._multilayer_perceptron import BaseMultilayerPerceptron

from skbp._engine.rules import NoImprovement, stalled, update_no_improvement

nan, inf = math.nan, math.inf

# (scores, higher is better; tol; count after each epoch; best after the last)
SCORE_TABLE = {
    "steady gains": ([0.1, 0.2, 0.3], 0.01, [0, 0, 0], 0.3),
    "plateau, tol=0 resets": ([0.5, 0.5, 0.5], 0.0, [0, 0, 0], 0.5),
    "plateau, tol>0 counts": ([0.5, 0.5, 0.5], 1e-4, [0, 1, 2], 0.5),
    "gains under tol count, best moves": (
        [0.5, 0.5004, 0.5008],
        1e-3,
        [0, 1, 2],
        0.5008,
    ),
    "a gain of exactly tol resets": ([0.5, 0.75], 0.25, [0, 0], 0.75),
    "decline then recovery": ([0.5, 0.4, 0.3, 0.6], 0.01, [0, 1, 2, 0], 0.6),
    "NaN resets, never improves": ([0.5, nan, 0.5], 0.01, [0, 0, 1], 0.5),
    "-inf first score": ([-inf, 0.0], 0.01, [0, 0], 0.0),
}

# The same for losses (lower is better), which enter negated.
LOSS_TABLE = {
    "losses fall": ([1.0, 0.5, 0.25], 1e-4, [0, 0, 0], 0.25),
    "loss stalls under tol": ([1.0, 0.9, 0.89995, 0.95], 1e-3, [0, 0, 1, 2], 0.89995),
    "loss plateau, tol=0 resets": ([2.0, 2.0], 0.0, [0, 0], 2.0),
    "NaN loss resets": ([1.0, nan, 1.0], 0.1, [0, 0, 1], 1.0),
}


def run_scores(scores, tol):
    count, best, counts, improved = 0, -inf, [], []
    for score in scores:
        count, best, gain = update_no_improvement(count, best, score, tol)
        counts.append(count)
        improved.append(gain)
    return counts, best, improved


def run_losses(losses, tol):
    count, best_loss, counts = 0, inf, []
    for loss in losses:
        count, best, _ = update_no_improvement(count, -best_loss, -loss, tol)
        best_loss = -best
        counts.append(count)
    return counts, best_loss


def sklearn_counts(values, tol, early_stopping):
    """scikit-learn's counter and best value, on a stand-in estimator."""
    scores = iter(values)
    fake = SimpleNamespace(
        tol=tol,
        verbose=False,
        coefs_=[],
        intercepts_=[],
        validation_scores_=[],
        best_validation_score_=-inf,
        loss_curve_=[],
        best_loss_=inf,
        _no_improvement_count=0,
        _score=lambda X, y, sample_weight=None: next(scores),
    )
    counts = []
    for value in values:
        if not early_stopping:
            fake.loss_curve_.append(value)
        BaseMultilayerPerceptron._update_no_improvement_count(
            fake, early_stopping, None, None, None
        )
        counts.append(fake._no_improvement_count)
    best = fake.best_validation_score_ if early_stopping else fake.best_loss_
    return counts, best


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("case", SCORE_TABLE)
def test_score_table(case):
    scores, tol, expected_counts, expected_best = SCORE_TABLE[case]
    counts, best, _ = run_scores(scores, tol)
    assert counts == expected_counts
    assert best == expected_best
    assert sklearn_counts(scores, tol, early_stopping=True) == (counts, best)


@pytest.mark.parametrize("case", LOSS_TABLE)
def test_loss_table(case):
    losses, tol, expected_counts, expected_best = LOSS_TABLE[case]
    counts, best_loss = run_losses(losses, tol)
    assert counts == expected_counts
    assert best_loss == expected_best
    assert sklearn_counts(losses, tol, early_stopping=False) == (counts, best_loss)


def test_improved_marks_every_new_best_however_small():
    _, _, improved = run_scores([0.5, 0.5004, 0.5004, 0.4, 0.6], tol=1e-3)
    assert improved == [True, True, False, False, True]


def test_best_is_the_score_itself():
    score = np.float64(0.7)
    count, best, improved = update_no_improvement(3, 0.5, score, 0.01)
    assert best is score and improved
    assert update_no_improvement(3, 0.5, 0.2, 0.01) == NoImprovement(4, 0.5, False)
    assert NoImprovement._fields == ("count", "best", "improved")


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("early_stopping", [True, False])
def test_random_sequences_match_sklearn_bit_for_bit(seed, early_stopping):
    """Rounded values make ties and gains of exactly tol frequent."""
    rng = np.random.RandomState(seed)
    values = np.round(rng.uniform(0, 1, size=40), 2).tolist()
    values[rng.randint(40)] = nan
    tol = float(rng.choice([0.0, 0.01, 0.05, 1e-4]))
    if early_stopping:
        counts, best, _ = run_scores(values, tol)
    else:
        counts, best = run_losses(values, tol)
    theirs_counts, theirs_best = sklearn_counts(values, tol, early_stopping)
    assert counts == theirs_counts
    assert same(best, theirs_best)


@pytest.mark.parametrize(
    "count, n_iter_no_change, expected",
    [(0, 1, False), (1, 1, False), (2, 1, True), (10, 10, False), (11, 10, True)]
    + [(10**6, inf, False)],
)
def test_stalled_is_more_than_n_iter_no_change(count, n_iter_no_change, expected):
    assert stalled(count, n_iter_no_change) is expected
