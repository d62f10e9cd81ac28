"""A text progress bar on stderr for batch commands (drawn only on a terminal, so logs stay clean)."""
from __future__ import annotations

import sys
import time


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
