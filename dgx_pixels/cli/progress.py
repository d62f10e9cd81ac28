"""Progress on stderr: a bar for the local batch commands, and the live view of jobs queued on servers (both drawn
only on a terminal, so logs stay clean)."""
from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..common.errors import InputError, describe_os_error
from ..common.files import announce_write, collecting_writes
from ..remote.client.records import EventKind
from ..training.progress import parse_training_step, tenth


class Progress:
    def __init__(self, total: int, label: str, stream=sys.stderr):
        self.total, self.label, self.stream = total, label, stream
        self.done = 0
        self.started = time.monotonic()
        self.visible = total > 1 and hasattr(stream, "isatty") and stream.isatty()

    def advance(self, note: str = "") -> None:
        self.done += 1
        if not self.visible:
            return
        width = 30
        filled = round(width * self.done / self.total)
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                          f"{rate:.1f}/s {note[:40]:40}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def usable_cores() -> int:
    """The cores this process may run on (taskset and container CPU sets lower it below the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_per_file(work, sources: list, targets: list, label: str) -> int:
    """Run ``work(source, target)`` for every file, one file per CPU core at a time, with a progress bar.

    A file whose ``work`` raises InputError or OSError gets one line naming it and the reason; the other files go
    on. Torch runs one thread per file here: whole files in parallel keep the cores busy where one file's small
    operations cannot. Where processes fork (Linux) the files go to forked workers, each with its own interpreter
    lock: the PNG decoder (libspng) and the interpreter's share of the work hold it, so threads would wait for
    each other there; elsewhere threads (a fresh process would import torch again). Returns the exit code: 1 when
    any file failed.
    """
    import torch

    progress = Progress(len(sources), label)
    workers = max(1, min(len(sources), usable_cores()))
    forked = workers > 1 and "fork" in multiprocessing.get_all_start_methods() and sys.platform.startswith("linux")
    threads = torch.get_num_threads()
    if workers > 1:
        torch.set_num_threads(1)
    failures = done = 0
    try:
        with _pool(work, workers, forked) as pool:
            task = _run_forked if forked else functools.partial(_run_guarded, work)
            for source, outcome in zip(sources, pool.map(task, sources, targets)):
                message, written = outcome if forked else (outcome, ())
                for path in written:  # a worker's files are told here, where the listeners report (--json)
                    announce_write(path)
                done += 1
                if message:
                    failures += 1
                    print(f"dgx-pixels {label}: {message}", file=sys.stderr)
                progress.advance(getattr(source, "name", str(source)))
    except BrokenProcessPool:
        print(f"dgx-pixels {label}: a worker process was stopped (out of memory, or killed) with {done} of "
              f"{len(sources)} file(s) done", file=sys.stderr)
        return 1
    finally:
        torch.set_num_threads(threads)
    if failures:
        print(f"dgx-pixels {label}: {failures} of {len(sources)} file(s) failed", file=sys.stderr)
    return 1 if failures else 0


_forked_work = None  # what forked workers run: they inherit it (a closure cannot be sent to another process)


def _pool(work, workers: int, forked: bool):
    global _forked_work
    if not forked:
        return ThreadPoolExecutor(max_workers=workers)
    _forked_work = work
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker)


def _start_worker() -> None:
    import torch

    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to answer: it cancels what is left


def _run_forked(source, target) -> tuple[str | None, list[Path]]:
    """What ``_run_guarded`` says, and the files the work wrote."""
    with collecting_writes() as written:
        return _run_guarded(_forked_work, source, target), written


def _run_guarded(work, source, target) -> str | None:
    """``work(source, target)``; a message naming the file when it raises InputError or OSError."""
    try:
        work(source, target)
    except InputError as err:
        return about(source, str(err))
    except OSError as err:
        return about(source, describe_os_error(err))
    return None


def about(source, message: str) -> str:
    """``message`` about the file ``source``, naming it once (messages from the image gate already start with it)."""
    name = str(source)
    return message if message.startswith(name) else f"{name}: {message}"


# Reports of a job still on its way: it keeps (or gets) a bar of its own.
LIVE = (EventKind.QUEUED, EventKind.RUNNING, EventKind.PROGRESS, EventKind.EXECUTED)


class ProgressView:
    """Progress on stderr. On a terminal: a bar per running job (with its node's progress text: a trainer's step
    and loss) and one for the batch, redrawn in place; otherwise (logs, pipes): one line per finished, failed or
    lost job, per server going away or back, and per tenth of a training run (its step and loss)."""

    BAR = 24
    MAX_JOB_LINES = 8

    def __init__(self, total: int, out_dir: Path, enabled: bool = True, stream=None, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = self.stream.isatty() if live is None else live
        self.total = total
        self.out_dir = out_dir
        self.running: dict[str, tuple[float, str, tuple[int, int] | None, str, str]] = {}
        self.logged_tenth: dict[str, int] = {}  # each training job's last tenth with a line in the log
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
        if event.kind in LIVE and job is not None:
            self.running[job.name] = (event.fraction, event.node, event.step, event.server, event.text)
        elif job is not None:
            self.running.pop(job.name, None)
            self.logged_tenth.pop(job.name, None)
        line = self._line_for(event)
        if line:
            self._print(line)
        if self.live:
            self._draw(force=line is not None)

    def _line_for(self, event) -> str | None:
        job = event.job
        position = f"[{self.counts.get('done', 0):>{len(str(self.total))}}/{self.total}]"
        if event.kind == EventKind.DONE:
            self.done_here += 1
            files = ", ".join(str(self.out_dir / f["path"]) for f in job.files) or "no files"
            return f"{position} {job.name} done on {event.server}: {files}"
        if event.kind == EventKind.FAILED:
            return f"{position} {job.name} FAILED: {event.message}"
        if event.kind == EventKind.LOST:
            return f"{position} {job.name} lost ({event.message}); queued again"
        if event.kind == EventKind.INTERRUPTED:
            return f"{position} {job.name} interrupted on {event.server}"
        if event.kind == EventKind.SERVER_DOWN:
            return f"server {event.server} unreachable ({event.message}); retrying"
        if event.kind == EventKind.SERVER_UP and self.counts:
            return f"server {event.server} is back"
        if event.kind == EventKind.PROGRESS and not self.live:
            return self._training_line(job.name, event)
        return None

    def _training_line(self, name: str, event) -> str | None:
        """A log line for a training step that starts a new tenth of the run (the first step's too)."""
        report = parse_training_step(event.text)
        if report is None or tenth(report) <= self.logged_tenth.get(name, -1):
            return None
        self.logged_tenth[name] = tenth(report)
        return f"{name} {event.node}: {report.text()}"

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
        for name, (fraction, node, step, server, text) in list(self.running.items())[:self.MAX_JOB_LINES]:
            detail = f"{node}: {text}" if text else f"{node} {step[0]}/{step[1]}" if step and node else node
            out.append(f"  {name[:20]:<20} {self.bar(fraction)} {fraction * 100:3.0f}%  {detail[:40]:<40} {server}")
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
