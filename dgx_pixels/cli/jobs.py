"""Jobs queued on ComfyUI servers from the command line (run, batch, generate): the server options, the run with
its progress, and its exit codes."""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from ..common.errors import InputError
from .export import ENGINE_TARGETS
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
    parser.add_argument("--bevy", action="append", default=[], type=lambda text: ("bevy", text), dest="exports",
                        metavar="PROJECT", help="export each finished sheet into this Bevy project on this machine "
                                                "(the folder with Cargo.toml; previous versions are kept)")
    parser.add_argument("--export", action="append", type=export_spec, dest="exports", metavar="TARGET=DIR",
                        help="export each finished sheet into DIR here, for TARGET (repeatable; targets: "
                             f"{', '.join(ENGINE_TARGETS)})")


def export_spec(text: str) -> tuple[str, str]:
    """``--export TARGET=DIR`` -> (target, dir)."""
    target, sep, folder = text.partition("=")
    if not sep or not folder.strip():
        raise argparse.ArgumentTypeError(f"expected TARGET=DIR (targets: {', '.join(ENGINE_TARGETS)}), got "
                                         f"{text[:80]!r}")
    if target not in ENGINE_TARGETS:
        raise argparse.ArgumentTypeError(f"unknown export target {target[:40]!r}; targets: "
                                         f"{', '.join(ENGINE_TARGETS)}")
    return target, folder


def server_urls(args: argparse.Namespace, manifest_servers: list[str] | None = None) -> list[str]:
    if args.server:
        return args.server
    if manifest_servers:
        return manifest_servers
    env = os.environ.get(SERVER_ENV, "")
    return [s for s in env.split(",") if s.strip()] or ["http://127.0.0.1:8188"]


def execute_jobs(args: argparse.Namespace, jobs, label: str = "", export: bool = True) -> int:
    """Run ``jobs`` (None: ``args.resume``) with progress on stderr (and ``--json`` events), then export the finished
    sheets into the projects of ``--bevy``/``--export`` (unless ``export`` is off); returns the exit code."""
    from ..remote.client import Client
    from ..remote.client.manifest import RunManifest
    from ..remote.client.records import ClientError, ServerUnreachable

    command = args.command + (f" {args.kind}" if args.command == "generate" else "")
    if args.resume:
        manifest = RunManifest.load(args.resume)
        servers, manifest_path, total = server_urls(args, manifest.servers), manifest.path, len(manifest.jobs)
        out_dir = manifest.out_dir
        prompts = [workflow.prompt for workflow in manifest.workflows.values()]
    else:
        out_dir = args.out or Path("dgx-pixels-runs") / f"{datetime.now():%Y%m%d-%H%M%S}-{label}"
        servers, manifest_path, total = server_urls(args, None), out_dir / "manifest.json", len(jobs)
        prompts = [job.workflow.prompt for job in jobs]
    projects = check_exports(args.exports or [], prompts)
    client = Client(servers, queue_depth=args.queue_depth, request_timeout=args.request_timeout,
                    job_timeout=args.job_timeout, retries=args.retries, server_down_timeout=args.server_down_timeout,
                    forget_history=args.forget_history)
    view = ProgressView(total, out_dir, enabled=not args.quiet)
    progress = view if args.events is None else lambda event: (view(event), args.events.job_event(event, out_dir))
    started = time.monotonic()
    try:
        if args.resume:
            result = client.resume_sync(args.resume, progress=progress)
        else:
            result = client.run_batch_sync(jobs, out_dir=out_dir, progress=progress)
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
    code = EXIT_FAILED if result.failed else 0
    if export and projects:
        code = export_jobs(args, command, result.manifest, [job.name for job in result.done], projects) or code
    if len(result.jobs) == 1 and result.ok:
        for file in result.jobs[0].files:
            print(file.path)
    print(f"{len(result.done)}/{len(result.jobs)} done, {len(result.failed)} failed in {elapsed:.1f} s; "
          f"manifest: {result.manifest}")
    if result.failed:
        print(f"  retry the failed jobs with: dgx-pixels {command} --resume {result.manifest}", file=sys.stderr)
    if args.events is not None:
        args.events.summary_fields.update(manifest=str(result.manifest), done=len(result.done),
                                          failed=len(result.failed), jobs=job_summaries(result.manifest))
    return code


def check_exports(exports: list[tuple[str, str]], prompts: list[dict]) -> list[tuple[str, str, list[Path]]]:
    """Before any job is queued: every workflow returns its sheet, and every project exists and can take the
    export. Returns (target, project, allowed roots) for each."""
    from ..export.paths import project_roots
    from ..remote.results import check_export, returns_sheets

    if exports and not all(returns_sheets(prompt) for prompt in prompts):
        raise InputError("--bevy/--export need a workflow that returns its sheet (a Save Sheet node, as the shipped "
                         "workflows have); this one does not")
    checked = []
    for target, project in exports:
        roots = project_roots(project)
        check_export(target, project, roots)
        checked.append((target, project, roots))
    return checked


def export_jobs(args: argparse.Namespace, command: str, manifest_path: Path, names: list[str],
                projects: list[tuple[str, str, list[Path]]]) -> int:
    """Export the sheets the named jobs brought back into each project; recorded in the manifest, reported as
    ``export`` events and printed with the code to use them. Returns 1 when an export failed."""
    from ..remote.client.manifest import RunManifest
    from ..remote.results import export_sheet, returned_sheets

    manifest = RunManifest.load(manifest_path)
    failed, taken = 0, set()
    for job in (job for job in manifest.jobs if job.name in names):
        try:
            for sheet in returned_sheets(job.files, manifest.out_dir):
                name = unique_name(str(job.params.get("asset_name") or sheet.name), taken)
                for target, project, roots in projects:
                    done = export_sheet(sheet, target, project, roots, name)
                    job.exports.append(done.record())
                    report_export(args, job.name, done)
        except InputError as err:
            failed += 1
            print(f"dgx-pixels {command}: job {job.name}: not exported: {err}", file=sys.stderr)
            if args.events is not None:
                args.events.emit("failed", job=job.name, error=f"not exported: {err}")
    manifest.save()
    return EXIT_FAILED if failed else 0


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``... when an earlier job of the run was exported under it."""
    unique, number = name, 1
    while unique in taken:
        number += 1
        unique = f"{name}_{number}"
    taken.add(unique)
    return unique


def report_export(args: argparse.Namespace, job: str, done) -> None:
    for warning in done.warnings:
        print(f"dgx-pixels: warning: {warning}", file=sys.stderr)
    written = [Path(f["path"]).name for f in done.files if f["state"] == "written"]
    print(f"exported {done.asset_path} into {done.project} ({done.target}): "
          + (f"written {', '.join(written)}" if written else "every file unchanged")
          + (f"; previous version kept in {done.history}" if done.history else ""))
    print(done.snippet, end="")
    if args.events is not None:
        args.events.emit("export", job=job, target=done.target, project=str(done.project),
                         asset_path=done.asset_path, files=done.files, history=done.history, snippet=done.snippet)


def job_summaries(manifest_path: Path) -> list[dict]:
    """The run's jobs as the ``--json`` summary lists them."""
    from ..remote.client.manifest import RunManifest

    manifest = RunManifest.load(manifest_path)
    return [{"name": job.name, "state": str(job.state), "seed": job.seed, "server": job.server,
             "prompt_id": job.prompt_id, "error": job.error,
             "files": [{**file, "path": str(manifest.out_dir / file["path"])} for file in job.files],
             "exports": job.exports} for job in manifest.jobs]
