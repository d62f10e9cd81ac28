"""Where jobs stand, for ``dgx-pixels jobs``: batches with their counts, and jobs with their state and progress (a
running job's progress is in Celery's task state, written by its worker about once a second)."""
from __future__ import annotations

import collections
import json
from datetime import datetime
from typing import Sequence

from .store import Store

STATES = ("queued", "running", "lost", "done", "failed", "cancelled")


def shown_state(record: dict) -> str:
    """A record's state as a user reads it: "lost" is a running job whose worker stopped renewing its lease (it runs
    again once the broker's visibility timeout hands its message to another worker)."""
    state = record.get("state", "")
    if state == "new":
        return "queued"
    if state == "running" and record.get("leased") == "0":
        return "lost"
    return state


def when(epoch: str) -> str:
    try:
        return datetime.fromtimestamp(float(epoch)).isoformat(sep=" ", timespec="seconds")
    except ValueError:
        return ""


def batch_rows(store: Store, limit: int, submitter: str | None = None) -> list[dict]:
    rows = []
    for batch in store.recent_batches(limit if submitter is None else 10 * limit):
        info = store.batch(batch) or {}
        if submitter is not None and info.get("submitter") != submitter:
            continue
        records = store.jobs(store.batch_job_ids(batch), fields=("state",))
        counts = collections.Counter(shown_state(record) for record in records)
        rows.append({"batch": batch, "submitter": info.get("submitter", ""), "priority": info.get("priority", ""),
                     "submitted": when(info.get("created", "")), "jobs": sum(counts.values()),
                     **{state: counts.get(state, 0) for state in STATES}})
        if len(rows) == limit:
            break
    return rows


def job_rows(store: Store, app, job_ids: Sequence[str]) -> list[dict]:
    rows = []
    for record in store.jobs(job_ids):
        state = shown_state(record)
        progress = 1.0 if state == "done" else 0.0
        node = ""
        if state == "running":
            meta = app.AsyncResult(record["id"]).info
            if isinstance(meta, dict):
                progress, node = float(meta.get("fraction") or 0.0), str(meta.get("node") or "")
        rows.append({"job": record["id"], "name": record.get("name", ""), "state": state,
                     "progress": round(progress, 3), "node": node, "worker": record.get("worker", ""),
                     "submitter": record.get("submitter", ""), "priority": int(record.get("priority") or 0),
                     "seed": record.get("seed", ""), "attempts": int(record.get("attempts") or 0),
                     "submitted": when(record.get("submitted_at", "")), "started": when(record.get("started_at", "")),
                     "finished": when(record.get("finished_at", "")), "error": record.get("error", ""),
                     "params": json.loads(record.get("params") or "{}")})
    return rows
