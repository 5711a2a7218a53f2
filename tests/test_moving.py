"""A moved model is a copy: it shares no memory with the model it came from.

scikit-learn's ``move_estimator_to`` calls the estimators'
``__sklearn_array_api_convert__`` (:func:`skbp._model.moving.converted`).
Its ``move_to`` hands back a view of the array it is given, through DLPack,
when the array is already there under another name (PyTorch's ``"cpu"``
for ``torch.device("cpu")``, numpy without dispatch) and between numpy and
PyTorch on the CPU. A test that the moved array ``is not`` the source misses
those views; these tests look at the memory itself, and train the copy with
a warm-start L-BFGS fit, which writes into the weights it finds (``partial_fit``
with sgd or adam re-packs them into a new vector, which hides the sharing).
"""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier
from skbp._model.arrays import convert_arrays
from skbp._model.attributes import PLACED_ATTRIBUTES
from skbp._model.moving import _RECORD_KEY

torch = pytest.importorskip("torch", reason="torch not installed")
strict = pytest.importorskip(
    "array_api_strict", reason="array-api-strict not installed"
)
move_estimator_to = getattr(
    pytest.importorskip("sklearn.utils._array_api"), "move_estimator_to", None
)
from sklearn.utils._array_api import get_namespace_and_device  # noqa: E402

pytestmark = [
    pytest.mark.skipif(move_estimator_to is None, reason="scikit-learn < 1.9"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

#: Where a model may live: a numpy array moved there.
PLACES = {
    "numpy": np.asarray,
    "torch": lambda array: torch.asarray(np.asarray(array)),
    "strict": lambda array: strict.asarray(
        np.asarray(array), device=strict.Device("device1")
    ),
}
_ITS_OWN = object()  # the device as scikit-learn's get_namespace_and_device names it

#: name -> (where the model is fitted, where it goes, the device as the caller
#: names it, array_api_dispatch). Every form of a move that stays in place,
#: and the moves between numpy and PyTorch that stay in the host's memory.
MOVES = {
    "numpy, without dispatch": ("numpy", "numpy", None, False),
    "numpy, with dispatch": ("numpy", "numpy", _ITS_OWN, True),
    "torch, the device as the string 'cpu'": ("torch", "torch", "cpu", True),
    "torch, the device as an object": ("torch", "torch", _ITS_OWN, True),
    "array-api-strict, the device as an object": ("strict", "strict", _ITS_OWN, True),
    "numpy to torch on the CPU": ("numpy", "torch", _ITS_OWN, True),
    "torch to numpy": ("torch", "numpy", _ITS_OWN, True),
}


def _data():
    return make_classification(60, 5, n_informative=3, n_classes=3, random_state=0)


def _fitted(place, dispatch):
    """A model holding every placed attribute: weights, best weights,
    optimizer moments and the dropout salt, fitted in ``place``."""
    X, y = _data()
    est = BPClassifier(
        hidden_layer_sizes=(5,),
        solver="adam",
        dropout=0.2,
        early_stopping=True,
        restore_best_weights=True,
        max_iter=3,
        random_state=0,
    )
    with sklearn.config_context(array_api_dispatch=dispatch):
        est.fit(PLACES[place](X), PLACES[place](y))
    assert PLACED_ATTRIBUTES <= set(vars(est)), "fit the test's model so"
    return est


def _moved(name):
    """(the source, its moved copy, the target place, dispatch) for a move."""
    source_place, target_place, device, dispatch = MOVES[name]
    source = _fitted(source_place, dispatch)
    with sklearn.config_context(array_api_dispatch=dispatch):
        if dispatch:
            xp, _, own = get_namespace_and_device(PLACES[target_place](np.ones(1)))
        else:
            xp, own = np, None
        moved = move_estimator_to(source, xp, own if device is _ITS_OWN else device)
    return source, moved, target_place, dispatch


def _all_arrays(est):
    """{name: host view} of every array the model holds: those it keeps
    where it lives (weights, best weights, optimizer moments, dropout salt)
    and the host data (the labels, its label binarizer's too)."""
    found = {}
    for name, value in sorted(vars(est).items()):
        if type(value).__module__.startswith("sklearn."):
            value = vars(value)  # the label binarizer
        for i, array in enumerate(_arrays_in(value)):
            # DLPack: a view of the same memory, never a copy, on the CPU.
            view = array if isinstance(array, np.ndarray) else np.from_dlpack(array)
            found[f"{name}[{i}]"] = view
    return found


def _arrays_in(value):
    """The arrays inside ``value`` (a list of weights, an optimizer ...)."""
    arrays = []
    convert_arrays(value, lambda array: arrays.append(array) or array)
    return arrays


@pytest.mark.parametrize("name", sorted(MOVES))
def test_a_moved_model_shares_no_memory_with_its_source(name):
    source, moved, _, _ = _moved(name)
    ours, theirs = _all_arrays(moved), _all_arrays(source)
    assert set(ours) == set(theirs)
    every_kind = {"coefs_[0]", "_best_coefs[0]", "_optimizer[0]", "_dropout_salt[0]"}
    assert every_kind | {"classes_[0]", "_label_binarizer[0]"} <= set(ours)
    shared = sorted(
        (a, b)
        for a, mine in ours.items()
        for b, other in theirs.items()
        if np.shares_memory(mine, other)
    )
    assert not shared, f"the moved model shares memory with its source: {shared}"


@pytest.mark.parametrize("name", sorted(MOVES))
def test_a_warm_start_lbfgs_fit_of_the_copy_leaves_the_source(name):
    source, moved, target_place, dispatch = _moved(name)
    before = {key: view.copy() for key, view in _all_arrays(source).items()}
    moved_before = _all_arrays(moved)["coefs_[0]"].copy()
    X, y = _data()
    moved.set_params(
        solver="lbfgs", warm_start=True, dropout=0.0, early_stopping=False, max_iter=5
    )
    with sklearn.config_context(array_api_dispatch=dispatch), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        moved.fit(PLACES[target_place](X), PLACES[target_place](y))
    # The fit trained the copy...
    assert not np.array_equal(_all_arrays(moved)["coefs_[0]"], moved_before)
    # ... and nothing of the source.
    after = _all_arrays(source)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


@pytest.mark.parametrize(
    "record",
    [("cupy", 0), ("cupy", 2**16 - 1), ("torch", "cuda:0"), ("torch", "cpu")],
    ids=repr,
)
def test_every_device_the_table_records_is_looked_up(record):
    """A pickle's record names a device as :data:`ARRAY_LIBRARIES` records
    it: CuPy's first GPU is device 0. Such a record is tried on this
    machine: the model goes there, or loads as numpy saying that this
    machine cannot hold it, never that the record is not one skbp knows."""
    est = _fitted("numpy", False)
    state = {**est.__getstate__(), _RECORD_KEY: record}
    loaded = object.__new__(BPClassifier)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded.__setstate__(state)
    messages = [str(w.message) for w in caught]
    assert not any("not an array library skbp supports" in m for m in messages)
    on_host = type(loaded.coefs_[0]) is np.ndarray
    assert on_host == any("which this machine cannot hold" in m for m in messages)
