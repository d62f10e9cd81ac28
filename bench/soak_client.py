#!/usr/bin/env python3
"""Soak the API client: many small prompts through one ComfyUI server, recording the server's and the client's
memory (RSS) as jobs finish. Both should stay flat: no per-job leak in the client (websocket events, attempts,
downloads) or in what the client makes the server keep.

Each job is EmptyImage (8x8, a different colour per job, so ComfyUI's cache never answers) -> SaveImage, queued,
followed, downloaded and hashed like any other job.

    $(python3 -m dgx_pixels host python) bench/soak_client.py                 # starts its own server
    $(python3 -m dgx_pixels host python) bench/soak_client.py --forget-history
    ... bench/soak_client.py --server http://127.0.0.1:8188 --server-pid 1234  # an existing server

Writes the samples to artifacts/client/soak[-forget].json and prints a summary.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from dgx_pixels.remote.client import Client  # noqa: E402
from dgx_pixels.remote.client.records import Job  # noqa: E402
from dgx_pixels.remote.params import ApiWorkflow  # noqa: E402

MIB = 1024 * 1024
GRAPH = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
          "_meta": {"title": "Canvas"}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "soak"},
          "_meta": {"title": "Tile"}},
}
PARAMS = {"description": "An 8x8 flat colour, saved.",
          "parameters": {"color": {"type": "int", "min": 0, "max": 0xFFFFFF,
                                   "targets": [{"node": "Canvas", "input": "color"}]}}}


def rss_mib(process: psutil.Process) -> float:
    return process.memory_info().rss / MIB


def slope_per_1000(samples: list[dict], key: str, skip: int) -> float:
    """Least-squares growth in MiB per 1000 jobs, over the samples after the warm-up."""
    points = [(s["done"], s[key]) for s in samples if s["done"] >= skip]
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return 1000 * sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0


def soak(url: str, server: psutil.Process, jobs: int, out_dir: Path, every: int, forget: bool,
         trace: bool = False) -> dict:
    client_process = psutil.Process(os.getpid())
    workflow = ApiWorkflow.from_dict(GRAPH, PARAMS, name="soak")
    # Colours spread over the whole range so no two jobs repeat a prompt.
    batch = [Job.create(workflow, {"color": (i * 2654435761) % 0xFFFFFF}) for i in range(jobs)]
    samples = [{"done": 0, "seconds": 0.0, "server_mib": rss_mib(server), "client_mib": rss_mib(client_process)}]
    warm = max(every, jobs // 10)
    snapshots = {}
    if trace:
        tracemalloc.start(4)
    started = time.monotonic()

    def on_event(event):
        done = event.counts.get("done", 0)
        if trace and event.kind == "done" and done in (warm, jobs):
            snapshots[done] = tracemalloc.take_snapshot()
        if event.kind == "done" and (done % every == 0 or done == jobs):
            samples.append({"done": done, "seconds": round(time.monotonic() - started, 2),
                            "server_mib": round(rss_mib(server), 1), "client_mib": round(rss_mib(client_process), 1)})
            print(f"{done:5d} jobs  {samples[-1]['seconds']:7.1f} s  server {samples[-1]['server_mib']:7.1f} MiB  "
                  f"client {samples[-1]['client_mib']:6.1f} MiB", flush=True)

    result = Client([url], forget_history=forget).run_batch_sync(batch, out_dir=out_dir, progress=on_event)
    elapsed = time.monotonic() - started
    growth = []
    if trace:
        tracemalloc.stop()
        diff = snapshots[jobs].compare_to(snapshots[warm], "lineno")
        growth = [{"where": str(d.traceback[0]), "kib": round(d.size_diff / 1024, 1), "blocks": d.count_diff}
                  for d in diff[:10]]
        total = sum(d.size_diff for d in diff) / 1024
        print(f"Python heap growth from job {warm} to {jobs}: {total:.0f} KiB; largest:")
        for item in growth:
            print(f"  {item['kib']:8.1f} KiB {item['blocks']:6d} blocks  {item['where']}")
    first = next(s for s in samples if s["done"] >= warm)
    last = samples[-1]
    return {
        "jobs": jobs, "done": len(result.done), "failed": len(result.failed), "seconds": round(elapsed, 1),
        "jobs_per_second": round(jobs / elapsed, 1), "forget_history": forget,
        # What the client keeps per job by design (the manifest's records), for judging its memory growth.
        "manifest_bytes_per_job": round(result.manifest.stat().st_size / jobs),
        "server_mib": {"start": samples[0]["server_mib"], f"at_{first['done']}": first["server_mib"],
                       "end": last["server_mib"], "max": max(s["server_mib"] for s in samples),
                       "growth_per_1000_jobs_after_warmup": round(slope_per_1000(samples, "server_mib", warm), 2)},
        "client_mib": {"start": samples[0]["client_mib"], f"at_{first['done']}": first["client_mib"],
                       "end": last["client_mib"], "max": max(s["client_mib"] for s in samples),
                       "growth_per_1000_jobs_after_warmup": round(slope_per_1000(samples, "client_mib", warm), 2)},
        "heap_growth_after_warmup": growth,
        "samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50, help="sample memory every N finished jobs")
    parser.add_argument("--server", help="an existing ComfyUI server (default: start one)")
    parser.add_argument("--server-pid", type=int, help="its process id (for its memory)")
    parser.add_argument("--forget-history", action="store_true", help="the client deletes finished prompts' history")
    parser.add_argument("--out", type=Path, help="where the summary JSON goes")
    parser.add_argument("--trace", action="store_true",
                        help="also show where the client's Python heap grew (tracemalloc; slower)")
    args = parser.parse_args()

    started_server = None
    if args.server:
        if not args.server_pid:
            parser.error("--server needs --server-pid (to read the server's memory)")
        url, server = args.server, psutil.Process(args.server_pid)
    else:
        from comfy_server import ComfyServer
        from dgx_pixels.host import provision as hostlib

        started_server = ComfyServer(hostlib.require_host(), Path(tempfile.mkdtemp(prefix="dgx-soak-")))
        started_server.start()
        url, server = started_server.url, psutil.Process(started_server.process.pid)
    try:
        with tempfile.TemporaryDirectory(prefix="dgx-soak-out-") as out:
            report = soak(url, server, args.jobs, Path(out) / "run", args.every, args.forget_history, args.trace)
        if started_server is not None:
            written = len(list((started_server.base_dir / "output").glob("soak_*.png")))
            report["server_files_written"] = written  # one per job: nothing ran twice, nothing was skipped
    finally:
        if started_server is not None:
            started_server.stop()
    summary = {k: v for k, v in report.items() if k not in ("samples", "heap_growth_after_warmup")}
    print(json.dumps(summary, indent=1))
    path = args.out or ROOT / "artifacts" / "client" / f"soak{'-forget' if args.forget_history else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
    print(f"samples: {path}")
    return 0 if report["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
