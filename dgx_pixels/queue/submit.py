"""The submitter's side: jobs onto the queue (returning as soon as they are on the broker), and cancelling them.

A submission stores each workflow once (by its fingerprint) and each input image once (by its sha256), writes a
record per job under an id made of the batch id and the job's name, and only then sends one small message per job
(its id). A record is created once: submitting the same batch id again sends nothing for the jobs already there,
so a script that is not sure its submission went through can simply submit again.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..common.errors import InputError
from ..common.files import read_limited
from ..remote.client.records import Job, now_iso, safe_name
from .engine import make_app, send_job
from .names import check_name, check_priority, job_id, new_batch_id, queue_name
from .store import TERMINAL, Store, now

MAX_JOBS = 100_000  # one submission; more is several batches
INPUT_LIMIT = 64 << 20  # bytes of one input image
INPUTS_LIMIT = 1 << 30  # bytes of all a submission's input images
REVOKE_CHUNK = 1000


@dataclass
class Submission:
    batch: str
    submitter: str
    priority: int
    queued: list[str] = field(default_factory=list)  # job ids sent now
    existing: list[str] = field(default_factory=list)  # there already (a repeated submission)


def keep_seconds(days: float) -> int:
    if not 1 / 24 <= days <= 365:
        raise InputError(f"results are kept from 1 hour (0.042 days) to 365 days, got {days:g} days")
    return int(days * 86400)


def job_records(jobs: Sequence[Job], batch: str, submitter: str, priority: int,
                keep: int) -> tuple[list[dict], dict[str, bytes], dict[str, bytes]]:
    """(records, workflows by fingerprint, input images by sha256) for ``jobs``; a name used twice is refused."""
    if not jobs:
        raise InputError("no jobs to submit")
    if len(jobs) > MAX_JOBS:
        raise InputError(f"{len(jobs):,} jobs in one submission; a submission holds at most {MAX_JOBS:,} "
                         "(split them into several batches)")
    workflows: dict[str, bytes] = {}
    digests: dict[int, str] = {}
    inputs: dict[str, bytes] = {}
    images: dict[str, dict] = {}
    input_bytes = 0
    records, names = [], set()
    for index, job in enumerate(jobs, 1):
        name = safe_name(job.name) if job.name else f"{index:04d}"
        if name in names:
            raise InputError(f"two jobs are named {name!r}; job names must be unique (they name the job ids and "
                             "the fetched folders)")
        names.add(name)
        digest = digests.get(id(job.workflow))
        if digest is None:
            digest = digests[id(job.workflow)] = job.workflow.fingerprint()
            workflows[digest] = json.dumps({"name": job.workflow.name, "prompt": job.workflow.prompt,
                                            "parameter_map": job.workflow.to_param_map()}).encode()
        job_inputs = {}
        for parameter, path in job.workflow.image_parameters(job.params).items():
            if path not in images:
                data = read_limited(Path(path), INPUT_LIMIT, "input image")
                images[path] = {"sha256": hashlib.sha256(data).hexdigest(), "name": Path(path).name}
                inputs[images[path]["sha256"]] = data
                input_bytes += len(data)
                if input_bytes > INPUTS_LIMIT:
                    raise InputError(f"the jobs' input images pass {INPUTS_LIMIT:,} bytes in all; submit them in "
                                     "several batches")
            job_inputs[parameter] = images[path]
        seed = job.workflow.seed_of(job.params)
        records.append({"id": job_id(batch, name), "batch": batch, "name": name, "submitter": submitter,
                        "priority": priority, "queue": queue_name(submitter), "workflow": digest,
                        "workflow_name": job.workflow.name, "params": json.dumps(job.params),
                        "inputs": json.dumps(job_inputs), "seed": "" if seed is None else seed,
                        "submitted_at": now(), "keep": keep, "state": "new", "attempts": 0, "lost": 0,
                        "error": ""})
    return records, workflows, inputs


def submit(broker_url: str, jobs: Sequence[Job], *, submitter: str, priority: int, batch: str | None = None,
           keep_days: float = 7.0) -> Submission:
    """Put ``jobs`` on the queue under ``batch`` (a new id when None) and return at once."""
    check_name(submitter, "submitter name")
    check_priority(priority)
    batch = check_name(batch, "batch id") if batch else new_batch_id(submitter)
    keep = keep_seconds(keep_days)
    records, workflows, inputs = job_records(jobs, batch, submitter, priority, keep)
    store = Store(broker_url)
    store.ping()
    store.put_blobs("workflow", workflows, keep)
    store.put_blobs("input", inputs, keep)
    store.register_queue(queue_name(submitter))
    info = {"created": now(), "submitter": submitter, "priority": priority, "keep": keep, "jobs": len(records)}
    created = store.create_batch(batch, info, records, keep)
    fresh = set(created)
    existing = [record["id"] for record in records if record["id"] not in fresh]
    # Jobs recorded by an earlier submission that stopped before sending them are sent now.
    unsent = [record["id"] for record in store.jobs(existing) if record.get("state") == "new"]
    to_send = created + unsent
    app = make_app(broker_url)
    with app.producer_or_acquire() as producer:
        for job in to_send:
            send_job(app, job, queue_name(submitter), priority, producer=producer)
    store.mark_queued(to_send)
    return Submission(batch, submitter, priority, to_send, [job for job in existing if job not in unsent])


@dataclass
class Cancelled:
    cancelled: list[str]
    running: int  # of those, how many a worker was running (stopped on its ComfyUI within a second)
    finished: int  # had their outcome already


def cancel(broker_url: str, job_ids: Sequence[str], who: str) -> Cancelled:
    """Give every unfinished job of ``job_ids`` the outcome "cancelled" (written once, like any outcome): a worker
    takes no cancelled job, and one running it stops it on its ComfyUI; Celery also drops the queued messages."""
    store = Store(broker_url)
    outcome = {"state": "cancelled", "error": f"cancelled by {who}", "finished_at": now_iso(), "files": [],
               "worker": ""}
    report = Cancelled([], 0, 0)
    for record in store.jobs(job_ids):
        if record["state"] not in TERMINAL and store.commit(record, outcome):
            report.cancelled.append(record["id"])
            report.running += record["state"] == "running"
        else:
            report.finished += 1
    if report.cancelled:
        app = make_app(broker_url)
        for start in range(0, len(report.cancelled), REVOKE_CHUNK):
            app.control.revoke(report.cancelled[start:start + REVOKE_CHUNK])
    return report
