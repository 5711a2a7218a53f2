"""skbp.save never destroys the file it replaces (issue 13, part 1).

A save that fails partway (an exception from the writer, a full disk, a
file-size limit, a process killed mid-write) leaves the previous model at
the path whole and loadable; the file then loads as the old model or the
new one, never neither.
"""

import errno
import io
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import skbp
import skbp._archive
from skbp import BPRegressor
from skbp._atomic import atomic_write

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and limits")


def _model(n_hidden=5, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(20, n_features)
    est = BPRegressor(hidden_layer_sizes=(n_hidden,), max_iter=2, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, X[:, 0])


def _weights(est):
    return np.concatenate([a.ravel() for a in (*est.coefs_, *est.intercepts_)])


def _assert_is(loaded, est):
    np.testing.assert_array_equal(_weights(loaded), _weights(est))


def _only_file(directory, name):
    """No temporary file is left beside the model."""
    assert sorted(p.name for p in directory.iterdir()) == [name]


def _failing_writer(exception, after=1000):
    """A write_archive that writes ``after`` bytes, then raises ``exception``."""

    def write_archive(handle, document, arrays):
        handle.write(b"\0" * after)
        raise exception

    return write_archive


@pytest.mark.parametrize(
    "exception",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        KeyboardInterrupt(),
        RuntimeError("writer failed"),
    ],
    ids=["ENOSPC", "KeyboardInterrupt", "RuntimeError"],
)
def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch, exception):
    old, new = _model(seed=0), _model(seed=1)
    path = tmp_path / "model.skbp"
    skbp.save(old, path)
    monkeypatch.setattr(skbp._persistence, "write_archive", _failing_writer(exception))
    with pytest.raises(type(exception)):
        skbp.save(new, path)
    monkeypatch.undo()
    _assert_is(skbp.load(path), old)
    _only_file(tmp_path, "model.skbp")
    skbp.save(new, path)  # and the next save replaces it
    _assert_is(skbp.load(path), new)


def test_a_failed_first_save_leaves_no_file(tmp_path, monkeypatch):
    error = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(skbp._persistence, "write_archive", _failing_writer(error))
    with pytest.raises(OSError):
        skbp.save(_model(), tmp_path / "model.skbp")
    assert list(tmp_path.iterdir()) == []


@posix_only
def test_a_real_file_size_limit_keeps_the_old_file(tmp_path):
    # A child process whose file-size limit (RLIMIT_FSIZE) admits the old,
    # small model but not the new, large one: the kernel refuses the write
    # with EFBIG partway through.
    old, new = _model(n_hidden=5), _model(n_hidden=400, n_features=200)
    path = tmp_path / "model.skbp"
    skbp.save(old, path)
    skbp.save(new, tmp_path / "new.src")
    limit = (tmp_path / "new.src").stat().st_size // 2
    code = textwrap.dedent(
        f"""
        import errno, resource, signal, skbp
        new = skbp.load({str(tmp_path / "new.src")!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        try:
            skbp.save(new, {str(path)!r})
        except OSError as exc:
            assert exc.errno == errno.EFBIG, exc
            print("EFBIG")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "EFBIG", result.stderr
    _assert_is(skbp.load(path), old)
    assert {p.name for p in tmp_path.iterdir()} == {"model.skbp", "new.src"}


@posix_only
def test_a_save_killed_at_any_moment_leaves_the_old_or_the_new_model(tmp_path):
    # A child saves a large model (about 24 MB) over the path again and
    # again; SIGKILL at several moments. The path then always loads, as the
    # old model or the new one.
    old, new = _model(n_hidden=5), _model(n_hidden=3000, n_features=1000, seed=1)
    path = tmp_path / "model.skbp"
    source = tmp_path / "new.src"
    skbp.save(new, source)
    code = textwrap.dedent(
        f"""
        import sys, skbp
        new = skbp.load({str(source)!r})
        print("ready", flush=True)
        while True:
            skbp.save(new, {str(path)!r})
        """
    )
    seen = set()
    for delay in (0.0, 0.02, 0.06, 0.15):
        skbp.save(old, path)
        child = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout.readline().strip() == "ready"
            time.sleep(delay)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            child.stdout.close()
        loaded = skbp.load(path)  # never a half-written file
        is_new = loaded.n_features_in_ == new.n_features_in_
        _assert_is(loaded, new if is_new else old)
        seen.add(is_new)
        for leftover in tmp_path.glob(".model.skbp.*.tmp"):
            leftover.unlink()  # what a kill may leave: never the model itself
    assert seen  # which of the two each kill left depends on timing


def test_saving_to_a_file_object_still_works():
    est = _model()
    buffer = io.BytesIO()
    skbp.save(est, buffer)
    buffer.seek(0)
    _assert_is(skbp.load(buffer), est)


@posix_only
def test_an_existing_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "model.skbp"
    skbp.save(_model(), path)
    path.chmod(0o640)
    skbp.save(_model(seed=1), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@posix_only
def test_a_new_file_gets_the_permissions_open_gives(tmp_path):
    mask = os.umask(0o022)
    try:
        skbp.save(_model(), tmp_path / "model.skbp")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "model.skbp").stat().st_mode) == 0o644


@posix_only
def test_a_symbolic_link_is_followed(tmp_path):
    target, link = tmp_path / "real.skbp", tmp_path / "link.skbp"
    skbp.save(_model(), target)
    link.symlink_to(target)
    new = _model(seed=1)
    skbp.save(new, link)
    assert link.is_symlink()
    _assert_is(skbp.load(target), new)


@posix_only
def test_a_fifo_is_written_in_place(tmp_path):
    # Not a regular file: nothing to replace, so it is written directly.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    est = _model()
    skbp.save(est, fifo)
    reader.join(timeout=30)
    _assert_is(skbp.load(io.BytesIO(received[0])), est)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_atomic_write_fsyncs_the_file_and_its_directory(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    atomic_write(tmp_path / "f", lambda handle: handle.write(b"data"))
    assert (tmp_path / "f").read_bytes() == b"data"
    assert synced[0] is False and (os.name != "posix" or synced[-1] is True)
