"""Results out of the store into a folder, from any machine: ``<folder>/<job name>/<file>`` and ``results.json``.

What the store holds is written by workers, and anyone who can reach the broker can write there too, so nothing in it
is trusted to name a place: a job or file name must be a plain name (as the worker made it), every folder below the
output folder a plain folder (no link is followed), every file's bytes must match the sha256 recorded with it, and a
file already there is replaced only when it holds the same bytes or ``force`` says so.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..common.errors import InputError
from ..common.files import write_atomic
from ..remote.client.records import now_iso, safe_name
from .store import TERMINAL, Store

RESULTS_NAME = "results.json"
RESULTS_FORMAT = "dgx-pixels-queue-results"


@dataclass
class Fetched:
    folder: Path
    files: int = 0
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # job id, state, why
    unfinished: list[str] = field(default_factory=list)


def wait_for_outcomes(store: Store, job_ids: Sequence[str], timeout: float | None,
                      pause: float = 1.0) -> dict[str, dict | None]:
    """The jobs' outcomes, once all have one or ``timeout`` seconds have passed (None: look once)."""
    deadline = time.monotonic() + (timeout or 0.0)
    while True:
        outcomes = store.results(job_ids)
        if all(outcome is not None for outcome in outcomes.values()) or time.monotonic() >= deadline:
            return outcomes
        time.sleep(pause)


def fetch(store: Store, job_ids: Sequence[str], out_dir: Path, outcomes: dict[str, dict | None],
          force: bool = False) -> Fetched:
    """Write the files of every job of ``job_ids`` that is done, and ``results.json`` describing them all."""
    folder = output_folder(out_dir)
    report = Fetched(folder)
    described = []
    for record in store.jobs(job_ids):
        outcome = outcomes.get(record["id"])
        entry = {key: record.get(key, "") for key in ("id", "name", "submitter", "priority", "seed", "workflow_name")}
        entry["params"] = json.loads(record.get("params") or "{}")
        if outcome is None:
            report.unfinished.append(record["id"])
            described.append({**entry, "state": "queued" if record.get("state") in ("new", "queued") else
                              record.get("state", ""), "files": []})
            continue
        state = outcome.get("state") if outcome.get("state") in TERMINAL else "failed"
        files = []
        if state == "done":
            try:
                files = write_job_files(store, record, outcome, folder, force)
            except InputError as err:
                state, outcome = "failed", {**outcome, "error": str(err)}
        if state == "done":
            report.done.append(record["id"])
            report.files += len(files)
        else:
            report.failed.append((record["id"], state, str(outcome.get("error", ""))))
        described.append({**entry, "state": state, "error": str(outcome.get("error", "")),
                          "worker": str(outcome.get("worker", "")), "finished_at": str(outcome.get("finished_at", "")),
                          "files": files})
    write_atomic(folder / RESULTS_NAME, json.dumps({"format": RESULTS_FORMAT, "version": 1, "fetched": now_iso(),
                                                     "jobs": described}, indent=1).encode())
    return report


def output_folder(out_dir: Path) -> Path:
    text = os.fspath(out_dir)
    if not text.strip() or "\0" in text:
        raise InputError(f"{text!r} is not a folder name for the results")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"{out_dir} is a file, not a folder for the results") from None
    except OSError as err:
        raise InputError(f"cannot create {out_dir} ({(err.strerror or str(err)).lower()})") from None
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} is a file, not a folder for the results")
    return out_dir


def plain_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name or name != safe_name(name):
        raise InputError(f"the store names a {what} {str(name)[:80]!r}, which is not a plain file name; not written")
    return name


def write_job_files(store: Store, record: dict, outcome: dict, folder: Path, force: bool) -> list[dict]:
    """A done job's files into ``folder/<job name>/``; returns what results.json says of them."""
    job_name = plain_name(record.get("name"), "job")
    own_keys = store.file_prefix(record["id"])
    entries = []
    for file in outcome.get("files", []):  # all checked before anything is written
        if not isinstance(file, dict):
            raise InputError("its outcome in the store is damaged (a file entry is not an object)")
        name = plain_name(file.get("name"), "file")
        key = file.get("key")
        if not isinstance(key, str) or not key.startswith(own_keys):
            raise InputError(f"its file {name!r} points at another job's data in the store; not written")
        entries.append((name, key, file))
    job_folder = plain_folder(folder / job_name)
    files = []
    for name, key, file in entries:
        data = store.file(key)
        if data is None:
            raise InputError(f"its file {name!r} is no longer in the store (expired)")
        digest = hashlib.sha256(data).hexdigest()
        if digest != file.get("sha256"):
            raise InputError(f"its file {name!r} is damaged in the store (sha256 {digest[:12]}..., recorded "
                             f"{str(file.get('sha256'))[:12]}...)")
        put_file(job_folder / name, data, digest, force)
        files.append({"path": f"{job_folder.name}/{name}", "sha256": digest, "bytes": len(data),
                      "node": str(file.get("node", ""))})
    return files


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def plain_folder(path: Path) -> Path:
    """``path`` as a folder of its own (made when missing); a link or a file there is refused, never followed."""
    info = _lstat(path)
    if info is None:
        try:
            path.mkdir()
        except FileExistsError:
            pass  # made meanwhile: checked below like any folder found there
        info = _lstat(path)
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise InputError(f"{path} is a symbolic link; fetch writes nothing through links: remove it, or fetch into "
                         "another folder")
    if info is None or not stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path} exists and is not a folder; move it away, or fetch into another folder")
    return path


def put_file(path: Path, data: bytes, digest: str, force: bool) -> None:
    """Write ``path`` (replacing its name, never writing through a link); one already there with other bytes is
    kept unless ``force``."""
    info = _lstat(path)
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path} exists and is not a plain file (a link or a folder); not replaced")
        with open(path, "rb") as handle:
            if hashlib.sha256(handle.read()).hexdigest() == digest:
                return
        if not force:
            raise InputError(f"{path} exists with other contents; fetch into another folder, or pass --force to "
                             "replace it")
    write_atomic(path, data)
