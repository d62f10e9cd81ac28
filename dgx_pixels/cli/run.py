"""``dgx-pixels run`` and ``dgx-pixels batch``: queue API workflows on ComfyUI servers and download the outputs.

Exit codes: 0 every job done; 1 some job failed; 2 bad input (parameters, files); 3 no server reachable;
130 interrupted (the manifest is resumable).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..common.errors import InputError
from .jobs import add_server_options, execute_jobs
from .submit import add_queue_options, queue_command, submit_jobs


def register(subparsers: argparse._SubParsersAction) -> None:
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
    add_server_options(run)
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
    add_server_options(batch)
    add_queue_options(batch, submitting=True, broker_help="queue the jobs on the studio queue at this Redis "
                                                          "(redis://HOST:6379/0) instead of running them here")
    batch.set_defaults(func=_batch)


def _run(args: argparse.Namespace) -> int:
    from ..remote.batchfile import expand, typed_values
    from ..remote.params import ApiWorkflow, parse_assignment

    if args.resume:
        if args.workflow or args.assignments:
            raise InputError("--resume continues a run as it was recorded: give no WORKFLOW or --set with it")
        return execute_jobs(args, None)
    if not args.workflow:
        raise InputError("give a WORKFLOW (an API-format .json or a library name), or --resume MANIFEST")
    workflow = ApiWorkflow.load(args.workflow)
    if args.list_params:
        print(workflow.describe())
        return 0
    if not 1 <= args.count <= 10000:
        raise InputError(f"--count must be from 1 to 10000, got {args.count}")
    values = typed_values(workflow, dict(parse_assignment(text) for text in args.assignments))
    return execute_jobs(args, expand(workflow, values, workflow.name, args.count), workflow.name)


def _batch(args: argparse.Namespace) -> int:
    from ..remote.batchfile import read_batch
    from ..remote.params import parse_assignment

    if args.resume:
        if args.file or args.assignments or args.workflow:
            raise InputError("--resume continues a run as it was recorded: give no FILE, --workflow or --set with it")
        return execute_jobs(args, None)
    if not args.file:
        raise InputError("give a batch FILE, or --resume MANIFEST")
    overrides = dict(parse_assignment(text) for text in args.assignments)
    jobs = read_batch(args.file, args.workflow, overrides, args.prompt_param)
    if args.broker:
        return queue_command(args, lambda args, url: submit_jobs(args, jobs, url))
    return execute_jobs(args, jobs, Path(args.file).stem)
