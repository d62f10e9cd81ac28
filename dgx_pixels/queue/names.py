"""What the queue's users type, checked before anything is contacted: broker URLs, submitter names, batch and job ids,
priorities. Nothing here imports Celery or redis, so a bad value is refused even where they are not installed."""
from __future__ import annotations

import getpass
import os
import re
import secrets
import urllib.parse
from datetime import datetime

from ..common.errors import InputError
from ..remote.client.records import safe_name

BROKER_ENV = "DGX_PIXELS_BROKER"
SUBMITTER_ENV = "DGX_PIXELS_SUBMITTER"
BROKER_SCHEMES = ("redis", "rediss")
NAME_PATTERN = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
PRIORITIES = range(10)  # 9 runs first
DEFAULT_PRIORITY = 5
JOB_SEPARATOR = "/"  # a job id is BATCH/JOB


def require_packages(command: str) -> None:
    """The queue commands need Celery and redis (the ``queue`` extra); say so in one line when they are missing."""
    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError as err:
        raise InputError(f"{command} needs Celery and redis, which are not installed ({err.name} is missing): "
                         "pip install 'dgx-pixels[queue]'") from None


def check_broker_url(url: str | None) -> str:
    """A Redis URL (``redis://[:PASSWORD@]HOST:PORT/DB``, ``rediss://`` for TLS), from the option or
    $DGX_PIXELS_BROKER."""
    text = (url if url is not None else os.environ.get(BROKER_ENV, "")).strip()
    if not text:
        raise InputError(f"no broker given: pass --broker redis://HOST:6379/0 or set {BROKER_ENV}")
    expected = "expected redis://HOST:PORT/DB, e.g. redis://queue-box:6379/0"
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError:  # a port that is not a number, a broken IPv6 address
        raise InputError(f"not a broker URL: {redact(text)!r} ({expected})") from None
    database = parts.path.lstrip("/")
    if (parts.scheme not in BROKER_SCHEMES or not parts.hostname or any(c.isspace() or c == "\0" for c in text)
            or port == 0 or parts.fragment or not (database == "" or database.isdigit() and len(database) <= 5)):
        raise InputError(f"not a broker URL: {redact(text)!r} ({expected})")
    return text


def redact(url: str) -> str:
    """``url`` with its password replaced, for messages and logs."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return re.sub(r":[^:@/]*@", ":***@", url)


def check_name(value: str, what: str) -> str:
    """A submitter name or a batch id: it names Redis keys, a queue and a folder, so only plain characters."""
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise InputError(f"{what} {value!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
                         "or digit")
    return value


def default_submitter() -> str:
    """$DGX_PIXELS_SUBMITTER, else the login name made plain."""
    text = os.environ.get(SUBMITTER_ENV, "").strip()
    if text:
        return check_name(text, SUBMITTER_ENV)
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        login = ""
    return safe_name(login)[:64].strip(".-") or "anonymous"


def new_batch_id(submitter: str) -> str:
    """A fresh batch id: who, when, and a random tail (two submissions in one second stay apart)."""
    return f"{submitter[:40]}-{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def job_id(batch: str, name: str) -> str:
    """The job's id, the same every time the batch is submitted: a submission repeated under the same batch id
    queues nothing twice."""
    return f"{batch}{JOB_SEPARATOR}{name}"


def split_ref(text: str) -> tuple[str, str | None]:
    """``BATCH`` or ``BATCH/JOB`` from the command line -> (batch, job id or None)."""
    batch, separator, name = text.strip().partition(JOB_SEPARATOR)
    check_name(batch, "batch id")
    if not separator:
        return batch, None
    if not name or name != safe_name(name):
        raise InputError(f"{text!r} is not BATCH or BATCH/JOB (a job name is letters, digits, '.', '_' or '-')")
    return batch, job_id(batch, name)


def check_priority(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in PRIORITIES:
        raise InputError(f"priority must be a whole number from {PRIORITIES[0]} to {PRIORITIES[-1]} (9 runs first), "
                         f"got {value!r}")
    return value


def queue_name(submitter: str) -> str:
    """Each submitter has a queue of its own: the workers serve them in turn, so one big batch cannot hold back
    everyone else's jobs of the same priority."""
    return f"dgx-pixels.{submitter}"
