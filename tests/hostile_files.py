"""Hostile ``skbp.load`` inputs, built by hand (shared by tests and benchmarks).

Each builder returns the bytes of a file of at most about 1 MB that a
loader which trusts sizes would inflate to hundreds of MiB. The zip is
written byte by byte (local headers, central directory, end record) so that
its sizes and compression can lie.
"""

import functools
import io
import json
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
    with zipfile.ZipFile(io.BytesIO(as_format_2(buffer.getvalue()))) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def as_format_2(data):
    """A file of ``skbp.save`` relabelled as format version 2, with a
    matching digest: what this skbp and the versions before it both read
    (a model without best weights or a streaming history is the same in
    both), so that benchmarks can compare their loaders on the same files."""
    from skbp._persistence.archive import write_archive

    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    document = json.loads(bytes(arrays.pop("document")).decode())
    del arrays["digest"]
    if set(document["attributes"]) & {"streaming_history_"}:
        raise ValueError("format 2 cannot hold a streaming history")
    document["format_version"] = 2
    out = io.BytesIO()
    write_archive(out, json.dumps(document, sort_keys=True), arrays)
    return out.getvalue()


def zip_bytes(entries):
    """A zip of ``entries``: (name, data, method, size, crc[, csize[, extra]]).

    ``data`` is written as it is (already compressed for method 8); the
    sizes and CRC recorded are the ones given, true or not; ``extra`` (an
    extra field, such as a ZIP64 one) goes into both headers.
    """
    out, directory = io.BytesIO(), []
    for name, data, method, size, crc, *rest in entries:
        csize = rest[0] if rest else len(data)
        extra = rest[1] if len(rest) > 1 else b""
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
                len(extra),
            )
        )
        out.write(encoded + extra)
        out.write(data)
        directory.append((encoded, method, crc, csize, size, offset, extra))
    start = out.tell()
    for encoded, method, crc, csize, size, offset, extra in directory:
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
                len(extra),
                0,
                0,
                0,
                0,
                offset,
            )
        )
        out.write(encoded + extra)
    end = out.tell()
    count = len(directory)
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, end - start, start, 0)
    )
    return out.getvalue()


def _with_member(name, data, method, size, crc=0, csize=None, extra=b""):
    """The genuine model's members plus (or replacing) one crafted member."""
    entries = []
    for member, raw in genuine_members().items():
        if member != name:
            entries.append((member, raw, 0, len(raw), zlib.crc32(raw)))
    entries.append(
        (name, data, method, size, crc, len(data) if csize is None else csize, extra)
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


def genuine_document():
    """The genuine small model's document (parsed) and arrays (name -> array)."""
    arrays = {
        name.removesuffix(".npy"): np.load(io.BytesIO(raw), allow_pickle=False)
        for name, raw in genuine_members().items()
    }
    document = json.loads(bytes(arrays.pop("document")).decode())
    del arrays["digest"]
    return document, arrays


def with_document(edit, extra_arrays=None):
    """The genuine model's file, its document changed by ``edit(document)``
    and ``extra_arrays`` added, with a digest that matches: only the
    loader's checks of the content can refuse it."""
    from skbp._persistence.archive import write_archive

    document, arrays = genuine_document()
    edit(document)
    arrays.update(extra_arrays or {})
    out = io.BytesIO()
    write_archive(out, json.dumps(document), arrays)
    return out.getvalue()


def dense_hidden_layer_sizes(n=350_000):
    """A 1 MB ``hidden_layer_sizes`` of ``n`` layers (its repr: 1.4 MB)."""

    def edit(document):
        document["params"]["hidden_layer_sizes"] = {"__tuple__": [1] * n}

    return with_document(edit)


def dense_layer_units(n=350_000):
    """A 1 MB ``layer_units`` of ``n`` widths."""

    def edit(document):
        document["layer_units"] = [1] * n

    return with_document(edit)


def many_lists(n=250_000):
    """A 1 MB loss curve of ``n`` empty lists: containers, not numbers."""

    def edit(document):
        document["attributes"]["loss_curve_"] = [[]] * n

    return with_document(edit)


def many_dict_entries(n=60_000):
    """A parameter given as a dict of ``n`` entries (1 MB of pairs)."""

    def edit(document):
        document["params"]["random_state"] = {"__dict__": [[i, 1] for i in range(n)]}

    return with_document(edit)


def deep_nesting(depth=300_000):
    """A document nesting lists ``depth`` deep (0.6 MB)."""

    # The nesting is spliced into the JSON text (json.dumps would recurse).
    document, arrays = genuine_document()
    document["attributes"]["loss_"] = "NEST"
    nested = "[" * depth + "]" * depth
    body = json.dumps(document).replace('"NEST"', nested)
    from skbp._persistence.archive import write_archive

    out = io.BytesIO()
    write_archive(out, body, arrays)
    return out.getvalue()


def parameter_array(n=131_072):
    """``hidden_layer_sizes`` held as a 1 MiB int64 array member."""

    def edit(document):
        document["params"]["hidden_layer_sizes"] = {"__array__": "a99"}

    return with_document(edit, {"a99": np.ones(n, dtype=np.int64)})


def zero_itemsize(dtype="S0", shape=(10**12,)):
    """A member of ``10**12`` zero-byte items: 0 bytes by shape x itemsize,
    a terabyte once numpy makes the array (``S0`` becomes ``S1``)."""
    data = npy_header(dtype, shape)
    return _with_member("a0.npy", data, 0, len(data), zlib.crc32(data))


def zip64_size_lie(shape=(100_000, 5_000)):
    """A 3.7 GiB first weight matrix in a file of a few KB.

    The document declares layer widths that allow it, the member's header
    declares its shape, and the member's ZIP64 extra field declares its
    uncompressed size to match, while its stored size is the few bytes the
    file holds: every declared size agrees with every other, and none with
    the file. A loader that trusts them reserves 3.7 GiB before reading.
    """
    import zipfile

    def edit(document):
        document["layer_units"] = [shape[0], shape[1], 1]

    with zipfile.ZipFile(io.BytesIO(with_document(edit))) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    raw = npy_header(np.float64, shape) + bytes(64)
    declared = len(raw) - 64 + 8 * shape[0] * shape[1]
    # The ZIP64 extra: the true sizes stand at 0xFFFFFFFF in the records.
    extra = struct.pack("<HHQQ", 0x0001, 16, declared, len(raw))
    entries = [
        (name, data, 0, len(data), zlib.crc32(data))
        for name, data in members.items()
        if name != "a0.npy"
    ]
    entries.append(("a0.npy", raw, 0, 0xFFFFFFFF, zlib.crc32(raw), 0xFFFFFFFF, extra))
    return zip_bytes(entries)


def zip_of_many_entries(n=22_250):
    """1 MB of ``n`` directory entries (Python's zipfile parses each), of
    one-letter names, all pointing at the same local member."""
    data = zip_bytes(
        [(m, raw, 0, len(raw), zlib.crc32(raw)) for m, raw in genuine_members().items()]
    )
    end = data.rindex(b"PK\x05\x06")
    start = struct.unpack("<I", data[end + 16 : end + 20])[0]
    first = data[start : data.index(b"PK\x01\x02", start + 4)]  # one entry
    name_at = 46
    entries = [first[:name_at] + b"x" for _ in range(n)]
    # Each entry's name length field (offset 28) matches its new name.
    entries = [e[:28] + struct.pack("<H", len(e) - name_at) + e[30:] for e in entries]
    directory = b"".join(entries)
    record = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, n & 0xFFFF, n & 0xFFFF, len(directory), start, 0
    )
    if n > 0xFFFF:
        raise ValueError("n must fit a plain end record")
    return data[:start] + directory + record


#: name -> builder of a hostile file of about 1 MB or less.
HOSTILE = {
    "deflate bomb (512 MiB)": deflate_bomb,
    "stored member declaring 512 MiB": stored_but_declared_huge,
    "header declaring 512 MiB": header_larger_than_member,
    "11,000 members": many_members,
    "22,250 directory entries": zip_of_many_entries,
    "hidden_layer_sizes of 350,000 layers": dense_hidden_layer_sizes,
    "layer_units of 350,000 widths": dense_layer_units,
    "250,000 empty lists": many_lists,
    "60,000 dict entries": many_dict_entries,
    "lists nested 300,000 deep": deep_nesting,
    "1 MiB parameter array": parameter_array,
    "S0 array of 10**12 items": zero_itemsize,
    "U0 array of 10**12 items": functools.partial(zero_itemsize, "U0"),
    "ZIP64 sizes declaring 3.7 GiB": zip64_size_lie,
}
