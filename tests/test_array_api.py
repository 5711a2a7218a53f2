"""The estimators on the array API: every library fits the same model.

With ``array_api_dispatch=True`` the estimators train where ``X`` lives
(PyTorch, array-api-strict here; CuPy and GPUs on machines that have them).
Each test compares with the numpy fit of the same data and ``random_state``:
initial weights, shuffling, validation splits and dropout masks are drawn in
numpy and moved, so the fits agree to float64 rounding. scikit-learn's own
array-API estimator checks run in ``test_estimator_checks.py``.
"""

import io
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.datasets import make_classification, make_regression

import skbp
from skbp import BPClassifier, BPRegressor
from skbp._model.moving import _RECORD_KEY as RECORD
from skbp._model.moving import host_state

torch = pytest.importorskip("torch", reason="torch not installed")
array_api_strict = pytest.importorskip(
    "array_api_strict", reason="array-api-strict not installed"
)
move_estimator_to = getattr(
    pytest.importorskip("sklearn.utils._array_api"), "move_estimator_to", None
)
from sklearn.utils._array_api import get_namespace_and_device  # noqa: E402


class Place:
    """One library and device: ``to`` moves a numpy array there."""

    def __init__(self, name):
        self.name = name

    def to(self, array):
        array = np.asarray(array)
        if self.name == "torch":
            return torch.asarray(array)
        device = "CPU_DEVICE" if self.name == "strict" else "device1"
        return array_api_strict.asarray(array, device=array_api_strict.Device(device))

    def holds(self, array):
        """Whether ``array`` is of this library and on this device."""
        if self.name == "torch":
            return isinstance(array, torch.Tensor) and array.device.type == "cpu"
        expected = "CPU_DEVICE" if self.name == "strict" else "device1"
        return isinstance(
            array, array_api_strict._array_object.Array
        ) and array.device == array_api_strict.Device(expected)

    def __repr__(self):
        return self.name


PLACES = [Place("torch"), Place("strict"), Place("strict-device1")]


def back(array):
    return skbp.core.to_numpy(array)


@pytest.fixture(autouse=True)
def dispatch():
    with sklearn.config_context(array_api_dispatch=True):
        yield


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        yield


def _classification(n_classes=3, n_samples=80):
    X, y = make_classification(
        n_samples, 6, n_informative=4, n_classes=n_classes, random_state=0
    )
    return X, y


def _regression():
    X, y = make_regression(80, 5, n_targets=2, random_state=0)
    return X, y / 100


def _assert_same_model(ours, reference, place, rtol=1e-9):
    """Weights in ``place``'s library and device, equal to the numpy fit's."""
    assert len(ours.coefs_) == len(reference.coefs_)
    for got, expected in zip(
        (*ours.coefs_, *ours.intercepts_),
        (*reference.coefs_, *reference.intercepts_),
    ):
        assert place.holds(got)
        np.testing.assert_allclose(back(got), expected, rtol=rtol, atol=1e-12)
    assert ours.n_iter_ == reference.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, reference.loss_curve_, rtol=rtol)


@pytest.mark.parametrize("place", PLACES, ids=repr)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_classifier_fits_the_numpy_model_in_every_library(solver, place):
    X, y = _classification()
    params = dict(hidden_layer_sizes=(7, 5), solver=solver, max_iter=4, random_state=0)
    reference = BPClassifier(**params).fit(X, y)
    ours = BPClassifier(**params).fit(place.to(X), place.to(y))
    _assert_same_model(ours, reference, place)
    assert isinstance(ours.classes_, np.ndarray)  # labels live on the host
    Xp = place.to(X)
    for method in ("predict", "predict_proba", "predict_log_proba"):
        got = getattr(ours, method)(Xp)
        assert place.holds(got), method
        np.testing.assert_allclose(
            back(got), getattr(reference, method)(X), rtol=1e-9, atol=1e-12
        )
    score = ours.score(Xp, place.to(y))
    assert isinstance(score, float) and score == pytest.approx(reference.score(X, y))


@pytest.mark.parametrize("place", PLACES, ids=repr)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_regressor_fits_the_numpy_model_in_every_library(solver, place):
    X, y = _regression()
    weight = np.linspace(0.5, 2.0, len(y))
    params = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=4, random_state=1)
    reference = BPRegressor(**params).fit(X, y, sample_weight=weight)
    ours = BPRegressor(**params).fit(
        place.to(X), place.to(y), sample_weight=place.to(weight)
    )
    _assert_same_model(ours, reference, place)
    got = ours.predict(place.to(X))
    assert place.holds(got) and got.shape == (80, 2)
    np.testing.assert_allclose(back(got), reference.predict(X), rtol=1e-9)
    assert ours.score(place.to(X), place.to(y)) == pytest.approx(reference.score(X, y))


@pytest.mark.parametrize(
    "params",
    [
        dict(early_stopping=True, validation_fraction=0.25),
        dict(restore_best_weights=True, dropout=0.3),
        dict(class_weight="balanced", shuffle=False, batch_size=16),
        dict(solver="sgd", learning_rate="adaptive", dropout=[0.2, 0.0]),
    ],
    ids=["early_stopping", "dropout_best", "class_weight", "adaptive_dropout"],
)
def test_every_feature_fits_the_numpy_model_on_torch(params):
    X, y = _classification()
    params = dict(hidden_layer_sizes=(7, 5), max_iter=5, random_state=3, **params)
    reference = BPClassifier(**params).fit(X, y)
    ours = BPClassifier(**params).fit(torch.asarray(X), torch.asarray(y))
    _assert_same_model(ours, reference, Place("torch"))
    if reference.validation_scores_ is not None:
        np.testing.assert_allclose(
            ours.validation_scores_, reference.validation_scores_
        )


@pytest.mark.parametrize("target", ["binary", "strings", "multilabel"])
def test_labels_of_every_kind(target):
    X, y = _classification(n_classes=2)
    if target == "strings":
        y = np.array(["no", "yes"])[y]
    elif target == "multilabel":
        y = np.column_stack([y, 1 - y, y])
    params = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    reference = BPClassifier(**params).fit(X, y)
    # String labels cannot live on a device: y stays numpy, X is torch's.
    y_in = y if target == "strings" else torch.asarray(y)
    ours = BPClassifier(**params).fit(torch.asarray(X), y_in)
    _assert_same_model(ours, reference, Place("torch"))
    labels = ours.predict(torch.asarray(X))
    if target == "strings":
        # as scikit-learn's array-API classifiers: strings come back as numpy
        assert isinstance(labels, np.ndarray) and labels.dtype.kind == "U"
    else:
        assert isinstance(labels, torch.Tensor)
    np.testing.assert_array_equal(back(labels), reference.predict(X))
    proba = ours.predict_proba(torch.asarray(X))
    np.testing.assert_allclose(back(proba), reference.predict_proba(X), rtol=1e-9)


def test_partial_fit_streams_the_numpy_model():
    X, y = _classification()
    reference = BPClassifier(hidden_layer_sizes=(6,), random_state=0)
    ours = BPClassifier(hidden_layer_sizes=(6,), random_state=0)
    for rows in np.array_split(np.arange(len(y)), 4):
        reference.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        ours.partial_fit(
            torch.asarray(X[rows]), torch.asarray(y[rows]), classes=[0, 1, 2]
        )
    _assert_same_model(ours, reference, Place("torch"))


@pytest.mark.parametrize("place", PLACES, ids=repr)
def test_partial_fit_classes_of_the_library_give_numpy_classes(place):
    # classes given as the library's array (as y is): classes_ is numpy, as
    # after fit, and predict decodes with it.
    X, y = _classification()
    reference = BPClassifier(hidden_layer_sizes=(6,), random_state=0)
    ours = BPClassifier(hidden_layer_sizes=(6,), random_state=0)
    reference.partial_fit(X, y, classes=np.array([0, 1, 2]))
    ours.partial_fit(place.to(X), place.to(y), classes=place.to([0, 1, 2]))
    assert type(ours.classes_) is np.ndarray
    np.testing.assert_array_equal(ours.classes_, reference.classes_)
    # The next call's classes (a tensor again) are checked, not refused.
    ours.partial_fit(place.to(X), place.to(y), classes=place.to([0, 1, 2]))
    reference.partial_fit(X, y, classes=np.array([0, 1, 2]))
    _assert_same_model(ours, reference, place)
    with pytest.raises(ValueError, match="is not the same as on the last call"):
        ours.partial_fit(place.to(X), place.to(y), classes=place.to([0, 1, 3]))


@pytest.mark.parametrize("place", PLACES, ids=repr)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("Estimator", [BPClassifier, BPRegressor])
def test_validation_data_gives_the_numpy_curves(Estimator, solver, place):
    # X_val (here numpy, or float32) goes where X lives, in X's dtype: the
    # validation loss and the early-stopping scores are the numpy fit's.
    X, y = _classification() if Estimator is BPClassifier else _regression()
    params = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=5, random_state=0)
    params["early_stopping"] = True
    fit_args = dict(X_val=X[:20], y_val=y[:20], sample_weight_val=np.arange(1.0, 21))
    reference = Estimator(**params).fit(X[20:], y[20:], **fit_args)
    ours = Estimator(**params).fit(place.to(X[20:]), place.to(y[20:]), **fit_args)
    _assert_same_model(ours, reference, place)
    np.testing.assert_allclose(
        ours.validation_loss_curve_, reference.validation_loss_curve_, rtol=1e-9
    )
    assert ours.validation_scores_ == pytest.approx(reference.validation_scores_)


def test_float32_trains_in_float32():
    X, y = _classification()
    est = BPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    est.fit(torch.asarray(X, dtype=torch.float32), torch.asarray(y))
    assert all(W.dtype == torch.float32 for W in est.coefs_ + est.intercepts_)
    proba = est.predict_proba(torch.asarray(X, dtype=torch.float32))
    assert proba.dtype == torch.float32


def test_inputs_follow_X_as_in_scikit_learn():
    """y and sample_weight of another library are moved to X's (1.9's rule)."""
    X, y = _regression()
    weight = np.ones(len(y))
    reference = BPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    reference.fit(X, y, sample_weight=weight)
    est = BPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    est.fit(torch.asarray(X), Place("strict-device1").to(y), sample_weight=weight)
    _assert_same_model(est, reference, Place("torch"))


def test_integer_tensors_are_converted_as_scikit_learn_converts_them():
    X, y = _classification()
    Xi = np.round(X * 10).astype(np.int64)
    reference = BPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    reference.fit(Xi, y)
    est = BPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    est.fit(torch.asarray(Xi), torch.asarray(y))
    assert est.coefs_[0].dtype == torch.float64
    _assert_same_model(est, reference, Place("torch"))


def test_bad_inputs_get_clear_errors():
    X, y = _classification()
    est = BPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    with pytest.raises(ValueError, match="float16 input is not supported"):
        est.fit(torch.asarray(X, dtype=torch.float16), torch.asarray(y))
    with pytest.raises(TypeError, match="Sparse input of .*torch"):
        est.fit(torch.asarray(X).to_sparse(), torch.asarray(y))
    assert not hasattr(est, "coefs_")
    # sparse input keeps working with numpy (scipy), dispatch on or not
    est.fit(sp.csr_matrix(X), y)
    assert isinstance(est.coefs_[0], np.ndarray)
    est.fit(torch.asarray(X), torch.asarray(y))
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(ValueError, match=rf"BPClassifier.{method}\(\) must use"):
            getattr(est, method)(X)
        with pytest.raises(ValueError, match="must use the same namespace"):
            getattr(est, method)(Place("strict").to(X))


def _with_many_syncs_counted(monkeypatch):
    """Count every way a torch tensor's values can reach the host."""
    counts = {"n": 0}
    for name in ("__bool__", "__float__", "__int__", "item", "tolist", "numpy"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            counts["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return counts


@pytest.mark.parametrize("params", [{}, {"dropout": 0.2}, {"class_weight": "balanced"}])
def test_no_batch_waits_for_the_device(monkeypatch, params):
    """Reading a value on the host makes it wait for a GPU: training does it
    a few times per epoch (the epoch's loss), never per batch."""
    X, y = _classification(n_samples=400)
    Xt, yt = torch.asarray(X), torch.asarray(y)

    def reads(max_iter):
        est = BPClassifier(
            hidden_layer_sizes=(5,), batch_size=20, max_iter=max_iter, **params
        )
        counts = _with_many_syncs_counted(monkeypatch)
        est.fit(Xt, yt, sample_weight=np.linspace(0.5, 1.5, len(y)))
        monkeypatch.undo()
        return counts["n"]

    per_epoch = reads(4) - reads(2)  # 20 batches per epoch
    assert per_epoch <= 2 * 4, per_epoch


def test_pickle_keeps_the_model_where_it_lives():
    X, y = _classification()
    place = Place("strict-device1")
    est = BPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    est.fit(place.to(X), place.to(y))
    # The pickle itself holds numpy arrays: it loads without the device.
    state = host_state(vars(est))
    assert all(isinstance(W, np.ndarray) for W in state["coefs_"])
    loaded = pickle.loads(pickle.dumps(est))
    assert all(place.holds(W) for W in loaded.coefs_ + loaded._optimizer.ms)
    np.testing.assert_array_equal(
        back(loaded.predict_proba(place.to(X))), back(est.predict_proba(place.to(X)))
    )
    loaded.partial_fit(place.to(X), place.to(y))  # its optimizer moved too


def test_a_pickle_records_its_device_as_plain_data(monkeypatch):
    X, y = _classification()
    place = Place("strict-device1")
    est = BPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    est.fit(place.to(X), place.to(y))
    state = est.__getstate__()
    assert state[RECORD] == ("array_api_strict", "device1")
    # A pickle of the version before held the library's device object: it
    # still goes back to that device.
    state[RECORD] = ("array_api_strict", array_api_strict.Device("device1"))
    monkeypatch.setattr(BPClassifier, "__getstate__", lambda self: state)
    data = pickle.dumps(est)
    monkeypatch.undo()
    loaded = pickle.loads(data)
    assert all(place.holds(W) for W in loaded.coefs_ + loaded._optimizer.ms)


def test_pickle_of_a_device_this_machine_lacks_loads_as_numpy():
    X, y = _classification()
    est = BPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    est.fit(torch.asarray(X), torch.asarray(y))
    state = pickle.loads(pickle.dumps(est.__getstate__()))  # what a pickle holds
    assert state[RECORD] == ("torch", "cpu")  # plain data
    state[RECORD] = ("no_such_library", "gpu:7")  # "fitted elsewhere"
    loaded = object.__new__(BPClassifier)
    with pytest.warns(UserWarning, match="'no_such_library' on device 'gpu:7'"):
        loaded.__setstate__(state)
    assert all(isinstance(W, np.ndarray) for W in loaded.coefs_)
    expected = back(est.predict_proba(torch.asarray(X)))
    with sklearn.config_context(array_api_dispatch=False):
        np.testing.assert_allclose(loaded.predict_proba(X), expected)
        # The torch model itself, without dispatch: a clear error, not numpy
        # arrays multiplied by tensors.
        with pytest.raises(ValueError, match="predict_proba.. needs array_api_disp"):
            est.predict_proba(X)


def test_save_stores_numpy_and_loads_anywhere():
    X, y = _regression()
    est = BPRegressor(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    est.fit(torch.asarray(X), torch.asarray(y))
    buffer = io.BytesIO()
    skbp.save(est, buffer)
    assert isinstance(est.coefs_[0], torch.Tensor)  # the model itself stays
    loaded = skbp.load(io.BytesIO(buffer.getvalue()))
    assert isinstance(loaded.coefs_[0], np.ndarray)
    np.testing.assert_allclose(
        loaded.predict(X), back(est.predict(torch.asarray(X))), rtol=1e-12
    )


@pytest.mark.skipif(move_estimator_to is None, reason="scikit-learn < 1.9")
def test_move_estimator_to_moves_weights_and_optimizer_only():
    X, y = _classification()
    est = BPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0, dropout=0.1)
    est.fit(X, y)
    xp, _, cpu = get_namespace_and_device(torch.asarray(X))
    moved = move_estimator_to(est, xp, cpu)
    assert isinstance(moved.coefs_[0], torch.Tensor)
    assert isinstance(moved._optimizer.ms[0], torch.Tensor)
    assert isinstance(moved.classes_, np.ndarray)  # host data stays host data
    assert (
        moved.loss_curve_ == est.loss_curve_
        and moved.loss_curve_ is not est.loss_curve_
    )
    np.testing.assert_allclose(
        back(moved.predict_proba(torch.asarray(X))), est.predict_proba(X)
    )
    # Continuing on either side leaves the other as it was.
    before = est.coefs_[0].copy()
    moved.partial_fit(torch.asarray(X), torch.asarray(y))
    np.testing.assert_array_equal(est.coefs_[0], before)
    back_home = move_estimator_to(moved, np, "cpu")
    assert isinstance(back_home.coefs_[0], np.ndarray)
    back_home.partial_fit(X, y)


def test_gradient_check_of_a_device_model_runs_on_the_host():
    X, y = _classification()
    params = dict(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    reference = BPClassifier(**params).fit(X, y)
    est = BPClassifier(**params).fit(torch.asarray(X), torch.asarray(y))
    error = skbp.check_gradients(est, torch.asarray(X), torch.asarray(y))
    assert error < 1e-6
    assert error == pytest.approx(skbp.check_gradients(reference, X, y), rel=1e-6)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_an_interrupt_keeps_the_last_epoch_on_the_device(monkeypatch, solver):
    """The checkpoint lives where the saved weights do (the device's, or the
    L-BFGS iterate on the host) and restores them onto the device."""
    X, y = _regression()
    params = dict(hidden_layer_sizes=(6,), solver=solver, batch_size=20)
    params.update(random_state=0, tol=0, n_iter_no_change=np.inf)
    original, calls = skbp._data.memory.backprop, {"n": 0}

    def backprop(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 10:  # in epoch 3 (4 batches each), or an L-BFGS step
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(skbp._data.memory, "backprop", backprop)
    est = BPRegressor(max_iter=50, **params)
    with pytest.raises(KeyboardInterrupt):
        est.fit(torch.asarray(X), torch.asarray(y))
    monkeypatch.undo()
    assert est.n_iter_ >= 1 and est.n_iter_ == len(est.loss_curve_)
    reference = BPRegressor(**{**params, "max_iter": est.n_iter_}).fit(X, y)
    _assert_same_model(est, reference, Place("torch"))


# Without the array-api-compat package: PyTorch alone is enough.
WITHOUT_ARRAY_API_COMPAT = """
import sys
sys.modules["array_api_compat"] = None  # as if it were not installed
import numpy as np, sklearn, torch
from skbp import BPRegressor
from skbp.core.namespace import array_api_compat

rng = np.random.RandomState(0)
X, y = rng.randn(60, 3), rng.randn(60)
params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
reference = BPRegressor(**params).fit(X, y)
with sklearn.config_context(array_api_dispatch=True):
    model = BPRegressor(**params).fit(torch.asarray(X), torch.asarray(y))
    predicted = model.predict(torch.asarray(X))
assert isinstance(predicted, torch.Tensor)
np.testing.assert_allclose(predicted.numpy(), reference.predict(X), rtol=1e-9)
print(array_api_compat().__name__)
"""


def test_pytorch_needs_no_array_api_compat_package():
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_ARRAY_API_COMPAT],
        capture_output=True,
        text=True,
        env={**os.environ, "SCIPY_ARRAY_API": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["sklearn.externals.array_api_compat"]
