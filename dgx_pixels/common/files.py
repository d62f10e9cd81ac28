"""Atomic file writes (a crash never leaves a half-written file under the final name) and bounded reads of files a
user or a cloned repository supplies (never a FIFO that blocks, a device that never ends, or a file too big)."""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Callable

from .errors import InputError

# Flags that keep a read from blocking on a FIFO and, where asked, from following a link (0 where the OS lacks one).
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


# Called with each output file written (``--json`` reports them as they appear): atomic writes that are not durable
# records (manifests, journals and export history are written durably) and the export's in-place writes.
_write_listeners: list[Callable[[Path], None]] = []


@contextlib.contextmanager
def listening_to_writes(listener: Callable[[Path], None]):
    """Call ``listener(path)`` for each output file written meanwhile (from any thread)."""
    _write_listeners.append(listener)
    try:
        yield
    finally:
        _write_listeners.remove(listener)


@contextlib.contextmanager
def collecting_writes():
    """The output files written meanwhile, gathered into the list yielded instead of going to the listeners: a
    worker process hands them to its parent, whose listeners (copied into the worker when it forked) are the ones
    that report."""
    listening = _write_listeners[:]
    written: list[Path] = []
    _write_listeners[:] = [written.append]
    try:
        yield written
    finally:
        _write_listeners[:] = listening


def announce_write(path: str | Path) -> None:
    for listener in list(_write_listeners):
        listener(Path(path))


def fsync_dir(path: str | Path) -> None:
    """Make a rename or a new file in ``path`` survive a power cut (POSIX only)."""
    if os.name == "posix":
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _naming(err: OSError, path: Path) -> OSError:
    """``err`` about ``path`` itself (not the temporary file beside it), saying it could not be written."""
    return OSError(err.errno, f"cannot be written ({(err.strerror or str(err)).lower()})", str(path))


@contextlib.contextmanager
def atomic_path(path: str | Path, durable: bool = False):
    """Yield a temporary path beside ``path`` (unique, so concurrent writers never share one); on success it
    replaces ``path`` in one step. ``durable``: the data and the rename reach the disk before returning.
    An OSError names ``path`` (never the temporary file)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _naming(err, path) from None
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
        try:
            if durable:
                with open(temporary, "rb+") as handle:
                    os.fsync(handle.fileno())
            os.replace(temporary, path)
            if durable:
                fsync_dir(path.parent)
        except OSError as err:
            raise _naming(err, path) from None
        if not durable:
            announce_write(path)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: bytes, durable: bool = False) -> Path:
    with atomic_path(path, durable) as temporary:
        try:
            temporary.write_bytes(data)
        except OSError as err:
            raise _naming(err, Path(path)) from None
    return Path(path)


def open_regular(path: str | Path, what: str = "file", follow_links: bool = True):
    """``path`` opened for reading, refused with an InputError when it is missing, not a regular file (a FIFO that
    would block, a device that never ends, a folder), or a link while ``follow_links`` is off."""
    path = Path(path)
    flags = os.O_RDONLY | O_NONBLOCK | (0 if follow_links else O_NOFOLLOW) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except OSError as err:
        if not follow_links and os.path.islink(path):
            raise InputError(f"{path} is a symbolic link; it is not read through links") from None
        raise InputError(f"{path}: cannot be read ({(err.strerror or str(err)).lower()})") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise InputError(f"{path} is not a regular file (a FIFO, a device or a folder): it is not read as a {what}")
    return os.fdopen(descriptor, "rb")


def read_limited(path: str | Path, limit: int, what: str = "file", follow_links: bool = True) -> bytes:
    """The bytes of the regular file ``path`` (see open_regular), refused when bigger than ``limit`` bytes: the size
    is checked before anything is read, so a huge file costs nothing."""
    with open_regular(path, what, follow_links) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise InputError(f"{path} is {size:,} bytes; a {what} may be at most {limit:,}")
        try:
            data = handle.read(limit + 1)
        except OSError as err:
            raise InputError(f"{path}: cannot be read ({(err.strerror or str(err)).lower()})") from None
    if len(data) > limit:  # it grew while being read
        raise InputError(f"{path} is over {limit:,} bytes; a {what} may be at most {limit:,}")
    return data
