"""Atomic file replacement: the old file stays whole until the new one is.

:func:`atomic_write` writes to a temporary file beside the target, flushes
and fsyncs it, then renames it over the target with ``os.replace`` (atomic
on POSIX and Windows) and fsyncs the directory, so that the rename itself
survives a power cut. A write that fails, a full disk, a file-size limit or
a process killed at any moment leaves the previous file at the path intact:
readers see the old file or the new one, never a mixture.
"""

import contextlib
import os
import secrets
import stat

__all__ = ["atomic_write"]


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

    Notes
    -----
    On any exception (including ``KeyboardInterrupt``), the temporary file
    is removed and the exception re-raised; ``path`` is untouched. Only a
    process killed outright (SIGKILL, power loss) can leave the temporary
    file, named ``.<name>.<random>.tmp`` beside the target, behind.

    A path that exists but is not a regular file (``/dev/null``, a FIFO) is
    written directly: it cannot be replaced, and there is no old content to
    keep.
    """
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "wb") as handle:
            write(handle)
        return
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never write through a file (or link) someone else put there.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, stat.S_IMODE(mode))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


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
