"""What the queue keeps in Redis beside Celery's own keys: job records, workflows and input images, leases, results
and their files. Every terminal outcome (done, failed, cancelled) is one ``SET NX`` of the job's result key inside a
script that also moves the record, so a job redelivered after its worker died, or run twice meanwhile, still has its
result written once: the later writer finds the key taken and drops its own files."""
from __future__ import annotations

import functools
import itertools
import json
import time
from typing import Any, Mapping, Sequence

from .names import PRIORITIES, redact

PREFIX = "dgx-pixels:"
TERMINAL = ("done", "failed", "cancelled")
CHUNK = 500  # commands per pipeline round trip
# Where kombu's Redis transport keeps messages: a list per queue and priority step, and the messages taken by
# workers and not yet acknowledged.
UNACKED_KEY = "unacked"
PRIORITY_SEPARATOR = ":"
UNSENT_GRACE_SECONDS = 60.0  # a job recorded but not yet sent this long ago: its submitter stopped in between

# KEYS: job, result, lease. ARGV: worker, lease seconds, now. A worker takes a job unless it is finished, gone, or
# leased to another live worker; a job found "running" had its previous worker lost.
START = """
if redis.call('EXISTS', KEYS[2]) == 1 then return {'terminal', ''} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', ''} end
local holder = redis.call('GET', KEYS[3])
if holder and holder ~= ARGV[1] then return {'held', holder} end
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[2])
if redis.call('HGET', KEYS[1], 'state') == 'running' then redis.call('HINCRBY', KEYS[1], 'lost', 1) end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'state', 'running', 'worker', ARGV[1], 'started_at', ARGV[3])
return {'started', tostring(attempt)}
"""
# KEYS: lease, result. ARGV: worker, lease seconds. Keeps the lease (taking it back if it lapsed while the broker was
# away and nobody took it); answers whether the job has an outcome already (cancelled meanwhile).
BEAT = """
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return redis.call('EXISTS', KEYS[2])
"""
# KEYS: job, lease, result. ARGV: worker. The job goes back to the queue untouched (its message is sent again).
RELEASE = """
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if redis.call('EXISTS', KEYS[3]) == 0 and redis.call('HGET', KEYS[1], 'worker') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'queued')
end
return 1
"""
# KEYS: result, job, lease, batch info, batch jobs, pending. ARGV: result JSON, keep seconds, state, finished at,
# error, worker ('' for a cancel), job id. The one place a job gets its outcome.
COMMIT = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
redis.call('SREM', KEYS[6], ARGV[7])
redis.call('HSET', KEYS[2], 'state', ARGV[3], 'finished_at', ARGV[4], 'error', ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[2])
redis.call('EXPIRE', KEYS[5], ARGV[2])
if ARGV[6] ~= '' and redis.call('GET', KEYS[3]) == ARGV[6] then redis.call('DEL', KEYS[3]) end
return 1
"""
# KEYS: job, pending. ARGV: keep seconds, job id, then field, value, ... A job id is created once: a repeated
# submission finds it. Every job stays in the pending set until it has its outcome.
CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
"""
# KEYS: job. Its message is on the broker: "new" becomes "queued" (unless a worker moved it on already).
QUEUED = """
if redis.call('HGET', KEYS[1], 'state') == 'new' then redis.call('HSET', KEYS[1], 'state', 'queued') end
return 1
"""


class QueueError(Exception):
    """A problem with the queue the user can act on; the message says what."""


class BrokerUnreachable(QueueError):
    """The broker does not answer, or refuses us (a password, a server that is not Redis)."""


def now() -> float:
    return round(time.time(), 3)


def _guarded(method):
    """Redis failures become a BrokerUnreachable naming the broker (its password hidden) and the reason."""
    @functools.wraps(method)
    def call(self: "Store", *args, **kwargs):
        import redis

        try:
            return method(self, *args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as err:
            raise BrokerUnreachable(f"cannot reach the broker at {redact(self.url)}: {_reason(err)}") from None
        except redis.exceptions.RedisError as err:
            raise BrokerUnreachable(f"the broker at {redact(self.url)} refused: {_reason(err)}") from None
    return call


def _reason(err: Exception) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text[:300]


def _outcome(data: bytes | None) -> dict | None:
    """An outcome as stored; one that is not an object (damaged, or written by someone else) reads as failed."""
    if data is None:
        return None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("files", []), list):
        return {"state": "failed", "error": "its outcome in the store is damaged", "files": []}
    return value


def _message_job_id(stored: bytes | str, unacked: bool = False) -> str | None:
    """The task id (our job id) of a Celery message as kombu stores it: the message in a queue's list, [message,
    exchange, routing key] among the unacknowledged; None for anything else."""
    try:
        message = json.loads(stored)
        task_id = (message[0] if unacked else message)["headers"]["id"]
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return task_id if isinstance(task_id, str) else None


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class Store:
    """The queue's records in the Redis database of ``url`` (the broker's)."""

    def __init__(self, url: str, timeout: float = 5.0):
        import redis

        self.url = url
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=max(timeout, 30.0),
                                          health_check_interval=30)
        self.scripts = {name: self.redis.register_script(text) for name, text in
                        (("start", START), ("beat", BEAT), ("release", RELEASE), ("commit", COMMIT),
                         ("create", CREATE), ("queued", QUEUED))}

    # ------------------------------------------------------------------ keys
    @staticmethod
    def key(*parts: str) -> str:
        return PREFIX + ":".join(parts)

    def job_keys(self, job_id: str) -> tuple[str, str, str]:
        return self.key("job", job_id), self.key("result", job_id), self.key("lease", job_id)

    @_guarded
    def ping(self) -> None:
        self.redis.ping()

    # ------------------------------------------------------------------ submitting
    @_guarded
    def put_blobs(self, kind: str, blobs: Mapping[str, bytes], keep: int) -> None:
        """Content-addressed workflows and input images (``kind`` "workflow" or "input"), written once each."""
        with self.redis.pipeline(transaction=False) as pipe:
            for digest, data in blobs.items():
                pipe.set(self.key(kind, digest), data, nx=True, ex=keep)
                pipe.expire(self.key(kind, digest), keep)  # one already there lives as long as this batch
            pipe.execute()

    @_guarded
    def get_blob(self, kind: str, digest: str) -> bytes | None:
        return self.redis.get(self.key(kind, digest))

    @_guarded
    def register_queue(self, queue: str) -> None:
        self.redis.sadd(self.key("queues"), queue)

    @_guarded
    def queue_names(self) -> list[str]:
        return sorted(_text(name) for name in self.redis.smembers(self.key("queues")))

    @_guarded
    def create_batch(self, batch: str, info: Mapping[str, Any], jobs: Sequence[Mapping[str, Any]],
                     keep: int) -> list[str]:
        """The batch's record and its jobs' records; returns the ids created now (not those there already)."""
        batch_key = self.key("batch", batch)
        created: list[str] = []
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hsetnx(batch_key, "created", info["created"])
            pipe.hset(batch_key, mapping={k: v for k, v in info.items() if k != "created"})
            pipe.expire(batch_key, keep)
            pipe.zadd(self.key("batches"), {batch: float(info["created"])}, nx=True)
            pipe.execute()
        for start in range(0, len(jobs), CHUNK):
            chunk = jobs[start:start + CHUNK]
            with self.redis.pipeline(transaction=False) as pipe:
                for job in chunk:
                    fields = [item for pair in job.items() for item in pair]
                    self.scripts["create"](keys=[self.key("job", job["id"]), self.key("pending")],
                                           args=[keep, job["id"], *fields], client=pipe)
                answers = pipe.execute()
            new = [job["id"] for job, made in zip(chunk, answers) if made]
            if new:
                self.redis.rpush(self.key("batch", batch, "jobs"), *new)
            created += new
        self.redis.expire(self.key("batch", batch, "jobs"), keep)
        return created

    @_guarded
    def mark_queued(self, job_ids: Sequence[str]) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                self.scripts["queued"](keys=[self.key("job", job_id)], client=pipe)
            pipe.execute()

    # ------------------------------------------------------------------ reading
    @_guarded
    def job(self, job_id: str) -> dict[str, str] | None:
        record = self.redis.hgetall(self.key("job", job_id))
        return {_text(k): _text(v) for k, v in record.items()} or None

    @_guarded
    def jobs(self, job_ids: Sequence[str], fields: Sequence[str] = ()) -> list[dict[str, str]]:
        """The records of ``job_ids`` that still exist, in that order (only ``fields`` when given), each with
        "leased": "1" while a live worker holds the job."""
        found = []
        for start in range(0, len(job_ids), CHUNK):
            with self.redis.pipeline(transaction=False) as pipe:
                for job_id in job_ids[start:start + CHUNK]:
                    if fields:
                        pipe.hmget(self.key("job", job_id), ["id", *fields])
                    else:
                        pipe.hgetall(self.key("job", job_id))
                    pipe.exists(self.key("lease", job_id))
                answers = pipe.execute()
            for record, leased in zip(answers[::2], answers[1::2]):
                if isinstance(record, list):
                    record = dict(zip(["id", *fields], record)) if record[0] is not None else {}
                if record:
                    found.append({**{_text(k): _text(v) for k, v in record.items() if v is not None},
                                  "leased": str(leased)})
        return found

    @_guarded
    def batch(self, batch: str) -> dict[str, str] | None:
        info = self.redis.hgetall(self.key("batch", batch))
        return {_text(k): _text(v) for k, v in info.items()} or None

    @_guarded
    def batch_job_ids(self, batch: str) -> list[str]:
        return [_text(job_id) for job_id in self.redis.lrange(self.key("batch", batch, "jobs"), 0, -1)]

    @_guarded
    def recent_batches(self, limit: int) -> list[str]:
        """Batch ids, newest first; batches whose records expired are forgotten on the way."""
        ids = [_text(b) for b in self.redis.zrevrange(self.key("batches"), 0, -1)]
        with self.redis.pipeline(transaction=False) as pipe:
            for batch in ids:
                pipe.exists(self.key("batch", batch))
            alive = pipe.execute()
        gone = [batch for batch, there in zip(ids, alive) if not there]
        if gone:
            self.redis.zrem(self.key("batches"), *gone)
        return [batch for batch, there in zip(ids, alive) if there][:limit]

    @_guarded
    def results(self, job_ids: Sequence[str]) -> dict[str, dict | None]:
        """Each job's outcome (None while it has none)."""
        found: dict[str, dict | None] = {}
        for start in range(0, len(job_ids), CHUNK):
            chunk = list(job_ids[start:start + CHUNK])
            for job_id, data in zip(chunk, self.redis.mget([self.key("result", job_id) for job_id in chunk])):
                found[job_id] = _outcome(data)
        return found

    @_guarded
    def file(self, key: str) -> bytes | None:
        return self.redis.get(key)

    # ------------------------------------------------------------------ a worker's side
    @_guarded
    def start(self, job_id: str, worker: str, lease: int) -> tuple[str, str]:
        """("started", attempt number), ("terminal", ""), ("missing", "") or ("held", the worker holding it)."""
        answer = self.scripts["start"](keys=list(self.job_keys(job_id)), args=[worker, lease, now()])
        return _text(answer[0]), _text(answer[1])

    @_guarded
    def beat(self, job_id: str, worker: str, lease: int) -> bool:
        """Keep the lease; True when the job has an outcome already (it was cancelled)."""
        _, result_key, lease_key = self.job_keys(job_id)
        return bool(self.scripts["beat"](keys=[lease_key, result_key], args=[worker, lease]))

    @_guarded
    def release(self, job_id: str, worker: str) -> None:
        job_key, result_key, lease_key = self.job_keys(job_id)
        self.scripts["release"](keys=[job_key, lease_key, result_key], args=[worker])

    def file_prefix(self, job_id: str) -> str:
        """The start of every key holding one of the job's files (names and ids hold no ':')."""
        return self.key("file", job_id) + ":"

    def file_key(self, job_id: str, attempt: str, index: int) -> str:
        """Where an attempt keeps an output file (kept only if its outcome is the one written)."""
        return f"{self.file_prefix(job_id)}{attempt}:{index}"

    @_guarded
    def put_file(self, key: str, data: bytes, keep: int) -> None:
        self.redis.set(key, data, ex=keep)

    @_guarded
    def drop(self, keys: Sequence[str]) -> None:
        if keys:
            self.redis.delete(*keys)

    @_guarded
    def commit(self, job: Mapping[str, str], outcome: Mapping[str, Any], worker: str = "") -> bool:
        """Write the job's outcome (``outcome["state"]`` one of TERMINAL) unless it has one; True when written."""
        job_key, result_key, lease_key = self.job_keys(job["id"])
        keep = int(job.get("keep") or 0) or 7 * 86400
        written = self.scripts["commit"](
            keys=[result_key, job_key, lease_key, self.key("batch", job["batch"]),
                  self.key("batch", job["batch"], "jobs"), self.key("pending")],
            args=[json.dumps(outcome), keep, outcome["state"], now(), outcome.get("error", ""), worker, job["id"]])
        return bool(written)

    # ------------------------------------------------------------------ messages lost on the way
    @_guarded
    def messages_on_broker(self, queues: Sequence[str]) -> set[str]:
        """The job ids that have a message on the broker: waiting in ``queues`` (every priority step) or taken by a
        worker and not yet acknowledged."""
        found: set[str] = set()
        lists = [queue if step == 0 else f"{queue}{PRIORITY_SEPARATOR}{step}" for queue in queues
                 for step in PRIORITIES]
        for name in lists:
            for start in itertools.count(0, CHUNK):
                messages = self.redis.lrange(name, start, start + CHUNK - 1)
                found.update(filter(None, map(_message_job_id, messages)))
                if len(messages) < CHUNK:
                    break
        found.update(filter(None, (_message_job_id(entry, unacked=True)
                                    for _, entry in self.redis.hscan_iter(UNACKED_KEY, count=CHUNK))))
        return found

    @_guarded
    def unsent(self, queues: Sequence[str]) -> list[dict[str, str]]:
        """The records of unfinished jobs that no message will bring to a worker: queued (or left unsent by a
        submitter that stopped) or running without a live worker, with no message for them on the broker.

        Kombu's Redis transport takes a message off its list and then, in a second command, records it as
        unacknowledged: a connection lost in between (the broker restarted, the network gone) loses the message.
        Sending such jobs again is safe: a job runs once whatever number of messages name it."""
        pending = [_text(job_id) for job_id in self.redis.sscan_iter(self.key("pending"), count=CHUNK)]
        records = {record["id"]: record for record in self.jobs(pending, fields=("state", "submitted_at", "queue",
                                                                                 "priority"))}
        gone = [job_id for job_id in pending if job_id not in records or records[job_id]["state"] in TERMINAL]
        if gone:  # expired records (or outcomes written before this index existed)
            self.redis.srem(self.key("pending"), *gone)
        waiting = [record for record in records.values() if record["state"] == "queued"
                   or record["state"] == "running" and record["leased"] == "0"
                   or record["state"] == "new" and now() - float(record.get("submitted_at") or 0)
                   > UNSENT_GRACE_SECONDS]
        if not waiting:
            return []
        present = self.messages_on_broker(sorted({record["queue"] for record in waiting}))
        return [record for record in waiting if record["id"] not in present]

    @_guarded
    def ask_for_sweep(self) -> int:
        """A ticket: the sweep for lost messages that covers it starts after this call."""
        return int(self.redis.incr(self.key("sweep", "asked")))

    @_guarded
    def sweep_if_needed(self, ticket: int, worker: str, sweep, hold: int = 600) -> bool:
        """Run ``sweep()`` unless a sweep that started after ``ticket`` was asked for has ended; one worker of the
        queue sweeps at a time. False when another worker is sweeping now (ask again later)."""
        covered = self.key("sweep", "covered")
        if int(self.redis.get(covered) or 0) >= ticket:
            return True
        lock = self.key("sweep", "lock")
        if not self.redis.set(lock, worker, nx=True, ex=hold):
            return False
        try:
            started = int(self.redis.get(self.key("sweep", "asked")) or 0)
            sweep()
            if int(self.redis.get(covered) or 0) < started:
                self.redis.set(covered, started)
        finally:
            if _text(self.redis.get(lock) or b"") == worker:
                self.redis.delete(lock)
        return True
