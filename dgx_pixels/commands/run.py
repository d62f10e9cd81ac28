"""``dgx-pixels run`` and ``dgx-pixels batch``: queue API workflows on ComfyUI servers and download the outputs.

Exit codes: 0 every job done; 1 some job failed; 2 bad input (parameters, files); 3 no server reachable;
130 interrupted (the manifest is resumable).
"""
from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from pathlib import Path

from ..errors import InputError

EXIT_FAILED = 1
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130
SERVER_ENV = "DGX_PIXELS_SERVER"


def register(subparsers) -> None:
    run = subparsers.add_parser(
        "run", help="queue an API workflow on ComfyUI and download its outputs",
        description="Queue an API-format workflow with named parameters (its .params.json map) on one or more "
                    "ComfyUI servers; outputs and a manifest.json go to the output folder.")
    run.add_argument("workflow", nargs="?", metavar="WORKFLOW",
                     help="an API-format workflow file, or a library name (workflows/api/<name>.json)")
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                     help="a parameter value (repeatable); NAME is a parameter of the workflow's map, or "
                          "\"<node title>.<input>\"")
    run.add_argument("--count", type=int, default=1, help="run it N times (seeds drawn, or seed, seed+1, ...)")
    run.add_argument("--list-params", action="store_true", help="show the workflow's parameters and exit")
    _common_options(run)
    run.set_defaults(func=_run)

    batch = subparsers.add_parser(
        "batch", help="run many jobs from a YAML/JSON/TOML file or a prompt-per-line text file",
        description="Run every job of a batch file (see docs/client.md for the format).")
    batch.add_argument("file", nargs="?", metavar="FILE", help="the batch file")
    batch.add_argument("--workflow", help="the workflow for jobs that name none (replaces the file's)")
    batch.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                       help="a value for every job (over the file's defaults, under each job's own values)")
    batch.add_argument("--prompt-param", default="prompt",
                       help="the parameter a prompt-per-line file (or a bare string job) sets (default: prompt)")
    _common_options(batch)
    batch.set_defaults(func=_batch)


def _common_options(parser) -> None:
    parser.add_argument("--server", action="append", metavar="URL",
                        help=f"a ComfyUI server (repeatable; jobs go to the shortest queue). Default: ${SERVER_ENV} "
                             "(comma-separated), else http://127.0.0.1:8188; on --resume, the run's servers")
    parser.add_argument("-o", "--out", type=Path, metavar="OUTDIR",
                        help="output folder for the files and manifest.json (default: dgx-pixels-runs/<time>-<name>)")
    parser.add_argument("--resume", metavar="MANIFEST", help="continue an interrupted run (its manifest or folder)")
    parser.add_argument("--queue-depth", type=int, default=2, help="prompts kept waiting per server (default: 2)")
    parser.add_argument("--job-timeout", type=float, default=None, metavar="S", help="give up on a job after S s")
    parser.add_argument("--request-timeout", type=float, default=30.0, metavar="S",
                        help="limit for each HTTP call (default: 30)")
    parser.add_argument("--retries", type=int, default=4, help="retries per HTTP call, with backoff (default: 4)")
    parser.add_argument("--server-down-timeout", type=float, default=60.0, metavar="S",
                        help="after S s away, a server's jobs go to the other servers (default: 60)")
    parser.add_argument("--forget-history", action="store_true",
                        help="delete finished prompts from the servers' histories (long batches on shared servers)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


# ---------------------------------------------------------------------------------------------------- commands
def _run(args) -> int:
    from ..batchfile import expand, typed_values
    from ..params import Workflow, parse_assignment

    if args.resume:
        if args.workflow or args.assignments:
            raise InputError("--resume continues a run as it was recorded: give no WORKFLOW or --set with it")
        return _execute(args, None)
    if not args.workflow:
        raise InputError("give a WORKFLOW (an API-format .json or a library name), or --resume MANIFEST")
    workflow = Workflow.load(args.workflow)
    if args.list_params:
        print(workflow.describe())
        return 0
    if not 1 <= args.count <= 10000:
        raise InputError(f"--count must be from 1 to 10000, got {args.count}")
    values = typed_values(workflow, dict(parse_assignment(text) for text in args.assignments))
    return _execute(args, expand(workflow, values, workflow.name, args.count), workflow.name)


def _batch(args) -> int:
    from ..batchfile import read_batch
    from ..params import parse_assignment

    if args.resume:
        if args.file or args.assignments or args.workflow:
            raise InputError("--resume continues a run as it was recorded: give no FILE, --workflow or --set with it")
        return _execute(args, None)
    if not args.file:
        raise InputError("give a batch FILE, or --resume MANIFEST")
    overrides = dict(parse_assignment(text) for text in args.assignments)
    jobs = read_batch(args.file, args.workflow, overrides, args.prompt_param)
    return _execute(args, jobs, Path(args.file).stem)


def _servers(args, manifest_servers: list[str] | None = None) -> list[str]:
    if args.server:
        return args.server
    if manifest_servers:
        return manifest_servers
    env = os.environ.get(SERVER_ENV, "")
    return [s for s in env.split(",") if s.strip()] or ["http://127.0.0.1:8188"]


def _execute(args, jobs, label: str = "") -> int:
    from ..client import Client, ClientError, Manifest, ServerUnreachable

    command = "batch" if args.func is _batch else "run"
    if args.resume:
        manifest = Manifest.load(args.resume)
        servers, manifest_path, total = _servers(args, manifest.servers), manifest.path, len(manifest.jobs)
        out_dir = manifest.out_dir
    else:
        out_dir = args.out or Path("dgx-pixels-runs") / f"{datetime.now():%Y%m%d-%H%M%S}-{label}"
        servers, manifest_path, total = _servers(args), out_dir / "manifest.json", len(jobs)
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


# ---------------------------------------------------------------------------------------------------- progress
class ProgressView:
    """Progress on stderr. On a terminal: a bar per running job and one for the batch, redrawn in place;
    otherwise (logs, pipes): one line per finished, failed or lost job and per server going away or back."""

    BAR = 24
    MAX_JOB_LINES = 8

    def __init__(self, total: int, out_dir: Path, enabled: bool = True, stream=None, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = self.stream.isatty() if live is None else live
        self.total = total
        self.out_dir = out_dir
        self.running: dict[str, tuple[float, str, tuple[int, int] | None, str]] = {}
        self.counts: dict[str, int] = {}
        self.drawn = 0
        self.last_draw = 0.0
        self.started = time.monotonic()
        self.done_here = 0

    def __call__(self, event) -> None:
        if not self.enabled:
            return
        self.counts = dict(event.counts)
        job = event.job
        if event.kind in ("queued", "running", "progress", "executed") and job is not None:
            self.running[job.name] = (event.fraction, event.node, event.step, event.server)
        elif job is not None:
            self.running.pop(job.name, None)
        line = self._line_for(event)
        if line:
            self._print(line)
        if self.live:
            self._draw(force=line is not None)

    def _line_for(self, event) -> str | None:
        job = event.job
        position = f"[{self.counts.get('done', 0):>{len(str(self.total))}}/{self.total}]"
        if event.kind == "done":
            self.done_here += 1
            files = ", ".join(str(self.out_dir / f["path"]) for f in job.files) or "no files"
            return f"{position} {job.name} done on {event.server}: {files}"
        if event.kind == "failed":
            return f"{position} {job.name} FAILED: {event.message}"
        if event.kind == "lost":
            return f"{position} {job.name} lost ({event.message}); queued again"
        if event.kind == "interrupted":
            return f"{position} {job.name} interrupted on {event.server}"
        if event.kind == "server_down":
            return f"server {event.server} unreachable ({event.message}); retrying"
        if event.kind == "server_up" and self.counts:
            return f"server {event.server} is back"
        return None

    def _print(self, line: str) -> None:
        self._clear()
        print(line, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.live and self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F\x1b[J")
            self.drawn = 0

    @classmethod
    def bar(cls, fraction: float) -> str:
        filled = int(round(max(0.0, min(1.0, fraction)) * cls.BAR))
        return "[" + "#" * filled + "-" * (cls.BAR - filled) + "]"

    def lines(self) -> list[str]:
        """The live block: running jobs' bars, then the batch's."""
        out = []
        for name, (fraction, node, step, server) in list(self.running.items())[:self.MAX_JOB_LINES]:
            detail = f"{node} {step[0]}/{step[1]}" if step and node else node
            out.append(f"  {name[:20]:<20} {self.bar(fraction)} {fraction * 100:3.0f}%  {detail[:28]:<28} {server}")
        if len(self.running) > self.MAX_JOB_LINES:
            out.append(f"  ... and {len(self.running) - self.MAX_JOB_LINES} more")
        done, failed = self.counts.get("done", 0), self.counts.get("failed", 0)
        elapsed = time.monotonic() - self.started
        rate = self.done_here / elapsed if elapsed > 0 else 0.0
        left = self.total - done - failed
        eta = f", about {left / rate:.0f} s left" if rate > 0 and left > 0 else ""
        out.append(f"batch {self.bar((done + failed) / max(self.total, 1))} {done}/{self.total} done, {failed} failed, "
                   f"{len(self.running)} on the servers{eta}")
        return out

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        self._clear()
        block = self.lines()
        self.stream.write("\n".join(block) + "\n")
        self.stream.flush()
        self.drawn = len(block)

    def close(self) -> None:
        if self.enabled and self.live:
            self._clear()
            self.stream.flush()
