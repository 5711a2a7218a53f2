"""class_weight_rows (skbp/_model/settings.py), a pure function of the targets.

Compared with scikit-learn's ``compute_sample_weight`` wherever the two
should agree: unit sample weights and every class present. They differ by
design where sample weights enter 'balanced' (counted as repeated rows) and
for classes of zero total weight (left out of the balance).
"""

import numpy as np
import pytest
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_sample_weight

from skbp._model.settings import class_weight_rows, class_weights_of_totals

RNG = np.random.RandomState(0)
Y_BINARY = np.array(["no", "yes"])[RNG.randint(0, 2, size=30)]
Y_MULTICLASS = np.array([3, 5, 9])[RNG.randint(0, 3, size=30)]
Y_MULTILABEL = RNG.randint(0, 2, size=(30, 3))


def rows(class_weight, y, sample_weight=None):
    binarizer = LabelBinarizer().fit(y)
    Y = binarizer.transform(y).astype(bool)
    multilabel = binarizer.y_type_.startswith("multilabel")
    return class_weight_rows(
        class_weight, Y, binarizer.classes_, sample_weight, multilabel=multilabel
    )


@pytest.mark.parametrize(
    "class_weight, y",
    [
        ("balanced", Y_BINARY),
        ("balanced", Y_MULTICLASS),
        ("balanced", Y_MULTILABEL),
        ({"yes": 3.0}, Y_BINARY),
        ({3: 0.5, 9: 4.0}, Y_MULTICLASS),
    ],
    ids=["balanced-binary", "balanced-multiclass", "balanced-multilabel"]
    + ["dict-binary", "dict-multiclass"],
)
def test_agrees_with_compute_sample_weight(class_weight, y):
    expected = compute_sample_weight(class_weight, y)
    np.testing.assert_allclose(rows(class_weight, y), expected, rtol=1e-12)


@pytest.mark.parametrize("y", [Y_BINARY, Y_MULTICLASS, Y_MULTILABEL])
def test_integer_sample_weights_count_as_repeated_rows(y):
    sample_weight = RNG.randint(1, 4, size=len(y)).astype(float)
    repeated = np.repeat(np.arange(len(y)), sample_weight.astype(int))
    per_copy = compute_sample_weight("balanced", y[repeated])
    _, first = np.unique(repeated, return_index=True)
    expected = per_copy[first] * sample_weight
    got = rows("balanced", y, sample_weight)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_class_of_zero_weight_is_left_out_of_the_balance():
    sample_weight = np.where(Y_MULTICLASS == 9, 0.0, 1.0)
    got = rows("balanced", Y_MULTICLASS, sample_weight)
    kept = Y_MULTICLASS != 9
    expected = compute_sample_weight("balanced", Y_MULTICLASS[kept])
    np.testing.assert_allclose(got[kept], expected, rtol=1e-12)
    assert np.all(got[~kept] == 0)


def test_a_dict_weight_of_zero_silences_a_class():
    got = rows({5: 0.0}, Y_MULTICLASS)
    np.testing.assert_array_equal(got, np.where(Y_MULTICLASS == 5, 0.0, 1.0))


def test_sample_weight_multiplies_a_dict():
    sample_weight = np.linspace(0.5, 2.0, len(Y_BINARY))
    got = rows({"no": 2.0}, Y_BINARY, sample_weight)
    np.testing.assert_allclose(
        got, compute_sample_weight({"no": 2.0}, Y_BINARY) * sample_weight
    )


@pytest.mark.parametrize(
    "class_weight, y, sample_weight, match",
    [
        ({0: 2.0}, Y_MULTILABEL, None, "multilabel"),
        ({3: 0.0, 5: 0.0, 9: 0.0}, Y_MULTICLASS, None, "weight of zero"),
        ({3: -1.0}, Y_MULTICLASS, None, "non-negative"),
        ({3: np.inf}, Y_MULTICLASS, None, "finite"),
    ],
    ids=["dict-multilabel", "all-zero", "negative", "infinite"],
)
def test_errors(class_weight, y, sample_weight, match):
    with pytest.raises(ValueError, match=match):
        rows(class_weight, y, sample_weight)


def test_huge_weights_are_rescaled_not_overflowed():
    sample_weight = np.full(len(Y_BINARY), 1e200)
    got = rows({"yes": 1e10}, Y_BINARY, sample_weight)
    assert np.isfinite(got).all() and got.max() == 1.0


@pytest.mark.parametrize("class_weight", ["balanced", {5: 0.25, 9: 3.0}])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_class_weights_from_totals_are_those_of_the_rows(class_weight, weighted):
    """What chunked data (Dask) gets from each class's total row weight."""
    sample_weight = np.where(Y_MULTICLASS == 9, 0.0, 1.5) if weighted else None
    binarizer = LabelBinarizer().fit(Y_MULTICLASS)
    index = binarizer.transform(Y_MULTICLASS).argmax(axis=1)
    totals = np.bincount(index, sample_weight, minlength=3)
    per_class = class_weights_of_totals(class_weight, binarizer.classes_, totals)
    got = per_class[index]
    expected = rows(class_weight, Y_MULTICLASS, sample_weight)
    if weighted:  # the rows' weights are class weight times sample weight
        kept = sample_weight > 0
        got, expected = got[kept], expected[kept] / sample_weight[kept]
    np.testing.assert_array_equal(got, expected)
