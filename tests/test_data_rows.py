"""The data interface (skbp._data): one placement per place rows live.

Both placements implement the same interface, picked once per fit from X;
early stopping's scores, computed from sums wherever the rows are, equal
scikit-learn's metrics.
"""

import inspect

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer

from skbp._data import placement_of
from skbp._data.dask import DaskPlacement, DaskRows
from skbp._data.memory import MemoryHeldOut, MemoryPlacement, MemoryRows
from skbp._data.rows import HeldOutRows, Network, Placement, TrainingRows
from skbp._data.scores import R2, Accuracy
from skbp._estimators.classifier import indicator_matrix
from skbp.core import (
    BinaryLogLoss,
    Identity,
    Logistic,
    ParameterLayout,
    SquaredError,
    initialize_parameters,
)


@pytest.mark.parametrize(
    "implementation, interface",
    [
        (MemoryPlacement, Placement),
        (DaskPlacement, Placement),
        (MemoryRows, TrainingRows),
        (DaskRows, TrainingRows),
        (MemoryHeldOut, HeldOutRows),
    ],
)
def test_each_placement_implements_the_whole_interface(implementation, interface):
    assert issubclass(implementation, interface)
    assert not inspect.isabstract(implementation)


def test_the_placement_is_picked_from_x():
    assert isinstance(placement_of(np.zeros((3, 2))), MemoryPlacement)
    assert isinstance(placement_of([[1.0, 2.0]]), MemoryPlacement)
    da = pytest.importorskip("dask.array")
    assert isinstance(placement_of(da.zeros((4, 2), chunks=2)), DaskPlacement)
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    frame = dd.from_pandas(pd.DataFrame({"a": [1.0, 2.0]}), npartitions=1)
    assert isinstance(placement_of(frame), DaskPlacement)
    assert isinstance(placement_of(frame["a"]), DaskPlacement)


def _held_out(Y, weight, units, output_loss, score, seed=0):
    X = np.random.RandomState(seed).normal(size=(Y.shape[0], units[0]))
    coefs, intercepts = initialize_parameters(units, np.random.RandomState(seed))
    activations = [Logistic(), output_loss.output_activation]
    network = Network(ParameterLayout.of(coefs, intercepts), activations, output_loss)
    held_out = MemoryRows(X, Y, weight).held_out(network, score)
    return held_out, X, coefs, intercepts


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["binary", "multilabel"])
def test_memory_accuracy_is_accuracy_score(kind, weighted):
    rng = np.random.RandomState(1)
    if kind == "binary":
        y = rng.choice(["no", "yes"], size=60)
    else:
        y = (rng.rand(60, 3) > 0.5).astype(int)
    binarizer = LabelBinarizer().fit(y)
    Y = indicator_matrix(y, binarizer)
    weight = rng.rand(60) if weighted else None
    score = Accuracy(len(binarizer.classes_), multilabel=kind == "multilabel")
    units = [4, 5, Y.shape[1]]
    held_out, X, coefs, intercepts = _held_out(Y, weight, units, BinaryLogLoss(), score)
    loss, accuracy = held_out.evaluate(coefs, intercepts)
    # The network's output, by hand:
    A = 1 / (1 + np.exp(-(X @ coefs[0] + intercepts[0])))
    output = 1 / (1 + np.exp(-(A @ coefs[1] + intercepts[1])))
    predicted = binarizer.inverse_transform(output if Y.shape[1] > 1 else output[:, 0])
    expected = accuracy_score(y, predicted, sample_weight=weight)
    assert accuracy == pytest.approx(expected, abs=1e-12)
    assert np.isfinite(loss)
    assert held_out.evaluate(coefs, intercepts, scored=False)[1] is None


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_memory_r2_is_r2_score(n_outputs, weighted):
    rng = np.random.RandomState(2)
    Y = rng.normal(size=(50, n_outputs))
    weight = rng.rand(50) if weighted else None
    if not weighted:
        # A constant target: scored 1 if exact, else 0. (Weighted, its mean
        # is 1.5 only up to rounding, and both scores are noise.)
        Y[:, -1] = 1.5
    units = [3, 4, n_outputs]
    held_out, X, coefs, intercepts = _held_out(Y, weight, units, SquaredError(), R2())
    _, score = held_out.evaluate(coefs, intercepts)
    A = 1 / (1 + np.exp(-(X @ coefs[0] + intercepts[0])))
    output = A @ coefs[1] + intercepts[1]
    assert isinstance(held_out.network.activations[-1], Identity)
    expected = r2_score(Y, output, sample_weight=weight)
    assert score == pytest.approx(expected, rel=1e-12)


def test_a_diverged_network_scores_nan():
    Y = np.eye(3, dtype=bool)[np.arange(9) % 3]
    output = np.full((9, 3), np.nan)
    assert np.isnan(Accuracy(3).value(9.0, Accuracy(3).sums(output, Y, None)))
    r2 = R2()
    r2.prepare_rows(Y.astype(float), None)
    assert np.isnan(r2.value(9.0, r2.sums(output, Y.astype(float), None)))
