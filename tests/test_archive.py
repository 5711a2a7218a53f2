"""skbp.load reads no size it has not checked (issue 13, part 2).

A crafted file of about 1 MB once drove the loader to 1.2 GiB before its
digest refused it: every member was inflated first, then copied again for
the digest. Now the zip directory and each ``.npy`` header are checked
first, members must be stored (not compressed), the document is bounded,
the arrays may not exceed what the layer sizes imply, and the digest is
computed as the arrays stream into their buffers.
"""

import io
import os
import time
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest
from hostile_files import HOSTILE, MiB, genuine_members, npy_header, zip_bytes
from sklearn.exceptions import ConvergenceWarning

import skbp
from skbp import BPRegressor
from skbp._persistence.archive import MAX_DOCUMENT_BYTES


def _measure(call):
    """Run ``call``; return (seconds, peak traced MiB, what it raised)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        call()
        raised = None
    except ValueError as exc:
        raised = exc
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / MiB
    tracemalloc.stop()
    return seconds, peak, raised


class _CountedReads(io.BytesIO):
    """A file in memory that counts the bytes read from it."""

    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n=-1):
        data = super().read(n)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer):
        n = super().readinto(buffer)
        self.bytes_read += n
        return n


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_are_refused_fast_in_little_memory(name):
    data = HOSTILE[name]()
    assert len(data) <= 1.1 * MiB
    file = _CountedReads(data)
    seconds, peak, raised = _measure(lambda: skbp.load(file))
    assert isinstance(raised, ValueError), name
    assert "as an skbp model" in str(raised)
    assert len(str(raised)) < 400, str(raised)[:400]  # quotes, never dumps
    assert peak < 50, f"{name}: {peak:.1f} MiB"
    # The work: each byte read about once (the zip's end record and
    # directory, then the members it checked), never the file again and
    # again. The tail read for the end record is 64 KiB.
    assert file.bytes_read <= len(data) + 128 * 1024, f"{name}: {file.bytes_read}"
    # A guard against the seconds of a loader that does the work, not the
    # budget (0.1 s): loaded CI machines are slow, and tracemalloc slows
    # allocation several times. benchmarks/hostile_load.py measures the
    # time.
    assert seconds < 10, f"{name}: {seconds:.3f} s"


def test_a_compressed_member_is_refused_before_it_is_inflated():
    with pytest.raises(ValueError, match="'a0' is compressed"):
        skbp.load(io.BytesIO(HOSTILE["deflate bomb (512 MiB)"]()))


def test_members_declaring_more_than_the_file_holds_are_refused():
    data = HOSTILE["stored member declaring 512 MiB"]()
    with pytest.raises(ValueError, match="truncated: its members declare"):
        skbp.load(io.BytesIO(data))


def test_a_header_disagreeing_with_the_member_size_is_refused():
    data = HOSTILE["header declaring 512 MiB"]()
    with pytest.raises(ValueError, match=r"coefs_\[0\].*declares 1048576 bytes"):
        skbp.load(io.BytesIO(data))


def _replaced(name, data):
    entries = [
        (member, raw, 0, len(raw), zlib.crc32(raw))
        for member, raw in genuine_members().items()
        if member != name
    ]
    entries.append((name, data, 0, len(data), zlib.crc32(data)))
    return io.BytesIO(zip_bytes(entries))


def test_a_document_over_the_bound_is_refused_unread():
    size = MAX_DOCUMENT_BYTES + 1
    data = npy_header(np.uint8, (size,)) + b" " * size
    with pytest.raises(ValueError, match="document declares .* more than"):
        skbp.load(_replaced("document.npy", data))


def test_arrays_beyond_the_layer_sizes_are_refused_unread():
    # A genuine 4-5-1 network's document with a 17 MiB array in place of
    # its first weights: more than 31 weights and 16 MiB of curves allow.
    n = 17 * MiB // 8
    data = npy_header(np.float64, (n,)) + bytes(8 * n)
    crafted = _replaced("a0.npy", data)
    seconds, peak, raised = _measure(lambda: skbp.load(crafted))
    assert "its layer sizes imply" in str(raised)
    assert peak < 1  # refused from the header: nothing read


def test_unexpected_members_are_refused():
    members = genuine_members()
    raw = members["a0.npy"]
    entries = [(m, r, 0, len(r), zlib.crc32(r)) for m, r in members.items()]
    for name in ("evil.pkl", "a0.npy", "../a1.npy"):
        crafted = [*entries, (name, raw, 0, len(raw), zlib.crc32(raw))]
        with pytest.raises(ValueError, match="unexpected member|two members"):
            skbp.load(io.BytesIO(zip_bytes(crafted)))


def test_a_genuine_model_loads_in_about_its_own_size():
    rng = np.random.RandomState(0)
    X = rng.randn(5, 1000)
    est = BPRegressor(hidden_layer_sizes=(2500,), solver="lbfgs", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, X[:, 0])
    buffer = io.BytesIO()
    skbp.save(est, buffer)
    own = sum(a.nbytes for a in (*est.coefs_, *est.intercepts_)) / MiB  # ~19 MiB
    buffer.seek(0)
    loaded = []
    seconds, peak, raised = _measure(lambda: loaded.append(skbp.load(buffer)))
    assert raised is None
    np.testing.assert_array_equal(loaded[0].coefs_[0], est.coefs_[0])
    assert peak < own + 4, f"{peak:.1f} MiB to load {own:.1f} MiB of weights"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_failed_load_closes_the_file(tmp_path, name):
    path = tmp_path / "hostile.skbp"
    path.write_bytes(HOSTILE[name]())

    def open_on_path():
        links = (
            os.path.join("/proc/self/fd", fd) for fd in os.listdir("/proc/self/fd")
        )
        return [link for link in links if _points_to(link, path)]

    with pytest.raises(ValueError):
        skbp.load(path)
    assert open_on_path() == []


def _points_to(link, path):
    try:
        return os.readlink(link) == str(path)
    except OSError:
        return False
