#!/usr/bin/env python3
"""Pixel-recovery benchmark: `dgx-pixels pixelize` against unfake and proper-pixel-art, same sets, one run.

Uses the shared pixelbench (cases and scoring) beside the checkout; the peers run from their own venv:

    python3 -m venv ~/.cache/dgx-pixels/bench-venv
    ~/.cache/dgx-pixels/bench-venv/bin/pip install unfake==1.0.7 proper-pixel-art==2.0.0
    $(python3 -m dgx_pixels host python) bench/bench_pixelize.py --sets 7:normal 8:hard 101:normal 102:hard

Ours is timed as a user runs it: one command over a batch (the set --copies times over), minus its fixed start-up
(Python + torch import, measured by a one-image run), over the images (medians of --repeat runs of each); the
start-up and the batch's peak memory are reported too.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = ROOT.parent / "shared"
DEFAULT_PEER_PYTHON = Path.home() / ".cache" / "dgx-pixels" / "bench-venv" / "bin" / "python"
PEERS = ("unfake", "proper-pixel-art")


def run_json(cmd: list[str], cwd: Path = ROOT) -> dict:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed_batch(inputs: list[Path], outdir: Path) -> tuple[float, int]:
    """Seconds for one `pixelize` over ``inputs`` and the peak RSS (MiB) of that process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dgx_pixels", "pixelize", *map(str, inputs), "-o", str(outdir)],
                   cwd=ROOT, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) // 1024


def linked_copies(inputs: list[Path], copies: int, folder: Path) -> list[Path]:
    """``inputs`` ``copies`` times over in ``folder``, each a hard link under its own name (the outputs are named
    for the inputs)."""
    folder.mkdir(parents=True, exist_ok=True)
    batch = []
    for copy in range(copies):
        for path in inputs:
            link = folder / f"{copy}-{path.name}"
            if not link.exists():
                link.hardlink_to(path)
            batch.append(link)
    return batch


def make_set(spec: str, args: argparse.Namespace) -> Path:
    """The pixelbench cases of ``spec`` (SEED:normal|hard|ai, ``args.n`` of them) under ``args.work``, made once."""
    seed, kind = spec.split(":")
    if kind not in ("normal", "hard", "ai"):
        raise SystemExit(f"set {spec!r}: the kind must be normal, hard or ai")
    cases = args.work / f"seed{seed}-{kind}-n{args.n}"
    if not (cases / "cases.json").exists():
        subprocess.run([sys.executable, str(args.shared / "bench" / "pixelbench.py"), "make", "--seed", seed,
                        "--n", str(args.n), "--out", str(cases), "--real", str(args.shared / "bench" / "public_art"),
                        *([f"--{kind}"] if kind != "normal" else [])], check=True, capture_output=True)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder with bench/")
    parser.add_argument("--sets", nargs="+", default=["7:normal", "8:hard", "101:normal", "102:hard"],
                        help="SEED:normal|hard|ai")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dgx-pixels-pixelbench"))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of one image and of the whole batch")
    parser.add_argument("--copies", type=int, default=4, help="the timed batch is the set this many times over")
    parser.add_argument("--peer-python", type=Path, default=DEFAULT_PEER_PYTHON)
    args = parser.parse_args()
    pixelbench = args.shared / "bench" / "pixelbench.py"
    rows = []
    for spec in args.sets:
        cases = make_set(spec, args)
        ours = run_json([sys.executable, str(pixelbench), "score", "--cases", str(cases), "--tool", "dgx-pixels",
                         "--batch-cmd", f"{sys.executable} -m dgx_pixels pixelize {{inputs}} -o {{outdir}}"])
        inputs = sorted((cases / "in").glob("*.png"))
        # The start-up (3-4 s) varies by about 0.5 s from run to run, as much as 40 images' work: the timed batch
        # is the set --copies times over (hard links under other names), and one-image and whole-batch runs
        # alternate --repeat times, the medians of each taken.
        batch = linked_copies(inputs, args.copies, args.work / f"{cases.name}-x{args.copies}")
        ones, wholes, peak_mib = [], [], 0
        for _ in range(args.repeat):
            ones.append(timed_batch(inputs[:1], args.work / "one")[0])
            whole, peak = timed_batch(batch, args.work / "all")
            wholes.append(whole)
            peak_mib = max(peak_mib, peak)
        one, whole = statistics.median(ones), statistics.median(wholes)
        steady = (whole - one) / (len(batch) - 1)
        ours.update(steady_s=round(steady, 4), startup_s=round(one - steady, 2), peak_mib=peak_mib)
        rows.append((spec, ours))
        for peer in PEERS:
            rows.append((spec, run_json([str(args.peer_python), str(pixelbench), "score", "--cases", str(cases),
                                         "--tool", peer])))
    print("| set | tool | size_ok | perfect | acc | acc_real | s/image | start-up s | peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for spec, r in rows:
        per_image = r.get("steady_s", r["median_s"])
        print(f"| {spec} | {r['tool']} | {r['size_ok']} | {r['perfect']} | {r['acc']} | {r.get('acc_real', '-')} | "
              f"{per_image} | {r.get('startup_s', '-')} | {r.get('peak_mib', '-')} |")
    print("\nRatios (dgx-pixels vs peer, same set): perfect share, and peer seconds per image / ours")
    by_set: dict[str, dict] = {}
    for spec, r in rows:
        by_set.setdefault(spec, {})[r["tool"]] = r
    for spec, tools in by_set.items():
        ours = tools["dgx-pixels"]
        for peer in PEERS:
            theirs = tools[peer]
            quality = ours["perfect"] / theirs["perfect"] if theirs["perfect"] else float("inf")
            speed = theirs["median_s"] / ours["steady_s"]
            print(f"- {spec} vs {peer}: perfect {ours['perfect']} vs {theirs['perfect']} "
                  f"({quality:.2f}x), speed {speed:.1f}x faster per image")


if __name__ == "__main__":
    main()
