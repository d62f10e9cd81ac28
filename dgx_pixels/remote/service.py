"""Jobs of the workflow library run in the background, for the interfaces that answer other programs: the REST
routes inside ComfyUI and the MCP server. A job is started by workflow name with named parameters (checked exactly
as ``dgx-pixels run`` checks them, with the same messages), runs through the client (queued, followed, its files
downloaded and hashed, a manifest written), and can be followed, waited for and cancelled; its files are then
served from its folder.

Only library workflows run (no file paths from callers), parameters are plain values within size limits, and an
``image`` parameter is turned into a local file by the interface (``image_file``), which decides where images may
come from.
"""
from __future__ import annotations

import asyncio
import logging
import mimetypes
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..common.errors import InputError
from .client.records import ClientError, Event, EventKind, Job, now_iso, safe_name
from .params import ApiWorkflow, library_names, library_workflow

MAX_PARAMETERS = 64
MAX_KEY = 100  # characters of a parameter name
MAX_TEXT = 64 << 10  # characters of one text value (an item list of a thousand lines fits)
ACTIVE, FINISHED = ("queued", "running"), ("done", "failed", "cancelled")
PRIVATE_FILE_KEYS = ("path", "server_file")  # where a file is on this machine, and its name on the server
log = logging.getLogger(__name__)


class JobNotFound(LookupError):
    """No job with that id (never started here, or forgotten since)."""


class Busy(RuntimeError):
    """Too many jobs are waiting or running to take another."""


@dataclass
class ServiceJob:
    id: str
    workflow: str
    name: str
    params: dict
    folder: Path
    state: str = "queued"  # queued, running, done, failed, cancelled
    fraction: float = 0.0
    node: str = ""
    step: list | None = None
    error: str = ""
    files: list[dict] = field(default_factory=list)  # {"name", "path", "sha256", "bytes", "node", "mime"}
    created: str = field(default_factory=now_iso)
    finished: str = ""
    seed: int | None = None
    task: asyncio.Task | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    version: int = 0  # counts changes, so a waiter knows whether anything happened

    def touch(self) -> None:
        self.version += 1
        self.changed.set()

    def status(self) -> dict:
        """The job as the interfaces report it (JSON-ready)."""
        progress = {"fraction": round(self.fraction, 4), "node": self.node}
        if self.step:
            progress["step"] = self.step
        return {"id": self.id, "workflow": self.workflow, "name": self.name, "state": self.state,
                "progress": progress, "params": self.params, "seed": self.seed, "error": self.error,
                "files": [{k: v for k, v in f.items() if k not in PRIVATE_FILE_KEYS} for f in self.files],
                "created": self.created, "finished": self.finished}


def check_values(values: Any) -> dict:
    """Parameter values from another program: an object of at most MAX_PARAMETERS plain values."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InputError(f"parameters must be an object of name: value, got {type(values).__name__}")
    if len(values) > MAX_PARAMETERS:
        raise InputError(f"{len(values)} parameters given; at most {MAX_PARAMETERS}")
    for key, value in values.items():
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
            raise InputError(f"parameter names are 1 to {MAX_KEY} characters, got {str(key)[:40]!r}")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise InputError(f"parameter {key!r} is {len(value):,} characters long; at most {MAX_TEXT:,}")
        if not isinstance(value, (str, int, float, bool)):
            raise InputError(f"parameter {key!r} must be text, a number or true/false, got "
                             f"{type(value).__name__ if value is not None else 'null'}")
    return dict(values)


class JobService:
    """Jobs on ``servers``; each job's files go to ``jobs_dir/<id>``. ``image_file(parameter, value)`` turns an
    image parameter's value into a local file (or raises InputError). At most ``max_active`` jobs wait or run;
    beyond ``keep_finished`` finished jobs the oldest are forgotten (with their folder when ``delete_forgotten``).
    ``client_options``: Client settings (timeouts, retries)."""

    def __init__(self, servers: Sequence[str], jobs_dir: Path, image_file: Callable[[str, str], str], *,
                 max_active: int = 32, keep_finished: int = 200, delete_forgotten: bool = False,
                 client_options: Mapping[str, Any] | None = None):
        self.servers = list(servers)
        self.jobs_dir = Path(jobs_dir)
        self.image_file = image_file
        self.max_active = max_active
        self.keep_finished = keep_finished
        self.delete_forgotten = delete_forgotten
        self.client_options = dict(client_options or {})
        self.jobs: dict[str, ServiceJob] = {}

    # ------------------------------------------------------------------ workflows
    @staticmethod
    def workflows() -> list[dict]:
        return [JobService.workflow(name) for name in library_names()]

    @staticmethod
    def workflow(name: Any) -> dict:
        workflow = library_workflow(name)
        return {"name": workflow.name, "description": workflow.description,
                "parameters": workflow.parameter_list()}

    # ------------------------------------------------------------------ jobs
    def start(self, workflow_name: Any, values: Any = None, name: Any = "") -> ServiceJob:
        """Check the request and start the job (in the running event loop); InputError says what is wrong."""
        workflow = library_workflow(workflow_name)
        values = check_values(values)
        if not isinstance(name, str) or len(name) > MAX_KEY:
            raise InputError(f"a job name is text of at most {MAX_KEY} characters")
        for key, value in list(values.items()):
            if workflow.parameter(key).type == "image":
                values[key] = self.image_file(key, value if isinstance(value, str) else str(value))
        job = Job.create(workflow, values, name=safe_name(name or workflow.name))
        if sum(1 for j in self.jobs.values() if j.state in ACTIVE) >= self.max_active:
            raise Busy(f"{self.max_active} jobs are waiting or running already; try again when some have finished")
        job_id = uuid.uuid4().hex
        entry = ServiceJob(job_id, workflow.name, job.name, _shown(workflow, job.params), self.jobs_dir / job_id,
                           seed=workflow.seed_of(job.params))
        self.jobs[job_id] = entry
        entry.task = asyncio.get_running_loop().create_task(self._run(entry, job))
        self._forget_old()
        return entry

    def get(self, job_id: Any) -> ServiceJob:
        job = self.jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise JobNotFound(f"no job {str(job_id)[:100]!r}")
        return job

    def listing(self) -> list[dict]:
        return [job.status() for job in self.jobs.values()]

    async def cancel(self, job_id: Any) -> ServiceJob:
        """Stop the job (its prompt is removed from the server's queue or interrupted); a finished job stays as
        it is."""
        job = self.get(job_id)
        if job.task is not None and not job.task.done():
            job.task.cancel()
            await asyncio.gather(job.task, return_exceptions=True)
        return job

    async def wait(self, job_id: Any, timeout: float, on_change: Callable[[ServiceJob], Any] | None = None
                   ) -> ServiceJob:
        """Wait until the job has finished or ``timeout`` seconds passed; ``on_change(job)`` (may be async) after
        each change meanwhile."""
        job = self.get(job_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while job.state in ACTIVE:
            left = deadline - loop.time()
            if left <= 0:
                break
            job.changed.clear()
            seen = job.version
            try:
                await asyncio.wait_for(job.changed.wait(), left)
            except asyncio.TimeoutError:
                break
            if on_change is not None and job.version != seen:
                outcome = on_change(job)
                if asyncio.iscoroutine(outcome):
                    await outcome
        return job

    def file(self, job_id: Any, file_name: Any) -> dict:
        """One of the job's files by name: {"name", "path", "mime", ...}; JobNotFound when it has none so named."""
        job = self.get(job_id)
        found = next((f for f in job.files if f["name"] == file_name), None)
        if found is None:
            raise JobNotFound(f"job {job.id} has no file {str(file_name)[:100]!r}; its files: "
                              f"{', '.join(f['name'] for f in job.files) or 'none yet'}")
        return found

    async def close(self) -> None:
        """Cancel every job still waiting or running."""
        tasks = [job.task for job in self.jobs.values() if job.task is not None and not job.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ running one
    async def _run(self, job: ServiceJob, api_job: Job) -> None:
        from .client.api import Client
        from .client.manifest import RunManifest

        client = Client(self.servers, **self.client_options)
        try:
            batch = await client.run_batch([api_job], out_dir=job.folder, progress=lambda e: self._progress(job, e))
            result = batch.jobs[0]
            if result.ok:
                record = RunManifest.load(batch.manifest).jobs[0]
                job.files = [{"name": Path(f["path"]).name, "path": str(job.folder / f["path"]),
                              "sha256": f["sha256"], "bytes": f["bytes"], "node": f["node"],
                              "mime": mimetypes.guess_type(f["path"])[0] or "application/octet-stream",
                              "server_file": f.get("server_file", "")} for f in record.files]
                job.state, job.fraction = "done", 1.0
            else:
                job.state, job.error = "failed", result.error
        except asyncio.CancelledError:
            job.state, job.error = "cancelled", "cancelled by the caller"
        except (ClientError, InputError, OSError) as err:
            job.state, job.error = "failed", str(err)
        except Exception as err:  # a bug: the job fails with a line, the traceback goes to the log
            log.exception("job %s", job.id)
            job.state, job.error = "failed", f"internal error (a bug in dgx-pixels): {type(err).__name__}: {err}"
        finally:
            job.finished = now_iso()
            job.touch()

    def _progress(self, job: ServiceJob, event: Event) -> None:
        if event.kind in (EventKind.RUNNING, EventKind.PROGRESS, EventKind.EXECUTED):
            job.state = "running"
            job.fraction, job.node = event.fraction, event.node
            job.step = list(event.step) if event.step else None
        elif event.kind == EventKind.LOST:
            job.state, job.fraction = "queued", 0.0
        job.touch()

    def _forget_old(self) -> None:
        finished = [job for job in self.jobs.values() if job.state in FINISHED]
        for job in finished[:max(0, len(finished) - self.keep_finished)]:
            del self.jobs[job.id]
            if self.delete_forgotten:
                shutil.rmtree(job.folder, ignore_errors=True)


def _shown(workflow: ApiWorkflow, params: Mapping) -> dict:
    """Parameter values as the interfaces show them: an image by its file name, not this machine's path."""
    return {key: Path(value).name if key in workflow.parameters and workflow.parameters[key].type == "image"
            and isinstance(value, str) else value for key, value in params.items()}


def inside_folders(value: Any, folders: Sequence[Path], what: str) -> Path:
    """``value`` (a path; relative ones are taken in the first folder) as a real path inside one of ``folders``:
    refused when it has a ``..`` part, lies outside them, or leads out of them through a link."""
    if not isinstance(value, str) or not value.strip() or "\0" in value or len(value) > 4096:
        raise InputError(f"{what} must be a path (text of at most 4096 characters)")
    if ".." in Path(value).parts:
        raise InputError(f"{what} {value[:200]!r} contains '..'; give the path without going up a level")
    if not folders:
        raise InputError(f"{what}: no folders are allowed")
    path = Path(value).expanduser()
    path = path if path.is_absolute() else folders[0] / path
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as err:
        raise InputError(f"{what} {value[:200]!r} cannot be resolved ({err})") from None
    if not any(real == folder.resolve() or folder.resolve() in real.parents for folder in folders):
        raise InputError(f"{what} {value[:200]!r} is outside the allowed folders "
                         f"({', '.join(str(f) for f in folders)})")
    return real


def images_in(folder: Path, what: str) -> Callable[[str, str], str]:
    """An ``image_file`` for JobService: image parameters name files inside ``folder`` (ComfyUI's input folder for
    the REST routes, where callers upload them first with POST /upload/image)."""
    def image_file(parameter: str, value: str) -> str:
        path = inside_folders(value, [folder], f"image parameter {parameter!r} ({what})")
        if not path.is_file():
            raise InputError(f"image parameter {parameter!r}: no file {value[:200]!r} in {what}; upload it first "
                             "(POST /upload/image) and give the name it answers")
        return str(path)

    return image_file
