"""An exclusive lock held on a lock file: two processes (two ComfyUI servers, a server and the command line) that
export one asset at the same time take turns instead of mixing their files. The lock is the operating system's
(flock on POSIX, a byte-range lock on Windows), so it is released when its holder dies; the file stays."""
from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path

from .errors import InputError
from .files import O_NOFOLLOW

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

POLL_SECONDS = 0.05


def _try_lock(descriptor: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _unlock(descriptor: int) -> None:
    if fcntl is not None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    else:
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, what: str):
    """Hold the lock on ``path`` (created if missing, never through a link) for the ``with`` block; wait at most
    ``timeout`` seconds for another holder, then refuse with an InputError naming ``what``."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | O_NOFOLLOW, 0o644)
    except OSError as err:
        raise InputError(f"cannot open the lock file {path} ({(err.strerror or str(err)).lower()})") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise InputError(f"the lock file {path} is not a regular file; remove it")
        deadline = time.monotonic() + timeout
        while not _try_lock(descriptor):
            if time.monotonic() >= deadline:
                raise InputError(f"another export of {what} is still running after {timeout:g} s (it holds {path}); "
                                 "try again when it has finished")
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            _unlock(descriptor)
    finally:
        os.close(descriptor)
