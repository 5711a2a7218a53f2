"""Hostile ``skbp.load`` inputs, built by hand (shared by tests and benchmarks).

Each builder returns the bytes of a file of at most about 1 MB that a
loader which trusts sizes would inflate to hundreds of MiB. The zip is
written byte by byte (local headers, central directory, end record) so that
its sizes and compression can lie.
"""

import functools
import io
import struct
import warnings
import zlib

import numpy as np

import skbp

__all__ = ["HOSTILE", "genuine_members", "npy_header", "zip_bytes"]

MiB = 2**20


def npy_header(dtype, shape):
    """The bytes of a ``.npy`` version 1.0 header for ``dtype`` and ``shape``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def genuine_members(est=None):
    """name -> raw ``.npy`` bytes of the members of a genuine small model."""
    import zipfile

    if est is None:
        rng = np.random.RandomState(0)
        X = rng.randn(20, 4)
        est = skbp.BPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # not converged: no matter
            est.fit(X, X[:, 0])
    buffer = io.BytesIO()
    skbp.save(est, buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def zip_bytes(entries):
    """A zip of ``entries``: (name, data, method, size, crc[, compressed size]).

    ``data`` is written as it is (already compressed for method 8); the
    sizes and CRC recorded are the ones given, true or not.
    """
    out, directory = io.BytesIO(), []
    for name, data, method, size, crc, *csize in entries:
        csize = csize[0] if csize else len(data)
        offset, encoded = out.tell(), name.encode()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                csize,
                size,
                len(encoded),
                0,
            )
        )
        out.write(encoded)
        out.write(data)
        directory.append((encoded, method, crc, csize, size, offset))
    start = out.tell()
    for encoded, method, crc, csize, size, offset in directory:
        out.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                csize,
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        out.write(encoded)
    end = out.tell()
    count = len(directory)
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, end - start, start, 0)
    )
    return out.getvalue()


def _with_member(name, data, method, size, crc=0, csize=None):
    """The genuine model's members plus (or replacing) one crafted member."""
    entries = []
    for member, raw in genuine_members().items():
        if member != name:
            entries.append((member, raw, 0, len(raw), zlib.crc32(raw)))
    entries.append(
        (name, data, method, size, crc, len(data) if csize is None else csize)
    )
    return zip_bytes(entries)


@functools.cache
def deflate_bomb(inflated=512 * MiB):
    """A member ``a0.npy`` of ``inflated`` bytes of zeros, deflated to ~1/1000.

    Built from one compressed MiB of zeros repeated (full flushes make the
    segments independent), so making it costs nothing like inflating it.
    Its CRC is the true one: a loader that inflates it meets no error
    before the digest.
    """
    header = npy_header(np.float64, ((inflated - 128) // 8,))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    n_body = (inflated - len(header)) // MiB
    tail = compressor.compress(bytes(inflated - len(header) - n_body * MiB))
    data = head + body * n_body + tail + compressor.flush()
    crc = zlib.crc32(header)
    zeros = bytes(MiB)
    for _ in range(n_body):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(bytes(inflated - len(header) - n_body * MiB), crc)
    return _with_member("a0.npy", data, 8, inflated, crc)


def stored_but_declared_huge(declared=512 * MiB):
    """A stored 1 MiB member whose directory entry claims ``declared`` bytes."""
    header = npy_header(np.float64, ((declared - 128) // 8,))
    data = header + bytes(MiB - len(header))
    return _with_member("a0.npy", data, 0, declared, csize=declared)


def header_larger_than_member(shape=(2**26,)):
    """A stored 1 MiB member whose ``.npy`` header claims 512 MiB."""
    header = npy_header(np.float64, shape)
    data = header + bytes(MiB - len(header))
    return _with_member("a0.npy", data, 0, len(data), zlib.crc32(data))


def many_members(n=11000):
    """The genuine model plus ``n`` empty members the document never names."""
    entries = [
        (member, raw, 0, len(raw), zlib.crc32(raw))
        for member, raw in genuine_members().items()
    ]
    entries += [(f"a{1000 + i}.npy", b"", 0, 0, 0) for i in range(n)]
    return zip_bytes(entries)


#: name -> builder of a hostile file of about 1 MB or less.
HOSTILE = {
    "deflate bomb (512 MiB)": deflate_bomb,
    "stored member declaring 512 MiB": stored_but_declared_huge,
    "header declaring 512 MiB": header_larger_than_member,
    "11,000 members": many_members,
}
