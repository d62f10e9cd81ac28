"""Queue DGX-Pixels workflows on one or more ComfyUI servers from Python, and get files back.

::

    from dgx_pixels.client import Client, Job

    client = Client(servers=["http://127.0.0.1:8188"])
    result = client.run_sync("tiny_txt2img.json", {"prompt": "a knight", "steps": 4}, out_dir="out")
    print(result.files[0].path, result.seed)

    async with Client(servers=["http://gpu1:8188", "http://gpu2:8188"]) as client:
        jobs = [Job.create("character_sprite_sheet", {"prompt": p}) for p in prompts]
        batch = await client.run_batch(jobs, out_dir="out/heroes")

Each job's inputs are uploaded (``/upload/image``), its prompt queued (``/prompt``; ``node_errors`` are checked even
on a 200, because ComfyUI queues a prompt with a failing output and silently drops that output), its progress
followed over the websocket, and its output files downloaded (``/view``). Everything about a batch is recorded in
``<out_dir>/manifest.json``, rewritten atomically as jobs move on: parameters, seed, prompt id, server, and each
output file with its sha256.

Exactly once: every job gets its prompt id before it is queued, and the id is in the manifest first. When a
server's connection drops, the client reconnects with backoff and asks the server (``/queue``, ``/history``) about
each of its jobs: still queued -> keep following; finished -> take the result; unknown (the server restarted) ->
queue it again, under a new id recorded before it is sent. A job is never queued again once the server has
reported it finished, even when the server dies before its outputs are downloaded (the files wait on the server's
disk; ``resume`` fetches them). Cancelling a batch (Ctrl-C in the sync calls) deletes its queued prompts on the
servers, interrupts the running ones, and leaves a manifest that ``resume`` continues.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import random
import re
import signal
import time
import urllib.parse
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import aiohttp

from .errors import InputError
from .files import write_atomic
from .params import Workflow

DEFAULT_SERVER = "http://127.0.0.1:8188"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "dgx-pixels-run"
MANIFEST_VERSION = 1
# pending: not on a server; queued: on a server (maybe running); executed: finished there, outputs not all here;
# done: outputs downloaded and hashed; failed: the server rejected or failed it; interrupted: cancelled by the user.
JOB_STATES = ("pending", "queued", "executed", "done", "failed", "interrupted")


class ClientError(Exception):
    """A problem talking to ComfyUI that the user can act on; the message says what and where."""


class ServerUnreachable(ClientError):
    """No answer (or only server errors) from a ComfyUI server after the retries."""


class PromptRejected(ClientError):
    """The server refused the prompt (validation errors), named by node title."""


class JobFailed(ClientError):
    """A single job (``Client.run``) did not produce its outputs."""


# ---------------------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class OutputFile:
    path: Path
    sha256: str
    bytes: int
    node: str  # title of the node that made it


@dataclass(frozen=True)
class JobResult:
    name: str
    state: str
    params: dict
    seed: int | None
    server: str
    prompt_id: str
    files: tuple[OutputFile, ...]
    error: str

    @property
    def ok(self) -> bool:
        return self.state == "done"


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

    workflow: Workflow
    params: dict
    name: str = ""

    @classmethod
    def create(cls, workflow: Workflow | str | Path, values: Mapping[str, Any] | None = None, name: str = "",
               from_text: bool = False) -> "Job":
        """Check ``values`` against the workflow's parameters (InputError names any bad one)."""
        if not isinstance(workflow, Workflow):
            workflow = Workflow.load(workflow)
        return cls(workflow, workflow.resolve(values, from_text=from_text), name)


@dataclass
class JobRecord:
    """A job as the manifest keeps it."""

    name: str
    workflow: str
    params: dict
    seed: int | None = None
    state: str = "pending"
    prompt_id: str = ""
    server: str = ""
    attempts: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    files: list = field(default_factory=list)
    error: str = ""
    queued_at: str = ""
    finished_at: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> "JobRecord":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Event:
    """A progress report: ``kind`` is queued, running, progress, executed, done, failed, lost, interrupted,
    server_down or server_up; ``fraction`` is the job's progress (0..1); ``counts`` the batch's jobs by state."""

    kind: str
    job: JobRecord | None = None
    server: str = ""
    fraction: float = 0.0
    node: str = ""
    step: tuple[int, int] | None = None
    message: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def normalise_url(url: str) -> str:
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urllib.parse.urlsplit(text)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in text
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        valid = False
    if not valid:
        raise InputError(f"not a server URL: {url!r} (expected http://HOST:PORT)")
    return text.rstrip("/")


def safe_name(text: str) -> str:
    """A file or folder name from free text (job names, node titles)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.")
    return name or "output"


def _describe(err: BaseException, timeout: float) -> str:
    if isinstance(err, asyncio.TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(err, aiohttp.ClientConnectorError):
        os_error = err.os_error
        errno = getattr(os_error, "errno", None)
        reason = (os.strerror(errno) if isinstance(errno, int) and errno > 0
                  else getattr(os_error, "strerror", None) or str(os_error or err))
        return f"cannot connect to {err.host}:{err.port} ({reason.lower()})"
    return str(err) or type(err).__name__


# ---------------------------------------------------------------------------------------------------- manifest
class Manifest:
    """``<out_dir>/manifest.json``: the whole batch, enough to resume it without the original files.

    It is rewritten (atomically) at most twice a second. The moves that decide whether a job may be queued again
    (queued under a prompt id, finished on the server) are also appended at once to ``manifest.journal`` before
    they take effect, so even a killed client resumes without running a job twice; each rewrite empties it.
    """

    def __init__(self, path: Path, servers: list[str], workflows: dict[str, Workflow], jobs: list[JobRecord],
                 created: str = "", client_id: str = ""):
        self.path = path
        self.servers = servers
        # The websocket identity the prompts were queued under: a resume listens as it, so the servers keep
        # sending it the events of prompts queued before.
        self.client_id = client_id or uuid.uuid4().hex
        self.workflows = workflows
        self.jobs = jobs
        self.created = created or now_iso()
        self.dirty = False

    @property
    def out_dir(self) -> Path:
        return self.path.parent

    @property
    def journal_path(self) -> Path:
        return self.path.with_suffix(".journal")

    def log(self, job: JobRecord) -> None:
        """Record the job's state, prompt id, server and outputs ahead of the next rewrite."""
        entry = {"name": job.name, "state": job.state, "prompt_id": job.prompt_id, "server": job.server,
                 "outputs": job.outputs, "attempts": job.attempts}
        with open(self.journal_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        self.dirty = True

    def _replay_journal(self) -> None:
        if not self.journal_path.is_file():
            return
        by_name = {job.name: job for job in self.jobs}
        for line in self.journal_path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: the move it records never happened
            job = by_name.get(entry.get("name"))
            if job is not None and job.state != "done":
                for key in ("state", "prompt_id", "server", "outputs", "attempts"):
                    setattr(job, key, entry[key])

    @classmethod
    def create(cls, out_dir: str | Path, jobs: Sequence[Job], servers: Sequence[str],
               client_id: str = "") -> "Manifest":
        out_dir = Path(out_dir)
        path = cls.check_free(out_dir, jobs)
        workflows: dict[str, Workflow] = {}
        keys: dict[int, str] = {}
        records = []
        seen_names: set[str] = set()
        for index, job in enumerate(jobs, 1):
            key = keys.get(id(job.workflow))
            if key is None:
                key = job.workflow.name
                suffix = 2
                while key in workflows:
                    key = f"{job.workflow.name}-{suffix}"
                    suffix += 1
                workflows[key] = job.workflow
                keys[id(job.workflow)] = key
            name = safe_name(job.name) if job.name else f"{index:04d}"
            if name in seen_names:
                raise InputError(f"two jobs are named {name!r}; job names must be unique (they name the output "
                                 "folders)")
            seen_names.add(name)
            records.append(JobRecord(name=name, workflow=key, params=dict(job.params),
                                     seed=job.workflow.seed_of(job.params), prompt_id=uuid.uuid4().hex))
        manifest = cls(path, list(servers), workflows, records, client_id=client_id)
        out_dir.mkdir(parents=True, exist_ok=True)
        manifest.save()
        return manifest

    @staticmethod
    def check_free(out_dir: Path, jobs: Sequence[Job]) -> Path:
        """The manifest path for a new run in ``out_dir``; refuses to start over an earlier run."""
        path = Path(out_dir) / MANIFEST_NAME
        if path.exists():
            raise InputError(f"{out_dir} already holds a run ({MANIFEST_NAME}); continue it with --resume {path}, "
                             "or choose another output folder")
        if not jobs:
            raise InputError("no jobs to run")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Manifest":
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise InputError(f"cannot read the run manifest {path} ({err.strerror or err})") from None
        except json.JSONDecodeError as err:
            raise InputError(f"{path} is not a run manifest (invalid JSON at line {err.lineno})") from None
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise InputError(f"{path} is not a dgx-pixels run manifest")
        if data.get("version") != MANIFEST_VERSION:
            raise InputError(f"{path}: manifest version {data.get('version')} is not supported "
                             f"(this dgx-pixels reads version {MANIFEST_VERSION})")
        workflows = {key: Workflow.from_dict(w["prompt"], w.get("parameter_map"), name=key, source=w.get("source", ""))
                     for key, w in data["workflows"].items()}
        jobs = [JobRecord.from_dict(j) for j in data["jobs"]]
        manifest = cls(path, list(data.get("servers", [])), workflows, jobs, data.get("created", ""),
                       data.get("client_id", ""))
        manifest._replay_journal()
        return manifest

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(JOB_STATES, 0)
        for job in self.jobs:
            counts[job.state] += 1
        return counts

    def to_dict(self) -> dict:
        return {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "created": self.created,
            "updated": now_iso(),
            "servers": self.servers,
            "client_id": self.client_id,
            "summary": self.counts(),
            "workflows": {key: {"source": w.source, "sha256": w.fingerprint(), "prompt": w.prompt,
                                "parameter_map": w.to_param_map()} for key, w in self.workflows.items()},
            "jobs": [asdict(job) for job in self.jobs],
        }

    def save(self) -> None:
        """Write atomically (temporary file, fsync, rename): a crash leaves the old or the new manifest."""
        self.dirty = False
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(self.to_dict(), handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        self.journal_path.unlink(missing_ok=True)

    def result(self) -> BatchResult:
        jobs = []
        for job in self.jobs:
            files = tuple(OutputFile(self.out_dir / f["path"], f["sha256"], f["bytes"], f["node"]) for f in job.files)
            jobs.append(JobResult(job.name, job.state, dict(job.params), job.seed, job.server, job.prompt_id, files,
                                  job.error))
        return BatchResult(self.path, jobs)


# ---------------------------------------------------------------------------------------------------- one server
@dataclass
class Settings:
    queue_depth: int = 2
    request_timeout: float = 30.0
    connect_timeout: float = 5.0
    job_timeout: float | None = None
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    server_down_timeout: float = 60.0
    max_attempts: int = 3
    poll_interval: float = 5.0
    forget_history: bool = False
    download_types: tuple[str, ...] = ("output",)


class _Attempt:
    """One queueing of a job on a server, fed by the server's websocket events."""

    def __init__(self, job: JobRecord, server: "Server", total_nodes: int, titles: Mapping[str, str],
                 emit: Callable[..., None]):
        self.job = job
        self.server = server
        self.prompt_id = job.prompt_id
        self.total_nodes = max(total_nodes, 1)
        self.titles = titles
        self.emit = emit
        self.signal = asyncio.Event()
        self.reason = ""
        self.last_event = time.monotonic()
        self.nodes_done: set[str] = set()
        self.node: str | None = None
        self.step: tuple[int, int] | None = None
        self.outputs: dict[str, Any] = {}
        self.succeeded = False

    def fraction(self) -> float:
        partial = self.step[0] / self.step[1] if self.step and self.step[1] else 0.0
        return min(1.0, (len(self.nodes_done) + partial) / self.total_nodes)

    def wake(self, reason: str) -> None:
        # "ended" (the server said so) and "lost" outrank a "check" still waiting to be handled.
        if not self.signal.is_set() or self.reason == "check":
            self.reason = reason
        self.signal.set()

    def on_event(self, kind: str, data: dict) -> None:
        self.last_event = time.monotonic()
        if kind == "execution_start":
            self.emit("running", self.job, self.server.url)
            return
        if kind == "execution_cached":
            self.nodes_done.update(data.get("nodes") or [])
        elif kind == "executing":
            if self.node is not None:
                self.nodes_done.add(self.node)
            self.node, self.step = data.get("node"), None
            if self.node is None:
                self.wake("ended")
                return
        elif kind == "progress":
            self.step = (int(data.get("value", 0)), int(data.get("max", 0)))
        elif kind == "executed":
            self.nodes_done.add(str(data.get("node")))
            if data.get("output"):
                self.outputs[str(data.get("node"))] = data["output"]
        elif kind == "execution_success":
            self.succeeded = True
            return
        else:
            return
        title = self.titles.get(self.node, self.node or "")
        self.emit("progress", self.job, self.server.url, fraction=self.fraction(), node=title, step=self.step)


class Server:
    """One ComfyUI server: HTTP calls with timeouts and retries, and its websocket feed (reconnecting)."""

    def __init__(self, url: str, session: aiohttp.ClientSession, client_id: str, settings: Settings,
                 on_change: Callable[[], None] = lambda: None, emit: Callable[..., None] = lambda *a, **k: None):
        self.url = normalise_url(url)
        self.session = session
        self.client_id = client_id
        self.settings = settings
        self.on_change = on_change
        self.emit = emit
        self.up = False
        self.failures = 0  # connection attempts failed in a row
        self.load = 0  # prompts waiting or running there, everyone's, as the server last reported
        self.dispatched = 0  # jobs handed to this server whose prompt is not registered yet
        self.down_since = time.monotonic()
        self.last_error = "not contacted yet"
        self.attempts: dict[str, _Attempt] = {}
        # Prompts this client gave up on while the server was away: deleted there if it comes back with them.
        self.abandoned: set[str] = set()
        self.uploads: dict[str, str] = {}
        self.listener: asyncio.Task | None = None
        self.connected = asyncio.Event()

    @property
    def busy(self) -> int:
        """The queue length used for choosing a server: the server's report, never less than our own prompts
        there (the report lags behind what was just sent)."""
        return max(self.load, len(self.attempts) + self.dispatched)

    # ------------------------------------------------------------------ HTTP
    async def request(self, method: str, path: str, *, json_body: Any = None, params: dict | None = None,
                      form: Callable[[], aiohttp.FormData] | None = None, retries: int | None = None,
                      timeout: float | None = None) -> tuple[int, bytes]:
        """(status, body) of one HTTP call; connection failures, timeouts and 5xx answers are retried with
        exponential backoff, then raise ServerUnreachable."""
        retries = self.settings.retries if retries is None else retries
        timeout = timeout or self.settings.request_timeout
        delay = self.settings.backoff
        for attempt in range(retries + 1):
            try:
                async with self.session.request(method, self.url + path, json=json_body, params=params,
                                                data=form() if form else None,
                                                timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                    body = await response.read()
                    if response.status < 500:
                        return response.status, body
                    problem = f"HTTP {response.status} from {method} {path}: {body[:300].decode(errors='replace')}"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
                problem = _describe(err, timeout)
            if attempt < retries:
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.settings.max_backoff)
        raise ServerUnreachable(f"cannot reach ComfyUI at {self.url}: {problem}")

    async def get_json(self, path: str, **kwargs) -> Any:
        status, body = await self.request("GET", path, **kwargs)
        if status != 200:
            raise ClientError(f"{self.url}{path}: HTTP {status}: {body[:300].decode(errors='replace')}")
        return json.loads(body)

    async def queue_remaining(self, **kwargs) -> int:
        """Prompts waiting or running on the server (everyone's), from ``GET /prompt``."""
        info = await self.get_json("/prompt", **kwargs)
        return int(info.get("exec_info", {}).get("queue_remaining", 0))

    async def queued_ids(self) -> set[str]:
        """Prompt ids running or waiting on the server (``GET /queue``)."""
        queue = await self.get_json("/queue")
        return {item[1] for key in ("queue_running", "queue_pending") for item in queue.get(key, [])}

    async def history(self, prompt_id: str) -> dict | None:
        return (await self.get_json(f"/history/{prompt_id}")).get(prompt_id)

    async def upload_image(self, path: Path) -> str:
        """Upload a local file into the server's input folder under a content-addressed name (so repeated
        uploads are free and never renamed); returns the name LoadImage-style inputs take."""
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.uploads:
            return self.uploads[digest]
        name = f"{safe_name(path.stem)}-{digest[:12]}{path.suffix.lower()}"

        def form() -> aiohttp.FormData:
            body = aiohttp.FormData()
            body.add_field("image", data, filename=name, content_type="application/octet-stream")
            body.add_field("overwrite", "true")
            return body

        status, answer = await self.request("POST", "/upload/image", form=form)
        if status != 200:
            raise ClientError(f"{self.url} refused the upload of {path} (HTTP {status}: "
                              f"{answer[:300].decode(errors='replace')})")
        info = json.loads(answer)
        uploaded = f"{info['subfolder']}/{info['name']}" if info.get("subfolder") else info["name"]
        self.uploads[digest] = uploaded
        return uploaded

    async def submit(self, prompt: dict, prompt_id: str, titles: Mapping[str, str]) -> None:
        """Queue ``prompt`` under ``prompt_id``. A rejection raises PromptRejected with the node errors by title;
        a 200 that still lists node errors (an output was dropped) is cancelled and rejected too."""
        body = {"prompt": prompt, "client_id": self.client_id, "prompt_id": prompt_id}
        delay = self.settings.backoff
        for attempt in range(self.settings.retries + 1):
            try:
                status, raw = await self.request("POST", "/prompt", json_body=body, retries=0)
                break
            except ServerUnreachable:
                if attempt == self.settings.retries:
                    raise
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.settings.max_backoff)
            # The failed try may have reached the server: never queue one prompt id twice.
            try:
                if prompt_id in await self.queued_ids() or await self.history(prompt_id) is not None:
                    return
            except ClientError:
                pass
        try:
            answer = json.loads(raw)
        except ValueError:
            raise ClientError(f"{self.url}: /prompt answered HTTP {status} with {raw[:200]!r}") from None
        if status == 200 and not answer.get("node_errors"):
            return
        if status == 200:
            await self.cancel([prompt_id])
        raise PromptRejected(f"{self.url} rejected the prompt: " + describe_rejection(answer, titles))

    async def view(self, ref: Mapping[str, str]) -> bytes:
        params = {"filename": ref["filename"], "subfolder": ref.get("subfolder", ""), "type": ref.get("type", "output")}
        status, body = await self.request("GET", "/view", params=params)
        if status != 200:
            raise ClientError(f"{self.url} has no output file {ref['filename']!r} (HTTP {status})")
        return body

    async def cancel(self, prompt_ids: Iterable[str]) -> None:
        """Delete the prompts still waiting in the queue and interrupt the one running, if it is one of them."""
        prompt_ids = list(prompt_ids)
        for _ in range(3):
            await self.request("POST", "/queue", json_body={"delete": prompt_ids}, retries=1)
            for prompt_id in prompt_ids:
                await self.request("POST", "/interrupt", json_body={"prompt_id": prompt_id}, retries=1)
            # A prompt may have started between the delete and the interrupt: look again.
            left = set(prompt_ids) & await self.queued_ids()
            if not left:
                return
            await asyncio.sleep(0.2)
            prompt_ids = list(left)

    async def forget(self, prompt_ids: list[str]) -> None:
        await self.request("POST", "/history", json_body={"delete": prompt_ids}, retries=1)

    # ------------------------------------------------------------------ websocket
    @property
    def ws_url(self) -> str:
        return re.sub(r"^http", "ws", self.url) + "/ws"

    def start_listening(self) -> None:
        if self.listener is None:
            self.listener = asyncio.create_task(self._listen(), name=f"dgx-pixels ws {self.url}")

    async def stop_listening(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            try:
                await self.listener
            except asyncio.CancelledError:
                pass
            self.listener = None

    async def _listen(self) -> None:
        delay = self.settings.backoff
        while True:
            try:
                async with self.session.ws_connect(self.ws_url, params={"clientId": self.client_id},
                                                   heartbeat=20.0, max_msg_size=0) as ws:
                    self.load = await self.queue_remaining(retries=0)
                    self.failures = 0
                    self._set_up(True)
                    delay = self.settings.backoff
                    self._recheck_attempts()
                    await self._delete_abandoned()
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.TEXT:
                            self._dispatch(message.data)
                        elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                            break
                    self.last_error = "the websocket closed"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ClientError, ValueError) as err:
                self.last_error = _describe(err, self.settings.connect_timeout)
                self.failures += 1
            self._set_up(False)
            self.on_change()
            if time.monotonic() - self.down_since > self.settings.server_down_timeout:
                self._fail_over()
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.settings.max_backoff)

    def _set_up(self, up: bool) -> None:
        if up == self.up:
            return
        self.up = up
        if up:
            self.connected.set()
            self.emit("server_up", None, self.url)
        else:
            self.down_since = time.monotonic()
            self.connected.clear()
            self.emit("server_down", None, self.url, message=self.last_error)
        self.on_change()

    def _recheck_attempts(self) -> None:
        """After (re)connecting, every job still in flight here asks the server where it stands: events sent
        while the socket was down are lost."""
        for attempt in list(self.attempts.values()):
            attempt.wake("check")

    def _fail_over(self) -> None:
        """The server has been away too long: its unfinished jobs go back to the pool for the other servers (and
        finished ones stop waiting: their files stay on its disk for a resume)."""
        for attempt in list(self.attempts.values()):
            if not attempt.succeeded:
                self.abandoned.add(attempt.prompt_id)
            attempt.wake("lost")

    async def _delete_abandoned(self) -> None:
        if self.abandoned:
            try:
                await self.cancel(self.abandoned)
                self.abandoned.clear()
            except ClientError:
                pass

    def _dispatch(self, text: str) -> None:
        try:
            event = json.loads(text)
            kind, data = event.get("type"), event.get("data") or {}
        except (ValueError, AttributeError):
            return  # not a message of ComfyUI's protocol
        if kind == "status":
            remaining = (data.get("status") or {}).get("exec_info", {}).get("queue_remaining")
            if remaining is not None:
                self.load = int(remaining)
                self.on_change()
            return
        attempt = self.attempts.get(data.get("prompt_id"))
        if attempt is not None:
            attempt.on_event(kind, data)


def describe_rejection(answer: dict, titles: Mapping[str, str]) -> str:
    """ComfyUI's /prompt error answer as lines naming nodes by title."""
    lines = []
    error = answer.get("error")
    if isinstance(error, dict):
        details = error.get("details")
        lines.append(error.get("message", "invalid prompt") + (f": {details}" if details else ""))
    elif error:
        lines.append(str(error))
    for node_id, info in (answer.get("node_errors") or {}).items():
        title = titles.get(node_id, node_id)
        for err in info.get("errors", []):
            details = err.get("details")
            lines.append(f"node {title!r} ({info.get('class_type', '?')}): {err.get('message', err.get('type'))}"
                         + (f" ({details})" if details else ""))
    return "; ".join(lines) or json.dumps(answer)[:500]


def describe_failure(entry: dict, titles: Mapping[str, str]) -> str:
    """Why a history entry did not succeed, from its status messages."""
    for kind, data in (entry.get("status") or {}).get("messages", []):
        if kind == "execution_error":
            title = titles.get(str(data.get("node_id")), data.get("node_id"))
            return (f"node {title!r} ({data.get('node_type')}) failed: {data.get('exception_type', 'error')}: "
                    f"{str(data.get('exception_message', '')).strip()}")
        if kind == "execution_interrupted":
            return "interrupted on the server"
    return f"the server reports {entry.get('status')}"


def output_refs(outputs: Mapping[str, Any], titles: Mapping[str, str], types: Sequence[str]) -> list[dict]:
    """The downloadable files in a prompt's outputs (``{node id: ui}``), with the title of the node that made each."""
    refs = []
    for node_id, ui in outputs.items():
        for key, items in (ui or {}).items():
            if not isinstance(items, list):
                continue
            for item in items:
                if isinstance(item, dict) and "filename" in item and item.get("type", "output") in types:
                    refs.append({"node_id": node_id, "node": titles.get(node_id, node_id), "kind": key,
                                 "filename": item["filename"], "subfolder": item.get("subfolder", ""),
                                 "type": item.get("type", "output")})
    return refs


def local_names(refs: list[dict]) -> list[str]:
    """A file name per output: the node's title, numbered when a node made several; the server's extension."""
    per_node: dict[str, int] = {}
    for ref in refs:
        per_node[ref["node_id"]] = per_node.get(ref["node_id"], 0) + 1
    slugs = {}
    for node_id in per_node:
        title = next(r["node"] for r in refs if r["node_id"] == node_id)
        slug = safe_name(title).lower()
        slugs[node_id] = slug if slug not in slugs.values() else f"{slug}-{safe_name(node_id)}"
    names, seen = [], dict.fromkeys(per_node, 0)
    for ref in refs:
        index = seen[ref["node_id"]]
        seen[ref["node_id"]] += 1
        suffix = f"_{index:03d}" if per_node[ref["node_id"]] > 1 else ""
        names.append(f"{slugs[ref['node_id']]}{suffix}{Path(ref['filename']).suffix.lower()}")
    return names


# ---------------------------------------------------------------------------------------------------- a batch
class _BatchRun:
    """Spreads a manifest's unfinished jobs over the servers and follows them to the end."""

    def __init__(self, client: "Client", progress: Callable[[Event], None] | None, client_id: str):
        self.client = client
        self.client_id = client_id
        self.settings = client.settings
        self.manifest: Manifest | None = None
        self.progress = progress
        self.wake = asyncio.Event()
        self.servers: dict[str, Server] = {}
        self.pending: deque[JobRecord] = deque()
        self.tasks: set[asyncio.Task] = set()
        self.to_forget: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}
        self.fatal: ClientError | None = None

    # ------------------------------------------------------------------ events and state
    def emit(self, kind: str, job: JobRecord | None, server: str = "", **info) -> None:
        if self.progress is None:
            return
        try:
            self.progress(Event(kind, job, server, counts=dict(self.counts), **info))
        except Exception as err:  # a broken callback stops the batch cleanly instead of killing a listener
            self.fatal = self.fatal or ClientError(f"the progress callback failed: {err!r}")
            self.wake.set()

    def set_state(self, job: JobRecord, state: str) -> None:
        self.counts[job.state] -= 1
        self.counts[state] += 1
        job.state = state
        self.manifest.dirty = True

    def changed(self) -> None:
        self.wake.set()

    # ------------------------------------------------------------------ servers
    def server(self, url: str) -> Server:
        """The server at ``url``; one outside this run's list (a resumed job's old server) is used over HTTP only."""
        url = normalise_url(url)
        if url not in self.servers:
            self.servers[url] = Server(url, self.client.session, self.client_id, self.settings,
                                       self.changed, self.emit)
        return self.servers[url]

    async def connect(self, urls: Sequence[str]) -> list[Server]:
        """Start every server's websocket; fail when none answers within the retries."""
        servers = [self.server(url) for url in urls]
        for server in servers:
            server.start_listening()
        while not any(s.up for s in servers):
            if all(s.failures > self.settings.retries for s in servers):
                for server in servers:
                    await server.stop_listening()
                reasons = "; ".join(f"{s.url}: {s.last_error}" for s in servers)
                raise ServerUnreachable(f"cannot reach any ComfyUI server ({reasons}). Start one with "
                                        "`dgx-pixels host run`, or pass --server URL")
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), 1.0)
            except asyncio.TimeoutError:
                pass
        return servers

    def pick_server(self, servers: Sequence[Server]) -> Server | None:
        """The live server with the shortest queue that still has room (ties: the first in the list)."""
        ready = [s for s in servers if s.up and s.busy < self.settings.queue_depth]
        return min(ready, key=lambda s: s.busy) if ready else None

    # ------------------------------------------------------------------ the run
    async def run(self, urls: Sequence[str], make_manifest: Callable[[], Manifest]) -> Manifest:
        """Connect, then make (or load) the manifest, so an unreachable server leaves no half-started run."""
        try:
            servers = await self.connect(urls)
            self.manifest = make_manifest()
        except BaseException:
            for server in self.servers.values():
                await server.stop_listening()
            raise
        self.counts = self.manifest.counts()
        flusher = asyncio.create_task(self.flush_periodically())
        try:
            await self.prepare_resumed()
            await self.schedule(servers)
        except asyncio.CancelledError:
            await self.stop_on_servers()
            raise
        finally:
            flusher.cancel()
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, flusher, return_exceptions=True)
            self.manifest.save()
            await self.forget_done()
            for server in self.servers.values():
                await server.stop_listening()
        if self.fatal is not None:
            raise self.fatal
        return self.manifest

    async def prepare_resumed(self) -> None:
        """Sort the manifest's jobs: downloads to finish, jobs to follow or to check, jobs to queue."""
        for job in self.manifest.jobs:
            if job.state == "done":
                continue
            if job.state == "executed":
                self.start(self.download_task(job))
            elif job.state == "queued":
                self.start(self.follow_task(job, self.server(job.server)))
            else:
                if job.state in ("failed", "interrupted"):
                    self.new_attempt(job)
                    self.set_state(job, "pending")
                self.pending.append(job)
        if self.manifest.dirty:
            self.manifest.save()

    def start(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self.fatal is None:
            error = task.exception()
            self.fatal = error if isinstance(error, ClientError) else ClientError(f"internal error: {error!r}")
        self.wake.set()

    async def schedule(self, servers: list[Server]) -> None:
        while (self.pending or self.tasks) and self.fatal is None:
            while self.pending:
                server = self.pick_server(servers)
                if server is None:
                    break
                job = self.pending.popleft()
                server.dispatched += 1
                self.start(self.submit_task(job, server))
            if self.pending and not self.tasks and all(
                    not s.up and time.monotonic() - s.down_since > self.settings.server_down_timeout for s in servers):
                reasons = "; ".join(f"{s.url}: {s.last_error}" for s in servers)
                raise ServerUnreachable(f"no ComfyUI server has answered for {self.settings.server_down_timeout:g} s "
                                        f"({reasons}); {len(self.pending)} job(s) not run")
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), 1.0)
            except asyncio.TimeoutError:
                pass

    # ------------------------------------------------------------------ one job
    def new_attempt(self, job: JobRecord) -> None:
        """A fresh prompt id for queueing the job again (a reused id could be mistaken for the old run)."""
        job.prompt_id = uuid.uuid4().hex
        job.server = ""
        job.outputs = []
        job.error = ""

    def requeue(self, job: JobRecord, why: str) -> None:
        lost = sum(1 for a in job.attempts if a.get("result") == "lost")
        if lost >= self.settings.max_attempts:
            job.error = f"lost {lost} times ({why}); giving up"
            self.set_state(job, "failed")
            self.emit("failed", job, job.server, message=job.error)
            return
        self.new_attempt(job)
        self.set_state(job, "pending")
        self.manifest.log(job)
        self.emit("lost", job, message=why)
        self.pending.appendleft(job)

    async def submit_task(self, job: JobRecord, server: Server) -> None:
        workflow = self.manifest.workflows[job.workflow]
        titles = workflow.output_titles()
        try:
            uploads = {}
            for pname, path in workflow.image_parameters(job.params).items():
                uploads[pname] = await server.upload_image(Path(path))
            prompt = workflow.bind(job.params, uploads)
        except ServerUnreachable:
            self.pending.appendleft(job)
            return
        except (ClientError, InputError, OSError) as err:
            return self.fail(job, str(err))
        finally:
            server.dispatched -= 1
        attempt = self.attach(job, server)
        job.queued_at = now_iso()
        job.attempts.append({"server": server.url, "prompt_id": job.prompt_id, "at": job.queued_at})
        self.set_state(job, "queued")
        self.manifest.log(job)  # on disk before the prompt can reach the server
        self.emit("queued", job, server.url)
        try:
            await server.submit(prompt, job.prompt_id, titles)
        except PromptRejected as err:
            server.attempts.pop(attempt.prompt_id, None)
            job.attempts[-1]["result"] = "rejected"
            return self.fail(job, str(err))
        except ServerUnreachable:
            # It may have arrived: the server is asked about it when it answers again.
            attempt.wake("check")
        await self.follow(job, attempt)

    def attach(self, job: JobRecord, server: Server) -> _Attempt:
        workflow = self.manifest.workflows[job.workflow]
        job.server = server.url
        attempt = _Attempt(job, server, len(workflow.prompt), workflow.output_titles(), self.emit)
        server.attempts[job.prompt_id] = attempt
        return attempt

    async def follow_task(self, job: JobRecord, server: Server) -> None:
        """A resumed job the manifest says is on ``server``: ask the server about it, then follow it."""
        if server.listener is None:
            # A server outside this run's list: take its result if it has one, else queue the job here.
            await self.follow_foreign(job, server)
            return
        attempt = self.attach(job, server)
        attempt.wake("check")
        await self.follow(job, attempt)

    async def follow_foreign(self, job: JobRecord, server: Server) -> None:
        try:
            if job.prompt_id in await server.queued_ids():
                await server.cancel([job.prompt_id])
            entry = await server.history(job.prompt_id)
        except ClientError:
            entry = None
        if entry is not None and entry.get("status", {}).get("status_str") == "success":
            await self.finish(job, server, entry.get("outputs", {}))
        else:
            self.requeue(job, f"{server.url} is not in this run's servers")

    async def follow(self, job: JobRecord, attempt: _Attempt) -> None:
        """Wait for the job's end on its server, then take the result (or queue it again if it was lost)."""
        server = attempt.server
        deadline = time.monotonic() + self.settings.job_timeout if self.settings.job_timeout else None
        try:
            while True:
                if deadline is not None and time.monotonic() > deadline:
                    return await self.time_out(job, attempt)
                wait = self.settings.poll_interval
                if deadline is not None:
                    wait = max(0.0, min(wait, deadline - time.monotonic()))
                try:
                    await asyncio.wait_for(attempt.signal.wait(), wait)
                    reason = attempt.reason
                    attempt.signal.clear()
                except asyncio.TimeoutError:
                    if not server.up or time.monotonic() - attempt.last_event < self.settings.poll_interval:
                        continue
                    reason = "check"  # quiet for a while: make sure no event was missed
                if reason == "lost" and attempt.succeeded:
                    job.attempts[-1]["result"] = "success"
                    return await self.finish(job, server, attempt.outputs)
                if reason == "lost":
                    job.attempts[-1]["result"] = "lost"
                    away = self.settings.server_down_timeout
                    return self.requeue(job, f"{server.url} was unreachable for {away:g} s")
                try:
                    if reason == "check" and job.prompt_id in await server.queued_ids():
                        continue
                    entry = await server.history(job.prompt_id)
                except ClientError:
                    continue  # the server is away; it is asked again when it is back
                if entry is None and attempt.succeeded:
                    # Finished (we saw it), but the server forgot it (restarted): its files are still there.
                    entry = {"status": {"status_str": "success"}, "outputs": attempt.outputs}
                if entry is None:
                    job.attempts[-1]["result"] = "lost"
                    return self.requeue(job, f"{server.url} no longer knows the prompt (it restarted)")
                if entry.get("status", {}).get("status_str") == "success":
                    job.attempts[-1]["result"] = "success"
                    return await self.finish(job, server, entry.get("outputs") or attempt.outputs)
                job.attempts[-1]["result"] = "error"
                return self.fail(job, describe_failure(entry, attempt.titles))
        finally:
            server.attempts.pop(attempt.prompt_id, None)  # the job may hold a new id by now (queued again)

    async def time_out(self, job: JobRecord, attempt: _Attempt) -> None:
        server = attempt.server
        try:
            await server.cancel([job.prompt_id])
            entry = await server.history(job.prompt_id)
        except ClientError:
            entry = None
        if entry is not None and entry.get("status", {}).get("status_str") == "success":
            return await self.finish(job, server, entry.get("outputs", {}))
        job.attempts[-1]["result"] = "timeout"
        self.fail(job, f"did not finish within {self.settings.job_timeout:g} s on {server.url}")

    def fail(self, job: JobRecord, error: str) -> None:
        job.error = error
        job.finished_at = now_iso()
        self.set_state(job, "failed")
        self.emit("failed", job, job.server, message=error)

    async def finish(self, job: JobRecord, server: Server, outputs: Mapping[str, Any]) -> None:
        """The server finished the job: record its outputs (so it is never queued again), then download them."""
        titles = self.manifest.workflows[job.workflow].output_titles()
        job.outputs = output_refs(outputs, titles, self.settings.download_types)
        self.set_state(job, "executed")
        self.manifest.log(job)  # never queued again, even if the server forgets it before the download
        self.emit("executed", job, server.url, fraction=1.0)
        await self.download(job, server)

    async def download_task(self, job: JobRecord) -> None:
        await self.download(job, self.server(job.server))

    async def download(self, job: JobRecord, server: Server) -> None:
        folder = self.manifest.out_dir / safe_name(job.name)
        files = []
        try:
            for ref, name in zip(job.outputs, local_names(job.outputs)):
                data = await self.fetch(server, ref)
                path = folder / name
                write_atomic(path, data)
                files.append({"path": path.relative_to(self.manifest.out_dir).as_posix(),
                              "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "node": ref["node"],
                              "server_file": ref["filename"]})
        except (ClientError, OSError) as err:
            # It stays "executed": a resume downloads the files without running the job again.
            job.error = f"outputs not downloaded: {err}"
            self.emit("failed", job, server.url, message=job.error)
            return
        job.files = files
        job.error = ""
        job.finished_at = now_iso()
        self.set_state(job, "done")
        if self.settings.forget_history:
            self.to_forget.setdefault(server.url, []).append(job.prompt_id)
        self.emit("done", job, server.url, fraction=1.0)

    async def fetch(self, server: Server, ref: Mapping[str, str]) -> bytes:
        """One output file; while its server is away (restarting), wait for it up to the down timeout."""
        try:
            return await server.view(ref)
        except ServerUnreachable:
            if server.listener is None:
                raise
            try:
                await asyncio.wait_for(server.connected.wait(), self.settings.server_down_timeout)
            except asyncio.TimeoutError:
                raise ServerUnreachable(f"{server.url} did not come back to serve {ref['filename']}") from None
            return await server.view(ref)

    # ------------------------------------------------------------------ manifest, cancelling
    async def flush_periodically(self, interval: float = 0.5) -> None:
        """Rewrite the manifest when it changed: every ``interval`` s, or less often for big batches, so that the
        rewrites take at most about 5% of the time (the journal covers what matters in between)."""
        pause = interval
        while True:
            await asyncio.sleep(pause)
            if self.manifest.dirty:
                started = time.monotonic()
                self.manifest.save()
                pause = max(interval, 20 * (time.monotonic() - started))
                await self.forget_done()

    async def forget_done(self) -> None:
        """Drop finished prompts from the servers' histories, only once the manifest on disk says they are done."""
        forget, self.to_forget = self.to_forget, {}
        for url, prompt_ids in forget.items():
            try:
                await self.servers[url].forget(prompt_ids)
            except ClientError:
                pass

    async def stop_on_servers(self) -> None:
        """Cancelled: remove this batch's prompts from the servers and record where each job stands."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        by_server: dict[str, list[JobRecord]] = {}
        for job in self.manifest.jobs:
            if job.state == "queued":
                by_server.setdefault(job.server, []).append(job)
        await asyncio.gather(*(self.stop_on_server(self.server(url), jobs) for url, jobs in by_server.items()))
        self.manifest.save()

    async def stop_on_server(self, server: Server, jobs: list[JobRecord]) -> None:
        try:
            await asyncio.wait_for(server.cancel([job.prompt_id for job in jobs]), self.settings.request_timeout)
            for job in jobs:
                entry = await asyncio.wait_for(server.history(job.prompt_id), self.settings.request_timeout)
                if entry is not None and entry.get("status", {}).get("status_str") == "success":
                    # It finished before the interrupt arrived: keep it, a resume only downloads it.
                    titles = self.manifest.workflows[job.workflow].output_titles()
                    job.outputs = output_refs(entry.get("outputs", {}), titles, self.settings.download_types)
                    self.set_state(job, "executed")
                else:
                    self.set_state(job, "interrupted")
                    self.emit("interrupted", job, server.url)
        except (ClientError, asyncio.TimeoutError):
            pass  # unreachable: its jobs stay "queued" and a resume asks the server again


# ---------------------------------------------------------------------------------------------------- the client
class Client:
    """Runs workflows on ComfyUI servers. Async methods, each with a ``*_sync`` twin for plain scripts.

    ``servers``: URLs (``http://host:port``); jobs go to the live server with the shortest queue, at most
    ``queue_depth`` waiting per server (so a second server is used as soon as the first is busy, and jobs from
    other users count). ``request_timeout`` bounds each HTTP call, ``job_timeout`` each job (None: no limit);
    failed calls are retried ``retries`` times with exponential backoff from ``backoff`` seconds. A server away
    longer than ``server_down_timeout`` loses its jobs to the others; a job lost ``max_attempts`` times fails.
    ``forget_history`` deletes finished prompts from the servers' histories once they are recorded (long batches
    on shared servers).
    """

    def __init__(self, servers: Sequence[str] = (DEFAULT_SERVER,), *, queue_depth: int = 2,
                 request_timeout: float = 30.0, connect_timeout: float = 5.0, job_timeout: float | None = None,
                 retries: int = 4, backoff: float = 0.5, max_backoff: float = 8.0,
                 server_down_timeout: float = 60.0, max_attempts: int = 3, poll_interval: float = 5.0,
                 forget_history: bool = False, download_types: Sequence[str] = ("output",),
                 client_id: str | None = None):
        if isinstance(servers, str):
            servers = [servers]
        self.servers = list(dict.fromkeys(normalise_url(s) for s in servers))
        if not self.servers:
            raise InputError("no server given")
        if queue_depth < 1:
            raise InputError(f"queue_depth must be at least 1, got {queue_depth}")
        self.settings = Settings(queue_depth, request_timeout, connect_timeout, job_timeout, retries, backoff,
                                 max_backoff, server_down_timeout, max_attempts, poll_interval, forget_history,
                                 tuple(download_types))
        self.client_id = client_id or uuid.uuid4().hex
        self.session: aiohttp.ClientSession | None = None
        self._entered = 0

    async def __aenter__(self) -> "Client":
        if self._entered == 0:
            self.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.settings.connect_timeout))
        self._entered += 1
        return self

    async def __aexit__(self, *exc) -> None:
        self._entered -= 1
        if self._entered == 0 and self.session is not None:
            await self.session.close()
            self.session = None

    # ------------------------------------------------------------------ async API
    async def run(self, workflow: Workflow | str | Path, params: Mapping[str, Any] | None = None, *,
                  out_dir: str | Path, name: str = "", progress: Callable[[Event], None] | None = None) -> JobResult:
        """Run one job; returns its result, raises JobFailed (with the server's reason) when it fails."""
        job = Job.create(workflow, params, name=name)
        batch = await self.run_batch([job], out_dir=out_dir, progress=progress)
        result = batch.jobs[0]
        if not result.ok:
            raise JobFailed(f"job {result.name} {result.state}: {result.error}")
        return result

    async def run_batch(self, jobs: Sequence[Job], *, out_dir: str | Path,
                        progress: Callable[[Event], None] | None = None) -> BatchResult:
        """Run every job; the outputs and ``manifest.json`` go to ``out_dir`` (which must not hold a run yet).
        Failed jobs are in the result (``.failed``), not raised."""
        Manifest.check_free(Path(out_dir), jobs)  # before contacting any server
        return await self._drive(lambda: Manifest.create(out_dir, jobs, self.servers, self.client_id), progress,
                                 self.client_id)

    async def resume(self, manifest: str | Path, *, progress: Callable[[Event], None] | None = None) -> BatchResult:
        """Continue a batch from its manifest (a path or its folder): finished jobs are kept, jobs the servers
        finished meanwhile are downloaded, the others queued again. Uses this client's servers."""
        loaded = Manifest.load(manifest)  # a bad manifest is reported before any server is contacted

        def reuse() -> Manifest:
            loaded.servers = list(dict.fromkeys(loaded.servers + self.servers))
            return loaded

        return await self._drive(reuse, progress, loaded.client_id)

    async def _drive(self, make_manifest: Callable[[], Manifest], progress, client_id: str) -> BatchResult:
        async with self:
            manifest = await _BatchRun(self, progress, client_id).run(self.servers, make_manifest)
        return manifest.result()

    # ------------------------------------------------------------------ sync twins
    def run_sync(self, *args, **kwargs) -> JobResult:
        return self._sync(self.run(*args, **kwargs))

    def run_batch_sync(self, *args, **kwargs) -> BatchResult:
        return self._sync(self.run_batch(*args, **kwargs))

    def resume_sync(self, *args, **kwargs) -> BatchResult:
        return self._sync(self.resume(*args, **kwargs))

    @staticmethod
    def _sync(coroutine):
        """Run ``coroutine`` in a fresh event loop; Ctrl-C cancels it (so the servers' jobs are stopped and the
        manifest saved) and then raises KeyboardInterrupt."""
        async def main():
            loop = asyncio.get_running_loop()
            task = asyncio.current_task()
            try:
                loop.add_signal_handler(signal.SIGINT, task.cancel)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or no signal support: Ctrl-C raises KeyboardInterrupt as usual
            try:
                return await coroutine
            finally:
                try:
                    loop.remove_signal_handler(signal.SIGINT)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop in this thread: the usual case
        else:
            # Called from code that already runs an event loop (a notebook, a GUI, Playwright's sync API): run in
            # a thread of its own rather than fail.
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                return pool.submit(asyncio.run, main()).result()
        try:
            return asyncio.run(main())
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None
