"""The Celery application: its settings (what makes delivery survive a lost worker and a restarted broker), sending a
job, and starting a worker in front of one ComfyUI server.

- ``task_acks_late`` + ``worker_prefetch_multiplier = 1``: a worker holds one job at a time, and its message is
  acknowledged only when the job has its outcome; ``task_reject_on_worker_lost`` puts the message back at once when
  the process running the job dies (killed, out of memory), and ``task_acks_on_failure_or_timeout = False`` leaves
  it unacknowledged when the job's code stops on a broker failure.
- The broker's ``visibility_timeout``: a message taken by a worker that vanished (its machine lost) goes back to the
  queue that many seconds after it was taken; ``unacked_restore_throttle = 1`` makes every worker look for such
  messages every ``unacked_restore_interval`` seconds (kombu's default looks every 100 s).
- Priorities: Redis has no priority queue, so kombu keeps one list per ``priority_steps`` entry (all ten here) and
  asks for the highest first; each submitter has a queue of its own and ``queue_order_strategy = round_robin``
  serves the submitters in turn within a priority.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .names import PRIORITIES

TASK_NAME = "dgx_pixels.run_job"
PLACEHOLDER_QUEUE = "dgx-pixels"  # a worker starts before any submitter has a queue
KEEP_SECONDS = 7 * 86400


@dataclass
class WorkerOptions:
    """A worker's settings (``dgx-pixels worker``); every worker of a queue should use the same timeouts."""

    comfyui: str
    name: str
    visibility_timeout: float = 600.0
    lease: int = 30
    job_timeout: float | None = None
    max_lost: int = 3
    work_dir: Path | None = None
    loglevel: str = "info"
    comfyui_down_timeout: float = 60.0  # a job waits this long for its ComfyUI to come back before it is handed on
    broker_wait: float = 3600.0  # a finished job waits this long for the broker to take its result

    @property
    def beat_seconds(self) -> float:
        """How often a running job renews its lease and looks for a cancel."""
        return min(1.0, self.lease / 3)


def broker_priority(priority: int) -> int:
    """Ours run 9 first; kombu's Redis lists are read lowest first."""
    return PRIORITIES[-1] - priority


def make_app(broker_url: str, worker: WorkerOptions | None = None):
    """The Celery app for ``broker_url`` (also the result store), for a submitter or, with ``worker``, for a worker
    (which registers its task on it: queue.worker)."""
    from celery import Celery

    visibility = worker.visibility_timeout if worker else 600.0
    app = Celery("dgx-pixels", broker=broker_url, backend=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True, task_acks_on_failure_or_timeout=False,
        worker_prefetch_multiplier=1, task_track_started=True, task_default_queue=PLACEHOLDER_QUEUE,
        broker_transport_options={
            "visibility_timeout": visibility, "priority_steps": list(PRIORITIES), "sep": ":",
            "queue_order_strategy": "round_robin", "unacked_restore_throttle": 1,
            "unacked_restore_interval": max(1, min(10, int(visibility / 4))),
            "socket_connect_timeout": 5, "health_check_interval": 10,
        },
        broker_connection_timeout=5, broker_connection_retry_on_startup=True,
        # A worker keeps trying a restarted broker for ever; a command gives up after its first tries.
        broker_connection_max_retries=None if worker else 2,
        redis_socket_connect_timeout=5, redis_socket_timeout=30,
        result_expires=KEEP_SECONDS,
        result_backend_always_retry=worker is not None,
        worker_cancel_long_running_tasks_on_connection_loss=False,  # the job goes on; its outcome is written once
        worker_hijack_root_logger=True, worker_redirect_stdouts=False,
    )
    return app


def send_job(app, job_id: str, queue: str, priority: int, countdown: float | None = None, producer=None) -> None:
    """The message for ``job_id`` (its task id too: Celery's records of it are the job's)."""
    app.send_task(TASK_NAME, args=[job_id], task_id=job_id, queue=queue, priority=broker_priority(priority),
                  countdown=countdown, producer=producer)
