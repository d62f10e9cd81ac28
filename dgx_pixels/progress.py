"""A text progress bar on stderr for batch commands (drawn only on a terminal, so logs stay clean)."""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor


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

    ``work`` returns None, or the message for a file that failed (printed; the others go on). Torch runs one
    thread per file here: whole files in parallel keep both cores busy where one file's small operations cannot.
    Returns the exit code: 1 when any file failed.
    """
    import torch

    progress = Progress(len(sources), label)
    workers = max(1, min(len(sources), usable_cores()))
    threads = torch.get_num_threads()
    if workers > 1:
        torch.set_num_threads(1)
    failures = 0
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for source, message in zip(sources, pool.map(work, sources, targets)):
                if message:
                    failures += 1
                    print(message, file=sys.stderr)
                progress.advance(getattr(source, "name", str(source)))
    finally:
        torch.set_num_threads(threads)
    if failures:
        print(f"dgx-pixels {label}: {failures} of {len(sources)} file(s) failed", file=sys.stderr)
    return 1 if failures else 0
