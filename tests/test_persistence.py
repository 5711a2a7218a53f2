"""Safe persistence (issue 7): pickle, joblib, skops, and skbp's own format.

- pickle and joblib round-trip every kind of model, which keeps training
  exactly where it stopped;
- a model pickled by another skbp version warns
  :class:`skbp.exceptions.InconsistentVersionWarning` when loaded;
- ``skops.io`` dumps and loads skbp models, its untrusted types being skbp's
  own only (the ones ``docs/reliability.rst`` lists as safe to trust);
- :func:`skbp.save` / :func:`skbp.load` write a plain ``.npz`` read without
  pickle, and reject files modified, truncated or crafted since saving with
  a clear ValueError.
"""

import copy
import io
import json
import pickle
import re
import warnings
import zipfile

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbp
import skbp._version
from skbp import BPClassifier, BPRegressor
from skbp._persistence.archive import ArchiveDigest
from skbp._persistence.model_file import FORMAT_VERSION, OTHER_ARRAYS_BYTES, load, save
from skbp.exceptions import InconsistentVersionWarning, PersistenceWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: The only types skops must be told to trust for skbp models: skbp's own
#: estimators and optimizers (plain numpy data, listed in docs/reliability.rst).
SKBP_TRUSTED_TYPES = {
    "skbp.BPClassifier",
    "skbp.BPRegressor",
    "skbp.core.optimizers.Adam",
    "skbp.core.optimizers.SGD",
}


def _X(n=40, n_features=4, dtype=np.float64, seed=0):
    return np.random.RandomState(seed).randn(n, n_features).astype(dtype)


def _models():
    """Models of every kind the format must hold, fitted on small data."""
    X = _X()
    y3 = np.arange(40) % 3
    cases = {
        "multiclass": (BPClassifier(hidden_layer_sizes=(5,)), X, y3),
        "binary-strings": (
            BPClassifier(hidden_layer_sizes=(5, 3), activation=["tanh", "gelu"]),
            X,
            np.array(["no", "yés"])[np.arange(40) % 2],
        ),
        "bool-labels": (BPClassifier(solver="lbfgs"), X, X[:, 0] > 0),
        "multilabel": (
            BPClassifier(hidden_layer_sizes=(4,)),
            X,
            np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int),
        ),
        "class-weight": (
            BPClassifier(class_weight={0: 2.0, 1: 1.0}, dropout=[0.2]),
            X,
            y3 % 2,
        ),
        "early-stopping": (
            BPClassifier(early_stopping=True, n_iter_no_change=np.inf),
            X,
            y3,
        ),
        "regressor-f32": (
            BPRegressor(hidden_layer_sizes=()),
            X.astype(np.float32),
            X[:, 0].astype(np.float32),
        ),
        "regressor-multi": (
            BPRegressor(loss="poisson", solver="sgd", restore_best_weights=True),
            X,
            np.abs(X[:, :2]),
        ),
        "regressor-lbfgs": (BPRegressor(solver="lbfgs", loss="huber"), X, X[:, 1]),
    }
    models = {}
    for name, (est, X_fit, y) in cases.items():
        est.set_params(max_iter=8, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            models[name] = (est.fit(X_fit, y), X_fit, y)
    return models


MODELS = _models()


def _assert_same_model(a, b):
    assert type(a) is type(b)
    assert repr(a.get_params()) == repr(b.get_params())
    for name in ("coefs_", "intercepts_"):
        for p, q in zip(getattr(a, name), getattr(b, name)):
            assert p.dtype == q.dtype
            np.testing.assert_array_equal(p, q)
    for name in ("n_iter_", "t_", "n_outputs_", "n_layers_", "out_activation_"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.loss_curve_ == b.loss_curve_
    if hasattr(a, "classes_"):
        assert a.classes_.dtype == b.classes_.dtype
        np.testing.assert_array_equal(a.classes_, b.classes_)


def _assert_same_predictions(a, b, X):
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    if hasattr(a, "predict_proba"):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


# ---------------------------------------------------------------------------
# pickle and joblib
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trip(name, how):
    est, X, _ = MODELS[name]
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(est))
    else:
        buffer = io.BytesIO()
        joblib.dump(est, buffer)
        buffer.seek(0)
        loaded = joblib.load(buffer)
    _assert_same_model(est, loaded)
    _assert_same_predictions(est, loaded, X)


@pytest.mark.parametrize("name", ["multiclass", "regressor-multi"])
def test_unpickled_model_keeps_training_exactly(name):
    est, X, y = MODELS[name]
    a, b = pickle.loads(pickle.dumps(est)), pickle.loads(pickle.dumps(est))
    b = pickle.loads(pickle.dumps(b))  # twice through pickle
    a.partial_fit(X, y)
    b.partial_fit(X, y)
    _assert_same_model(a, b)


@pytest.mark.parametrize(
    "name, old_module",
    [("multiclass", "skbp._classifier"), ("regressor-multi", "skbp._regressor")],
)
def test_pickles_naming_the_old_modules_still_load(name, old_module):
    # skbp 0.1's pickles name the estimators by the modules that defined
    # them then; the estimators now live in skbp._estimators, and name skbp.
    est, X, _ = MODELS[name]
    data = pickle.dumps(est, protocol=2)  # GLOBAL opcodes: "c<module>\n<name>\n"
    cls = type(est).__name__
    assert data.count(f"cskbp\n{cls}\n".encode()) == 1
    old = data.replace(f"cskbp\n{cls}\n".encode(), f"c{old_module}\n{cls}\n".encode())
    loaded = pickle.loads(old)
    assert type(loaded) is type(est)
    _assert_same_predictions(est, loaded, X)


def test_pickle_records_the_skbp_version():
    est = MODELS["multiclass"][0]
    assert est.__getstate__()["_skbp_version"] == skbp.__version__
    assert "_skbp_version" not in vars(pickle.loads(pickle.dumps(est)))


def test_pickle_of_the_same_version_loads_silently():
    est = MODELS["multiclass"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(est))


@pytest.mark.parametrize("name", ["multiclass", "regressor-f32"])
def test_pickle_from_another_version_warns(monkeypatch, name):
    est, X, _ = MODELS[name]
    monkeypatch.setattr(skbp._version, "__version__", "0.0.1-old")
    data = pickle.dumps(est)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded = pickle.loads(data)
    warning = record[0].message
    assert warning.original_version == "0.0.1-old"
    assert warning.current_version == skbp.__version__
    assert warning.estimator_name == type(est).__name__
    assert "0.0.1-old" in str(warning) and skbp.__version__ in str(warning)
    _assert_same_predictions(est, loaded, X)  # still loads


def test_pickle_without_a_version_warns_unknown():
    est = MODELS["multiclass"][0]
    state = est.__getstate__()
    del state["_skbp_version"]
    clone = object.__new__(type(est))
    with pytest.warns(InconsistentVersionWarning, match="version unknown"):
        clone.__setstate__(state)


# ---------------------------------------------------------------------------
# skops
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
def test_skops_round_trip_trusts_only_skbp_types(name):
    sio = pytest.importorskip("skops.io")
    est, X, _ = MODELS[name]
    data = sio.dumps(est)
    untrusted = set(sio.get_untrusted_types(data=data))
    assert untrusted <= SKBP_TRUSTED_TYPES
    loaded = sio.loads(data, trusted=sorted(untrusted))
    _assert_same_model(est, loaded)
    _assert_same_predictions(est, loaded, X)


def test_skops_round_trip_in_a_pipeline():
    sio = pytest.importorskip("skops.io")
    X, y = _X(), np.arange(40) % 3
    pipe = make_pipeline(
        StandardScaler(), BPClassifier(hidden_layer_sizes=(5,), max_iter=5)
    ).fit(X, y)
    data = sio.dumps(pipe)
    untrusted = set(sio.get_untrusted_types(data=data))
    assert untrusted <= SKBP_TRUSTED_TYPES
    loaded = sio.loads(data, trusted=sorted(untrusted))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_skops_refuses_until_skbp_types_are_trusted():
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(MODELS["multiclass"][0])
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.loads(data)


# ---------------------------------------------------------------------------
# skbp.save / skbp.load
# ---------------------------------------------------------------------------
def test_save_and_load_are_skbp_functions():
    assert skbp.save is save and skbp.load is load
    assert "save" in skbp.__all__ and "load" in skbp.__all__


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_round_trip(tmp_path, name):
    est, X, y = MODELS[name]
    path = tmp_path / "model.skbp"
    save(est, path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.skbp"]  # no .npz added
    loaded = load(path)
    _assert_same_model(est, loaded)
    _assert_same_predictions(est, loaded, X)
    for name_ in ("best_loss_", "validation_scores_", "best_validation_score_"):
        assert repr(getattr(est, name_)) == repr(getattr(loaded, name_))
    # The loaded model keeps training.
    loaded.set_params(warm_start=True, max_iter=2).fit(X, y)
    assert all(np.isfinite(W).all() for W in loaded.coefs_)


def test_loaded_partial_fit_continues(tmp_path):
    est, X, y = MODELS["regressor-multi"]
    save(est, tmp_path / "m")
    loaded = load(tmp_path / "m")
    loaded.partial_fit(X, y)  # a fresh optimizer: the moments are not saved
    assert loaded.n_iter_ == 1 and np.isfinite(loaded.predict(X)).all()


def test_save_load_unfitted_and_file_objects():
    est = BPClassifier(hidden_layer_sizes=(3, 2), class_weight={1: 2.0})
    buffer = io.BytesIO()
    save(est, buffer)
    buffer.seek(0)
    loaded = load(buffer)
    assert repr(loaded.get_params()) == repr(est.get_params())
    assert loaded.get_params()["class_weight"] == {1: 2.0}
    assert not hasattr(loaded, "coefs_")


def test_the_file_is_plain_data(tmp_path):
    est, _, _ = MODELS["binary-strings"]
    save(est, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    assert all(a.dtype != object for a in arrays.values())
    document = json.loads(bytes(arrays["document"]).decode("utf-8"))
    assert document["skbp_version"] == skbp.__version__
    assert document["format_version"] == FORMAT_VERSION
    assert document["estimator"] == "BPClassifier"
    assert document["params"]["activation"] == ["tanh", "gelu"]
    assert "loss_curve_" in document["attributes"]
    assert "classes_" in document["attributes"]
    assert len(bytes(arrays["digest"]).decode()) == 64  # SHA-256, hex
    with zipfile.ZipFile(tmp_path / "m.npz") as zf:  # no pickle inside
        assert all(not name.endswith(".pkl") for name in zf.namelist())


def test_random_state_instance_is_saved_as_none(tmp_path):
    est = BPRegressor(max_iter=3, random_state=np.random.RandomState(0))
    est.fit(_X(), _X()[:, 0])
    with pytest.warns(PersistenceWarning, match="random_state"):
        save(est, tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert loaded.random_state is None
    _assert_same_predictions(est, loaded, _X())
    save(BPRegressor(random_state=3), tmp_path / "n")
    assert load(tmp_path / "n").random_state == 3


def test_other_estimators_and_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="BPClassifier and BPRegressor"):
        save(LinearRegression(), tmp_path / "m")
    with pytest.raises(TypeError, match="BPClassifier and BPRegressor"):
        save(make_pipeline(StandardScaler(), BPRegressor()), tmp_path / "m")
    est = BPRegressor(max_iter=3).fit(_X(), _X()[:, 0])
    est.extra_ = object()
    with pytest.raises(TypeError, match="extra_"):
        save(est, tmp_path / "m")
    est.extra_ = "plain, but not an attribute skbp.load accepts"
    with pytest.raises(ValueError, match="cannot store this model.*'extra_'"):
        save(est, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_another_version_warns_on_load(tmp_path, monkeypatch):
    est, X, _ = MODELS["multiclass"]
    monkeypatch.setattr(skbp._version, "__version__", "99.0")
    save(est, tmp_path / "m")
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="99.0"):
        loaded = load(tmp_path / "m")
    _assert_same_predictions(est, loaded, X)


# -- tampered, truncated, crafted files ---------------------------------------
def _saved_bytes(name="multiclass"):
    buffer = io.BytesIO()
    save(MODELS[name][0], buffer)
    return buffer.getvalue()


def _members(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _rewrite(members, fix_digest=False):
    """An archive of ``members``; with ``fix_digest``, a matching digest."""
    members = dict(members)
    if fix_digest:
        members.pop("digest")
        digest = ArchiveDigest()
        for key in sorted(members):
            digest.add(key, np.ascontiguousarray(members[key]))
        members["digest"] = np.frombuffer(digest.hexdigest().encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    buffer.seek(0)
    return buffer


def test_a_changed_weight_is_detected():
    members = _members(_saved_bytes())
    key = next(k for k in members if k.startswith("a") and members[k].dtype.kind == "f")
    members[key] = members[key].copy()
    members[key].flat[0] += 1e-12
    with pytest.raises(ValueError, match="modified or corrupted.*SHA-256"):
        load(_rewrite(members))


def test_a_changed_document_is_detected():
    members = _members(_saved_bytes())
    text = bytes(members["document"]).decode().replace('"relu"', '"tanh"')
    members["document"] = np.frombuffer(text.encode(), np.uint8)
    with pytest.raises(ValueError, match="SHA-256"):
        load(_rewrite(members))


@pytest.mark.parametrize("keep", [0, 10, 100, 0.5, -1])
def test_truncated_files_are_rejected(tmp_path, keep):
    data = _saved_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    (tmp_path / "m").write_bytes(data[:cut])
    with pytest.raises(ValueError, match="as an skbp model"):
        load(tmp_path / "m")


def test_flipped_byte_anywhere_is_rejected(tmp_path):
    data = bytearray(_saved_bytes())
    rng = np.random.RandomState(0)
    for position in rng.choice(len(data), size=25, replace=False):
        corrupted = bytearray(data)
        corrupted[position] ^= 0xFF
        path = tmp_path / "m"
        path.write_bytes(bytes(corrupted))
        try:
            loaded = load(path)
        except ValueError:
            continue
        # A byte the zip format ignores (e.g. a timestamp): the model is intact.
        _assert_same_model(MODELS["multiclass"][0], loaded)


def test_pickles_and_other_files_are_not_models(tmp_path):
    joblib.dump(MODELS["multiclass"][0], tmp_path / "pickled")
    with pytest.raises(ValueError, match="as an skbp model"):
        load(tmp_path / "pickled")
    np.save(tmp_path / "array.npy", np.arange(3))
    with pytest.raises(ValueError, match="single numpy array"):
        load(tmp_path / "array.npy")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="not a file written by skbp.save"):
        load(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing")


def _crafted(edit, model="multiclass"):
    """A file whose document ``edit`` changed, with a digest to match."""
    members = _members(_saved_bytes(model))
    document = json.loads(bytes(members["document"]).decode())
    edit(document, members)
    text = json.dumps(document)
    members["document"] = np.frombuffer(text.encode(), np.uint8)
    return _rewrite(members, fix_digest=True)


def _first_array_key(document, attribute):
    return document["attributes"][attribute][0]["__array__"]


CRAFTED = {
    "wrong shapes": lambda d, m: m.update(
        {_first_array_key(d, "coefs_"): np.ones((7, 2))}
    ),
    "NaN weights": lambda d, m: m.update(
        {_first_array_key(d, "coefs_"): np.full((4, 5), np.nan)}
    ),
    "method name": lambda d, m: d["attributes"].update({"predict": 1}),
    "dunder name": lambda d, m: d["attributes"].update({"__class__": 1}),
    "unknown param": lambda d, m: d["params"].update({"evil": 1}),
    "bad param": lambda d, m: d["params"].update({"alpha": -1.0}),
    "unknown estimator": lambda d, m: d.update({"estimator": "os.system"}),
    "format version": lambda d, m: d.update({"format_version": 999}),
    "missing array": lambda d, m: d["attributes"].update(
        {"coefs_": [{"__array__": "nope"}]}
    ),
    "unknown tag": lambda d, m: d["attributes"].update({"x_": {"__reduce__": 1}}),
    "extra array": lambda d, m: m.update({"a999": np.ones(3)}),
    "classes mismatch": lambda d, m: m.update(
        {d["attributes"]["classes_"]["__array__"]: np.arange(5)}
    ),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_files_are_rejected(name):
    with pytest.raises(ValueError, match="as an skbp model: it"):
        load(_crafted(CRAFTED[name]))


def _ref(document, *path):
    """The archive member a field of the document refers to."""
    value = document["attributes"]
    for key in path:
        value = value[key]
    return value.get("__array__") or value["__floats__"]


def _add_array(document, members, attribute, array):
    members["a99"] = array
    document["attributes"][attribute] = {"__array__": "a99"}


def _set(attribute, value):
    """Set an attribute, dropping the arrays its old value referred to."""

    def edit(document, members):
        old = json.dumps(document["attributes"].get(attribute))
        for key in re.findall(r'"__(?:array|floats)__": "(a[0-9]+)"', old):
            members.pop(key)
        document["attributes"][attribute] = value

    return edit


def _replace_array(array, *path):
    return lambda d, m: m.update({_ref(d, *path): array})


# One crafted file per rule load enforces (issue 13): the digest matches, the
# content contradicts itself. name -> (model, edit, field the error names).
CONSISTENCY = {
    "negative hidden size": (
        "multiclass",
        lambda d, m: d["params"].update({"hidden_layer_sizes": {"__tuple__": [-5]}}),
        "hidden_layer_sizes",
    ),
    "hidden sizes unlike the weights": (
        "multiclass",
        lambda d, m: d["params"].update({"hidden_layer_sizes": {"__tuple__": [7]}}),
        "hidden_layer_sizes",
    ),
    "activations unlike the layers": (
        "multiclass",
        lambda d, m: d["params"].update({"activation": ["relu", "tanh"]}),
        "activation",
    ),
    "classes_ a string": ("multiclass", _set("classes_", "abc"), "classes_"),
    "classes_ a mixed list": ("multiclass", _set("classes_", [1, "a"]), "classes_"),
    "classes_ complex": (
        "multiclass",
        _replace_array(np.arange(3) + 1j, "classes_"),
        "classes_",
    ),
    "classes_ datetime": (
        "multiclass",
        _replace_array(np.array(["2020-01-01"] * 3, "M8[D]"), "classes_"),
        "classes_",
    ),
    "classes_ structured": (
        "multiclass",
        _replace_array(np.zeros(3, dtype=[("a", "i8")]), "classes_"),
        "classes_",
    ),
    "classes_ repeated": (
        "multiclass",
        _replace_array(np.array([0, 1, 1]), "classes_"),
        "classes_",
    ),
    # A label twice in both: class 2's column predicts label 1, and label 2
    # is never predicted. Only the check of repeated labels refuses it.
    "classes_ and the binarizer's with a label twice": (
        "multiclass",
        lambda d, m: m.update(
            {
                _ref(d, "classes_"): np.array([0, 1, 1]),
                _ref(d, "_label_binarizer", "__label_binarizer__", "classes_"): (
                    np.array([0, 1, 1])
                ),
            }
        ),
        "classes_ holds a label twice",
    ),
    # No label at all: a binary model's one output would name no class.
    "classes_ and the binarizer's empty": (
        "bool-labels",
        lambda d, m: m.update(
            {
                _ref(d, "classes_"): np.array([], dtype=bool),
                _ref(d, "_label_binarizer", "__label_binarizer__", "classes_"): (
                    np.array([], dtype=bool)
                ),
            }
        ),
        "classes_ must be a non-empty",
    ),
    "classes_ unlike the binarizer's": (
        "multiclass",
        _replace_array(np.array([0, 1, 5]), "classes_"),
        "_label_binarizer",
    ),
    "too few classes_ for the outputs": (
        "multiclass",
        lambda d, m: [
            m.update({_ref(d, "classes_"): np.arange(2)}),
            m.update(
                {
                    _ref(d, "_label_binarizer", "__label_binarizer__", "classes_"): (
                        np.arange(2)
                    )
                }
            ),
        ],
        "classes_",
    ),
    "binarizer with an extra attribute": (
        "multiclass",
        lambda d, m: d["attributes"]["_label_binarizer"]["__label_binarizer__"].update(
            {"fit": 1}
        ),
        "label binarizer",
    ),
    "binarizer with other labels": (
        "multiclass",
        lambda d, m: d["attributes"]["_label_binarizer"]["__label_binarizer__"].update(
            {"pos_label": 2}
        ),
        "pos_label",
    ),
    "loss_curve_ a string": ("multiclass", _set("loss_curve_", "x"), "loss_curve_"),
    "n_iter_ negative": ("multiclass", _set("n_iter_", -1), "n_iter_"),
    "n_iter_ a float": ("multiclass", _set("n_iter_", 1.5), "n_iter_"),
    "optimizer state": ("multiclass", _set("_optimizer", None), "_optimizer"),
    "private attribute": ("multiclass", _set("_evil", 1), "_evil"),
    "n_outputs_ of a binary model": (
        "binary-strings",
        _set("n_outputs_", 3),
        "n_outputs_",
    ),
    "n_features_in_ unlike the weights": (
        "multiclass",
        _set("n_features_in_", 5),
        "n_features_in_",
    ),
    "n_layers_ unlike the weights": ("multiclass", _set("n_layers_", 4), "n_layers_"),
    "out_activation_ unlike the targets": (
        "multiclass",
        _set("out_activation_", "logistic"),
        "out_activation_",
    ),
    "weights of float16": (
        "multiclass",
        _replace_array(np.ones((4, 5), np.float16), "coefs_", 0),
        "coefs_",
    ),
    "weights big-endian": (
        "multiclass",
        _replace_array(np.ones((4, 5), ">f8"), "coefs_", 0),
        "big-endian",
    ),
    "intercepts_ unlike coefs_": (
        "multiclass",
        _replace_array(np.ones(7), "intercepts_", 0),
        r"intercepts_\[0\]",
    ),
    "NaN intercepts": (
        "multiclass",
        _replace_array(np.full(5, np.nan), "intercepts_", 0),
        r"intercepts_\[0\] is not finite",
    ),
    "infinite intercepts of the output layer": (
        "multiclass",
        _replace_array(np.array([0.0, -np.inf, 0.0]), "intercepts_", 1),
        r"intercepts_\[1\] is not finite",
    ),
    "coefs_ that do not chain": (
        "multiclass",
        _replace_array(np.ones((6, 3)), "coefs_", 1),
        "coefs_",
    ),
    "feature_names_in_ too short": (
        "multiclass",
        _set("feature_names_in_", {"__strings__": ["a"], "shape": [1]}),
        "feature_names_in_",
    ),
    "_dropout_salt of the wrong length": (
        "multiclass",
        lambda d, m: _add_array(d, m, "_dropout_salt", np.ones(2, np.uint64)),
        "_dropout_salt",
    ),
    "layer_units unlike the weights": (
        "multiclass",
        lambda d, m: d.update({"layer_units": [4, 6, 3]}),
        "layer_units",
    ),
    "attributes without weights": (
        "multiclass",
        lambda d, m: [
            [
                m.pop(_ref(d, key, i))
                for key in ("coefs_", "intercepts_")
                for i in (0, 1)
            ],
            d["attributes"].pop("coefs_"),
            d["attributes"].pop("intercepts_"),
        ],
        "unfitted model holds fitted attributes",
    ),
}


@pytest.mark.parametrize("name", sorted(CONSISTENCY))
def test_contradictory_contents_are_refused_naming_the_field(name):
    model, edit, field = CONSISTENCY[name]
    with pytest.raises(ValueError, match="as an skbp model: it") as info:
        load(_crafted(edit, model))
    assert re.search(field, str(info.value)), str(info.value)


def test_the_wrong_n_outputs_cannot_reach_predict_proba():
    # Before issue 13 this file loaded, and predict_proba returned (3, 1).
    est, X, _ = MODELS["binary-strings"]
    buffer = _crafted(_set("n_outputs_", 3), "binary-strings")
    with pytest.raises(ValueError, match="n_outputs_=3 does not match"):
        load(buffer)
    assert est.predict_proba(X[:3]).shape == (3, 2)


def test_files_of_format_version_1_still_load():
    # Version 1 kept loss curves in the JSON and had no layer_units.
    def as_version_1(document, members):
        document["format_version"] = 1
        del document["layer_units"]
        key = document["attributes"]["loss_curve_"]["__floats__"]
        document["attributes"]["loss_curve_"] = members.pop(key).tolist()

    est, X, _ = MODELS["multiclass"]
    loaded = load(_crafted(as_version_1))
    _assert_same_model(est, loaded)
    _assert_same_predictions(est, loaded, X)


def test_save_refuses_what_load_would_refuse_before_touching_the_file(tmp_path):
    path = tmp_path / "m"
    est, _, _ = MODELS["multiclass"]
    save(est, path)
    too_long = copy.deepcopy(est)
    too_long.loss_curve_ = [0.5] * (OTHER_ARRAYS_BYTES // 8 + 2**16)
    with pytest.raises(ValueError, match="loss curves or labels too long"):
        save(too_long, path)
    too_many = copy.deepcopy(est)
    too_many.feature_names_in_ = np.array(["f" * 20] * 250_000, dtype=object)
    with pytest.raises(ValueError, match="document would exceed"):
        save(too_many, path)
    _assert_same_model(est, load(path))  # the file is the first save's


def test_a_model_trained_by_fit_chunks_round_trips():
    """Its ``streaming_history_`` is saved (format 3); before, save refused it."""
    from skbp.streaming import fit_chunks

    X, y = _X(80), np.arange(80) % 2
    est = BPClassifier(hidden_layer_sizes=(3,), random_state=0)
    fit_chunks(est, [(X[:40], y[:40]), (X[40:], y[40:])], classes=[0, 1], n_epochs=3)
    buffer = io.BytesIO()
    save(est, buffer)
    loaded = load(io.BytesIO(buffer.getvalue()))
    assert loaded.streaming_history_ == est.streaming_history_
    assert loaded.streaming_history_.n_epochs == 3
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


@pytest.mark.parametrize("cls", [BPRegressor, BPClassifier])
def test_a_pickle_from_before_a_parameter_existed_gets_its_default(cls):
    # A model pickled before check_gradients (and the regressor's quantile)
    # existed: its state lacks them. It unpickles with their defaults, and
    # get_params, clone and a refit work (they raised AttributeError).
    X = np.random.RandomState(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = cls(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    state = model.__getstate__()
    for name in ("check_gradients", "quantile"):
        state.pop(name, None)
    old = cls.__new__(cls)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InconsistentVersionWarning)
        old.__setstate__(state)
    assert old.get_params()["check_gradients"] is True
    np.testing.assert_array_equal(old.predict(X), model.predict(X))
    refit = clone(old).fit(X, y)
    np.testing.assert_array_equal(refit.predict(X), model.predict(X))
