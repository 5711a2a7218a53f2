"""Atomic file replacement: the old file stays whole until the new one is.

:func:`atomic_write` writes to a temporary file beside the target, flushes
and fsyncs it, then renames it over the target with ``os.replace`` (atomic
on POSIX and Windows) and fsyncs the directory, so that the rename itself
survives a power cut. A write that fails, a full disk, a file-size limit or
a process killed at any moment leaves the previous file at the path intact:
readers see the old file or the new one, never a mixture.

The replacement leaks nothing and leaves nothing behind:

- The temporary file is created ``0o600`` (owner only) and given its final
  mode only once it is complete, so the content is never readable by anyone
  the final file would not admit.
- It is named ``.<name>.<12 hex digits>.skbp-tmp`` and locked (``flock``)
  while being written. A process killed outright leaves it behind, unlocked;
  the next save to the same path removes it (POSIX only).
- A file that ``open(path, "wb")`` would refuse to write (read-only mode,
  read-only file system, immutable) is refused the same way, with the same
  error, and left untouched.
"""

import contextlib
import os
import re
import secrets
import stat
import time

try:
    import fcntl
except ImportError:  # Windows: no flock, hence no safe clean-up of leftovers
    fcntl = None

__all__ = ["atomic_write"]

#: Names of the temporary files: ``.<target name>.<12 hex digits>.skbp-tmp``.
#: The suffix is skbp's own, so that only files skbp made are ever removed
#: (the older ``.tmp`` suffix is not matched: such files may be anyone's).
TEMPORARY_NAME = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{12}\.skbp-tmp", re.DOTALL)

#: A leftover temporary file younger than this (by its mtime) is kept: its
#: writer may have created it and not yet locked it.
STALE_AFTER_SECONDS = 5.0

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def atomic_write(path, write):
    """Call ``write(handle)`` on a temporary file, then move it to ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace. A symbolic link is followed: the file
        it points to is replaced, as a plain ``open(path, "wb")`` would
        write through it. An existing file keeps its permission bits; a new
        one gets those ``open`` would give it (``0o666`` less the umask).
    write : callable
        Called once with a binary file object open for writing.

    Raises
    ------
    PermissionError, OSError
        When ``path`` is an existing file that ``open(path, "wb")`` would
        refuse to write (read-only mode, read-only file system, immutable
        file): the same error, raised before anything is written. The
        superuser, whom ``open`` lets write a read-only file, may replace
        it.

    Notes
    -----
    On any exception (including ``KeyboardInterrupt``), the temporary file
    is removed and the exception re-raised; ``path`` is untouched. Only a
    process killed outright (SIGKILL, power loss) can leave the temporary
    file, named ``.<name>.<12 hex digits>.skbp-tmp`` beside the target,
    behind; on POSIX, the next save to the same path removes it (see
    ``_remove_stale_temporaries``).

    The temporary file is created with mode ``0o600`` and receives the final
    mode only after it has been written and fsynced, just before the
    rename: while being written, only its owner can read it.

    Replacing gives the path a new file (a new inode), owned by the user
    saving. Other hard links to the old file keep the old content, as they
    would after any rename over the path; a plain ``open(path, "wb")``
    would instead have rewritten the file they all share.

    A path that exists but is not a regular file (``/dev/null``, a FIFO) is
    written directly: it cannot be replaced, and there is no old content to
    keep.
    """
    target = os.fsdecode(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "wb") as handle:
            write(handle)
        return
    final_mode = _final_mode(target, mode)
    directory, name = os.path.split(target)
    _remove_stale_temporaries(directory, name)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.skbp-tmp")
    _write_and_replace(temporary, target, write, final_mode)
    _fsync_directory(directory)


def _final_mode(target, mode):
    """The permission bits the written file gets.

    Parameters
    ----------
    target : str
        The file to replace or create (symbolic links resolved).
    mode : int or None
        ``target``'s ``st_mode`` when it is a regular file, None when it
        does not exist.

    Returns
    -------
    int
        An existing file's own bits; for a new file, those ``open`` would
        give it (``0o666`` less the umask).

    Raises
    ------
    PermissionError, OSError
        When ``target`` exists and ``open(target, "wb")`` would refuse to
        write it: refused before anything is written, as ``open`` would.
    """
    if mode is None:
        return 0o666 & ~_umask()
    _check_writable(target)
    return stat.S_IMODE(mode)


def _write_and_replace(temporary, target, write, final_mode):
    """Create ``temporary``, ``write`` it, give it ``final_mode`` and rename
    it over ``target``; on any exception, remove it and re-raise.

    Parameters
    ----------
    temporary : str
        A new file's path beside ``target`` (its random name is not there).
    target : str
        The file to create or replace.
    write : callable
        Called once with a binary file object open on ``temporary``.
    final_mode : int
        The permission bits ``target`` ends with.
    """
    # O_EXCL: never write through a file (or link) someone else put there.
    # 0o600: nobody else reads the content before it has its final mode.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC | _O_NOFOLLOW
    fd = os.open(temporary, flags | _O_BINARY, 0o600)
    try:
        try:
            _lock(fd)  # until the rename: a live writer's file is not stale
            with open(fd, "wb", closefd=False) as handle:
                write(handle)
                handle.flush()
            os.fsync(fd)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, final_mode)
            else:  # Windows before Python 3.13
                os.chmod(temporary, final_mode)
            if fcntl is None:  # Windows cannot rename a file open here
                os.close(fd)
                fd = None
            os.replace(temporary, target)
        finally:
            if fd is not None:
                os.close(fd)  # releases the lock, after the rename
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _check_writable(target):
    """Raise what ``open(target, "wb")`` would raise, changing nothing.

    The rename needs only a writable directory; without this check a
    read-only file (``0o444``) would be replaced where ``open`` refuses it.
    Opening for writing without ``O_TRUNC`` asks the kernel the same
    question ``open`` does (mode bits as the effective user, read-only
    file systems, immutable files, the superuser's override) and leaves
    the content and mtime as they are. ``O_NONBLOCK``: never wait, were the
    file swapped for a FIFO meanwhile.
    """
    try:
        fd = os.open(target, os.O_WRONLY | _O_NONBLOCK | _O_CLOEXEC)
    except FileNotFoundError:
        return  # removed since: a new file, which the directory admits
    except BlockingIOError:
        return  # a lease being broken (open would wait): not a refusal
    os.close(fd)


def _umask():
    """The process's umask, read without changing it where possible."""
    # Linux 4.7+ shows it; setting it, even briefly, races with threads that
    # create files meanwhile.
    try:
        with open("/proc/self/status", "rb") as f:  # bytes: no codec to load
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere, set and restore it; a file another thread creates meanwhile
    # gets the narrowest mode (0o077), never a wider one.
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _lock(fd):
    """Lock ``fd`` exclusively, where possible; best effort, never fails."""
    if fcntl is None:
        return
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: free


def _remove_stale_temporaries(directory, name):
    """Remove the temporary files that killed saves to ``name`` left behind.

    A leftover is removed only when all of these hold: its name matches
    ``TEMPORARY_NAME`` for exactly this target's name; it is a regular
    file (not a symbolic link), owned by the effective user, last modified
    more than ``STALE_AFTER_SECONDS`` ago; and its lock can be taken
    without waiting: a writer holds the lock on its file until the rename,
    and the kernel releases it when the writer dies. The file is opened
    without following links and checked to be the one examined before it
    is unlinked.

    Best effort: any ``OSError`` skips the file (or the whole clean-up); a
    save never fails because of it. Skipped where ``fcntl`` is missing
    (Windows), for nothing there tells a dead writer from a live one.
    """
    if fcntl is None:
        return
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        match = TEMPORARY_NAME.fullmatch(entry)
        if match is None or match["name"] != name:
            continue
        with contextlib.suppress(OSError):
            _remove_if_stale(os.path.join(directory, entry))


def _remove_if_stale(path):
    """Unlink ``path`` if it is a stale temporary file of this user's."""

    def stale(st):
        return (
            stat.S_ISREG(st.st_mode)
            and st.st_uid == os.geteuid()
            and time.time() - st.st_mtime > STALE_AFTER_SECONDS
        )

    before = os.lstat(path)
    if not stale(before):
        return
    fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held: a live writer
        held = os.fstat(fd)
        same = (held.st_ino, held.st_dev) == (before.st_ino, before.st_dev)
        if not (same and stale(held)):
            return
        after = os.lstat(path)  # still the file locked, just before unlinking
        if (after.st_ino, after.st_dev) == (held.st_ino, held.st_dev):
            os.unlink(path)
    finally:
        os.close(fd)


def _fsync_directory(directory):
    """Make the rename durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:  # Windows: directories cannot be opened (nor need this)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory
    finally:
        os.close(fd)
