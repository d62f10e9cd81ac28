#!/usr/bin/env python3
"""Intended-palette benchmark: after grid recovery, does the automatic palette (`colours` 0) give the true art's
colours? Same pixelbench sets as bench_pixelize.py; unfake's automatic colour mode scored on the same cases.

A case counts when the recovered image has the truth's size, exactly the truth's number of colours, and every pixel
within pixelbench's tolerance (24/255 on every channel) of the truth. Ours runs in this process, one image at a
time (its own palette each), timed per image without start-up; unfake's outputs come from pixelbench's own runner.

    $(python3 -m dgx_pixels host python) bench/bench_intended_palette.py --sets 7:normal 9:ai 10:ai
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_pixelize import DEFAULT_PEER_PYTHON, DEFAULT_SHARED, make_set  # noqa: E402
from dgx_pixels.palette.apply import quantize_batch  # noqa: E402
from dgx_pixels.pixel.downscale import downscale  # noqa: E402

TOLERANCE = 24


def case_score(output: np.ndarray, truth: np.ndarray) -> tuple[bool, bool]:
    """(exact colour count, all pixels within tolerance) of an RGB output against the truth."""
    if output.shape != truth.shape:
        return False, False
    count = len(np.unique(output.reshape(-1, 3), axis=0)) == len(np.unique(truth.reshape(-1, 3), axis=0))
    return count, bool((np.abs(output.astype(int) - truth.astype(int)).max() <= TOLERANCE))


def ours(cases: Path) -> dict:
    meta = json.loads((cases / "cases.json").read_text())
    rows, times = {}, []
    for name in sorted(meta):
        image = torch.from_numpy(np.asarray(Image.open(cases / "in" / name).convert("RGB")) / 255).float()[None]
        native, native_mask, _ = downscale(image)
        started = time.perf_counter()
        recoloured, palette = quantize_batch(native, native_mask, colours=0)
        times.append(time.perf_counter() - started)
        output = (recoloured[0].numpy() * 255).round().astype(np.uint8)
        truth = np.asarray(Image.open(cases / "truth" / name).convert("RGB"))
        rows[name] = case_score(output, truth) + (len(palette), len(np.unique(truth.reshape(-1, 3), axis=0)))
    return summary("dgx-pixels", meta, rows, statistics.median(times))


def peer(cases: Path, tool: str, peer_python: Path, pixelbench: Path) -> dict:
    subprocess.run([str(peer_python), str(pixelbench), "score", "--cases", str(cases), "--tool", tool], check=True,
                   capture_output=True)
    meta = json.loads((cases / "cases.json").read_text())
    rows = {}
    for name in sorted(meta):
        truth = np.asarray(Image.open(cases / "truth" / name).convert("RGB"))
        path = cases / f"out_{tool}" / name
        output = np.asarray(Image.open(path).convert("RGB")) if path.exists() else np.zeros((0, 0, 3), np.uint8)
        rows[name] = case_score(output, truth) + (len(np.unique(output.reshape(-1, 3), axis=0)),
                                                  len(np.unique(truth.reshape(-1, 3), axis=0)))
    return summary(tool, meta, rows, None)


def summary(tool: str, meta: dict, rows: dict, seconds: float | None) -> dict:
    n = len(rows)
    result = {"tool": tool, "cases": n,
              "palette_ok": round(sum(r[0] and r[1] for r in rows.values()) / n, 3),
              "count_ok": round(sum(r[0] for r in rows.values()) / n, 3),
              "within_tol": round(sum(r[1] for r in rows.values()) / n, 3),
              "palette_s": None if seconds is None else round(seconds, 4)}
    for kind in sorted({m["kind"] for m in meta.values()}):
        kind_rows = [rows[name] for name in rows if meta[name]["kind"] == kind]
        result[f"ok_{kind}"] = round(sum(r[0] and r[1] for r in kind_rows) / len(kind_rows), 3)
    result["misses"] = {name[:7]: list(r[2:]) for name, r in rows.items() if not (r[0] and r[1])}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder with bench/")
    parser.add_argument("--sets", nargs="+", default=["7:normal", "9:ai", "10:ai"], help="SEED:normal|hard|ai")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dgx-pixels-pixelbench"))
    parser.add_argument("--peer-python", type=Path, default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    pixelbench = args.shared / "bench" / "pixelbench.py"
    print("| set | tool | palette ok | count ok | within tolerance | palette s/image | misses (ours, count) |")
    print("|---|---|---|---|---|---|---|")
    for spec in args.sets:
        cases = make_set(spec, args)
        results = [ours(cases)] + ([] if args.no_peers else [peer(cases, "unfake", args.peer_python, pixelbench)])
        for r in results:
            print(f"| {spec} | {r['tool']} | {r['palette_ok']} | {r['count_ok']} | {r['within_tol']} | "
                  f"{r['palette_s'] or '-'} | {r['misses'] if r['tool'] == 'dgx-pixels' else ''} |", flush=True)


if __name__ == "__main__":
    main()
