"""Safe export writes: only inside allowed roots and the project's ``assets/``, never through a link, never losing a
previous file, one export of an asset at a time, and recoverable after a crash.

Rules (see paths.py for where writes may go, journal.py for the records kept in ``<project>/.dgx-pixels/``):
- Final files are written in place (open, write, fsync): a game's asset watcher sees a modification of the same
  file, which it hot-reloads (Bevy ignores renames, so write-then-rename would not reload).
- Before a file changes, its previous version is copied to the history with its sha256; the new version is first
  written completely to the pending folder with a journal. A crash while the final files are written leaves both
  versions on disk; the asset's next export (or ``recover``) finishes the interrupted one from the pending copy.
- Exports of one asset take turns on a lock file: the second waits (at most ``lock_timeout`` seconds) and then
  snapshots the first one's files into the history like any other replaced version.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from ..common.errors import InputError
from ..common.files import fsync_dir
from ..common.locks import file_lock
from . import journal
from .paths import STATE_DIR, asset_parts, check_file_name, check_real_path, inner_dir, inner_file, read_inner, \
    write_in_place

LOCK_TIMEOUT = 120.0


@dataclass
class WriteResult:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    history: Path | None = None  # the snapshot of replaced files, when any file was replaced
    recovered: list[Path] = field(default_factory=list)  # files an interrupted earlier export was finished with
    set_aside: list[str] = field(default_factory=list)  # why pending copies that could not be trusted were not used


@contextlib.contextmanager
def asset_lock(project: Path, asset: str, timeout: float):
    *parent, name = asset.split("/")
    with file_lock(inner_dir(project, [STATE_DIR, "locks", *parent]) / f"{name}.lock", timeout, asset):
        yield


def write_asset_files(project: Path, asset: str, files: dict[str, bytes], roots: list[Path],
                      lock_timeout: float = LOCK_TIMEOUT) -> WriteResult:
    """Write ``files`` (name -> bytes) into ``<project>/<asset>`` (``assets/<kind>/<name>``), safely.

    Unchanged files are not touched (no needless hot reload, no history entry).
    """
    name = asset_parts(asset)[2]
    for file_name in files:
        check_file_name(file_name, name)
    project = check_real_path(project, roots)
    with asset_lock(project, asset, lock_timeout):
        result = WriteResult()
        result.recovered, result.set_aside = journal.finish_pending(project, asset)
        directory = inner_dir(project, asset.split("/"))
        old: dict[str, bytes] = {}
        changed: dict[str, bytes] = {}
        for file_name, data in files.items():
            target = directory / file_name
            if inner_file(target, project):
                current = read_inner(target, journal.FILE_LIMIT, "exported file")
                if current == data:
                    result.unchanged.append(target)
                    continue
                old[file_name] = current
            changed[file_name] = data
        if not changed:
            return result
        if old:
            result.history = journal.save_history(project, asset, old, changed)
        pending = journal.write_pending(project, asset, changed, result.history)
        try:
            for file_name, data in changed.items():
                write_in_place(directory / file_name, data)
                result.written.append(directory / file_name)
            fsync_dir(directory)
        except OSError as err:
            raise InputError(f"writing {str(directory)!r} failed ({err}); nothing is lost: the previous files are in "
                             f"{str(result.history or 'no history (they were new)')!r} and the new ones in "
                             f"{str(pending)!r}; export again or run `dgx-pixels export recover {project}`") from None
        journal.drop_pending(project, asset)
    return result


@dataclass
class Recovery:
    restored: list[Path] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)


def recover(project: Path, roots: list[Path], lock_timeout: float = LOCK_TIMEOUT) -> Recovery:
    """Finish every interrupted export of ``project`` (each under its asset's lock); pending copies that fail their
    checks, and anything else found among them, are set aside unused."""
    project = check_real_path(project, roots)
    assets, messages = journal.pending_assets(project)
    recovery = Recovery(set_aside=messages)
    for asset in assets:
        with asset_lock(project, asset, lock_timeout):
            restored, set_aside = journal.finish_pending(project, asset)
        recovery.restored += restored
        recovery.set_aside += set_aside
    return recovery
