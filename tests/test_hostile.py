"""Trust, round two (issue 25): what a hostile file, path or state gets.

The cases of an attacker and of a careless user, one section per way in:

- pickles and skops files: nothing read from them names a module to import,
  and an unpickled state holds only what a model holds, each checked;
- special paths: a FIFO, a device, a directory or a socket is refused before
  it is opened, and no file is read past the size it had when opened;
- files: corrupt ones (every single-byte flip of a genuine file, flags
  ``zipfile`` does not implement) get the one ``ValueError`` of ``load``;
- refits: nothing a later fit reads comes from a file unchecked.

The bounded budgets of hostile files are in ``tests/test_archive.py``, saves
in ``tests/test_atomic.py``, interrupts and bad numbers in
``tests/test_reliability_state.py`` and ``tests/test_reliability_numerics.py``.
"""

import io
import json
import os
import pickle
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import warnings
import zipfile

import joblib
import numpy as np
import pytest
from hostile_files import genuine_document, with_document
from sklearn.exceptions import ConvergenceWarning

import skbp
import skbp._persistence.archive
from skbp import BPClassifier, BPRegressor
from skbp._model.moving import _RECORD_KEY

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CANARY = "skbp_hostile_canary"


def _data(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, (X[:, 0] > 0).astype(int)


def _classifier(**params):
    X, y = _data()
    params = {"hidden_layer_sizes": (4,), "max_iter": 5, "random_state": 0, **params}
    return BPClassifier(**params).fit(X, y)


def _state_pickle(est, edit):
    """A pickle of ``est`` whose state ``edit(state)`` changed: what a
    crafted file holds (pickled through the estimator's own reduce)."""
    state = est.__getstate__()
    edit(state)
    cls = type(est)
    original = cls.__getstate__
    cls.__getstate__ = lambda self: state
    try:
        return pickle.dumps(est)
    finally:
        cls.__getstate__ = original


# ---------------------------------------------------------------------------
# No file names a module to import
# ---------------------------------------------------------------------------

# Run in a child: an audit hook cannot be removed, and the canary module must
# not be imported in the test process. The canary writes a file when
# imported; the audit hook records every import (and every file opened or
# compiled, which is how importlib.import_module shows); the unpickler
# allows only the globals a genuine skbp pickle uses (a "safe" find_class),
# which a library named by a plain string slips past.
_LOAD_IN_CHILD = textwrap.dedent(
    """
    import io, json, pickle, sys, warnings
    sys.path.insert(0, {canary_dir!r})
    imports = []

    def hook(event, args):
        # "import" comes from import statements only; importlib.import_module
        # shows as the module's file being opened and compiled.
        if event in ("import", "open", "compile"):
            imports.append(str(args[0] if event != "compile" else args[1]))

    sys.addaudithook(hook)

    class AllowList(pickle.Unpickler):
        def find_class(self, module, name):
            if module.split(".")[0] not in ("numpy", "skbp", "sklearn"):
                raise pickle.UnpicklingError(f"{{module}}.{{name}} is not allowed")
            return super().find_class(module, name)

    data = open({path!r}, "rb").read()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if {how!r} == "pickle":
            model = AllowList(io.BytesIO(data)).load()
        elif {how!r} == "joblib":
            import joblib
            model = joblib.load({path!r})
        else:
            import skops.io as sio
            untrusted = sio.get_untrusted_types(data=data)
            assert all(t.startswith("skbp.") for t in untrusted), untrusted
            model = sio.loads(data, trusted=untrusted)
    print(json.dumps({{
        "imported": [name for name in imports if "canary" in name],
        "weights": type(model.coefs_[0]).__module__,
        "warnings": [str(w.message) for w in caught],
    }}))
    """
)


@pytest.fixture
def canary(tmp_path):
    """A module that, if imported, leaves a file behind."""
    directory = tmp_path / "modules"
    directory.mkdir()
    marker = tmp_path / "imported"
    (directory / f"{CANARY}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    return directory, marker


def _load_in_child(path, how, canary_dir):
    code = _LOAD_IN_CHILD.format(path=str(path), how=how, canary_dir=str(canary_dir))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("how", ["pickle", "joblib"])
@pytest.mark.parametrize("device", [None, "cuda:0", 3])
def test_a_pickle_naming_a_module_imports_nothing(tmp_path, canary, how, device):
    directory, marker = canary
    est = _classifier()
    data = _state_pickle(est, lambda s: s.update({_RECORD_KEY: (CANARY, device)}))
    path = tmp_path / "model.pkl"
    path.write_bytes(data)
    result = _load_in_child(path, how, directory)
    assert result["imported"] == [] and not marker.exists()
    assert result["weights"] == "numpy"  # loaded as numpy, with a warning
    assert any("not an array library skbp supports" in w for w in result["warnings"])


def test_a_skops_file_naming_a_module_imports_nothing(tmp_path, canary, monkeypatch):
    sio = pytest.importorskip("skops.io")
    directory, marker = canary
    est = _classifier()
    state = est.__getstate__()
    state[_RECORD_KEY] = (CANARY, "cuda:0")
    monkeypatch.setattr(BPClassifier, "__getstate__", lambda self: state)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    monkeypatch.undo()
    # Trusting skbp's types is all the file asks for...
    untrusted = sio.get_untrusted_types(file=path)
    assert set(untrusted) <= {
        "skbp.BPClassifier",
        "skbp.core.optimizers.Adam",
        "skbp.core.optimizers.SGD",
    }
    # ... and no longer lets it import anything.
    result = _load_in_child(path, "skops", directory)
    assert result["imported"] == [] and not marker.exists()
    assert result["weights"] == "numpy"


@pytest.mark.parametrize(
    "record",
    [
        ("os", None),  # a module, already imported: still not a library
        ("numpy.random", None),
        ("torch", object()),  # a device that is not plain data
        ("torch", "x" * 1000),
        ("array_api_strict", -1),
        ["cupy", 2**40],
        "torch",
        ("torch", "cpu", "extra"),
    ],
    ids=repr,
)
def test_a_record_skbp_cannot_look_up_loads_as_numpy(record):
    est = _classifier()
    data = _state_pickle(est, lambda s: s.update({_RECORD_KEY: record}))
    with pytest.warns(UserWarning, match="Its weights were loaded as numpy"):
        loaded = pickle.loads(data)
    assert all(type(W) is np.ndarray for W in loaded.coefs_)
    X, _ = _data()
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


# ---------------------------------------------------------------------------
# An unpickled state holds only what a model holds
# ---------------------------------------------------------------------------


def _nan_moments(state):
    state["_optimizer"].ms[0][:] = np.nan


def _label_twice(state):
    """Both lists of labels of a binary model: [0, 0]. Its one output then
    reads as class 0 either way, and class 1 is never predicted."""
    for owner in (state, vars(state["_label_binarizer"])):
        owner["classes_"] = np.array([0, 0])


#: A change to a genuine fitted state -> the field the error names.
HOSTILE_STATES = {
    "a method replaced": (lambda s: s.update(predict=np.negative), "'predict'"),
    "a dunder": (lambda s: s.update(__class__=BPRegressor), "'__class__'"),
    "an unknown name": (lambda s: s.update(evil_=1), "'evil_'"),
    "weights of another type": (
        lambda s: s.update(coefs_=[np.ma.masked_array(W) for W in s["coefs_"]]),
        "coefs_",
    ),
    "NaN weights": (lambda s: s["coefs_"][0].fill(np.nan), "coefs_"),
    "NaN intercepts": (lambda s: s["intercepts_"][0].fill(np.nan), "intercepts_"),
    "infinite intercepts": (
        lambda s: s["intercepts_"][-1].fill(np.inf),
        "intercepts_[1] is not finite",
    ),
    "NaN best weights": (
        lambda s: s.update(_best_coefs=[np.full_like(W, np.nan) for W in s["coefs_"]]),
        "_best_coefs",
    ),
    "best weights of other shapes": (
        lambda s: s.update(_best_coefs=[W.T.copy() for W in s["_best_coefs"]]),
        "_best_coefs",
    ),
    "NaN optimizer moments": (_nan_moments, "ms"),
    "moments of another size": (
        lambda s: s["_optimizer"].vs.__setitem__(0, np.zeros(3)),
        "vs",
    ),
    "an optimizer method replaced": (
        lambda s: setattr(s["_optimizer"], "update", np.negative),
        "Adam optimizer must hold",
    ),
    "an optimizer of another type": (
        lambda s: s.update(_optimizer=np.negative),
        "_optimizer",
    ),
    "a binarizer method replaced": (
        lambda s: setattr(s["_label_binarizer"], "inverse_transform", np.negative),
        "_label_binarizer must hold",
    ),
    "a NaN best score": (
        lambda s: s.update(best_validation_score_=float("nan")),
        "best_validation_score_",
    ),
    "a negative counter": (lambda s: s.update(t_=-5), "t_"),
    "an invalid parameter": (lambda s: s.update(activation=np.negative), "activation"),
    "a random state of another type": (
        lambda s: s.update(_random_state=np.negative),
        "_random_state",
    ),
    "classes with a label twice": (_label_twice, "classes_ holds a label twice"),
    "classes unlike the outputs": (
        lambda s: s.update(classes_=np.arange(7)),
        "classes_",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_STATES))
def test_a_hostile_state_is_refused_naming_the_field(name):
    edit, field = HOSTILE_STATES[name]
    est = _classifier(solver="adam", early_stopping=True)
    data = _state_pickle(est, edit)
    with pytest.raises(ValueError, match="Cannot unpickle this BPClassifier") as info:
        pickle.loads(data)
    assert field in str(info.value)
    assert len(str(info.value)) < 500


def test_a_skops_file_cannot_replace_predict(tmp_path, monkeypatch):
    sio = pytest.importorskip("skops.io")
    est = _classifier()
    state = {**est.__getstate__(), "predict": np.negative}
    monkeypatch.setattr(BPClassifier, "__getstate__", lambda self: state)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    monkeypatch.undo()
    untrusted = sio.get_untrusted_types(file=path)  # np.negative is trusted
    assert all(name.startswith("skbp.") for name in untrusted), untrusted
    with pytest.raises(ValueError, match="'predict' is not one a BPClassifier"):
        sio.load(path, trusted=untrusted)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"solver": "sgd", "early_stopping": True},
        {"solver": "adam", "dropout": 0.2, "restore_best_weights": True},
        {"solver": "lbfgs", "hidden_layer_sizes": ()},
    ],
    ids=repr,
)
def test_genuine_states_load_through_every_route(tmp_path, params):
    est = _classifier(**params)
    X, _ = _data()
    joblib.dump(est, tmp_path / "m.joblib")
    routes = {
        "pickle": pickle.loads(pickle.dumps(est)),
        "joblib mmap": joblib.load(tmp_path / "m.joblib", mmap_mode="r"),
    }
    for route, loaded in routes.items():
        np.testing.assert_array_equal(
            loaded.predict_proba(X), est.predict_proba(X), err_msg=route
        )


def test_settings_of_an_estimator_survive_pickling():
    import sklearn

    est = _classifier()
    est._doc_link_template = "https://example.invalid/{estimator_name}"
    with sklearn.config_context(enable_metadata_routing=True):
        est.set_fit_request(sample_weight=True)
        loaded = pickle.loads(pickle.dumps(est))
        assert loaded.get_metadata_routing().fit.requests["sample_weight"] is True
    assert loaded._doc_link_template == est._doc_link_template


# ---------------------------------------------------------------------------
# Special paths fail fast
# ---------------------------------------------------------------------------


def _load_with_deadline(path, seconds=10):
    """``skbp.load(path)`` in a thread: what it raised, or 'blocked'."""
    outcome = []

    def run():
        try:
            skbp.load(path)
            outcome.append("loaded")
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return outcome[0] if outcome else "blocked"


posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX special files")


@posix_only
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    path = tmp_path / "model.skbp"
    os.mkfifo(path)
    outcome = _load_with_deadline(path)
    assert isinstance(outcome, ValueError), outcome
    assert "a FIFO, not a regular file" in str(outcome)


@posix_only
def test_a_symbolic_link_to_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    os.symlink(tmp_path / "fifo", tmp_path / "model.skbp")
    outcome = _load_with_deadline(tmp_path / "model.skbp")
    assert isinstance(outcome, ValueError) and "FIFO" in str(outcome)


@posix_only
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused_unread(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    outcome = _load_with_deadline(device)
    assert isinstance(outcome, ValueError), outcome
    assert "a character device, not a regular file" in str(outcome)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="a directory, not a regular file"):
        skbp.load(tmp_path)


@posix_only
def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    if len(str(path)) > 100:
        pytest.skip("path too long for a UNIX socket")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(ValueError, match="a socket, not a regular file"):
            skbp.load(path)


@posix_only
def test_a_file_swapped_for_a_fifo_after_the_check_is_refused(tmp_path, monkeypatch):
    """Between ``stat`` and ``open`` the path may change: the open file is
    checked again, and opening does not block."""
    path = tmp_path / "model.skbp"
    os.mkfifo(path)
    regular = os.stat(__file__)
    monkeypatch.setattr(skbp._persistence.archive.os, "stat", lambda p: regular)
    outcome = _load_with_deadline(path)
    assert isinstance(outcome, ValueError) and "FIFO" in str(outcome)


def test_a_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        skbp.load(tmp_path / "nothing here")


class _Counting(io.BytesIO):
    """A file object noting the furthest byte it handed out."""

    furthest = 0

    def read(self, n=-1):
        data = super().read(n)
        _Counting.furthest = max(_Counting.furthest, self.tell())
        return data


def test_nothing_is_read_past_the_size_the_open_file_had(tmp_path, monkeypatch):
    """A file whose ``stat`` lies (``/proc``, a network file system) or that
    grows while it is read yields at most the bytes it reported."""
    est = _classifier()
    path = tmp_path / "model.skbp"
    skbp.save(est, path)
    real = os.fstat

    def lying(fd):
        info = real(fd)
        values = list(info)
        values[stat.ST_SIZE] = 1000  # of a file of several KB
        return os.stat_result(values)

    monkeypatch.setattr(skbp._persistence.archive.os, "fstat", lying)
    opened = []
    real_open = open

    def counting_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if "b" in mode and isinstance(file, int):
            data = handle.read()
            handle.close()
            counted = _Counting(data)
            opened.append(counted)
            return counted
        return handle

    monkeypatch.setattr("builtins.open", counting_open)
    _Counting.furthest = 0
    with pytest.raises(ValueError, match="as an skbp model"):
        skbp.load(path)
    monkeypatch.undo()
    assert opened, "the file was not opened through open()"
    assert 0 < _Counting.furthest <= 1000 < path.stat().st_size


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_a_file_whose_size_is_zero_but_reads_endlessly_is_refused():
    # /proc files report size 0 and hand out content all the same.
    with pytest.raises(ValueError, match="not a file written by skbp.save"):
        skbp.load("/proc/self/status")


def test_the_bounded_view_reads_no_further_than_its_size():
    view = skbp._persistence.archive._Bounded(io.BytesIO(b"x" * 100), 10)
    assert view.read() == b"x" * 10
    assert view.seek(0, io.SEEK_END) == 10
    view.seek(5)
    assert view.read(100) == b"x" * 5
    with pytest.raises(OSError):
        view.seek(-1)


# ---------------------------------------------------------------------------
# Every corrupt file gets the same clear error
# ---------------------------------------------------------------------------


def _small_file():
    buffer = io.BytesIO()
    skbp.save(_classifier(hidden_layer_sizes=(2,), max_iter=2), buffer)
    return buffer.getvalue()


def _outcome(data):
    """'same' (loads the genuine model), 'refused' (load's ValueError) or
    the other exception raised."""
    try:
        model = skbp.load(io.BytesIO(data))
    except ValueError as exc:
        assert str(exc).startswith("Cannot load file as an skbp model: "), exc
        assert len(str(exc)) < 600, str(exc)[:200]
        return "refused"
    except Exception as exc:  # noqa: BLE001 - what the test reports
        return f"{type(exc).__name__}: {exc}"
    return "same" if model.coefs_[0].tobytes() == _GENUINE[0] else "different"


_GENUINE = []


def test_every_single_byte_flip_is_refused_or_harmless():
    data = _small_file()
    _GENUINE[:] = [skbp.load(io.BytesIO(data)).coefs_[0].tobytes()]
    found = {}
    # Three flips of every byte: its low bit, the zip flag bits that zipfile
    # does not implement (0x40 strong encryption, 0x20 patched data), all bits.
    for position in range(len(data)):
        for mask in (0x01, 0x60, 0xFF):
            flipped = bytearray(data)
            flipped[position] ^= mask
            outcome = _outcome(bytes(flipped))
            if outcome not in ("refused", "same"):
                found.setdefault(outcome[:120], (position, mask))
    assert found == {}, found


def _patched_zip(data, member, offset_in_header, value, central=True, local=True):
    """``data`` with a 2-byte field of ``member``'s zip headers set to ``value``.

    ``offset_in_header`` is the field's offset in the central directory
    entry; the local header's field sits 4 bytes earlier (flags: 8 -> 6,
    method: 10 -> 8).
    """
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    if local:
        struct.pack_into("<H", out, info.header_offset + offset_in_header - 2, value)
    if central:
        at = data.index(b"PK\x01\x02")  # the directory's first entry
        while True:
            name_length = struct.unpack_from("<H", data, at + 28)[0]
            if data[at + 46 : at + 46 + name_length] == member.encode():
                break
            extra, comment = struct.unpack_from("<HH", data, at + 30)
            at += 46 + name_length + extra + comment
        struct.pack_into("<H", out, at + offset_in_header, value)
    return bytes(out)


@pytest.mark.parametrize("where", ["central", "local", "both"])
@pytest.mark.parametrize(
    "field, value",
    [
        (8, 0x41),  # flags: strong encryption (zipfile: NotImplementedError)
        (8, 0x20),  # flags: compressed patched data (NotImplementedError)
        (8, 0x01),  # flags: encrypted
        (10, 99),  # compression method zipfile does not know
        (10, 14),  # LZMA
    ],
    ids=["strong-encryption", "patched", "encrypted", "method-99", "lzma"],
)
def test_zip_features_skbp_never_writes_are_refused(field, value, where):
    data = _small_file()
    _GENUINE[:] = [skbp.load(io.BytesIO(data)).coefs_[0].tobytes()]
    crafted = _patched_zip(
        data,
        "a0.npy",
        field,
        value,
        central=where in ("central", "both"),
        local=where in ("local", "both"),
    )
    # zipfile reads flags and methods from the directory: a local header's
    # own are ignored, and the member's bytes are the genuine ones.
    expected = ("refused", "same") if where == "local" else ("refused",)
    assert _outcome(crafted) in expected


def test_a_zip64_end_record_pointing_outside_the_file_is_refused():
    data = _small_file()
    end = data.rindex(b"PK\x05\x06")
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, 2**60, 1)
    crafted = data[:end] + locator + data[end:]
    with pytest.raises(ValueError, match="ZIP64 end record"):
        skbp.load(io.BytesIO(crafted))


# ---------------------------------------------------------------------------
# Nothing a refit reads comes from a file unchecked
# ---------------------------------------------------------------------------


def _regression(seed=0, n=300):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, np.sin(3 * X[:, 0]) + X[:, 1]


def _early_stopping_model():
    X, y = _regression()
    params = {"hidden_layer_sizes": (16,), "solver": "adam", "early_stopping": True}
    est = BPRegressor(**params, max_iter=60, random_state=0, warm_start=True)
    return est.fit(X, y)


def _members_of(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist(), json.loads(
            np.load(io.BytesIO(archive.read("document.npy"))).tobytes()
        )


def test_a_file_holds_no_best_weights_and_refits_like_the_model_saved():
    est = _early_stopping_model()
    buffer = io.BytesIO()
    skbp.save(est, buffer)
    _, document = _members_of(buffer.getvalue())
    assert "_best_coefs" not in document["attributes"]
    loaded = skbp.load(io.BytesIO(buffer.getvalue()))
    # Its best weights are the weights it shows.
    for best, live in zip(loaded._best_coefs, loaded.coefs_):
        np.testing.assert_array_equal(best, live)
    X, y = _regression(seed=1)
    est.fit(X, y)
    loaded.fit(X, y)  # warm start, the same rule, the same best so far
    for a, b in zip(est.coefs_, loaded.coefs_):
        np.testing.assert_array_equal(a, b)
    assert loaded.validation_scores_ == est.validation_scores_


def test_hidden_best_weights_in_an_older_file_are_never_read():
    """A format-2 file could hold best weights unlike its weights: zeros,
    that a warm-start refit which never beats the saved best score would
    return. They are read and dropped."""
    est = _early_stopping_model()
    buffer = io.BytesIO()
    skbp.save(est, buffer)
    genuine = skbp.load(io.BytesIO(buffer.getvalue()))

    document, arrays = _document_and_arrays(buffer.getvalue())
    document["format_version"] = 2
    zeros = {}
    for name, live in (("_best_coefs", "coefs_"), ("_best_intercepts", "intercepts_")):
        refs = []
        for ref in document["attributes"][live]:
            key = f"a{100 + len(zeros)}"
            zeros[key] = np.zeros_like(arrays[ref["__array__"]])
            refs.append({"__array__": key})
        document["attributes"][name] = refs
    document["attributes"]["best_validation_score_"] = 1.0  # never beaten
    crafted = _archive(document, {**arrays, **zeros})
    loaded = skbp.load(io.BytesIO(crafted))
    X, y = _regression(seed=1)
    loaded.set_params(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loaded.fit(X, y)  # never beats 1.0: returns the best weights
    # ... which are the weights the file showed, not its hidden zeros.
    for W, shown in zip(loaded.coefs_, genuine.coefs_):
        np.testing.assert_array_equal(W, shown)
    assert loaded.score(X, y) == genuine.score(X, y)


def _document_and_arrays(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        arrays = {
            name.removesuffix(".npy"): np.load(io.BytesIO(archive.read(name)))
            for name in archive.namelist()
        }
    document = json.loads(arrays.pop("document").tobytes())
    del arrays["digest"]
    return document, arrays


def _archive(document, arrays):
    out = io.BytesIO()
    skbp._persistence.archive.write_archive(out, json.dumps(document), arrays)
    return out.getvalue()


@pytest.mark.parametrize(
    "attribute, value",
    [
        ("best_validation_score_", float("nan")),
        ("best_loss_", float("nan")),
        ("_no_improvement_count", -1),
        ("t_", -3),
        ("n_iter_", 1.5),
    ],
)
def test_counters_a_refit_reads_are_checked(attribute, value):
    crafted = with_document(lambda d: d["attributes"].update({attribute: value}))
    with pytest.raises(ValueError, match=attribute):
        skbp.load(io.BytesIO(crafted))


def test_the_genuine_document_of_the_hostile_builders_loads():
    """The builders' base is a genuine file (of format version 2, which the
    versions before read too): only their edit is refused."""
    document, _ = genuine_document()
    assert document["format_version"] == 2
    assert skbp.load(io.BytesIO(with_document(lambda d: None))) is not None


def _with_zip64_end_record(monkeypatch):
    """A genuine file whose zip ends with a ZIP64 end record (as a file of
    more than 4 GiB or 65,535 members would): written with zipfile's member
    count limit lowered."""
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)
    data = _small_file()
    monkeypatch.undo()
    assert b"PK\x06\x06" in data[-200:]  # the ZIP64 end record is there
    return data


def test_a_genuine_file_with_a_zip64_end_record_loads(monkeypatch):
    data = _with_zip64_end_record(monkeypatch)
    assert skbp.load(io.BytesIO(data)).coefs_[0].shape == (3, 2)


def test_a_zip64_end_record_declaring_too_many_members_is_refused(monkeypatch):
    data = bytearray(_with_zip64_end_record(monkeypatch))
    record = data.rindex(b"PK\x06\x06")
    struct.pack_into("<QQ", data, record + 24, 10**6, 10**6)  # members
    with pytest.raises(ValueError, match="declares 1000000 members"):
        skbp.load(io.BytesIO(bytes(data)))
