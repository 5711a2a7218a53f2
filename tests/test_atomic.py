"""skbp.save never destroys the file it replaces (issue 13, part 1).

A save that fails partway (an exception from the writer, a full disk, a
file-size limit, a process killed mid-write) leaves the previous model at
the path whole and loadable; the file then loads as the old model or the
new one, never neither.

Saves leak nothing and leave nothing (issue 6): the temporary file is
readable by its owner only until complete, a temporary file that a killed
save left is removed by the next save to the same path, and a file that
``open(path, "wb")`` would refuse to write is refused the same way.
"""

import errno
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import skbp
import skbp._persistence.archive
from skbp import BPRegressor
from skbp._persistence.atomic import atomic_write

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
    monkeypatch.setattr(
        skbp._persistence.model_file, "write_archive", _failing_writer(exception)
    )
    with pytest.raises(type(exception)):
        skbp.save(new, path)
    monkeypatch.undo()
    _assert_is(skbp.load(path), old)
    _only_file(tmp_path, "model.skbp")
    skbp.save(new, path)  # and the next save replaces it
    _assert_is(skbp.load(path), new)


def test_a_failed_first_save_leaves_no_file(tmp_path, monkeypatch):
    error = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(
        skbp._persistence.model_file, "write_archive", _failing_writer(error)
    )
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
        for leftover in tmp_path.glob(".model.skbp.*.skbp-tmp"):
            leftover.unlink()  # what a kill may leave: never the model itself
        assert {p.name for p in tmp_path.iterdir()} == {"model.skbp", "new.src"}
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


# Issue 6: saves leak nothing and leave nothing.

fcntl_only = pytest.mark.skipif(
    skbp._persistence.atomic.fcntl is None,
    reason="no flock: leftovers are not cleaned here",
)
NOBODY = 65534


def _temporaries(directory):
    return sorted(p for p in directory.iterdir() if p.name.endswith(".skbp-tmp"))


def _leftover(directory, name, age=60.0, digits="0123456789ab", suffix=".skbp-tmp"):
    """A temporary file as a killed save leaves it, last written ``age`` ago."""
    leftover = directory / f".{name}.{digits}{suffix}"
    leftover.write_bytes(b"\0" * 100)
    when = time.time() - age
    os.utime(leftover, (when, when))
    return leftover


@posix_only
@pytest.mark.parametrize("existing", [0o600, 0o644, None], ids=["0600", "0644", "new"])
def test_the_temporary_file_is_private_until_complete(tmp_path, monkeypatch, existing):
    path = tmp_path / "model.skbp"
    if existing is not None:
        skbp.save(_model(), path)
        path.chmod(existing)
    modes = []
    write_archive = skbp._persistence.model_file.write_archive

    def watching(handle, document, arrays):
        for temporary in tmp_path.iterdir():
            if temporary.name != "model.skbp":
                modes.append(stat.S_IMODE(temporary.stat().st_mode))
        write_archive(handle, document, arrays)

    monkeypatch.setattr(skbp._persistence.model_file, "write_archive", watching)
    mask = os.umask(0o002)  # a new file gets 0o664: wider than the temporary
    try:
        skbp.save(_model(seed=1), path)
    finally:
        os.umask(mask)
    assert modes == [0o600]
    final = 0o664 if existing is None else existing
    assert stat.S_IMODE(path.stat().st_mode) == final
    _only_file(tmp_path, "model.skbp")


@posix_only
@pytest.mark.parametrize("source", ["proc", "umask"])
def test_the_umask_is_read_without_changing_it(monkeypatch, source):
    if source == "umask":  # no /proc/self/status: set and restore

        def no_open(*args, **kwargs):
            raise FileNotFoundError(errno.ENOENT, "no /proc")

        monkeypatch.setattr(skbp._persistence.atomic, "open", no_open, raising=False)
    mask = os.umask(0o027)
    try:
        assert skbp._persistence.atomic._umask() == 0o027
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(mask)


@fcntl_only
def test_the_writer_locks_its_temporary_file(tmp_path):
    import fcntl

    name = "my model.v2.skbp"  # dots and spaces: the pattern still finds it

    def write(handle):
        (temporary,) = _temporaries(tmp_path)
        match = skbp._persistence.atomic.TEMPORARY_NAME.fullmatch(temporary.name)
        assert match["name"] == name
        with open(temporary, "rb") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write(b"data")

    atomic_write(tmp_path / name, write)
    assert (tmp_path / name).read_bytes() == b"data"
    _only_file(tmp_path, name)


@fcntl_only
@pytest.mark.parametrize("exists", [True, False], ids=["replaced", "new"])
def test_a_stale_temporary_file_is_removed_by_the_next_save(tmp_path, exists):
    path = tmp_path / "model.skbp"
    if exists:
        skbp.save(_model(), path)
    _leftover(tmp_path, "model.skbp")
    _leftover(tmp_path, "model.skbp", digits="abcdef012345")
    new = _model(seed=1)
    skbp.save(new, path)
    _only_file(tmp_path, "model.skbp")
    _assert_is(skbp.load(path), new)


@fcntl_only
def test_only_the_targets_abandoned_temporary_files_are_removed(tmp_path):
    import fcntl

    path = tmp_path / "model.skbp"
    skbp.save(_model(), path)
    stale = _leftover(tmp_path, "model.skbp", digits="00000000000f")
    kept = [
        # Fresh: its writer may have created it and not yet locked it.
        _leftover(tmp_path, "model.skbp", age=0.0, digits="000000000001"),
        # Another target's.
        _leftover(tmp_path, "other.skbp"),
        _leftover(tmp_path, "x.model.skbp"),
        # Not skbp's pattern: the old ".tmp" names may be anyone's.
        _leftover(tmp_path, "model.skbp", suffix=".tmp"),
        _leftover(tmp_path, "model.skbp", digits="0123456789AB"),
        _leftover(tmp_path, "model.skbp", digits="0123456789a"),
    ]
    locked = _leftover(tmp_path, "model.skbp", digits="000000000002")
    kept.append(locked)
    if os.geteuid() == 0:  # another user's
        kept.append(_leftover(tmp_path, "model.skbp", digits="000000000003"))
        os.chown(kept[-1], NOBODY, NOBODY)
    pointed = tmp_path / "pointed"
    pointed.write_bytes(b"keep")
    link = tmp_path / ".model.skbp.000000000004.skbp-tmp"
    link.symlink_to(pointed)
    folder = tmp_path / ".model.skbp.000000000005.skbp-tmp"
    folder.mkdir()
    when = time.time() - 60
    for old in (link, folder):
        os.utime(old, (when, when), follow_symlinks=False)
    with open(locked, "rb") as holder:  # as a live writer holds it
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        skbp.save(_model(seed=1), path)
    assert not stale.exists()
    assert all(p.exists() for p in kept)
    assert link.is_symlink() and pointed.read_bytes() == b"keep"
    assert folder.is_dir()
    # Once its holder is gone, the locked one is stale too.
    skbp.save(_model(seed=2), path)
    assert not locked.exists()


@fcntl_only
def test_cleaning_up_never_fails_a_save(tmp_path, monkeypatch):
    def flock(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(skbp._persistence.atomic.fcntl, "flock", flock)
    leftover = _leftover(tmp_path, "model.skbp")
    new = _model()
    skbp.save(new, tmp_path / "model.skbp")
    _assert_is(skbp.load(tmp_path / "model.skbp"), new)
    assert leftover.exists()  # not known to be abandoned: kept


@fcntl_only
def test_a_temporary_file_left_by_a_killed_save_is_removed_by_the_next(tmp_path):
    path = tmp_path / "model.skbp"
    skbp.save(_model(), path)
    code = textwrap.dedent(
        f"""
        import time, skbp, skbp._persistence.model_file
        est = skbp.load({str(path)!r})
        def write_archive(handle, document, arrays):
            handle.write(b"\\0" * 1000)
            handle.flush()
            print("writing", flush=True)
            time.sleep(600)
        skbp._persistence.model_file.write_archive = write_archive
        skbp.save(est, {str(path)!r})
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "writing"
        (leftover,) = _temporaries(tmp_path)
        when = time.time() - 60  # as if its writer had stalled for a minute
        os.utime(leftover, (when, when))
        skbp.save(_model(seed=1), path)
        assert leftover.exists()  # its writer lives and holds the lock
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
    assert leftover.exists()  # what the kill left
    new = _model(seed=2)
    skbp.save(new, path)
    _only_file(tmp_path, "model.skbp")
    _assert_is(skbp.load(path), new)


@posix_only
def test_a_read_only_file_is_refused_as_open_refuses_it(tmp_path):
    if os.geteuid() != 0:
        path = tmp_path / "model.skbp"
        skbp.save(_model(), path)
        path.chmod(0o444)
        before = path.read_bytes()
        with pytest.raises(PermissionError):
            skbp.save(_model(seed=1), path)
        with pytest.raises(PermissionError):
            open(path, "wb")  # the same refusal
        assert path.read_bytes() == before
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
        _only_file(tmp_path, "model.skbp")
        return
    # The superuser may write any file: the scenario runs as "nobody", in a
    # child process, in a directory it may write (the pytest's one is 0o700).
    directory = tempfile.mkdtemp(prefix="skbp-read-only-")
    try:
        _refused_as_nobody(directory)
    finally:
        shutil.rmtree(directory)


def _refused_as_nobody(directory):
    os.chmod(directory, 0o777)
    path = os.path.join(directory, "model.skbp")
    source = os.path.join(directory, "new.src")
    skbp.save(_model(), path)
    skbp.save(_model(seed=1), source)
    os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o444)
    with open(path, "rb") as handle:
        before = handle.read()
    code = textwrap.dedent(
        f"""
        import os, skbp
        new = skbp.load({source!r})
        try:
            os.setgroups([])
            os.setgid({NOBODY})
            os.setuid({NOBODY})
        except OSError as exc:
            raise SystemExit(f"SKIP cannot become nobody: {{exc}}")
        try:
            skbp.save(new, os.path.join({directory!r}, "probe.skbp"))
        except OSError as exc:
            raise SystemExit(f"SKIP the directory is out of nobody's reach: {{exc}}")
        try:
            skbp.save(new, {path!r})
        except PermissionError:
            print("save refuses")
        try:
            open({path!r}, "wb")
        except PermissionError:
            print("open refuses")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    if result.stderr.startswith("SKIP "):
        pytest.skip(result.stderr.strip()[5:])
    assert result.stdout.split("\n")[:2] == ["save refuses", "open refuses"], (
        result.stdout + result.stderr
    )
    with open(path, "rb") as handle:
        assert handle.read() == before
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert sorted(os.listdir(directory)) == ["model.skbp", "new.src", "probe.skbp"]


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="only the superuser may"
)
def test_the_superuser_replaces_a_read_only_file_as_open_lets_it(tmp_path):
    path = tmp_path / "model.skbp"
    skbp.save(_model(), path)
    path.chmod(0o444)
    new = _model(seed=1)
    skbp.save(new, path)
    _assert_is(skbp.load(path), new)
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_other_hard_links_keep_the_old_model(tmp_path):
    # The path gets a new file (inode); its other names keep the old one.
    old, new = _model(seed=0), _model(seed=1)
    path, other = tmp_path / "model.skbp", tmp_path / "other.skbp"
    skbp.save(old, path)
    os.link(path, other)
    skbp.save(new, path)
    _assert_is(skbp.load(path), new)
    _assert_is(skbp.load(other), old)
    assert not os.path.samefile(path, other)
    assert other.stat().st_nlink == 1
