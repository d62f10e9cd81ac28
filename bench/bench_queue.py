#!/usr/bin/env python3
"""The studio queue against the direct client on the same jobs: what the queue costs per job, how throughput
scales from one worker to two, and what the broker spends per job (the basis of the estimate for 16 workers).

Everything is real and on loopback: a redis-server, two ComfyUI servers (one CPU thread each, standing in for two
GPUs), `dgx-pixels worker` processes in front of them. Two workloads: "flat" (an 8x8 colour saved: nearly no
compute, so the time per job is the machinery's) and "txt2img" (the tiny test checkpoint, 64x64, --steps steps).
Per run: the start-up (until the first job is done) and the steady state per job (from the first job done to the
last, divided by the jobs after the first); each set-up runs --rounds times, alternating, and its best round is
reported (all rounds are in the JSON).

    $(python3 -m dgx_pixels host python) bench/bench_queue.py [--jobs 24] [--steps 4] [--rounds 2]

Writes artifacts/queue/bench.json and prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "bench"))

from comfy_server import ComfyServer  # noqa: E402
from redis_server import RedisServer  # noqa: E402
from soak_client import GRAPH as FLAT_GRAPH, PARAMS as FLAT_PARAMS  # noqa: E402

import tiny_checkpoint  # noqa: E402
from dgx_pixels.host import provision as hostlib  # noqa: E402
from dgx_pixels.queue.store import Store  # noqa: E402
from dgx_pixels.queue.submit import submit  # noqa: E402
from dgx_pixels.remote.batchfile import expand  # noqa: E402
from dgx_pixels.remote.client import Client, EventKind  # noqa: E402
from dgx_pixels.remote.client.records import Job  # noqa: E402
from dgx_pixels.remote.params import ApiWorkflow  # noqa: E402

TXT2IMG = ROOT / "tests" / "support" / "data" / "tiny_txt2img.json"
IDLE_SECONDS = 10.0


def checkpoint(host) -> Path:
    path = hostlib.cache_dir() / "test-models" / f"v{tiny_checkpoint.FORMAT_VERSION}" / tiny_checkpoint.CHECKPOINT_NAME
    if not path.exists():
        subprocess.run([host.python, tiny_checkpoint.__file__, "--comfyui", host.comfyui, "--out", str(path),
                        "--lora", str(path.with_name(tiny_checkpoint.LORA_NAME))], check=True)
    return path


def workload(kind: str, count: int, first: int, steps: int) -> list[Job]:
    """``count`` jobs no earlier run repeats (ComfyUI's cache would answer them at once)."""
    if kind == "flat":
        workflow = ApiWorkflow.from_dict(FLAT_GRAPH, FLAT_PARAMS, name="flat")
        return [Job.create(workflow, {"color": (first + i) * 2654435761 % 0xFFFFFF}, name=f"flat-{first + i}")
                for i in range(count)]
    return expand(ApiWorkflow.load(TXT2IMG), {"seed": first, "steps": steps}, f"txt2img-{first}", count)


def summary(done_times: list[float], started: float) -> dict:
    done_times = sorted(done_times)
    steady = (done_times[-1] - done_times[0]) / (len(done_times) - 1)
    return {"jobs": len(done_times), "startup_s": round(done_times[0] - started, 3),
            "steady_s_per_job": round(steady, 4), "jobs_per_minute": round(60 / steady, 1),
            "wall_s": round(done_times[-1] - started, 3)}


def direct(servers: list[str], jobs: list[Job], out: Path) -> dict:
    done: list[float] = []

    def on_event(event):
        if event.kind == EventKind.DONE:
            done.append(time.monotonic())

    started = time.monotonic()
    result = Client(servers, forget_history=True).run_batch_sync(jobs, out_dir=out, progress=on_event)
    assert not result.failed, [job.error for job in result.failed]
    return summary(done, started)


class Workers:
    def __init__(self, broker: str, folder: Path):
        self.broker, self.folder = broker, folder
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, comfyui: str) -> float:
        """Start a worker; returns its start-up in seconds (until Celery says it is ready)."""
        log = self.folder / f"{name}.log"
        started = time.monotonic()
        log.unlink(missing_ok=True)
        with open(log, "ab") as handle:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "dgx_pixels", "worker", "--broker", self.broker, "--comfyui", comfyui,
                 "--name", name], cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
        while b" ready." not in log.read_bytes():
            if self.processes[name].poll() is not None or time.monotonic() - started > 120:
                raise RuntimeError(f"worker {name} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        return round(time.monotonic() - started, 3)

    def stop(self, *names: str) -> None:
        """Stop the workers named (all when none is)."""
        stopping = [self.processes.pop(name) for name in names or list(self.processes)]
        for process in stopping:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in stopping:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def redis_counters(store: Store) -> tuple[float, int]:
    """(the broker's CPU seconds, commands processed) so far."""
    cpu, stats = store.redis.info("cpu"), store.redis.info("stats")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"], stats["total_commands_processed"]


def queued(broker: str, store: Store, jobs: list[Job], batch: str) -> dict:
    """Submit ``jobs`` to workers already waiting, and time them to the last outcome."""
    cpu0, commands0 = redis_counters(store)
    started = time.monotonic()
    submission = submit(broker, jobs, submitter="bench", priority=5, batch=batch)
    submit_s = time.monotonic() - started
    ids = submission.queued
    while any(outcome is None for outcome in store.results(ids).values()):
        time.sleep(0.05)
    cpu1, commands1 = redis_counters(store)
    records = store.jobs(ids, fields=("finished_at", "worker"))
    outcomes = store.results(ids)
    assert all(outcome["state"] == "done" for outcome in outcomes.values()), outcomes
    # finished_at is the broker's wall clock at the outcome's write: moved onto this run's monotonic scale.
    offset = time.monotonic() - time.time()
    report = summary([float(record["finished_at"]) + offset for record in records], started)
    report.update(submit_s=round(submit_s, 3), broker_cpu_ms_per_job=round(1000 * (cpu1 - cpu0) / len(ids), 3),
                  broker_commands_per_job=round((commands1 - commands0) / len(ids), 1),
                  per_worker={name: sum(r["worker"] == name for r in records)
                              for name in sorted({r["worker"] for r in records})})
    return report


def idle_load(store: Store, workers: int) -> dict:
    cpu0, commands0 = redis_counters(store)
    time.sleep(IDLE_SECONDS)
    cpu1, commands1 = redis_counters(store)
    return {"workers": workers, "commands_per_s_per_worker": round((commands1 - commands0) / IDLE_SECONDS / workers, 1),
            "broker_cpu_ms_per_s_per_worker": round(1000 * (cpu1 - cpu0) / IDLE_SECONDS / workers, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=24, help="jobs per run (default: 24)")
    parser.add_argument("--steps", type=int, default=4, help="sampling steps of a txt2img job (default: 4)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every set-up; the best is kept (default: 2)")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "queue" / "bench.json")
    args = parser.parse_args()
    host = hostlib.require_host()
    model = checkpoint(host)
    work = Path(tempfile.mkdtemp(prefix="dgx-bench-queue-"))
    broker = RedisServer(work / "redis")
    servers = [ComfyServer(host, work / f"comfy-{side}", models={"checkpoints": [model]}) for side in "ab"]
    workers = None
    results: dict = {"jobs": args.jobs, "steps": args.steps, "cpu_count": os.cpu_count(), "runs": {}}
    try:
        broker.start()
        for server in servers:
            server.start()
        urls = [server.url for server in servers]
        store = Store(broker.url)
        first = 1000
        for kind in ("flat", "txt2img"):  # warm both servers: the model loaded, the nodes imported
            for url in urls:
                direct([url], workload(kind, 2, first, args.steps), work / f"warm-{first}")
                first += 2
        workers = Workers(broker.url, work)
        runs: dict[str, list[dict]] = {}
        for round_number in range(args.rounds):  # rounds alternate the set-ups, so a busy spell hits them all
            startup = workers.start("gpu-a", urls[0])
            if round_number == 0:
                results["worker_startup_s"] = startup
                results["idle_1"] = idle_load(store, 1)
            for kind in ("flat", "txt2img"):
                first += 1000
                runs.setdefault(f"{kind}/direct-1", []).append(
                    direct(urls[:1], workload(kind, args.jobs, first, args.steps), work / f"direct-{first}"))
                first += 1000
                runs.setdefault(f"{kind}/queue-1", []).append(
                    queued(broker.url, store, workload(kind, args.jobs, first, args.steps), f"{kind}-1-{first}"))
            workers.start("gpu-b", urls[1])
            if round_number == 0:
                results["idle_2"] = idle_load(store, 2)
            for kind in ("flat", "txt2img"):
                first += 1000
                runs.setdefault(f"{kind}/queue-2", []).append(
                    queued(broker.url, store, workload(kind, args.jobs, first, args.steps), f"{kind}-2-{first}"))
                first += 1000
                runs.setdefault(f"{kind}/direct-2", []).append(
                    direct(urls, workload(kind, args.jobs, first, args.steps), work / f"direct-{first}"))
            workers.stop()
        # Each set-up's best round: the one least slowed by whatever else the machine was doing.
        best = results["runs"] = {name: min(rounds, key=lambda run: run["steady_s_per_job"])
                                  for name, rounds in runs.items()}
        results["all_rounds"] = runs
        for kind in ("flat", "txt2img"):
            base, one, two = (best[f"{kind}/{name}"]["steady_s_per_job"] for name in ("direct-1", "queue-1",
                                                                                      "queue-2"))
            results[f"{kind}/queue_overhead_s_per_job"] = round(one - base, 4)
            results[f"{kind}/queue_vs_direct"] = round(one / base, 3)
            results[f"{kind}/queue_scaling_1_to_2"] = round(one / two, 3)
            results[f"{kind}/direct_scaling_1_to_2"] = round(base / best[f"{kind}/direct-2"]["steady_s_per_job"], 3)
    finally:
        if workers is not None:
            workers.stop()
        for server in servers:
            server.stop()
        broker.stop()
    print(f"{'run':18} {'start-up s':>10} {'s/job':>8} {'jobs/min':>9} {'broker ms/job':>14} {'cmds/job':>9}")
    for name, run in results["runs"].items():
        print(f"{name:18} {run['startup_s']:>10.2f} {run['steady_s_per_job']:>8.3f} {run['jobs_per_minute']:>9.1f}"
              f" {run.get('broker_cpu_ms_per_job', ''):>14} {run.get('broker_commands_per_job', ''):>9}")
    print(json.dumps({k: v for k, v in results.items() if k not in ("runs", "all_rounds")}, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
