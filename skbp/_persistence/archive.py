"""The ``.npz`` container of :func:`skbp.save`: written whole, read bounded.

An archive is a zip of ``.npy`` members, uncompressed (what ``numpy.savez``
writes): ``document`` (the JSON text as uint8), ``a0``, ``a1``, ... (the
arrays) and ``digest``, the SHA-256 of every other member's name, dtype,
shape and bytes.

:func:`read_archive` never trusts a size it has not checked, and checks
cost before work. A path is opened only if it is a regular file (a FIFO or
a device would block or never end), and nothing is ever read past the size
the open file reported, whatever the file claims or does. Before the zip
directory is parsed, its end record must declare at most
:data:`MAX_MEMBERS` members in a directory of a plausible size. Before a
byte of any array is read it has checked, from the zip directory and each
member's ``.npy`` header alone, that:

- every member is an uncompressed ``.npy`` file with an expected name, so
  no member can inflate beyond the bytes the file holds;
- each member's size in the directory is exactly its header's shape times
  its dtype's item size, an item size of zero being refused (numpy would
  allocate such an array as one byte per item);
- the document is at most :data:`MAX_DOCUMENT_BYTES`, and the arrays
  together at most what the document's layer sizes imply (``budget``),
  each within the limit the document allows the field holding it.

Whatever goes wrong while reading (a truncated or corrupt zip, a flag
``zipfile`` does not implement, an I/O error) is one ``ValueError``.

The arrays are then read in chunks straight into their final buffers, and
the digest is computed as they stream past: loading needs the model's own
arrays plus a chunk, never a second copy.
"""

import contextlib
import gc
import hashlib
import io
import json
import os
import re
import stat
import struct
import zipfile

import numpy as np

__all__ = [
    "ArchiveDigest",
    "MAX_DOCUMENT_BYTES",
    "MAX_MEMBERS",
    "ArchivePlan",
    "write_archive",
    "read_archive",
]

#: Largest JSON document :func:`read_archive` inflates (and :func:`skbp.save`
#: writes): parameters, counters and labels take kilobytes; loss curves are
#: stored as arrays.
MAX_DOCUMENT_BYTES = 4 * 2**20
#: Most members an archive may hold: the document, the digest, and a
#: thousand layers' weights and biases with room to spare. Python's
#: ``zipfile`` parses every directory entry, so the count is checked first.
MAX_MEMBERS = 2048
DOCUMENT, DIGEST = "document", "digest"
_ARRAY_NAME = re.compile(r"a(0|[1-9][0-9]{0,5})")
# A directory entry: 46 fixed bytes, the name (``a123456.npy``), a ZIP64
# extra field of at most 32 bytes; twice that, for other writers' extras.
_MAX_ENTRY_BYTES = 2 * (46 + 16 + 32)
# The end of central directory record, and its ZIP64 locator and record.
_END, _END64_LOCATOR, _END64 = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
# The only general-purpose flags of a plain member: bit 3 (sizes in a data
# descriptor, written to unseekable files) and bit 11 (UTF-8 names).
_PLAIN_FLAGS = 0x8 | 0x800
# zipfile's errors for files it cannot read: corrupt (BadZipFile, EOFError,
# struct.error), flags it does not implement (NotImplementedError: strong
# encryption, patched data, unknown compression), I/O (OSError).
_READ_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    NotImplementedError,
    struct.error,
    OverflowError,
    OSError,
)
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


class ArchivePlan:
    """What the document allows the arrays, decided before any is read.

    Parameters
    ----------
    max_bytes : int
        The largest total size in bytes of the archive's arrays.
    fields : dict of str to str
        Member name -> the field holding it, for messages (such as
        ``"coefs_[0] (member 'a2')"``); members not named are refused.
    limits : dict of str to int, optional
        Member name -> the most bytes that one member may hold (the fields
        whose size the document bounds more tightly, such as parameters).
    """

    def __init__(self, max_bytes, fields, limits=None):
        self.max_bytes, self.fields, self.limits = max_bytes, fields, limits or {}


class _Member:
    """One checked member: where its data starts, and what it holds."""

    __slots__ = ("info", "offset", "dtype", "shape", "nbytes", "span")

    def __init__(self, info, offset, dtype, shape):
        self.info, self.offset, self.dtype, self.shape = info, offset, dtype, shape
        self.nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        # What its dimensions would span if none were zero: an empty array
        # of shape (10**12, 0) holds no bytes but no model has such a layer.
        self.span = int(np.prod([max(n, 1) for n in shape], dtype=object))
        self.span *= dtype.itemsize


def read_archive(file, plan):
    """Read an archive, checking every size before it is trusted.

    Parameters
    ----------
    file : str, os.PathLike or binary file object
        A path must name a regular file.
    plan : callable
        Called with the parsed JSON document, before any array is read;
        returns an :class:`ArchivePlan`, or raises ``ValueError`` if the
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
        Naming what is wrong: not a regular file, not an archive, a member
        that is compressed, unexpected, oversized or inconsistent with its
        header, arrays larger than the plan allows, a digest that does not
        match, or any other failure to read the file.
    FileNotFoundError, PermissionError
        If the path cannot be opened.
    """
    with _opened(file) as handle:
        try:
            _check_end_record(handle)
            with zipfile.ZipFile(handle) as archive:
                document, arrays, stored, digest = _read_all(archive, plan)
        except zipfile.BadZipFile as exc:
            raise ValueError(_not_an_archive(handle, exc)) from exc
        except _READ_ERRORS as exc:
            raise ValueError(
                f"it is truncated or corrupted ({type(exc).__name__}: {str(exc)[:200]})"
            ) from exc
    if bytes(stored).decode("ascii", "replace") != digest.hexdigest():
        raise ValueError(
            "it has been modified or corrupted since it was saved: its SHA-256 "
            "digest does not match its content"
        )
    return document, {name: _native(array) for name, array in arrays.items()}


@contextlib.contextmanager
def _opened(file):
    """``file`` as a :class:`_Bounded` handle; a path only if a regular file.

    The path is checked before it is opened (opening a FIFO waits for a
    writer), opened without blocking, and checked again once open (it may
    have been swapped in between).
    """
    if not isinstance(file, (str, os.PathLike)):
        yield _Bounded(file, None)
        return
    _check_regular(os.stat(file).st_mode, file)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(file, flags)
    try:
        info = os.fstat(fd)
        _check_regular(info.st_mode, file)
        with open(fd, "rb", closefd=False) as raw:
            yield _Bounded(raw, info.st_size)
    finally:
        os.close(fd)


def _check_regular(mode, path):
    if stat.S_ISREG(mode):
        return
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    kind = next((name for test, name in kinds.items() if test(mode)), "not a file")
    raise ValueError(f"it is {kind}, not a regular file")


class _Bounded(io.RawIOBase):
    """A read-only view of a binary file that never reads past ``size``.

    ``size`` is what ``fstat`` reported when the file was opened (for a
    file object: its length then). A file that grows, or whose size was a
    lie (``/proc``, a network file system), still yields at most that many
    bytes: everything read is bounded by a number checked up front.
    """

    def __init__(self, raw, size):
        super().__init__()
        if size is None:
            size = raw.seek(0, io.SEEK_END)
        self._raw, self._size, self._position = raw, size, 0
        self.name = getattr(raw, "name", None)

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}
        position = base[whence] + offset
        if position < 0:  # as a file would: zipfile expects OSError here
            raise OSError(22, "Invalid argument: a negative position")
        self._position = position
        return position

    def read(self, n=-1):
        # Straight from the file (RawIOBase's read would copy twice more).
        left = max(0, self._size - self._position)
        n = left if n is None or n < 0 else min(n, left)
        if n == 0:
            return b""
        self._raw.seek(self._position)
        data = self._raw.read(n)
        self._position += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self):  # the caller owns the underlying file
        super().close()


def _check_end_record(handle):
    """Refuse, from the zip's end record alone, a directory too big to parse.

    Python's ``zipfile`` parses every directory entry in Python; a 1 MB
    file can hold twenty thousand. The end record (and its ZIP64 version)
    declares the entry count and the directory's size: both are bounded
    before ``zipfile`` sees the file. A file without an end record is left
    to ``zipfile``, which says so.
    """
    size = handle.seek(0, io.SEEK_END)
    tail_start = max(0, size - (22 + 0xFFFF))
    handle.seek(tail_start)
    tail = handle.read(size - tail_start)
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < 22:
        return
    _, _, _, _, count, directory_size, _, _ = struct.unpack(
        "<4s4H2LH", tail[at : at + 22]
    )
    locator = at - 20
    if locator >= 0 and tail[locator : locator + 4] == _END64_LOCATOR:
        (offset64,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        if offset64 > size - 56:
            raise ValueError("its ZIP64 end record lies outside the file")
        handle.seek(offset64)
        record = handle.read(56)
        if record[:4] != _END64:
            raise ValueError("its ZIP64 end record is missing")
        count, directory_size = struct.unpack("<QQ", record[32:48])
    if count > MAX_MEMBERS or directory_size > MAX_MEMBERS * _MAX_ENTRY_BYTES:
        raise ValueError(
            f"its zip directory declares {count} members in {directory_size} "
            f"bytes; a file written by skbp.save holds at most {MAX_MEMBERS}"
        )
    if directory_size > size:
        raise ValueError(
            f"it is truncated: its zip directory declares {directory_size} "
            f"bytes, the file holds {size}"
        )


def _read_all(archive, plan):
    """The document, the arrays, the stored digest and the computed one.

    Parameters
    ----------
    archive : zipfile.ZipFile
        The open archive, whose end record was checked.
    plan : callable
        :func:`read_archive`'s: the document's :class:`ArchivePlan`.

    Returns
    -------
    document : object
        The parsed JSON document.
    arrays : dict of str to ndarray
        The arrays, as stored.
    stored : ndarray
        The ``digest`` member's bytes.
    digest : ArchiveDigest
        The digest of the document and the arrays, computed as they were read.
    """
    infos = _directory(archive)
    document_bytes = _read_member(archive, _byte_string(archive, infos, DOCUMENT))
    document = _document(document_bytes)
    plan = plan(document)
    members = _checked_members(archive, infos, plan)
    digest = ArchiveDigest()
    arrays = {}
    # The digest covers the members in name order, the document among them.
    for name in sorted([*members, DOCUMENT]):
        if name == DOCUMENT:
            digest.add(name, document_bytes)
        else:
            arrays[name] = _read_member(archive, members[name], digest)
    stored = _read_member(archive, _byte_string(archive, infos, DIGEST))
    return document, arrays, stored, digest


def _document(document_bytes):
    """The JSON document parsed from its member's bytes.

    Raises
    ------
    ValueError
        For text that is not UTF-8 JSON, or that nests too deeply to parse.
    """
    try:
        return _parse(bytes(document_bytes))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"its document is malformed ({str(exc)[:200]})") from exc
    except RecursionError:
        raise ValueError("its document is nested too deeply") from None


def _checked_members(archive, infos, plan):
    """The arrays' members, each checked against ``plan`` from its header.

    Parameters
    ----------
    archive : zipfile.ZipFile
        The open archive.
    infos : dict of str to zipfile.ZipInfo
        Every member, by name (:func:`_directory`).
    plan : ArchivePlan
        What the document allows the arrays.

    Returns
    -------
    dict of str to _Member
        The array members (not the document nor the digest), in the
        directory's order, no byte of their data read.

    Raises
    ------
    ValueError
        For a member the document never refers to, a member larger than its
        field may hold, or arrays larger together than the layer sizes imply.
    """
    # Only members the document refers to are worth a look: the others are
    # refused before a single header of theirs is read.
    unreferenced = sorted(set(infos) - {DOCUMENT, DIGEST} - set(plan.fields))
    if unreferenced:
        shown = ", ".join(unreferenced[:5]) + (", ..." if unreferenced[5:] else "")
        raise ValueError(
            f"it holds {len(unreferenced)} arrays its document never refers to "
            f"({shown})"
        )
    members = {}
    for name, info in infos.items():
        if name in (DOCUMENT, DIGEST):
            continue
        field = plan.fields.get(name, f"member {name!r}")
        members[name] = member = _header(archive, info, field)
        _check_member_size(member, name, field, plan)
    total = sum(member.nbytes for member in members.values())
    if total > plan.max_bytes:
        raise ValueError(
            f"its arrays declare {total} bytes, more than the {plan.max_bytes} "
            "bytes its layer sizes imply"
        )
    return members


def _check_member_size(member, name, field, plan):
    """One member spans at most the bytes its field may hold.

    The limit is the plan's for the whole model, or the member's own where
    the document bounds that field more tightly.

    Raises
    ------
    ValueError
        Naming ``field``, its declared shape and dtype, and the limit.
    """
    limit, what = plan.max_bytes, "its layer sizes imply"
    if name in plan.limits and plan.limits[name] < limit:
        limit, what = plan.limits[name], "that field may hold"
    if member.span > limit:
        raise ValueError(
            f"its {field} declares shape {member.shape[:8]} of "
            f"{member.dtype.str}, more than the {limit} bytes {what}"
        )


def _parse(text):
    """The JSON document, parsed with the cyclic garbage collector paused.

    A hostile megabyte of ``[],[],...`` makes a third of a million lists;
    each allocation may start a collection that walks every object of the
    process (numpy's, scikit-learn's), which made parsing it cost ten
    times its work. JSON values hold no cycles: nothing is left to collect.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(text.decode("utf-8"))
    finally:
        if enabled:
            gc.enable()


def _not_an_archive(handle, exc):
    handle.seek(0)
    if handle.read(6) == b"\x93NUMPY":
        return "it holds a single numpy array, not a file written by skbp.save"
    return (
        "it is truncated, corrupted or not a file written by skbp.save "
        f"({type(exc).__name__}: {str(exc)[:200]})"
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
            raise ValueError(f"it holds an unexpected member {info.filename[:60]!r}")
        if (
            info.compress_type != zipfile.ZIP_STORED
            or info.flag_bits & ~_PLAIN_FLAGS
            or info.compress_size != info.file_size
        ):
            raise ValueError(
                f"its member {name!r} is compressed, encrypted or of inconsistent "
                "sizes; skbp.save writes plain, uncompressed members"
            )
    file_size = archive.fp.seek(0, io.SEEK_END)
    stored = sum(info.compress_size for info in infos)
    # Each member's data lies in the file (a local header is 30 bytes and
    # the name): none can claim bytes the file does not hold.
    if stored > file_size or any(
        info.header_offset + 30 + len(info.filename) + info.compress_size > file_size
        for info in infos
    ):
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
        except (ValueError, EOFError, zipfile.BadZipFile, SyntaxError) as exc:
            raise ValueError(f"its {name} has a bad header ({str(exc)[:200]})") from exc
        offset = handle.tell()
    shape, fortran_order, dtype = header
    if dtype.itemsize == 0:
        # numpy allocates S0/U0/V0 arrays as one item of S1/U1/V1 per element:
        # a shape of 10**12 "zero-byte" items is a terabyte.
        raise ValueError(f"its {name} has a dtype of zero-byte items ({dtype.str})")
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
