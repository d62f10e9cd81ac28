"""``dgx-pixels worker``: serve the studio queue with one ComfyUI server (run one beside each GPU's ComfyUI).

It checks the broker (exit 3 when it cannot be reached) and waits for its ComfyUI before it takes any job; then it
runs until stopped: Ctrl-C or SIGTERM lets the running job finish, a second one stops at once (the job then runs
again on another worker).
"""
from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from ..common.errors import InputError
from ..queue.names import BROKER_ENV, check_broker_url, check_name, require_packages
from .options import positive_float, positive_int

EXIT_UNREACHABLE = 3
LOG_LEVELS = ("debug", "info", "warning", "error")


def register(subparsers: argparse._SubParsersAction) -> None:
    worker = subparsers.add_parser(
        "worker", help="run the studio queue's jobs on one ComfyUI server (one worker beside each GPU)",
        description="Take jobs from the studio queue one at a time and run them on one ComfyUI server; their files "
                    "go to the result store, for `dgx-pixels fetch` on any machine. Give every worker the same "
                    "--visibility-timeout.")
    worker.add_argument("--broker", metavar="URL", help=f"the queue's Redis, redis://HOST:6379/0 (default: "
                                                        f"${BROKER_ENV})")
    worker.add_argument("--comfyui", metavar="URL", default="http://127.0.0.1:8188",
                        help="this worker's ComfyUI server (default: http://127.0.0.1:8188)")
    worker.add_argument("--name", metavar="NAME", help="the worker's name (default: comfyui-<port>); the host's "
                                                       "name is added")
    worker.add_argument("--visibility-timeout", type=positive_float, default=600.0, metavar="S",
                        help="a job taken by a worker that vanished (its machine lost) runs again after S s "
                             "(default: 600)")
    worker.add_argument("--lease", type=positive_int, default=30, metavar="S",
                        help="a running job is renewed every second; after S s without renewal it may run elsewhere "
                             "(default: 30)")
    worker.add_argument("--job-timeout", type=positive_float, metavar="S", help="fail a job that runs longer")
    worker.add_argument("--max-lost", type=positive_int, default=3, metavar="N",
                        help="fail a job whose worker was lost N times while running it (default: 3)")
    worker.add_argument("--work-dir", type=Path, metavar="DIR",
                        help="where a job's files wait before they are stored (default: the system's temporary "
                             "folder)")
    worker.add_argument("--loglevel", choices=LOG_LEVELS, default="info",
                        help="how much the worker logs (default: info: one line per job and attempt)")
    worker.set_defaults(func=_worker)


def _worker(args: argparse.Namespace) -> int:
    from ..remote.client.records import normalise_url

    url = check_broker_url(args.broker)
    comfyui = normalise_url(args.comfyui)
    name = check_name(args.name or f"comfyui-{urlsplit(comfyui).port or 80}", "worker name")
    if args.work_dir is not None and not args.work_dir.is_dir():
        raise InputError(f"--work-dir {args.work_dir}: no such folder")
    require_packages("dgx-pixels worker")
    from ..queue.engine import WorkerOptions
    from ..queue.store import BrokerUnreachable, Store
    from ..queue.worker import comfyui_answers, start_worker, wait_for_comfyui

    try:
        Store(url).ping()
    except BrokerUnreachable as err:
        print(f"dgx-pixels worker: error: {err}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if not comfyui_answers(comfyui):
        print(f"dgx-pixels worker: waiting for ComfyUI at {comfyui} (no job is taken before it answers)",
              file=sys.stderr, flush=True)
        wait_for_comfyui(comfyui, float("inf"))
    start_worker(url, WorkerOptions(comfyui=comfyui, name=f"{name}@{socket.gethostname()}",
                                    visibility_timeout=args.visibility_timeout, lease=args.lease,
                                    job_timeout=args.job_timeout, max_lost=args.max_lost, work_dir=args.work_dir,
                                    loglevel=args.loglevel))
    return 0
