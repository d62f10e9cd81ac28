#!/usr/bin/env python3
"""How long each command takes to start and answer, as a whole process: the median wall time and the peak memory
of --repeats runs, for the commands a user types most (quick ones: help pages, listings, a palette conversion).

    $(python3 -m dgx_pixels host python) bench/bench_startup.py                       # this checkout
    $(python3 -m dgx_pixels host python) bench/bench_startup.py --checkout OTHER      # another one's code
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = [("--version",), ("--help",), ("palette", "list"), ("palette", "convert", "PICO-8", "-o", "{tmp}/p.gpl"),
            ("poses", "list"), ("run", "item_icons", "--list-params"), ("pixelize", "--help"), ("doctor", "--help"),
            ("export", "history", "{tmp}")]


def timed(checkout: Path, args: list[str]) -> tuple[float, int]:
    """(wall seconds, peak MiB) of one run, the memory from this child's own accounting."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "dgx_pixels", *args], cwd=checkout, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"dgx-pixels {' '.join(args)} failed:\n{stderr.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"code: {args.checkout.resolve()}")
        for command in COMMANDS:
            words = [word.format(tmp=tmp) for word in command]
            runs = [timed(args.checkout, words) for _ in range(args.repeats)]
            print(f"  dgx-pixels {' '.join(command):45} {statistics.median(r[0] for r in runs) * 1000:7.0f} ms  "
                  f"peak {max(r[1] for r in runs):5} MiB")


if __name__ == "__main__":
    main()
