#!/usr/bin/env python3
"""How fast hostile inputs are refused: a 63 MB .hex, a 50 MB one-line .hex, and a 12000x12000 PNG bomb (140 KB)
through the image gate. Each is refused from its size or its header, before parsing or decoding:

    $(python3 -m dgx_pixels host python) bench/bench_hostile.py

Prints the fastest of --repeats refusals of each, in milliseconds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

from bombs import bomb_png  # noqa: E402
from dgx_pixels.common.errors import InputError  # noqa: E402
from dgx_pixels.image.decode import decode_rgba8  # noqa: E402
from dgx_pixels.palette.files import read_palette  # noqa: E402
from timing import best_of  # noqa: E402


def refusal(action) -> str:
    try:
        action()
    except InputError as err:
        return str(err)
    raise AssertionError("not refused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # Pillow's own decompression-bomb warning: our limit refuses the file anyway
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "huge.hex").write_bytes(b"ff0000\n" * (63 * (1 << 20) // 7))
        (folder / "line.hex").write_bytes(b"a" * (50 << 20))
        (folder / "bomb.png").write_bytes(bomb_png(12000, 12000))
        cases = {
            "63 MB .hex (9.4 million lines)": lambda: read_palette(folder / "huge.hex"),
            "50 MB .hex of one line": lambda: read_palette(folder / "line.hex"),
            "12000x12000 PNG bomb (140 KB)": lambda: decode_rgba8(folder / "bomb.png", "bomb.png"),
        }
        print(f"{'input':34} {'refused in':>12}  message")
        for name, action in cases.items():
            seconds, message = best_of(lambda: refusal(action), args.repeats)
            print(f"{name:34} {seconds * 1000:9.2f} ms  {message[:90]}")


if __name__ == "__main__":
    main()
