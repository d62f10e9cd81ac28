"""Batch files for ``dgx-pixels batch``: many jobs in YAML, JSON or TOML, or a plain file with one prompt per line.

Structured files hold a list of jobs, or an object::

    workflow: tiny_txt2img        # a workflow file (relative to this file) or a library name
    defaults: {steps: 4}          # values every job starts from
    jobs:
      - a knight                  # a bare string sets the prompt parameter
      - {name: slime, prompt: a green slime, seed: 7}
      - {prompt: a chest, count: 3}            # three jobs, seeds drawn (or seed, seed+1, ...)
      - {workflow: other.json, prompt: a tree}  # a job may use another workflow

In TOML the jobs are ``[[jobs]]`` tables. Each job's keys are parameter names (or ``"<node title>.<input>"``) plus
``name``, ``workflow`` and ``count``. Any other file is read as one prompt per line (blank lines and lines starting
with ``#`` are skipped).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from .client.records import Job
from ..common.errors import InputError
from ..common.files import read_limited
from .params import ApiWorkflow, find_workflow

STRUCTURED = {".yaml": "YAML", ".yml": "YAML", ".json": "JSON", ".toml": "TOML"}
TOP_KEYS = {"workflow", "defaults", "jobs"}
MAX_COUNT = 10000
BATCH_LIMIT = 64 << 20  # bytes of a batch file (a million short prompts)


def read_batch(path: str | Path, workflow: str | None = None, overrides: Mapping[str, str] | None = None,
               prompt_param: str = "prompt") -> list[Job]:
    """The jobs of a batch file. ``workflow`` (the command line's) replaces the file's top-level one;
    ``overrides`` (``--set`` text values) apply to every job over the file's defaults."""
    path = Path(path)
    try:
        text = read_limited(path, BATCH_LIMIT, "batch file").decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (expected UTF-8)") from None
    kind = STRUCTURED.get(path.suffix.lower())
    if kind is None:
        entries: list[Any] = [line.strip() for line in text.splitlines()
                              if line.strip() and not line.strip().startswith("#")]
        top: dict = {}
    else:
        data = _parse(text, kind, path)
        if isinstance(data, list):
            top, entries = {}, data
        elif isinstance(data, dict):
            unknown = set(data) - TOP_KEYS
            if unknown:
                raise InputError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                                 f"expected {', '.join(sorted(TOP_KEYS))}")
            top, entries = data, data.get("jobs")
            if not isinstance(entries, list):
                raise InputError(f"{path}: \"jobs\" must be a list of jobs")
        else:
            raise InputError(f"{path}: expected a list of jobs or an object with \"jobs\"")
    if not entries:
        raise InputError(f"{path}: no jobs in the file")
    defaults = top.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise InputError(f"{path}: \"defaults\" must be an object of parameter values")
    default_ref = workflow or top.get("workflow")
    workflows: dict[str, ApiWorkflow] = {}
    jobs: list[Job] = []
    for index, entry in enumerate(entries, 1):
        where = f"{path}: line {index}" if kind is None else f"{path}: job {index}"
        if isinstance(entry, str):
            entry = {prompt_param: entry}
        if not isinstance(entry, dict):
            raise InputError(f"{where}: a job is an object of parameter values or a prompt string, got {entry!r}")
        entry = dict(entry)
        ref = entry.pop("workflow", None) or default_ref
        if not ref:
            raise InputError(f"{where}: no workflow; give --workflow WORKFLOW or a \"workflow\" key in the file")
        name = str(entry.pop("name", "") or "")
        count = entry.pop("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            raise InputError(f"{where}: count must be a whole number from 1 to {MAX_COUNT}, got {count!r}")
        try:
            wf = _workflow(str(ref), path.parent, workflows)
            values = {**by_name(wf, defaults), **typed_values(wf, overrides or {}), **by_name(wf, entry)}
            jobs.extend(expand(wf, values, name, count))
        except InputError as err:
            raise InputError(f"{where}{' (' + name + ')' if name else ''}: {err}") from None
    return jobs


def _parse(text: str, kind: str, path: Path) -> Any:
    if kind == "JSON":
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None
    if kind == "TOML":
        try:
            import tomllib
        except ImportError:
            raise InputError(f"{path}: TOML batch files need Python 3.11 or newer; use YAML or JSON") from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise InputError(f"{path}: invalid TOML: {err}") from None
    try:
        import yaml
    except ImportError:
        raise InputError(f"{path}: YAML batch files need PyYAML (`pip install pyyaml`); or use JSON") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"{path}: invalid YAML{where}: {err.problem}") from None
    except yaml.YAMLError as err:
        raise InputError(f"{path}: invalid YAML: {err}") from None


def _workflow(ref: str, base: Path, cache: dict[str, ApiWorkflow]) -> ApiWorkflow:
    beside = base / ref
    key = str(beside.resolve()) if beside.is_file() else ref
    if key not in cache:
        cache[key] = ApiWorkflow.load(beside if beside.is_file() else find_workflow(ref))
    return cache[key]


def typed_values(workflow: ApiWorkflow, overrides: Mapping[str, str]) -> dict:
    """Command-line text values converted to the workflow's parameter types (InputError names a bad one)."""
    return {workflow.parameter(key).name: workflow.parameter(key).coerce(value, workflow.name, from_text=True)
            for key, value in overrides.items()}


def by_name(workflow: ApiWorkflow, values: Mapping[str, Any]) -> dict:
    """``values`` keyed by each parameter's current name (a former name, an alias, gives way to it)."""
    return {workflow.parameter(key).name: value for key, value in values.items()}


def expand(workflow: ApiWorkflow, values: dict, name: str, count: int) -> list[Job]:
    """``count`` jobs from one entry: given seeds step by one, missing ones are drawn per job."""
    jobs = []
    for i in range(count):
        job_values = dict(values)
        if count > 1:
            for pname, parameter in workflow.parameters.items():
                if parameter.type == "seed" and pname in values:
                    job_values[pname] = workflow.parameter(pname).coerce(values[pname], workflow.name) + i
        job_name = f"{name}-{i + 1:03d}" if name and count > 1 else name
        jobs.append(Job.create(workflow, job_values, name=job_name))
    return jobs
