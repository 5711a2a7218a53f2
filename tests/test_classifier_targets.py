"""BPClassifier's training targets: LabelBinarizer's indicators, as bool."""

import numpy as np
import pytest
from sklearn.preprocessing import LabelBinarizer

from skbp import BPClassifier
from skbp._estimators.classifier import indicator_matrix

CASES = {
    "binary": (np.array(["b", "a", "b", "a", "a"]), None),
    "multiclass": (np.array([2, 0, 1, 2, 1, 0]), None),
    "subset-of-classes": (np.array([3, 1, 3]), np.array([1, 2, 3])),
    "multilabel": (np.array([[1, 0, 1], [0, 1, 1], [0, 0, 0], [1, 1, 0]]), None),
    "one-class": (np.array([7, 7, 7]), None),
}


@pytest.mark.parametrize("case", CASES)
def test_indicators_are_label_binarizer_transform_as_bool(case):
    y, fit_on = CASES[case]
    est = BPClassifier()
    est._label_binarizer = LabelBinarizer().fit(y if fit_on is None else fit_on)
    Y = indicator_matrix(y, est._label_binarizer)
    expected = est._label_binarizer.transform(y).astype(bool)
    assert Y.dtype == bool and isinstance(Y, np.ndarray)
    np.testing.assert_array_equal(Y, expected)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multilabel_targets_after_a_multiclass_fit_are_refused():
    rng = np.random.RandomState(0)
    X, y = rng.rand(20, 3), np.arange(20) % 3
    est = BPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)
    Y = np.eye(3, dtype=int)[y]
    Y[0, 1] = 1
    with pytest.raises(ValueError, match="not fitted with multilabel"):
        est.partial_fit(X, Y)
