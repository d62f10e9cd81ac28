"""Atomic file writes: a crash never leaves a half-written file under the final name."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_dir(path: str | Path) -> None:
    """Make a rename or a new file in ``path`` survive a power cut (POSIX only)."""
    if os.name == "posix":
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def atomic_path(path: str | Path, durable: bool = False):
    """Yield a temporary path beside ``path`` (unique, so concurrent writers never share one); on success it
    replaces ``path`` in one step. ``durable``: the data and the rename reach the disk before returning."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
        if durable:
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
        if durable:
            fsync_dir(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: bytes, durable: bool = False) -> Path:
    with atomic_path(path, durable) as temporary:
        temporary.write_bytes(data)
    return Path(path)
