"""``dgx-pixels submit``, ``jobs``, ``fetch`` and ``cancel``: the studio queue from any machine (a Redis broker on
one box, ``dgx-pixels worker`` beside each ComfyUI server). ``batch FILE --broker URL`` submits a batch file too.

Exit codes: 0 done; 1 some job failed or was cancelled; 2 bad input; 3 the broker cannot be reached; 4 (fetch) some
job has not finished yet.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..common.errors import InputError
from ..queue.names import (BROKER_ENV, DEFAULT_PRIORITY, SUBMITTER_ENV, check_broker_url, check_priority,
                           require_packages)
from .options import non_negative_int, positive_float

EXIT_FAILED = 1
EXIT_UNREACHABLE = 3
EXIT_UNFINISHED = 4


def priority(text: str) -> int:
    try:
        return check_priority(int(text))
    except (ValueError, InputError):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a priority from 0 to 9 (9 runs first)") from None


def add_queue_options(parser: argparse.ArgumentParser, submitting: bool = False,
                      broker_help: str = f"the queue's Redis, redis://HOST:6379/0 (default: ${BROKER_ENV})") -> None:
    parser.add_argument("--broker", metavar="URL", help=broker_help)
    if submitting:
        parser.add_argument("--priority", type=priority, default=DEFAULT_PRIORITY, metavar="0-9",
                            help=f"9 runs first (default: {DEFAULT_PRIORITY})")
        parser.add_argument("--submitter", metavar="NAME",
                            help=f"whose jobs these are (default: ${SUBMITTER_ENV}, else the login name); each "
                                 "submitter's jobs are served in turn with the others' of the same priority")
        parser.add_argument("--batch-id", metavar="ID", help="the batch's id (default: a new one); submitting again "
                                                             "under the same id queues no job twice")
        parser.add_argument("--keep-days", type=positive_float, default=7.0, metavar="DAYS",
                            help="how long the records and results stay on the broker (default: 7)")


def register(subparsers: argparse._SubParsersAction) -> None:
    submit = subparsers.add_parser(
        "submit", help="queue jobs for the studio's workers and return at once",
        description="Queue an API workflow's jobs (or a batch file's, with --file) on the studio queue; the workers "
                    "run them on their ComfyUI servers, `dgx-pixels jobs` follows them, `dgx-pixels fetch` gets "
                    "the files later from any machine.")
    submit.add_argument("workflow", nargs="?", metavar="WORKFLOW",
                        help="an API-format workflow file or a library name (with --file: for jobs naming none)")
    submit.add_argument("--file", type=Path, metavar="FILE", help="a batch file (YAML, JSON, TOML, or one prompt a "
                                                                 "line; see docs/client.md)")
    submit.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                        help="a parameter value for every job (repeatable)")
    submit.add_argument("--count", type=int, default=1, help="queue it N times (seeds drawn, or seed, seed+1, ...)")
    submit.add_argument("--prompt-param", default="prompt",
                        help="the parameter a prompt-per-line file sets (default: prompt)")
    submit.add_argument("--json", action="store_true", help="print the batch id and job ids as JSON")
    add_queue_options(submit, submitting=True)
    submit.set_defaults(func=lambda args: queue_command(args, _submit))

    jobs = subparsers.add_parser("jobs", help="list the studio queue's batches, or a batch's jobs, with progress",
                                 description="Without REF: the latest batches with their jobs by state. With BATCH "
                                             "or BATCH/JOB: each job's state, progress, worker and error.")
    jobs.add_argument("ref", nargs="?", metavar="BATCH[/JOB]",
                      help="a batch id (as submit printed it), or one job of it; none: the latest batches")
    jobs.add_argument("--submitter", metavar="NAME", help="only this submitter's batches")
    jobs.add_argument("--limit", type=non_negative_int, default=50, help="rows shown (default: 50; 0: all)")
    jobs.add_argument("--json", action="store_true", help="one JSON object per line")
    add_queue_options(jobs)
    jobs.set_defaults(func=lambda args: queue_command(args, _jobs))

    fetch = subparsers.add_parser("fetch", help="download a batch's or a job's files from the studio queue",
                                  description="Write the files of every finished job into OUT/<job name>/ and "
                                              "OUT/results.json (parameters, seeds, sha256 of each file).")
    fetch.add_argument("ref", metavar="BATCH[/JOB]", help="a batch id (as submit printed it), or one job of it")
    fetch.add_argument("-o", "--out", type=Path, required=True, metavar="OUT", help="the folder for the files")
    fetch.add_argument("--wait", action="store_true", help="wait until every job has finished")
    fetch.add_argument("--timeout", type=positive_float, metavar="S", help="with --wait: wait at most S s")
    fetch.add_argument("--force", action="store_true", help="replace files in OUT that hold other contents")
    add_queue_options(fetch)
    fetch.set_defaults(func=lambda args: queue_command(args, _fetch))

    cancel = subparsers.add_parser("cancel", help="cancel queued or running jobs on the studio queue",
                                   description="Cancel every unfinished job of each BATCH (or the job BATCH/JOB): "
                                               "queued ones never run, running ones stop on their ComfyUI.")
    cancel.add_argument("refs", nargs="+", metavar="BATCH[/JOB]", help="batch ids, or single jobs of them")
    cancel.add_argument("--submitter", metavar="NAME", help="who cancels (recorded; default: as for submit)")
    add_queue_options(cancel)
    cancel.set_defaults(func=lambda args: queue_command(args, _cancel))


def queue_command(args: argparse.Namespace, run) -> int:
    """Check the broker URL, then the packages, then run; a broker that cannot be reached is one line and exit 3."""
    command = f"dgx-pixels {args.command}"
    url = check_broker_url(args.broker)
    require_packages(command)
    from ..queue.store import BrokerUnreachable, QueueError

    try:
        return run(args, url)
    except BrokerUnreachable as err:
        print(f"{command}: error: {err}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except QueueError as err:
        print(f"{command}: error: {err}", file=sys.stderr)
        return EXIT_FAILED


def submit_jobs(args: argparse.Namespace, jobs, url: str) -> int:
    from ..queue.names import default_submitter
    from ..queue.submit import submit

    submission = submit(url, jobs, submitter=args.submitter or default_submitter(), priority=args.priority,
                        batch=args.batch_id, keep_days=args.keep_days)
    if getattr(args, "json", False):
        print(json.dumps({"batch": submission.batch, "submitter": submission.submitter,
                          "priority": submission.priority, "queued": submission.queued,
                          "existing": submission.existing}))
        return 0
    print(f"batch {submission.batch}: {len(submission.queued)} job(s) queued (priority {submission.priority}, "
          f"submitter {submission.submitter})")
    if submission.existing:
        print(f"  {len(submission.existing)} job(s) of this batch were queued before; not sent again")
    print(f"  follow: dgx-pixels jobs {submission.batch}\n  files:  dgx-pixels fetch {submission.batch} -o DIR")
    return 0


def _submit(args: argparse.Namespace, url: str) -> int:
    from ..remote.batchfile import expand, read_batch, typed_values
    from ..remote.params import ApiWorkflow, parse_assignment

    overrides = dict(parse_assignment(text) for text in args.assignments)
    if args.file is not None:
        if args.count != 1:
            raise InputError("--count is for a WORKFLOW; in a batch file give each job a count")
        jobs = read_batch(args.file, args.workflow, overrides, args.prompt_param)
    elif args.workflow:
        if not 1 <= args.count <= 10000:
            raise InputError(f"--count must be from 1 to 10000, got {args.count}")
        workflow = ApiWorkflow.load(args.workflow)
        jobs = expand(workflow, typed_values(workflow, overrides), workflow.name, args.count)
    else:
        raise InputError("give a WORKFLOW (an API-format .json or a library name), or --file FILE")
    return submit_jobs(args, jobs, url)


def _refs(store, refs: list[str]) -> list[str]:
    """The job ids of BATCH or BATCH/JOB references, each checked to be on the broker."""
    from ..queue.names import split_ref

    ids: list[str] = []
    for ref in refs:
        batch, job = split_ref(ref)
        found = ([job] if store.job(job) else []) if job else store.batch_job_ids(batch)
        if not found:
            raise InputError(f"no {'job' if job else 'batch'} {ref!r} on the broker (records stay there for the "
                             "batch's --keep-days)")
        ids += [job_id for job_id in found if job_id not in ids]
    return ids


def _jobs(args: argparse.Namespace, url: str) -> int:
    from ..queue.engine import make_app
    from ..queue.status import batch_rows, job_rows
    from ..queue.store import Store

    store = Store(url)
    if args.ref is None:
        rows = batch_rows(store, args.limit or 10 ** 9, args.submitter)
        columns = ("batch", "submitter", "priority", "jobs", "queued", "running", "lost", "done", "failed",
                   "cancelled", "submitted")
    else:
        rows = job_rows(store, make_app(url), _refs(store, [args.ref]))
        columns = ("job", "state", "progress", "worker", "priority", "submitter", "attempts", "error")
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    print_table(rows, columns, args.limit)
    return 0


def print_table(rows: list[dict], columns: tuple[str, ...], limit: int) -> None:
    if not rows:
        print("nothing on the queue")
        return
    shown = rows[:limit] if limit else rows
    cells = [[_cell(row[column], column) for column in columns] for row in shown]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    for line in [[column.upper() for column in columns], *cells]:
        print("  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip())
    if len(shown) < len(rows):
        print(f"... and {len(rows) - len(shown)} more (--limit 0 shows all)")


def _cell(value, column: str) -> str:
    if column == "progress":
        return f"{100 * value:.0f}%"
    return " ".join(str(value).split())[:80]


def _fetch(args: argparse.Namespace, url: str) -> int:
    from ..queue.fetch import fetch, wait_for_outcomes
    from ..queue.store import Store

    store = Store(url)
    ids = _refs(store, [args.ref])
    if args.timeout is not None and not args.wait:
        raise InputError("--timeout goes with --wait")
    outcomes = wait_for_outcomes(store, ids, (args.timeout or float("inf")) if args.wait else None)
    report = fetch(store, ids, args.out, outcomes, args.force)
    for job_id, state, why in report.failed:
        print(f"dgx-pixels fetch: job {job_id} {state}: {why}", file=sys.stderr)
    print(f"{len(report.done)}/{len(ids)} job(s) done: {report.files} file(s) in {report.folder}")
    if report.unfinished:
        print(f"dgx-pixels fetch: {len(report.unfinished)} job(s) not finished yet; fetch again later, or add --wait",
              file=sys.stderr)
        return EXIT_UNFINISHED
    return EXIT_FAILED if report.failed else 0


def _cancel(args: argparse.Namespace, url: str) -> int:
    from ..queue.names import default_submitter
    from ..queue.store import Store
    from ..queue.submit import cancel

    report = cancel(url, _refs(Store(url), args.refs), args.submitter or default_submitter())
    print(f"{len(report.cancelled)} job(s) cancelled, {report.running} of them running (stopped on their ComfyUI); "
          f"{report.finished} had finished already")
    return 0
