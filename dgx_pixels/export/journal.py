"""The export's own records under ``<project>/.dgx-pixels/``: the history of replaced files and the pending copy that
makes an interrupted export recoverable.

- ``history/assets/<kind>/<name>/<UTC time>/``: the files an export replaced, and ``snapshot.json`` with each file's
  sha256 and size and the hash that replaced it.
- ``pending/assets/<kind>/<name>/``: the new version, written completely (``files/``) with ``journal.json`` before
  any final file changes; a crash while the final files are written leaves it for the next export to finish.
- ``rejected/<UTC time>-<what>``: a pending copy that failed its checks, set aside (never used) with a ``.why.txt``.
- ``locks/assets/<kind>/<name>.lock``: the lock exports of one asset take turns on.

Everything read back is distrusted (a cloned repository may carry a prepared ``.dgx-pixels``): a journal must be
small JSON of the exact shape an export writes, naming its own asset and that asset's files, with every pending
file present and matching its hash; anything else is set aside with the reason, never executed.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..common.errors import InputError
from ..common.files import write_atomic
from ..sheets.layout import ASSET_KINDS
from .paths import ASSET_BASES, STATE_DIR, check_file_name, check_name, inner_dir, inner_file, read_inner, \
    write_in_place

SNAPSHOT_RECORD = "snapshot.json"  # what a history snapshot holds: each file's hash and size, and why it was saved
OLD_SNAPSHOT_RECORD = "manifest.json"  # its name in version 0.1
JOURNAL = "journal.json"
RECORD_LIMIT = 1 << 20  # journals and snapshot records are a few hundred bytes
FILE_LIMIT = 1 << 30  # an exported file (the sheet PNG is the big one)
SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")
STAMP = re.compile(r"\A\d{8}T\d{6}\.\d{6}Z(-\d{1,4})?\Z")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def timestamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def _state(project: Path, *parts: str, create: bool = True) -> Path | None:
    return inner_dir(project, [STATE_DIR, *parts], create)


def _new_folder(parent: Path, stem: str) -> Path:
    """A folder that did not exist, named ``stem`` (or ``stem-2``...), so no snapshot ever lands in another's."""
    for number in range(1, 1000):
        folder = parent / (stem if number == 1 else f"{stem}-{number}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise InputError(f"cannot find a free folder name for {stem!r} in {str(parent)!r}")


# ---------------------------------------------------------------------------------------------------- history
def save_history(project: Path, asset: str, old: dict[str, bytes], new: dict[str, bytes]) -> Path:
    """Keep the files ``old`` (name -> bytes) that ``new`` replaces; returns the snapshot folder."""
    snapshot = _new_folder(_state(project, "history", *asset.split("/")), timestamp())
    for name, data in old.items():
        write_atomic(snapshot / name, data, durable=True)
    record = {
        "asset": asset, "saved_at": snapshot.name, "reason": "replaced by a new export",
        "files": {name: {"sha256": sha256(data), "bytes": len(data), "replaced_by": sha256(new[name])}
                  for name, data in old.items()},
    }
    write_atomic(snapshot / SNAPSHOT_RECORD, json.dumps(record, indent=2).encode(), durable=True)
    return snapshot


@dataclass
class History:
    entries: list[dict] = field(default_factory=list)  # each snapshot's record, oldest first, its folder as "path"
    skipped: list[str] = field(default_factory=list)  # records that could not be read, and why


def history(project: Path) -> History:
    """Every snapshot's record under ``project`` (found without following links); unreadable ones are skipped
    with the reason."""
    found = History()
    root = _state(project, "history", create=False)
    if root is None:
        return found
    for folder, _, names in os.walk(root):  # links are listed but never entered
        for name in (SNAPSHOT_RECORD, OLD_SNAPSHOT_RECORD):
            if name in names:
                path = Path(folder) / name
                try:
                    found.entries.append(_snapshot_record(path))
                except InputError as err:
                    found.skipped.append(f"{path}: {err}")
    found.entries.sort(key=lambda entry: entry["saved_at"])
    return found


def _snapshot_record(path: Path) -> dict:
    record = _json_object(read_inner(path, RECORD_LIMIT, "snapshot record"), "snapshot record")
    files = record.get("files")
    if not (isinstance(record.get("asset"), str) and isinstance(record.get("saved_at"), str)
            and isinstance(files, dict)
            and all(isinstance(info, dict) and isinstance(info.get("sha256"), str) for info in files.values())):
        raise InputError("not a snapshot record (asset, saved_at and files with their sha256)")
    record["path"] = str(path.parent)
    return record


def _json_object(data: bytes, what: str) -> dict:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as err:
        raise InputError(f"the {what} is not valid JSON ({str(err)[:80]})") from None
    if not isinstance(value, dict):
        raise InputError(f"the {what} is not a JSON object")
    return value


# ---------------------------------------------------------------------------------------------------- pending
def write_pending(project: Path, asset: str, changed: dict[str, bytes], history_folder: Path | None) -> Path:
    """The new version, complete, then its journal: from here on a crash is recoverable."""
    *parent, name = asset.split("/")
    pending = _state(project, "pending", *parent) / name
    if pending.exists():
        shutil.rmtree(pending)
    files = _state(project, "pending", *parent, name, "files")
    for file_name, data in changed.items():
        write_atomic(files / file_name, data, durable=True)
    journal = {"asset": asset, "history": history_folder.name if history_folder else None,
               "files": {file_name: {"sha256": sha256(data), "bytes": len(data)}
                         for file_name, data in changed.items()}}
    write_atomic(pending / JOURNAL, json.dumps(journal, indent=2).encode(), durable=True)
    return pending


def drop_pending(project: Path, asset: str) -> None:
    """Remove a finished pending copy and the folders it leaves empty."""
    parts = asset.split("/")
    parent = _state(project, "pending", *parts[:-1], create=False)
    if parent is None:
        return
    shutil.rmtree(parent / parts[-1], ignore_errors=True)
    for depth in range(len(parts) - 1, -1, -1):
        try:
            (_state(project, "pending") / "/".join(parts[:depth])).rmdir()
        except OSError:
            break


def finish_pending(project: Path, asset: str) -> tuple[list[Path], list[str]]:
    """Finish this asset's interrupted export, if one is pending (the caller holds the asset's lock); returns the
    files restored and, for a pending copy that failed its checks, the message saying it was set aside."""
    *parent_parts, name = asset.split("/")
    parent = _state(project, "pending", *parent_parts, create=False)
    if parent is None or not os.path.lexists(parent / name):
        return [], []
    pending = parent / name
    info = os.lstat(pending)
    if not stat.S_ISDIR(info.st_mode):
        return [], [set_aside(project, pending, asset, "it is not a folder (a link or a file)")]
    if not os.path.lexists(pending / JOURNAL):
        drop_pending(project, asset)  # the copy stopped before its journal: the final files were never touched
        return [], []
    try:
        files = _checked_pending(pending, asset)
    except InputError as err:
        return [], [set_aside(project, pending, asset, str(err))]
    directory = inner_dir(project, asset.split("/"))
    restored = []
    for file_name, data in files.items():
        target = directory / file_name
        if inner_file(target, project) and read_inner(target, FILE_LIMIT, "exported file") == data:
            continue
        write_in_place(target, data)
        restored.append(target)
    drop_pending(project, asset)
    return restored, []


def _checked_pending(pending: Path, asset: str) -> dict[str, bytes]:
    """The pending files of a journal that passes every check: its shape, its asset, its file names, and each
    file present with the journal's size and hash."""
    journal = _json_object(read_inner(pending / JOURNAL, RECORD_LIMIT, "journal"), "journal")
    if set(journal) != {"asset", "history", "files"}:
        raise InputError("the journal does not have the keys asset, history and files")
    if journal["asset"] != asset:
        raise InputError(f"the journal names the asset {str(journal['asset'])[:80]!r}, not {asset!r}")
    if journal["history"] is not None and not (isinstance(journal["history"], str)
                                               and STAMP.match(journal["history"])):
        raise InputError("the journal's history entry is not a snapshot time")
    listed = journal["files"]
    if not isinstance(listed, dict) or not listed:
        raise InputError("the journal lists no files")
    files = {}
    for file_name, expected in listed.items():
        check_file_name(file_name, asset.split("/")[-1])
        if not (isinstance(expected, dict) and set(expected) == {"sha256", "bytes"}
                and isinstance(expected["sha256"], str) and SHA256.match(expected["sha256"])
                and type(expected["bytes"]) is int):
            raise InputError(f"the journal's entry for {file_name!r} is not a sha256 and a size")
        data = read_inner(pending / "files" / file_name, FILE_LIMIT, "pending file")
        if len(data) != expected["bytes"] or sha256(data) != expected["sha256"]:
            raise InputError(f"the pending copy of {file_name!r} is damaged (its size or hash differs)")
        files[file_name] = data
    return files


def set_aside(project: Path, path: Path, what: str, reason: str) -> str:
    """Move ``path`` (a pending copy, or anything unexpected in pending/) to ``rejected/``, unused, with the
    reason beside it; returns the message for the user."""
    rejected = _state(project, "rejected")
    label = re.sub(r"[^A-Za-z0-9_-]+", "-", what).strip("-")[:80] or "entry"
    for number in range(1, 1000):
        target = rejected / (f"{timestamp()}-{label}" + ("" if number == 1 else f"-{number}"))
        if not os.path.lexists(target):
            break
    try:
        os.rename(path, target)
    except OSError as err:
        raise InputError(f"{str(path)!r} cannot be trusted ({reason}) and cannot be moved aside "
                         f"({(err.strerror or str(err)).lower()}); remove it by hand") from None
    write_atomic(target.with_name(target.name + ".why.txt"), f"{what}: {reason}\n".encode())
    return (f"set aside a pending export of {what} that cannot be trusted ({reason}); it was not used and is kept "
            f"in {target}")


def pending_assets(project: Path) -> tuple[list[str], list[str]]:
    """The assets with a pending copy (``pending/assets/<kind>/<name>``, or ``Assets/...``), and the messages for
    anything else found in pending/, which is set aside (links are listed, never entered)."""
    root = _state(project, "pending", create=False)
    if root is None:
        return [], []
    assets, messages = [], []

    def stray(entry: os.DirEntry, what: str) -> None:
        messages.append(set_aside(project, Path(entry.path), what, "not an asset's pending copy"))

    for top in _listing(root):
        if top.name not in ASSET_BASES or not top.is_dir(follow_symlinks=False):
            stray(top, top.name)
            continue
        for kind in _listing(Path(top.path)):
            if kind.name not in ASSET_KINDS or not kind.is_dir(follow_symlinks=False):
                stray(kind, f"{top.name}/{kind.name}")
                continue
            for entry in _listing(Path(kind.path)):
                asset = f"{top.name}/{kind.name}/{entry.name}"
                if _plain_name(entry.name):
                    assets.append(asset)
                else:
                    stray(entry, asset)
    return assets, messages


def _listing(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        return sorted(entries, key=lambda entry: entry.name)


def _plain_name(name: str) -> bool:
    try:
        check_name(name)
    except InputError:
        return False
    return True
