"""Safe export writes: only inside allowed roots, never losing a previous file, and recoverable after a crash.

Rules:
- A target path is refused when empty, when it has a ``..`` part, when it is absolute and outside every allowed
  root, or when a symlink inside a root leads out of it (checked for the project, every folder created, and every
  file written).
- Final files are written in place (open, write, fsync): a game's asset watcher sees a modification of the same
  file, which it hot-reloads (Bevy ignores renames, so write-then-rename would not reload).
- Before a file changes, its previous version is copied to ``<state>/history/<asset>/<time>/`` with a record of
  sha256 hashes; the new version is first written completely to ``<state>/pending/<asset>/`` with a journal. A
  crash while the final files are written leaves both versions on disk; ``recover`` (run automatically before the
  next export) finishes the interrupted export from the pending copy.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..common.errors import InputError
from ..common.files import fsync_dir, write_atomic

ENV_ROOTS = "DGX_PIXELS_EXPORT_ROOTS"
STATE_DIR = ".dgx-pixels"
SNAPSHOT_RECORD = "snapshot.json"  # what a history snapshot holds: each file's hash and size, and why it was saved
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def allowed_roots(extra: Iterable[str | os.PathLike] = (), environ: dict | None = None) -> list[Path]:
    """The roots exports may write under: ``extra`` (e.g. ComfyUI's output folder) then DGX_PIXELS_EXPORT_ROOTS
    (os.pathsep-separated absolute folders)."""
    environ = os.environ if environ is None else environ
    listed = [str(item) for item in extra if str(item).strip()]
    listed += [item for item in environ.get(ENV_ROOTS, "").split(os.pathsep) if item.strip()]
    roots: list[Path] = []
    for item in listed:
        path = Path(os.path.abspath(os.path.expanduser(item.strip())))
        if path not in roots:
            roots.append(path)
    return roots


def check_name(name: str, what: str = "asset name") -> str:
    if not NAME_PATTERN.match(name or ""):
        raise InputError(f"{what} {name!r} must be 1-64 letters, digits, '_' or '-', starting with a letter or "
                         "digit (it becomes a folder and file name)")
    return name


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _root_of(path: Path, roots: list[Path]) -> Path | None:
    """The allowed root holding ``path``, comparing both as written and with symlinks resolved."""
    for root in roots:
        if _inside(path, root) or _inside(path, root.resolve()):
            return root
    return None


def resolve_target(path: str | os.PathLike, roots: list[Path]) -> Path:
    """An export folder given by the user -> its real path inside an allowed root, or InputError saying why not.

    A relative path is taken inside the first root (ComfyUI's output folder for the node).
    """
    text = os.fspath(path).strip() if path is not None else ""
    if not roots:
        raise InputError(f"no export roots are allowed; set {ENV_ROOTS} to the folders exports may write to")
    if not text:
        raise InputError("the export path is empty; give the Bevy project folder")
    if "\0" in text:
        raise InputError("the export path contains a NUL character")
    parts = Path(text).parts
    if ".." in parts:
        raise InputError(f"export path {text!r} contains '..'; give the folder without going up a level")
    lexical = Path(os.path.abspath(os.path.expanduser(text) if Path(text).is_absolute() or text.startswith("~")
                                   else roots[0] / text))
    root = _root_of(lexical, roots)
    if root is None:
        raise InputError(f"export path {str(lexical)!r} is outside the allowed export roots "
                         f"({', '.join(str(r) for r in roots)}); add its folder to {ENV_ROOTS} or use a path "
                         "inside one of them")
    return check_real_path(lexical, roots)


def check_real_path(path: Path, roots: list[Path]) -> Path:
    """``path`` with symlinks resolved, refused when that leaves every allowed root."""
    real = path.resolve()
    if not any(_inside(real, root.resolve()) for root in roots):
        raise InputError(f"{str(path)!r} leads through a symlink to {str(real)!r}, outside the allowed export roots "
                         f"({', '.join(str(r) for r in roots)}); exports never follow links out of a root")
    return real


def make_dirs_inside(directory: Path, base: Path, roots: list[Path]) -> Path:
    """Create ``directory`` below ``base`` one level at a time, checking each existing level's real path first, so
    a symlinked folder leading out of the roots is refused before anything is created behind it."""
    relative = Path(os.path.relpath(directory, base))
    current = check_real_path(base, roots)
    for part in relative.parts:
        current = current / part
        if not (current.exists() or current.is_symlink()):
            current.mkdir()
        current = check_real_path(current, roots)
        if not current.is_dir():
            raise InputError(f"{str(current)!r} exists and is not a folder")
    return current


# ---------------------------------------------------------------------------------------------------- writing
@dataclass
class WriteResult:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    history: Path | None = None  # the snapshot of replaced files, when any file was replaced
    recovered: list[Path] = field(default_factory=list)  # files an interrupted earlier export was finished with


def _write_in_place(path: Path, data: bytes) -> None:
    """Overwrite the final file itself (same inode): asset watchers see a write, not a rename."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _timestamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def _state(state_root: Path) -> Path:
    return state_root / STATE_DIR


def write_asset_files(directory: Path, files: dict[str, bytes], state_root: Path, roots: list[Path]) -> WriteResult:
    """Write ``files`` (name -> bytes) into ``directory`` under ``state_root`` (the project), safely.

    Unchanged files are not touched (no needless hot reload, no history entry).
    """
    for name in files:
        if not name or "/" in name or "\\" in name or name.startswith(".") or name in (".", ".."):
            raise InputError(f"refusing to write a file named {name!r}")
    state_root = check_real_path(state_root, roots)
    relative = Path(os.path.relpath(directory, state_root))
    if ".." in relative.parts:
        raise InputError(f"asset folder {str(directory)!r} is not inside the project {str(state_root)!r}")
    result = WriteResult(recovered=recover(state_root, roots))

    directory = make_dirs_inside(directory, state_root, roots)
    old: dict[str, bytes] = {}
    changed: dict[str, bytes] = {}
    for name, data in files.items():
        target = directory / name
        if target.is_symlink() or target.exists():
            check_real_path(target, roots)
            if not target.is_file():
                raise InputError(f"{str(target)!r} exists and is not a file; move it away first")
            current = target.read_bytes()
            if current == data:
                result.unchanged.append(target)
                continue
            old[name] = current
        changed[name] = data
    if not changed:
        return result

    state = _state(state_root)
    if old:
        snapshot = state / "history" / relative / _timestamp()
        for name, data in old.items():
            write_atomic(snapshot / name, data, durable=True)
        record = {
            "asset": relative.as_posix(), "saved_at": snapshot.name, "reason": "replaced by a new export",
            "files": {name: {"sha256": sha256(data), "bytes": len(data), "replaced_by": sha256(changed[name])}
                      for name, data in old.items()},
        }
        write_atomic(snapshot / SNAPSHOT_RECORD, json.dumps(record, indent=2).encode(), durable=True)
        result.history = snapshot

    pending = state / "pending" / relative
    shutil.rmtree(pending, ignore_errors=True)
    for name, data in changed.items():
        write_atomic(pending / "files" / name, data, durable=True)
    journal = {"asset": relative.as_posix(), "history": result.history.name if result.history else None,
               "files": {name: {"sha256": sha256(data), "bytes": len(data)} for name, data in changed.items()}}
    write_atomic(pending / "journal.json", json.dumps(journal, indent=2).encode(), durable=True)

    try:
        for name, data in changed.items():
            _write_in_place(directory / name, data)
            result.written.append(directory / name)
        fsync_dir(directory)
    except OSError as err:
        raise InputError(f"writing {str(directory)!r} failed ({err}); nothing is lost: the previous files are in "
                         f"{str(result.history or 'no history (they were new)')!r} and the new ones in "
                         f"{str(pending)!r}; export again or run `dgx-pixels export recover {state_root}`") from None
    _remove_pending(pending, state / "pending")
    return result


def _remove_pending(pending: Path, pending_root: Path) -> None:
    """Drop a finished pending copy and the folders it leaves empty."""
    shutil.rmtree(pending, ignore_errors=True)
    for folder in pending.parents:
        if folder == pending_root.parent or pending_root not in [folder, *folder.parents]:
            break
        try:
            folder.rmdir()
        except OSError:
            break


def recover(state_root: Path, roots: list[Path]) -> list[Path]:
    """Finish exports that were interrupted while writing their final files; returns the files restored.

    A pending folder without a journal never reached the final files (its copy was incomplete) and is dropped.
    """
    pending_root = _state(state_root) / "pending"
    restored: list[Path] = []
    if not pending_root.is_dir():
        return restored
    for journal_path in sorted(pending_root.rglob("journal.json")):
        pending = journal_path.parent
        journal = json.loads(journal_path.read_text())
        directory = make_dirs_inside(state_root / journal["asset"], state_root, roots)
        for name, expected in journal["files"].items():
            data = (pending / "files" / name).read_bytes()
            if sha256(data) != expected["sha256"]:
                raise InputError(f"the pending copy {str(pending / 'files' / name)!r} is damaged (hash mismatch); "
                                 "the previous version is in the export history")
            target = directory / name
            if target.exists():
                check_real_path(target, roots)
                if sha256(target.read_bytes()) == expected["sha256"]:
                    continue
            _write_in_place(target, data)
            restored.append(target)
        _remove_pending(pending, pending_root)
    for leftover in sorted(pending_root.rglob("files"), reverse=True):
        if leftover.is_dir() and not (leftover.parent / "journal.json").exists():
            _remove_pending(leftover.parent, pending_root)
    return restored


def history(state_root: Path) -> list[dict]:
    """Every snapshot's record under ``state_root``, oldest first, with its folder as ``path`` (snapshots of
    version 0.1 named their record manifest.json)."""
    root = _state(state_root) / "history"
    records = []
    for name in (SNAPSHOT_RECORD, "manifest.json"):
        for path in sorted(root.rglob(name)) if root.is_dir() else []:
            entry = json.loads(path.read_text())
            entry["path"] = str(path.parent)
            records.append(entry)
    return sorted(records, key=lambda entry: entry["saved_at"])
