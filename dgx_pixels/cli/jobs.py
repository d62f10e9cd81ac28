"""Jobs queued on ComfyUI servers from the command line (run, batch, generate): the server options, the run with
its progress, and its exit codes."""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from .options import non_negative_int, positive_float, positive_int
from .progress import ProgressView

EXIT_FAILED = 1
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130
SERVER_ENV = "DGX_PIXELS_SERVER"


def add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", action="append", metavar="URL",
                        help=f"a ComfyUI server (repeatable; jobs go to the shortest queue). Default: ${SERVER_ENV} "
                             "(comma-separated), else http://127.0.0.1:8188; on --resume, the run's servers")
    parser.add_argument("-o", "--out", type=Path, metavar="OUTDIR",
                        help="output folder for the files and manifest.json (default: dgx-pixels-runs/<time>-<name>)")
    parser.add_argument("--resume", metavar="MANIFEST", help="continue an interrupted run (its manifest or folder)")
    parser.add_argument("--queue-depth", type=positive_int, default=2,
                        help="prompts kept waiting per server (default: 2)")
    parser.add_argument("--job-timeout", type=positive_float, default=None, metavar="S",
                        help="give up on a job after S s (waiting for a server, queued or running)")
    parser.add_argument("--request-timeout", type=positive_float, default=30.0, metavar="S",
                        help="limit for each HTTP call, connecting included (default: 30)")
    parser.add_argument("--retries", type=non_negative_int, default=4,
                        help="retries per HTTP call, with backoff (default: 4)")
    parser.add_argument("--server-down-timeout", type=positive_float, default=60.0, metavar="S",
                        help="after S s away, a server's jobs go to the other servers (default: 60)")
    parser.add_argument("--forget-history", action="store_true",
                        help="delete finished prompts from the servers' histories (long batches on shared servers)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def server_urls(args: argparse.Namespace, manifest_servers: list[str] | None = None) -> list[str]:
    if args.server:
        return args.server
    if manifest_servers:
        return manifest_servers
    env = os.environ.get(SERVER_ENV, "")
    return [s for s in env.split(",") if s.strip()] or ["http://127.0.0.1:8188"]


def execute_jobs(args: argparse.Namespace, jobs, label: str = "") -> int:
    """Run ``jobs`` (None: ``args.resume``) with progress on stderr; returns the exit code."""
    from ..remote.client import Client
    from ..remote.client.manifest import RunManifest
    from ..remote.client.records import ClientError, ServerUnreachable

    command = args.command + (f" {args.kind}" if args.command == "generate" else "")
    if args.resume:
        manifest = RunManifest.load(args.resume)
        servers, manifest_path, total = server_urls(args, manifest.servers), manifest.path, len(manifest.jobs)
        out_dir = manifest.out_dir
    else:
        out_dir = args.out or Path("dgx-pixels-runs") / f"{datetime.now():%Y%m%d-%H%M%S}-{label}"
        servers, manifest_path, total = server_urls(args), out_dir / "manifest.json", len(jobs)
    client = Client(servers, queue_depth=args.queue_depth, request_timeout=args.request_timeout,
                    job_timeout=args.job_timeout, retries=args.retries, server_down_timeout=args.server_down_timeout,
                    forget_history=args.forget_history)
    view = ProgressView(total, out_dir, enabled=not args.quiet)
    started = time.monotonic()
    try:
        if args.resume:
            result = client.resume_sync(args.resume, progress=view)
        else:
            result = client.run_batch_sync(jobs, out_dir=out_dir, progress=view)
    except KeyboardInterrupt:
        view.close()
        if not manifest_path.exists():
            print(f"dgx-pixels {command}: interrupted before any job was queued", file=sys.stderr)
            return EXIT_INTERRUPTED
        print(f"dgx-pixels {command}: interrupted; the servers' jobs were stopped. Continue with:\n"
              f"  dgx-pixels {command} --resume {manifest_path}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ServerUnreachable as err:
        view.close()
        print(f"dgx-pixels {command}: error: {err}", file=sys.stderr)
        if manifest_path.exists():
            print(f"  continue later with: dgx-pixels {command} --resume {manifest_path}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ClientError as err:
        view.close()
        print(f"dgx-pixels {command}: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    view.close()
    elapsed = time.monotonic() - started
    for job in result.failed:
        print(f"dgx-pixels {command}: job {job.name} {job.state}: {job.error}", file=sys.stderr)
    if len(result.jobs) == 1 and result.ok:
        for file in result.jobs[0].files:
            print(file.path)
    print(f"{len(result.done)}/{len(result.jobs)} done, {len(result.failed)} failed in {elapsed:.1f} s; "
          f"manifest: {result.manifest}")
    if result.failed:
        print(f"  retry the failed jobs with: dgx-pixels {command} --resume {result.manifest}", file=sys.stderr)
        return EXIT_FAILED
    return 0
