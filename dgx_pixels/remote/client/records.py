"""What the client reports and keeps: jobs, results, events, errors."""
from __future__ import annotations

import hashlib
import re
import urllib.parse
from dataclasses import dataclass, field
from enum import Enum
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from ...common.errors import InputError
from ..params import ApiWorkflow

DEFAULT_SERVER = "http://127.0.0.1:8188"


class JobState(str, Enum):
    """Where a job stands (the manifest stores the value)."""

    PENDING = "pending"  # not on a server
    QUEUED = "queued"  # on a server (maybe running)
    EXECUTED = "executed"  # finished there, outputs not all here
    DONE = "done"  # outputs downloaded and hashed
    FAILED = "failed"  # the server rejected or failed it
    INTERRUPTED = "interrupted"  # cancelled by the user

    __str__ = str.__str__


class EventKind(str, Enum):
    """What a progress report is about."""

    QUEUED = "queued"
    RUNNING = "running"
    PROGRESS = "progress"
    EXECUTED = "executed"
    DONE = "done"
    FAILED = "failed"
    LOST = "lost"  # its server went away; the job is queued again
    INTERRUPTED = "interrupted"
    SERVER_DOWN = "server_down"
    SERVER_UP = "server_up"

    __str__ = str.__str__


class ClientError(Exception):
    """A problem talking to ComfyUI that the user can act on; the message says what and where."""


class ServerUnreachable(ClientError):
    """No answer (or only server errors) from a ComfyUI server after the retries."""


class ServerError(ClientError):
    """The server answered, with an error of its own (HTTP 5xx) after the retries: its text says what."""


class BadReply(ClientError):
    """The server answered something that is not what ComfyUI sends (not JSON, the wrong shape, too big)."""


class PromptRejected(ClientError):
    """The server refused the prompt (validation errors), named by node title."""


class JobFailed(ClientError):
    """A single job (``Client.run``) did not produce its outputs."""


@dataclass(frozen=True)
class OutputFile:
    path: Path
    sha256: str
    bytes: int
    node: str  # title of the node that made it


@dataclass(frozen=True)
class JobResult:
    name: str
    state: JobState
    params: dict
    seed: int | None
    server: str
    prompt_id: str
    files: tuple[OutputFile, ...]
    error: str

    @property
    def ok(self) -> bool:
        return self.state == JobState.DONE


@dataclass
class BatchResult:
    manifest: Path
    jobs: list[JobResult]

    @property
    def done(self) -> list[JobResult]:
        return [j for j in self.jobs if j.ok]

    @property
    def failed(self) -> list[JobResult]:
        return [j for j in self.jobs if not j.ok]

    @property
    def ok(self) -> bool:
        return all(j.ok for j in self.jobs)


@dataclass
class Job:
    """One prompt to run: a workflow and its parameter values (checked and complete, seeds drawn)."""

    workflow: ApiWorkflow
    params: dict
    name: str = ""

    @classmethod
    def create(cls, workflow: ApiWorkflow | str | Path, values: Mapping[str, Any] | None = None, name: str = "",
               from_text: bool = False) -> "Job":
        """Check ``values`` against the workflow's parameters (InputError names any bad one)."""
        if not isinstance(workflow, ApiWorkflow):
            workflow = ApiWorkflow.load(workflow)
        return cls(workflow, workflow.resolve(values, from_text=from_text), name)


@dataclass
class JobRecord:
    """A job as the manifest keeps it."""

    name: str
    workflow: str
    params: dict
    seed: int | None = None
    state: JobState = JobState.PENDING
    prompt_id: str = ""
    server: str = ""
    attempts: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    files: list = field(default_factory=list)
    error: str = ""
    queued_at: str = ""
    finished_at: str = ""
    exports: list = field(default_factory=list)  # its sheets written into projects here (remote.results)

    @classmethod
    def from_dict(cls, data: dict) -> "JobRecord":
        record = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        record.state = JobState(record.state)
        return record


@dataclass(frozen=True)
class Event:
    """A progress report: ``fraction`` is the job's progress (0..1); ``text`` the running node's latest progress
    text (a trainer's step and loss); ``counts`` the batch's jobs by state value."""

    kind: EventKind
    job: JobRecord | None = None
    server: str = ""
    fraction: float = 0.0
    node: str = ""
    step: tuple[int, int] | None = None
    text: str = ""
    message: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def normalise_url(url: str) -> str:
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urllib.parse.urlsplit(text)  # raises on a broken IPv6 address ("http://[::1")
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in text
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        valid = False
    if not valid:
        raise InputError(f"not a server URL: {url!r} (expected http://HOST:PORT)")
    return text.rstrip("/")


SAFE_NAME_LENGTH = 100  # file systems allow 255 bytes; a long prompt or title keeps its start and a hash


def safe_name(text: str) -> str:
    """A file or folder name from free text (job names, node titles)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.")
    if len(name) > SAFE_NAME_LENGTH:
        name = f"{name[:SAFE_NAME_LENGTH - 13]}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    return name or "output"
