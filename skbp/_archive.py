"""The ``.npz`` container of :func:`skbp.save`: written whole, read bounded.

An archive is a zip of ``.npy`` members, uncompressed (what ``numpy.savez``
writes): ``document`` (the JSON text as uint8), ``a0``, ``a1``, ... (the
arrays) and ``digest``, the SHA-256 of every other member's name, dtype,
shape and bytes.

:func:`read_archive` never trusts a size it has not checked. Before a byte
of any array is read it has checked, from the zip directory and each
member's ``.npy`` header alone, that:

- every member is an uncompressed ``.npy`` file with an expected name, so
  no member can inflate beyond the bytes the file holds;
- each member's size in the directory is exactly its header's shape times
  its dtype's item size;
- the document is at most :data:`MAX_DOCUMENT_BYTES`, and the arrays
  together at most what the document's layer sizes imply (``budget``).

The arrays are then read in chunks straight into their final buffers, and
the digest is computed as they stream past: loading needs the model's own
arrays plus a chunk, never a second copy.
"""

import hashlib
import io
import json
import re
import zipfile

import numpy as np

__all__ = [
    "ArchiveDigest",
    "MAX_DOCUMENT_BYTES",
    "write_archive",
    "read_archive",
]

#: Largest JSON document :func:`read_archive` inflates (and :func:`skbp.save`
#: writes): parameters, counters and labels take kilobytes; loss curves are
#: stored as arrays.
MAX_DOCUMENT_BYTES = 4 * 2**20
DOCUMENT, DIGEST = "document", "digest"
_ARRAY_NAME = re.compile(r"a(0|[1-9][0-9]{0,5})")
_DTYPE_KINDS = frozenset("biufUS")
_CHUNK = 2**20


class ArchiveDigest:
    """SHA-256 over members, in sorted name order, fed one chunk at a time.

    For each member: the length-prefixed JSON ``[name, dtype.str, shape]``,
    then the length-prefixed C-order bytes of the array.
    """

    def __init__(self):
        self._sha = hashlib.sha256()

    def _chunk(self, data):
        self._sha.update(len(data).to_bytes(8, "little"))
        self._sha.update(data)

    def begin(self, name, dtype, shape, nbytes):
        """Start member ``name``; its ``nbytes`` bytes follow through :meth:`update`."""
        self._chunk(json.dumps([name, dtype.str, list(shape)]).encode())
        self._sha.update(nbytes.to_bytes(8, "little"))

    def update(self, data):
        self._sha.update(data)

    def add(self, name, array):
        """A whole member at once (used when writing)."""
        self.begin(name, array.dtype, array.shape, array.nbytes)
        self.update(_bytes_view(array))

    def hexdigest(self):
        return self._sha.hexdigest()


def _bytes_view(array):
    """The bytes of a C-contiguous array, without a copy."""
    return array.reshape(-1).view(np.uint8).data


def little_endian(array):
    """``array`` as a C-contiguous little-endian array: what archives hold."""
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))


def write_archive(handle, document, arrays):
    """Write ``document`` (a JSON string) and ``arrays`` (name -> array) to ``handle``.

    The arrays must already be C-contiguous and little-endian
    (:func:`little_endian`).
    """
    members = {DOCUMENT: np.frombuffer(document.encode("utf-8"), dtype=np.uint8)}
    members.update(arrays)
    digest = ArchiveDigest()
    for name in sorted(members):
        digest.add(name, members[name])
    members[DIGEST] = np.frombuffer(digest.hexdigest().encode("ascii"), np.uint8)
    np.savez(handle, **members)


class _Member:
    """One checked member: where its data starts, and what it holds."""

    __slots__ = ("info", "offset", "dtype", "shape", "nbytes")

    def __init__(self, info, offset, dtype, shape):
        self.info, self.offset, self.dtype, self.shape = info, offset, dtype, shape
        self.nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize


def read_archive(file, plan):
    """Read an archive, checking every size before it is trusted.

    Parameters
    ----------
    file : str, os.PathLike or binary file object
    plan : callable
        Called with the parsed JSON document, before any array is read.
        Returns ``(max_bytes, fields)``: the largest total size in bytes the
        archive's arrays may have, and a dict naming the field each array
        member holds (for error messages). Raises ``ValueError`` if the
        document cannot say.

    Returns
    -------
    document : object
        The parsed JSON document.
    arrays : dict of str to ndarray
        The arrays, in native byte order.

    Raises
    ------
    ValueError
        Naming what is wrong: not an archive, a member that is compressed,
        unexpected, oversized or inconsistent with its header, arrays larger
        than the plan allows, or a digest that does not match.
    """
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(_not_an_archive(file, exc)) from exc
    with archive:
        try:
            document, arrays, stored, digest = _read_all(archive, plan)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(
                f"it is truncated or corrupted ({type(exc).__name__}: {exc})"
            ) from exc
    if bytes(stored).decode("ascii", "replace") != digest.hexdigest():
        raise ValueError(
            "it has been modified or corrupted since it was saved: its SHA-256 "
            "digest does not match its content"
        )
    return document, {name: _native(array) for name, array in arrays.items()}


def _read_all(archive, plan):
    infos = _directory(archive)
    document_bytes = _read_member(archive, _byte_string(archive, infos, DOCUMENT))
    try:
        document = json.loads(bytes(document_bytes).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"its document is malformed ({exc})") from exc
    max_bytes, fields = plan(document)
    # Only members the document refers to are worth a look: the others are
    # refused before a single header of theirs is read.
    unreferenced = sorted(set(infos) - {DOCUMENT, DIGEST} - set(fields))
    if unreferenced:
        shown = ", ".join(unreferenced[:5]) + (", ..." if unreferenced[5:] else "")
        raise ValueError(
            f"it holds {len(unreferenced)} arrays its document never refers to "
            f"({shown})"
        )
    members = {
        name: _header(archive, info, fields.get(name, f"member {name!r}"))
        for name, info in infos.items()
        if name not in (DOCUMENT, DIGEST)
    }
    total = sum(member.nbytes for member in members.values())
    if total > max_bytes:
        raise ValueError(
            f"its arrays declare {total} bytes, more than the {max_bytes} bytes "
            "its layer sizes imply"
        )
    digest = ArchiveDigest()
    arrays = {}
    for name in sorted([*members, DOCUMENT]):
        if name == DOCUMENT:
            digest.add(name, document_bytes)
        else:
            arrays[name] = _read_member(archive, members[name], digest)
    stored = _read_member(archive, _byte_string(archive, infos, DIGEST))
    return document, arrays, stored, digest


def _not_an_archive(file, exc):
    if hasattr(file, "read"):
        file.seek(0)
        head = file.read(6)
    else:
        with open(file, "rb") as handle:
            head = handle.read(6)
    if head == b"\x93NUMPY":
        return "it holds a single numpy array, not a file written by skbp.save"
    return (
        "it is truncated, corrupted or not a file written by skbp.save "
        f"({type(exc).__name__}: {exc})"
    )


def _directory(archive):
    """Check the zip directory (no member read); return name -> ZipInfo.

    Every member must be an uncompressed ``.npy`` file with an expected
    name, and together they must fit in the file: a member then cannot
    inflate beyond the bytes the file holds.
    """
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if "document.npy" not in names or "digest.npy" not in names:
        raise ValueError("it is not a file written by skbp.save")
    if len(set(names)) != len(names):
        raise ValueError("it holds two members of the same name")
    for info in infos:
        name = info.filename.removesuffix(".npy")
        if not (
            info.filename.endswith(".npy")
            and (name in (DOCUMENT, DIGEST) or _ARRAY_NAME.fullmatch(name))
        ):
            raise ValueError(f"it holds an unexpected member {info.filename!r}")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise ValueError(
                f"its member {name!r} is compressed or encrypted; skbp.save "
                "writes plain, uncompressed members"
            )
    stored = sum(info.compress_size for info in infos)
    file_size = archive.fp.seek(0, io.SEEK_END)
    if stored > file_size:
        raise ValueError(
            f"it is truncated: its members declare {stored} bytes, the file "
            f"holds {file_size}"
        )
    return {info.filename.removesuffix(".npy"): info for info in infos}


def _byte_string(archive, infos, name):
    """The checked header of the document or the digest: bytes, bounded."""
    member = _header(archive, infos[name], name)
    limit = MAX_DOCUMENT_BYTES if name == DOCUMENT else 64
    if member.dtype != np.uint8 or len(member.shape) != 1:
        raise ValueError(f"its {name} is not a byte string")
    if member.nbytes > limit:
        raise ValueError(
            f"its {name} declares {member.nbytes} bytes, more than the {limit} "
            "skbp.save ever writes"
        )
    return member


def _header(archive, info, name):
    """Read and check one member's ``.npy`` header (nothing more).

    ``name`` is what error messages call it: the field it holds.
    """
    with archive.open(info) as handle:
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                header = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                header = np.lib.format.read_array_header_2_0(handle)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"its {name} has a bad header ({exc})") from exc
        offset = handle.tell()
    shape, fortran_order, dtype = header
    if dtype.str[0] == ">":
        raise ValueError(
            f"its {name} is big-endian ({dtype.str}); skbp.save "
            "writes little-endian arrays"
        )
    if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None or dtype.shape:
        raise ValueError(f"its {name} has an unsupported dtype {dtype}")
    if fortran_order and len(shape) > 1:
        raise ValueError(f"its {name} is in Fortran order")
    member = _Member(info, offset, dtype, shape)
    if info.file_size != offset + member.nbytes:
        raise ValueError(
            f"its {name} declares {info.file_size} bytes, but its "
            f"header's shape {shape} and dtype {dtype} make "
            f"{offset + member.nbytes}"
        )
    return member


def _read_member(archive, member, digest=None):
    """The member's array, read in chunks into its buffer (fed to ``digest``)."""
    array = np.empty(member.shape, dtype=member.dtype)
    view = array.reshape(-1).view(np.uint8)
    if digest is not None:
        name = member.info.filename.removesuffix(".npy")
        digest.begin(name, member.dtype, member.shape, array.nbytes)
    with archive.open(member.info) as handle:
        handle.seek(member.offset)
        position = 0
        while position < array.nbytes:
            chunk = handle.read(min(_CHUNK, array.nbytes - position))
            if not chunk:
                raise ValueError(
                    f"it is truncated: member {member.info.filename!r} ends early"
                )
            view[position : position + len(chunk)] = np.frombuffer(chunk, np.uint8)
            position += len(chunk)
            if digest is not None:
                digest.update(chunk)
    return array


def _native(array):
    return array.astype(array.dtype.newbyteorder("="), copy=False)
