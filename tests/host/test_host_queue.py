"""The studio queue end to end, every part real: a redis-server on loopback, two `dgx-pixels worker` processes each in
front of its own ComfyUI server with the tiny checkpoint, and the submit/jobs/fetch/cancel commands as processes.
Each job must end with its outcome and files stored once, whatever part fails on the way."""
from __future__ import annotations

import collections
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from comfy_server import ComfyServer
from dgx_pixels.queue.status import shown_state
from dgx_pixels.queue.store import BrokerUnreachable, Store
from paths import DATA, REPO
from redis_server import RedisServer

TXT2IMG = DATA / "tiny_txt2img.json"
INVERT = DATA / "invert_image.json"
# Short enough for a test: a lost worker's job runs again within about 15 s.
WORKER_TIMEOUTS = ("--visibility-timeout", "12", "--lease", "4")


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("broker")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def comfy_b(host, tiny_checkpoint_path, tmp_path_factory):
    server = ComfyServer(host, tmp_path_factory.mktemp("comfy-b"), models={"checkpoints": [tiny_checkpoint_path]})
    try:
        yield server.start()
    finally:
        server.stop()


def dgx(*args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dgx_pixels", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)})


class Workers:
    """`dgx-pixels worker` processes, each in a process group of its own (a kill takes its pool process too)."""

    def __init__(self, broker: RedisServer, folder: Path):
        self.broker, self.folder = broker, folder
        self.processes: dict[str, subprocess.Popen] = {}
        self.killed: set[str] = set()

    def start(self, name: str, comfy: ComfyServer) -> str:
        log = open(self.folder / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "dgx_pixels", "worker", "--broker", self.broker.url, "--comfyui", comfy.url,
             "--name", name, *WORKER_TIMEOUTS], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
        log.close()
        return f"{name}@{os.uname().nodename}"

    def kill(self, name: str) -> None:
        self.killed.add(name)
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

    def crashed(self) -> list[str]:
        """Workers that stopped by themselves (a worker runs until it is stopped)."""
        return [name for name, process in self.processes.items()
                if process.poll() is not None and name not in self.killed]

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n" + path.read_text(errors="replace")[-4000:]
                         for path in sorted(self.folder.glob("*.log")))


@pytest.fixture
def workers(broker, tmp_path):
    running = Workers(broker, tmp_path)
    try:
        yield running
    finally:
        running.stop()


def wait_for(condition, timeout: float, what: str, workers: Workers | None = None, jobs: tuple = ()):
    """``condition()``'s first true value; on a timeout, the workers' logs and where ``jobs`` (store, ids) stand."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except BrokerUnreachable:  # restarting
            value = None
        if value:
            return value
        if workers and workers.crashed():
            raise AssertionError(f"worker {workers.crashed()} stopped while waiting for {what}\n{workers.logs()}")
        time.sleep(0.2)
    standing = ""
    if jobs:
        store, job_ids = jobs
        outcomes = store.results(job_ids)
        standing = "\n".join(f"{record['id']}: {shown_state(record)} worker={record.get('worker')} "
                              f"attempts={record.get('attempts')}" for record in store.jobs(job_ids)
                              if outcomes[record["id"]] is None) + "\n"
    raise AssertionError(f"timed out waiting for {what}\n{standing}" + (workers.logs() if workers else ""))


def batch_ids(store: Store, *batches: str) -> list[str]:
    return [job_id for batch in batches for job_id in store.batch_job_ids(batch)]


def all_finished(store: Store, job_ids: list[str]) -> dict:
    outcomes = store.results(job_ids)
    return outcomes if all(outcome is not None for outcome in outcomes.values()) else {}


def check_stored_once(store: Store, job_ids: list[str]) -> dict[str, dict]:
    """Every job done, with one outcome whose files are all there (matching their sha256) and no other attempt's
    files left behind."""
    outcomes = store.results(job_ids)
    for job_id, outcome in outcomes.items():
        assert outcome is not None and outcome["state"] == "done", (job_id, outcome)
        assert outcome["files"], outcome
        stored = {key.decode() for key in store.redis.scan_iter(match=store.file_prefix(job_id) + "*")}
        assert stored == {file["key"] for file in outcome["files"]}, (job_id, stored)
        for file in outcome["files"]:
            assert hashlib.sha256(store.file(file["key"])).hexdigest() == file["sha256"]
    return outcomes


def seeds_sampled(*servers: ComfyServer) -> collections.Counter:
    """How many images the servers sampled for each seed (from the prompt ComfyUI saves in each PNG)."""
    counts: collections.Counter = collections.Counter()
    for server in servers:
        for png in (server.base_dir / "output").glob("dgxclient_*.png"):
            with Image.open(png) as image:
                prompt = json.loads(image.text["prompt"])
            counts.update(node["inputs"]["seed"] for node in prompt.values() if node["class_type"] == "KSampler")
    return counts


def submit(broker: RedisServer, *args) -> subprocess.CompletedProcess:
    result = dgx("submit", "--broker", broker.url, *args)
    assert result.returncode == 0, result.stderr
    return result


# ---------------------------------------------------------------------------------------------------- 24 jobs
def test_two_submitters_with_priorities_run_24_jobs_each_stored_once(broker, comfy, comfy_b, workers, tmp_path):
    store = Store(broker.url)
    started = time.monotonic()
    submit(broker, TXT2IMG, "--count", "12", "--set", "seed=70000", "--set", "steps=1", "--priority", "3",
           "--submitter", "alice", "--batch-id", "alice-props")
    jobs_file = tmp_path / "bob.yaml"
    jobs_file.write_text(f"workflow: {TXT2IMG}\ndefaults: {{steps: 1}}\njobs:\n"
                         + "".join(f"  - {{name: tree{i}, prompt: 'pixel tree {i}', seed: {71000 + i}}}\n"
                                   for i in range(6)))
    result = dgx("batch", jobs_file, "--broker", broker.url, "--priority", "3", "--submitter", "bob",
                 "--batch-id", "bob-trees")
    assert result.returncode == 0 and "6 job(s) queued" in result.stdout, result.stderr
    submit(broker, TXT2IMG, "--count", "6", "--set", "seed=72000", "--set", "steps=1", "--priority", "8",
           "--submitter", "bob", "--batch-id", "bob-hero")
    assert time.monotonic() - started < 60  # three submissions, no worker yet: nothing waited for a job
    job_ids = batch_ids(store, "alice-props", "bob-trees", "bob-hero")
    assert len(job_ids) == 24 and all(r["state"] == "queued" for r in store.jobs(job_ids))

    names = [workers.start("gpu-a", comfy), workers.start("gpu-b", comfy_b)]
    wait_for(lambda: all_finished(store, job_ids), 300, "24 jobs", workers, (store, job_ids))
    check_stored_once(store, job_ids)
    records = store.jobs(job_ids)
    assert all(record["attempts"] == "1" for record in records), records
    sampled = seeds_sampled(comfy, comfy_b)
    assert all(sampled[seed] == 1 for seed in [*range(70000, 70012), *range(71000, 71006), *range(72000, 72006)])
    per_worker = collections.Counter(record["worker"] for record in records)
    assert set(per_worker) == set(names) and min(per_worker.values()) >= 4, per_worker

    order = [record["id"].split("/")[0] for record in sorted(records, key=lambda r: float(r["started_at"]))]
    assert order[:6] == ["bob-hero"] * 6, order  # priority 8 before every priority-3 job
    # Within a priority the submitters take turns: bob's six trees do not wait behind alice's twelve props.
    low = order[6:]
    assert max(i for i, batch in enumerate(low) if batch == "bob-trees") <= 13, low

    listing = dgx("jobs", "--broker", broker.url)
    assert listing.returncode == 0, listing.stderr
    assert any(line.split()[:4] == ["bob-hero", "bob", "8", "6"] for line in listing.stdout.splitlines()), \
        listing.stdout
    detail = dgx("jobs", "alice-props", "--broker", broker.url, "--json")
    rows = [json.loads(line) for line in detail.stdout.splitlines()]
    assert len(rows) == 12 and {row["state"] for row in rows} == {"done"} and rows[0]["progress"] == 1.0


# ---------------------------------------------------------------------------------------------------- failures
def test_worker_killed_mid_job_its_job_completes_on_the_other(broker, comfy, comfy_b, workers):
    store = Store(broker.url)
    survivor = workers.start("gpu-a", comfy)
    doomed = workers.start("gpu-b", comfy_b)
    submit(broker, TXT2IMG, "--count", "6", "--set", "seed=73000", "--set", "steps=30",
           "--submitter", "carol", "--batch-id", "carol-kill")
    job_ids = batch_ids(store, "carol-kill")

    def running_on_doomed():
        found = [r for r in store.jobs(job_ids) if r["state"] == "running" and r["worker"] == doomed
                 and time.time() - float(r["started_at"]) > 1.0]
        return found[0]["id"] if found else None

    victim = wait_for(running_on_doomed, 180, "a job running on the second worker", workers)
    workers.kill("gpu-b")
    # Its lease lapses: `jobs` shows it lost until the broker hands its message to the other worker.
    wait_for(lambda: shown_state(store.jobs([victim])[0]) in ("lost", "done"), 30, "the job shown as lost")
    wait_for(lambda: all_finished(store, job_ids), 300, "the batch", workers, (store, job_ids))
    outcomes = check_stored_once(store, job_ids)
    assert outcomes[victim]["worker"] == survivor and outcomes[victim]["attempt"] == 2, outcomes[victim]
    record = store.job(victim)
    assert record["lost"] == "1" and record["attempts"] == "2"
    assert all(outcome["worker"] == survivor for job_id, outcome in outcomes.items()
               if store.job(job_id)["attempts"] == "2")


def test_broker_killed_and_restarted_mid_batch_loses_nothing(broker, comfy, comfy_b, workers):
    store = Store(broker.url)
    workers.start("gpu-a", comfy)
    workers.start("gpu-b", comfy_b)
    submit(broker, TXT2IMG, "--count", "12", "--set", "seed=74000", "--set", "steps=4",
           "--submitter", "dave", "--batch-id", "dave-restart")
    job_ids = batch_ids(store, "dave-restart")
    wait_for(lambda: sum(o is not None for o in store.results(job_ids).values()) >= 3, 180, "3 jobs done", workers)
    broker.kill()  # SIGKILL: only what reached the append-only file survives
    time.sleep(3)
    broker.start()
    wait_for(lambda: all_finished(store, job_ids), 300, "the batch after the restart", workers, (store, job_ids))
    check_stored_once(store, job_ids)
    assert batch_ids(store, "dave-restart") == job_ids
    assert store.batch("dave-restart")["jobs"] == "12"


def test_submitter_exits_at_once_and_a_later_fetch_gets_every_file(broker, comfy, comfy_b, workers, tmp_path):
    store = Store(broker.url)
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    sources = {}
    for i in range(3):
        pixels = np.zeros((8, 12, 3), dtype=np.uint8)
        pixels[..., 0], pixels[..., 1] = 40 * i, np.arange(12) * 20
        Image.fromarray(pixels).save(pictures / f"tile{i}.png")
        sources[f"tile{i}"] = pixels
    jobs_file = tmp_path / "mixed.yaml"
    jobs_file.write_text("jobs:\n"
                         + "".join(f"  - {{name: tile{i}, workflow: {INVERT}, image: {pictures / f'tile{i}.png'}}}\n"
                                   for i in range(3))
                         + f"  - {{name: knight, workflow: {TXT2IMG}, prompt: knight, seed: 75000, steps: 1, "
                           "count: 3}\n")
    submitted = dgx("submit", "--file", jobs_file, "--broker", broker.url, "--submitter", "erin",
                    "--batch-id", "erin-mixed", "--json")
    assert submitted.returncode == 0, submitted.stderr
    assert len(json.loads(submitted.stdout)["queued"]) == 6
    for picture in pictures.iterdir():  # the workers never needed the submitter's files
        picture.unlink()
    early = dgx("fetch", "erin-mixed", "-o", tmp_path / "early", "--broker", broker.url)
    assert early.returncode == 4 and "6 job(s) not finished yet" in early.stderr

    workers.start("gpu-a", comfy)
    workers.start("gpu-b", comfy_b)
    elsewhere = tmp_path / "another-machine"
    elsewhere.mkdir()
    fetched = dgx("fetch", "erin-mixed", "-o", "results", "--wait", "--timeout", "240", "--broker", broker.url,
                  cwd=elsewhere, timeout=300)
    assert fetched.returncode == 0, fetched.stderr + workers.logs()
    assert "6/6 job(s) done: 6 file(s)" in fetched.stdout
    out = elsewhere / "results"
    summary = json.loads((out / "results.json").read_text())
    assert len(summary["jobs"]) == 6
    for job in summary["jobs"]:
        assert job["state"] == "done" and len(job["files"]) == 1, job
        data = (out / job["files"][0]["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == job["files"][0]["sha256"]
    for name, pixels in sources.items():
        inverted = np.asarray(Image.open(out / name / "inverted.png").convert("RGB"), dtype=np.int16)
        assert np.abs(inverted - (255 - pixels.astype(np.int16))).max() <= 1
    assert sorted(p.name for p in out.iterdir()) == ["knight-001", "knight-002", "knight-003", "results.json",
                                                     "tile0", "tile1", "tile2"]
    again = dgx("fetch", "erin-mixed", "-o", "results", "--broker", broker.url, cwd=elsewhere)
    assert again.returncode == 0, again.stderr  # the same files again: nothing to refuse
    check_stored_once(store, batch_ids(store, "erin-mixed"))


def test_cancel_drops_queued_jobs_and_stops_the_running_one(broker, comfy, workers):
    store = Store(broker.url)
    workers.start("gpu-a", comfy)
    submit(broker, TXT2IMG, "--count", "4", "--set", "seed=76000", "--set", "steps=100",
           "--submitter", "frank", "--batch-id", "frank-cancel")
    job_ids = batch_ids(store, "frank-cancel")
    running = wait_for(lambda: [r["id"] for r in store.jobs(job_ids) if r["state"] == "running"], 120,
                       "a running job", workers)
    cancelled = dgx("cancel", "frank-cancel", "--broker", broker.url, "--submitter", "frank")
    assert cancelled.returncode == 0, cancelled.stderr
    assert "4 job(s) cancelled, 1 of them running" in cancelled.stdout
    outcomes = store.results(job_ids)
    assert {o["state"] for o in outcomes.values()} == {"cancelled"}

    def stopped_on_comfyui():
        queue = comfy.get_json("/queue")
        return not any(item[1] for key in ("queue_running", "queue_pending") for item in queue[key])

    wait_for(stopped_on_comfyui, 60, "the prompt to leave ComfyUI", workers)
    assert not list(store.redis.scan_iter(match=store.file_prefix(running[0]) + "*"))
    # The worker is free again and takes the next job.
    submit(broker, TXT2IMG, "--set", "seed=76100", "--set", "steps=1", "--submitter", "frank",
           "--batch-id", "frank-after")
    wait_for(lambda: all_finished(store, batch_ids(store, "frank-after")), 120, "the next job", workers)
    sampled = seeds_sampled(comfy)
    assert not any(sampled[76000 + i] for i in range(4)), sampled  # interrupted, or never started
