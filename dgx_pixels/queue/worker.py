"""A worker: Celery in front of one ComfyUI server. Each job is taken under a lease, run through the client on this
worker's ComfyUI (progress into Celery's task state), and its outcome and files are written once.

Delivery is at least once (a message comes back when its worker is lost); the lease and the written-once outcome make
it exactly once in effect: a job with an outcome is acknowledged without running, a job leased to a live worker is
looked at again a lease later, and a second run that finishes anyway finds the outcome taken and drops its files.
"""
from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Callable, TypeVar

from ..common.errors import InputError
from ..remote.client import Client, ClientError, Event, EventKind, Job, JobResult
from ..remote.client.records import now_iso
from ..remote.client.scheduler import file_suffix
from ..remote.params import ApiWorkflow
from .engine import KEEP_SECONDS, PLACEHOLDER_QUEUE, TASK_NAME, WorkerOptions, make_app, send_job
from .names import redact
from .store import BrokerUnreachable, Store

log = logging.getLogger("dgx_pixels.queue.worker")
MAX_RESULT_BYTES = 512 << 20  # one job's output files, held in the result store (Redis strings stop at 512 MB)
QUEUE_SYNC_SECONDS = 2.0
SWEEP_SECONDS = 300.0  # besides a sweep at every (re)connection to the broker
COMFYUI_WAIT_SECONDS = 300.0  # a worker whose ComfyUI is away takes no job for this long, then looks again
T = TypeVar("T")


class ComfyUIAway(Exception):
    """This worker's ComfyUI stopped answering: the job goes back to the queue for another worker."""


def comfyui_answers(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/prompt", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_for_comfyui(url: str, limit: float, pause: float = 2.0) -> bool:
    """Whether ComfyUI at ``url`` answers within ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not comfyui_answers(url):
        if time.monotonic() > deadline:
            return False
        time.sleep(pause)
    return True


class JobRunner:
    """One delivery of one job's message to this worker."""

    def __init__(self, task, options: WorkerOptions, store: Store, app):
        self.task, self.options, self.store, self.app = task, options, store, app
        self.progress: dict = {}
        self.progress_sent: dict = {}

    def run(self, job_id: str) -> dict:
        from celery.exceptions import Ignore

        verdict, detail = self.broker(lambda: self.store.start(job_id, self.options.name, self.options.lease))
        if verdict in ("terminal", "missing"):
            log.info("job %s: %s, not run", job_id, "it has its outcome already" if verdict == "terminal"
                     else "no record of it (expired or removed)")
            return {"job": job_id, "state": verdict}
        job = self.broker(lambda: self.store.job(job_id))
        if verdict == "held":
            # Its message came back (a visibility timeout) while another worker still runs it: look again later.
            log.info("job %s: %s runs it; looking again in %d s", job_id, detail, self.options.lease)
            send_job(self.app, job_id, job["queue"], int(job["priority"]), countdown=self.options.lease)
            raise Ignore()
        try:
            outcome = self.attempt(job, detail)
        except ComfyUIAway as away:
            self.hand_on(job, str(away))
            raise Ignore()
        written = self.broker(lambda: self.store.commit(job, outcome, self.options.name))
        if not written:
            self.broker(lambda: self.store.drop([file["key"] for file in outcome["files"]]))
        log.info("job %s: %s%s", job_id, outcome["state"], "" if written else
                 " here, but it had its outcome already (cancelled, or finished by another worker): nothing kept")
        return {"job": job_id, "state": outcome["state"], "written": written}

    # ------------------------------------------------------------------ one attempt
    def attempt(self, job: dict, attempt: str) -> dict:
        lost = int(job.get("lost") or 0)
        if lost >= self.options.max_lost:
            return self.outcome(job, attempt, "failed", f"its worker was lost {lost} times while running it; "
                                                        "not tried again")
        work = Path(tempfile.mkdtemp(prefix="dgx-pixels-job-", dir=self.options.work_dir))
        try:
            try:
                client_job = Job.create(self.workflow(job), self.params(job, work), name=job["name"])
            except InputError as err:
                return self.outcome(job, attempt, "failed", str(err))
            log.info("job %s: attempt %s on %s", job["id"], attempt, self.options.comfyui)
            try:
                result = asyncio.run(self.follow(job["id"], client_job, work / "out"))
            except ClientError as err:
                self.raise_if_away(str(err))
                return self.outcome(job, attempt, "failed", str(err))
            except Exception as err:  # a bug: the job fails with its reason, the traceback goes to the log
                log.exception("job %s: internal error", job["id"])
                return self.outcome(job, attempt, "failed", f"internal error in the worker: {type(err).__name__}: "
                                                            f"{str(err)[:300]}")
            if result is None:
                return self.outcome(job, attempt, "cancelled", "cancelled while running")
            if not result.ok:
                self.raise_if_away(result.error)
                return self.outcome(job, attempt, "failed", result.error, result=result)
            total = sum(file.bytes for file in result.files)
            if total > MAX_RESULT_BYTES:
                return self.outcome(job, attempt, "failed", f"its outputs are {total:,} bytes; the result store "
                                                            f"takes at most {MAX_RESULT_BYTES:,} per job")
            return self.outcome(job, attempt, "done", files=self.store_files(job, attempt, result), result=result)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def workflow(self, job: dict) -> ApiWorkflow:
        data = self.broker(lambda: self.store.get_blob("workflow", job["workflow"]))
        if data is None:
            raise InputError(f"its workflow ({job['workflow'][:12]}) is no longer in the store (expired)")
        spec = json.loads(data)
        return ApiWorkflow.from_dict(spec["prompt"], spec.get("parameter_map"), name=spec.get("name", "workflow"))

    def params(self, job: dict, work: Path) -> dict:
        """The job's values, its input images written here from the store."""
        params = json.loads(job["params"])
        for name, ref in json.loads(job.get("inputs") or "{}").items():
            data = self.broker(lambda: self.store.get_blob("input", ref["sha256"]))
            if data is None:
                raise InputError(f"its input image {name!r} is no longer in the store (expired)")
            path = work / "inputs" / f"{ref['sha256'][:16]}{file_suffix(ref.get('name', ''))}"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            params[name] = str(path)
        return params

    async def follow(self, job_id: str, client_job: Job, out_dir: Path) -> JobResult | None:
        """Run the job on this worker's ComfyUI, renewing the lease meanwhile; None when it was cancelled."""
        client = Client([self.options.comfyui], job_timeout=self.options.job_timeout, retries=2, max_backoff=2.0,
                        server_down_timeout=self.options.comfyui_down_timeout, forget_history=True)
        run = asyncio.ensure_future(client.run_batch([client_job], out_dir=out_dir, progress=self.on_event))
        try:
            while not run.done():
                await asyncio.wait({run}, timeout=self.options.beat_seconds)
                if not run.done() and await asyncio.to_thread(self.beat, job_id):
                    log.info("job %s: cancelled; stopping it on ComfyUI", job_id)
                    run.cancel()  # the client deletes or interrupts the prompt on the server
            return run.result().jobs[0]
        except asyncio.CancelledError:
            if run.cancelled():
                return None
            raise
        finally:
            if not run.done():
                run.cancel()
                await asyncio.gather(run, return_exceptions=True)

    def on_event(self, event: Event) -> None:
        if event.kind in (EventKind.RUNNING, EventKind.PROGRESS, EventKind.EXECUTED):
            self.progress = {"fraction": round(event.fraction, 3), "node": event.node,
                             "step": list(event.step) if event.step else None}

    def beat(self, job_id: str) -> bool:
        """Renew the lease and publish the progress; True when the job got an outcome meanwhile (cancelled)."""
        try:
            ended = self.store.beat(job_id, self.options.name, self.options.lease)
        except BrokerUnreachable:
            return False  # the job goes on; its outcome waits for the broker
        if self.progress != self.progress_sent:
            try:
                self.task.update_state(task_id=job_id, state="PROGRESS",
                                       meta={**self.progress, "worker": self.options.name})
                self.progress_sent = self.progress
            except Exception:  # progress is a courtesy: a failing result store must not stop the job
                log.debug("job %s: progress not stored", job_id, exc_info=True)
        return ended

    def store_files(self, job: dict, attempt: str, result: JobResult) -> list[dict]:
        """The run's files in the result store, one at a time (under keys of this attempt)."""
        keep = int(job.get("keep") or KEEP_SECONDS)
        files = []
        for index, file in enumerate(result.files):
            key = self.store.file_key(job["id"], attempt, index)
            data = file.path.read_bytes()
            self.broker(lambda: self.store.put_file(key, data, keep))
            files.append({"name": file.path.name, "node": file.node, "sha256": file.sha256, "bytes": file.bytes,
                          "key": key})
        return files

    def outcome(self, job: dict, attempt: str, state: str, error: str = "", files: list | None = None,
                result: JobResult | None = None) -> dict:
        return {"state": state, "error": error, "worker": self.options.name, "attempt": int(attempt),
                "server": self.options.comfyui, "prompt_id": result.prompt_id if result else "",
                "seed": result.seed if result else None, "finished_at": now_iso(), "files": files or []}

    # ------------------------------------------------------------------ when a part is away
    def raise_if_away(self, why: str) -> None:
        if not comfyui_answers(self.options.comfyui):
            raise ComfyUIAway(why)

    def hand_on(self, job: dict, why: str) -> None:
        """Give the job back to the queue (another worker takes it), then take no job until ComfyUI answers."""
        log.warning("job %s: ComfyUI at %s does not answer (%s); the job goes back to the queue", job["id"],
                    self.options.comfyui, why)
        self.broker(lambda: self.store.release(job["id"], self.options.name))
        send_job(self.app, job["id"], job["queue"], int(job["priority"]))
        if not wait_for_comfyui(self.options.comfyui, COMFYUI_WAIT_SECONDS):
            log.warning("ComfyUI at %s is still away after %g s", self.options.comfyui, COMFYUI_WAIT_SECONDS)

    def broker(self, call: Callable[[], T]) -> T:
        """``call()``, tried again while the broker is away (restarting), up to the worker's broker wait."""
        deadline = time.monotonic() + self.options.broker_wait
        pause = 0.5
        while True:
            try:
                return call()
            except BrokerUnreachable as err:
                if time.monotonic() > deadline:
                    raise
                log.warning("%s; trying again in %.1f s", err, pause)
                time.sleep(pause)
                pause = min(pause * 2, 5.0)


def send_unsent(store: Store, app) -> int:
    """Send a message again for every unfinished job that has none on the broker (store.unsent says why that
    happens); returns how many."""
    records = store.unsent(store.queue_names())
    if records:
        with app.producer_or_acquire() as producer:
            for record in records:
                send_job(app, record["id"], record["queue"], int(record["priority"]), producer=producer)
        store.mark_queued([record["id"] for record in records])
        log.warning("%d job(s) had no message on the broker (lost with a broken connection, or never sent by their "
                    "submitter); sent again: %s", len(records), ", ".join(r["id"] for r in records[:10]))
    return len(records)


def sweep_lost_messages(store: Store, app, worker: str, patience: float = 600.0) -> None:
    """Ask for a sweep and see it done, by this worker or another."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            ticket = store.ask_for_sweep()
            while not store.sweep_if_needed(ticket, worker, lambda: send_unsent(store, app)):
                if time.monotonic() > deadline:
                    return
                time.sleep(2.0)
            return
        except BrokerUnreachable:
            time.sleep(2.0)  # the consumer reconnects meanwhile, and asks again when it has
        except Exception:  # a sweep is a safety net: a failure is logged, never fatal to the worker
            log.exception("the sweep for lost messages failed")
            return


def worker_app(broker_url: str, options: WorkerOptions):
    """The Celery app of a worker: the job task, a step that follows the submitters' queues, and one that sends
    again the messages a broken connection lost."""
    from celery import bootsteps

    app = make_app(broker_url, options)
    store = Store(broker_url)  # shared by the worker's process and its pool's (redis-py reconnects after a fork)

    class RepeatedStep(bootsteps.StartStopStep):
        """Runs ``action`` when the consumer starts (again with every new connection to the broker), then every
        ``every`` seconds."""

        requires = {"celery.worker.consumer.tasks:Tasks"}
        every = 1.0

        def __init__(self, parent, **kwargs):
            super().__init__(parent, **kwargs)
            self.timer = None

        def action(self, consumer) -> None:
            raise NotImplementedError

        def start(self, consumer):
            self.action(consumer)
            self.timer = consumer.timer.call_repeatedly(self.every, self.action, (consumer,), priority=10)

        def stop(self, consumer):
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None

    class FollowSubmitterQueues(RepeatedStep):
        """Consume from every submitter's queue: those there at start, and each new one within seconds."""

        every = QUEUE_SYNC_SECONDS

        def action(self, consumer):
            try:
                names = store.queue_names()
            except BrokerUnreachable:
                return  # the consumer reconnects by itself; the queues are picked up after that
            for name in names:
                if not consumer.task_consumer.consuming_from(name):
                    consumer.add_task_queue(name)

    class SweepLostMessages(RepeatedStep):
        """A sweep at every new connection to the broker, the moment a message may have been lost, and now and
        then (in a thread: a sweep reads every waiting message, and the consumer must not wait for it)."""

        every = SWEEP_SECONDS

        def action(self, consumer):
            threading.Thread(target=sweep_lost_messages, args=(Store(broker_url), app, options.name),
                             name="dgx-pixels-sweep", daemon=True).start()

    app.steps["consumer"].add(FollowSubmitterQueues)
    app.steps["consumer"].add(SweepLostMessages)

    @app.task(name=TASK_NAME, bind=True)
    def run_job(task, job_id):
        return JobRunner(task, options, store, app).run(job_id)

    return app


def start_worker(broker_url: str, options: WorkerOptions) -> None:
    """Serve jobs until stopped (Ctrl-C or SIGTERM: the running job finishes first; a second one stops at once)."""
    app = worker_app(broker_url, options)
    # The running job is kept on purpose when the broker connection drops (its outcome is written once); Celery
    # would warn about that choice at every reconnection.
    warnings.filterwarnings("ignore", message=".*worker_cancel_long_running_tasks_on_connection_loss")
    print(f"dgx-pixels worker {options.name}: broker {redact(broker_url)}, ComfyUI {options.comfyui}", flush=True)
    app.worker_main(["worker", "--pool", "prefork", "--concurrency", "1", "--hostname", options.name,
                     "--loglevel", options.loglevel.upper(), "--without-gossip", "--without-mingle",
                     "--queues", PLACEHOLDER_QUEUE])
