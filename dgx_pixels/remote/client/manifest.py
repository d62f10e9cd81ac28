"""The run manifest: a whole batch on disk, enough to resume it."""
from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ...common.errors import InputError
from ...common.files import read_limited, write_atomic
from ..params import ApiWorkflow
from .records import BatchResult, Job, JobRecord, JobResult, JobState, OutputFile, now_iso, safe_name

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "dgx-pixels-run"
MANIFEST_VERSION = 1
MANIFEST_LIMIT = 1 << 30  # bytes: a million jobs with their parameters


@dataclass(frozen=True)
class Shape:
    """The keys a record read back from disk must have, with their types (a resumed manifest may be damaged or
    written by someone else: it is checked before anything acts on it). ``items``: keys holding lists of objects."""

    what: str
    required: Mapping[str, type | tuple]
    optional: Mapping[str, type | tuple] = field(default_factory=dict)
    items: Mapping[str, "Shape"] = field(default_factory=dict)

    def check(self, value: Any) -> dict:
        if not isinstance(value, dict):
            raise ValueError(f"{self.what} is not an object")
        for key, kind in {**self.required, **self.optional}.items():
            if (key in self.required or key in value) and not _fits(value.get(key), kind):
                raise ValueError(f"{self.what}: {key!r} is missing or of another type")
        for key, shape in self.items.items():
            for item in value.get(key, []):
                shape.check(item)
        return value


def _fits(value: Any, kind: type | tuple) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)  # True is no count


OUTPUT_REF = Shape("an output reference", {"node_id": str, "node": str, "filename": str, "subfolder": str,
                                           "type": str})
ATTEMPT = Shape("an attempt", {"server": str, "prompt_id": str})
MOVE = {"state": str, "prompt_id": str, "server": str, "outputs": list, "attempts": list}
JOURNAL_ENTRY = Shape("a journal entry", {"name": str, **MOVE}, items={"outputs": OUTPUT_REF, "attempts": ATTEMPT})
JOB_SHAPE = Shape("a job", {"name": str, "workflow": str, "params": dict},
                  {**MOVE, "seed": (int, type(None)), "error": str, "queued_at": str, "finished_at": str,
                   "files": list, "exports": list},
                  items={"outputs": OUTPUT_REF, "attempts": ATTEMPT,
                         "files": Shape("an output file", {"path": str, "sha256": str, "bytes": int, "node": str})})
WORKFLOW_SHAPE = Shape("a workflow", {"prompt": dict}, {"parameter_map": (dict, type(None))})
MANIFEST_SHAPE = Shape("the manifest", {"workflows": dict, "jobs": list}, {"servers": list})


class RunManifest:
    """``<out_dir>/manifest.json``: the whole batch, enough to resume it without the original files.

    It is rewritten (atomically) at most twice a second. The moves that decide whether a job may be queued again
    (queued under a prompt id, finished on the server) are also appended at once to ``manifest.journal`` before
    they take effect, so even a killed client resumes without running a job twice; each rewrite empties it.
    """

    def __init__(self, path: Path, servers: list[str], workflows: dict[str, ApiWorkflow], jobs: list[JobRecord],
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
        for line in self.journal_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
                move = JOURNAL_ENTRY.check(entry)
                JobState(move["state"])
            except (ValueError, RecursionError):
                continue  # a line cut short by a crash (the move it records never happened), or not ours
            job = by_name.get(move["name"])
            if job is not None and job.state != JobState.DONE:
                for key in ("prompt_id", "server", "outputs", "attempts"):
                    setattr(job, key, move[key])
                job.state = JobState(move["state"])

    @classmethod
    def create(cls, out_dir: str | Path, jobs: Sequence[Job], servers: Sequence[str],
               client_id: str = "") -> "RunManifest":
        out_dir = Path(out_dir)
        path = cls.check_free(out_dir, jobs)
        workflows: dict[str, ApiWorkflow] = {}
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
    def load(cls, path: str | Path) -> "RunManifest":
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST_NAME
        try:
            data = json.loads(read_limited(path, MANIFEST_LIMIT, "run manifest").decode("utf-8"))
        except json.JSONDecodeError as err:
            raise InputError(f"{path} is not a run manifest (invalid JSON at line {err.lineno})") from None
        except (UnicodeDecodeError, RecursionError):
            raise InputError(f"{path} is not a run manifest (not JSON text)") from None
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise InputError(f"{path} is not a dgx-pixels run manifest")
        if data.get("version") != MANIFEST_VERSION:
            raise InputError(f"{path}: manifest version {str(data.get('version'))[:20]} is not supported "
                             f"(this dgx-pixels reads version {MANIFEST_VERSION})")
        try:
            MANIFEST_SHAPE.check(data)
            workflows = {key: ApiWorkflow.from_dict(WORKFLOW_SHAPE.check(w)["prompt"], w.get("parameter_map"),
                                                    name=key, source=str(w.get("source", "")))
                         for key, w in data["workflows"].items()}
            jobs = [JobRecord.from_dict(JOB_SHAPE.check(j)) for j in data["jobs"]]
        except ValueError as err:  # InputError included: a workflow inside that is not one
            raise InputError(f"{path} is damaged: {err}") from None
        unknown = {job.workflow for job in jobs} - set(workflows)
        if unknown:
            raise InputError(f"{path} is damaged: its jobs name workflows it does not hold "
                             f"({', '.join(sorted(unknown))[:200]})")
        manifest = cls(path, [str(url) for url in data.get("servers", [])], workflows, jobs,
                       str(data.get("created", "")), str(data.get("client_id", "")))
        manifest._replay_journal()
        return manifest

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((state.value for state in JobState), 0)
        for job in self.jobs:
            counts[job.state.value] += 1
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
        write_atomic(self.path, json.dumps(self.to_dict(), indent=1).encode(), durable=True)
        self.journal_path.unlink(missing_ok=True)

    def result(self) -> BatchResult:
        jobs = []
        for job in self.jobs:
            files = tuple(OutputFile(self.out_dir / f["path"], f["sha256"], f["bytes"], f["node"]) for f in job.files)
            jobs.append(JobResult(job.name, job.state, dict(job.params), job.seed, job.server, job.prompt_id, files,
                                  job.error))
        return BatchResult(self.path, jobs)
