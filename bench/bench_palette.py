#!/usr/bin/env python3
"""Palette benchmark: `dgx-pixels palette apply --colours K` against libimagequant and PIL, same images, one run.

Uses the shared palbench (quality: mean CIEDE2000 to the source) beside the checkout; the peers run from their own
venv (imagequant, scikit-image):

    ~/.cache/dgx-pixels/bench-venv/bin/pip install imagequant scikit-image
    $(python3 -m dgx_pixels host python) bench/bench_palette.py --images DIR --k 8 16 32

Ours is timed as one command over all images minus its fixed start-up (Python + torch import, measured by a
one-image run), over the images; the start-up is reported too. Each of the two timings is the median of
--repeats runs.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = ROOT.parent / "shared"
DEFAULT_PEER_PYTHON = Path.home() / ".cache" / "dgx-pixels" / "bench-venv" / "bin" / "python"
PEERS = ("libimagequant", "pil-fastoctree", "pil-mediancut-kmeans")


def ours_command(k: int) -> list[str]:
    return [sys.executable, "-m", "dgx_pixels", "palette", "apply", "--colours", str(k)]


def palbench(peer_python: Path, palbench_path: Path, images: Path, k: int, tool: str, batch: str | None = None):
    cmd = [str(peer_python), str(palbench_path), "--images", str(images), "--k", str(k), "--tool", tool]
    if batch:
        cmd += ["--batch-cmd", batch]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def steady_seconds(images: list[Path], k: int, repeats: int) -> tuple[float, float]:
    """(seconds per image at steady state, fixed start-up) for our command; each timing is the median of
    ``repeats`` runs (one start-up varies by a tenth of a second, which would move 24 images' figure by 0.005 s)."""
    def timed(files):
        times = []
        for _ in range(repeats):
            out = Path(tempfile.mkdtemp(prefix="dgx_palbench_"))
            started = time.perf_counter()
            subprocess.run(ours_command(k) + [*map(str, files), "-o", str(out)], cwd=ROOT, check=True,
                           capture_output=True, env=os.environ)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    one, whole = timed(images[:1]), timed(images)
    per_image = (whole - one) / (len(images) - 1)
    return per_image, one - per_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, required=True, help="a folder of PNGs (e.g. pixelbench in/ images)")
    parser.add_argument("--k", type=int, nargs="+", default=[16])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--peer-python", type=Path, default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing of ours (the median counts)")
    args = parser.parse_args()
    palbench_path = args.shared / "bench" / "palbench.py"
    images = sorted(args.images.glob("*.png"))
    print(f"{len(images)} images; torch threads: {os.environ.get('OMP_NUM_THREADS', 'default')}")
    print("| K | tool | mean dE2000 | worst | over K | s/image | start-up s |")
    print("|---|---|---|---|---|---|---|")
    for k in args.k:
        batch = " ".join(shlex.quote(part) for part in ours_command(k)) + " {inputs} -o {outdir}"
        ours = palbench(args.peer_python, palbench_path, args.images, k, "dgx-pixels", batch)
        ours["median_s"], startup = steady_seconds(images, k, args.repeats)
        rows = [(ours, startup)] + [(palbench(args.peer_python, palbench_path, args.images, k, peer), None)
                                    for peer in PEERS]
        for result, start in rows:
            print(f"| {k} | {result['tool']} | {result['mean_dE2000']} | {result['worst_image_dE2000']} | "
                  f"{result['over_k']} | {result['median_s']:.4f} | {'-' if start is None else f'{start:.2f}'} |")
        for result, _ in rows[1:]:
            print(f"|   | ratio vs {result['tool']} | {ours['mean_dE2000'] / result['mean_dE2000']:.2f}x dE | | | "
                  f"{result['median_s'] / ours['median_s']:.2f}x faster | |")


if __name__ == "__main__":
    main()
