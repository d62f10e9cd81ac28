"""``--json``: what a command does, as NDJSON on stdout (one JSON object a line, written as it happens) for
scripts; the human output goes to stderr meanwhile.

Every line has an ``"event"``: ``queued``, ``running``, ``progress`` (``fraction`` 0..1, ``node``, ``step``, and
``text``, the node's latest progress text, when it sends one: a LoRA trainer's ``step 12/300 loss 0.1234``, whose
loss also comes as the number ``loss``), ``executed``, ``file`` (``path``, ``sha256``, ``bytes``), ``done``,
``failed`` (``error``), ``lost``, ``interrupted``, ``server_down``, ``server_up``, ``export`` (a sheet written into
a project) and, last and exactly once, ``summary`` (``ok``, ``exit_code``, and ``error`` when the command stopped on
one).
"""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any, TextIO

from ..common.files import read_limited
from ..training.progress import parse_training_step

HASHED_FILE_LIMIT = 1 << 31  # bytes: a file larger than this is reported without its hash


class JsonEvents:
    """Writes events to ``stream`` (the real stdout), one line each, from any thread."""

    def __init__(self, stream: TextIO, command: str):
        self.stream = stream
        self.command = command
        self.summary_fields: dict[str, Any] = {}  # what the command adds to its summary (jobs, scores...)
        self.files: list[str] = []
        self.progress_seen: dict[str, tuple] = {}  # each job's last progress line, not written twice
        self.lock = threading.Lock()
        self.finished = False

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, **fields}, default=str, ensure_ascii=False)
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def file(self, path: Path, **fields: Any) -> None:
        """A file the command wrote (hashed here unless the caller knows its hash)."""
        if "sha256" not in fields:
            try:
                data = read_limited(path, HASHED_FILE_LIMIT, "output file")
                fields.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
            except Exception:  # a file replaced or too big meanwhile: reported by name only
                pass
        with self.lock:
            self.files.append(str(path))
        self.emit("file", path=str(path), **fields)

    def summary(self, exit_code: int, error: str = "") -> None:
        """The last line (written once: a command that fails after summing up does not write a second)."""
        if self.finished:
            return
        self.finished = True
        fields: dict[str, Any] = {"command": self.command, "ok": exit_code == 0, "exit_code": exit_code}
        if error:
            fields["error"] = error
        if self.files and "files" not in self.summary_fields:
            fields["files"] = self.files
        self.emit("summary", **fields, **self.summary_fields)

    # ------------------------------------------------------------------ jobs on servers
    def job_event(self, event, out_dir: Path) -> None:
        """A progress report of the client (remote.client.Event) as one or more lines."""
        job = event.job
        fields: dict[str, Any] = {"job": job.name} if job is not None else {}
        if event.server:
            fields["server"] = event.server
        kind = str(event.kind)
        if kind == "queued":
            fields["prompt_id"] = job.prompt_id
        elif kind in ("running", "progress"):
            fields.update(fraction=round(event.fraction, 4), node=event.node)
            if event.step:
                fields["step"] = list(event.step)
            if event.text:
                fields["text"] = event.text
                report = parse_training_step(event.text)
                if report is not None and report.loss is not None:
                    fields["loss"] = report.loss
            seen = (fields["fraction"], event.node, event.step, event.text)
            if kind == "progress" and self.progress_seen.get(job.name) == seen:
                return
            self.progress_seen[job.name] = seen
        elif kind == "done":
            for file in job.files:
                self.file(out_dir / file["path"], job=job.name, node=file["node"], sha256=file["sha256"],
                          bytes=file["bytes"])
            fields.update(seed=job.seed, files=len(job.files))
        elif kind in ("failed", "lost", "server_down"):
            fields["error"] = event.message
        self.emit(kind, **fields)
