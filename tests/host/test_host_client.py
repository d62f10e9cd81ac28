"""The client and `dgx-pixels run/batch` against real ComfyUI servers with the tiny checkpoint: end to end, a batch
over two servers, a server killed and restarted mid-batch, Ctrl-C and resume, a killed client resumed; every job
must run exactly once (checked in the PNG metadata of the files the servers wrote)."""
from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from comfy_server import ComfyServer
from dgx_pixels.remote.client import Client
from dgx_pixels.remote.client.records import Job, JobFailed
from dgx_pixels.remote.params import ApiWorkflow
from paths import ARTIFACTS as TEST_ARTIFACTS, DATA, REPO


ROOT = REPO
TXT2IMG = DATA / "tiny_txt2img.json"
INVERT = DATA / "invert_image.json"
ARTIFACTS = TEST_ARTIFACTS / "client"


@pytest.fixture(scope="module")
def comfy2(host, tiny_checkpoint_path, tmp_path_factory):
    """A second server for the multi-server tests (and the one that gets killed)."""
    server = ComfyServer(host, tmp_path_factory.mktemp("comfy-second"), models={"checkpoints": [tiny_checkpoint_path]})
    try:
        yield server.start()
    finally:
        server.stop()


def dgx_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dgx_pixels", *args]


def dgx(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(dgx_command(*args), cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def output_seeds(*servers: ComfyServer, seeds: set[int]) -> collections.Counter:
    """How many files the servers wrote for each of ``seeds`` (from the prompt saved in each PNG)."""
    counts: collections.Counter = collections.Counter()
    for server in servers:
        for png in (server.base_dir / "output").glob("dgxclient_*.png"):
            with Image.open(png) as image:
                prompt = json.loads(image.text["prompt"])
            for node in prompt.values():
                if node["class_type"] == "KSampler" and node["inputs"]["seed"] in seeds:
                    counts[node["inputs"]["seed"]] += 1
    return counts


def check_files(manifest_path: Path) -> dict:
    """Every job done, and every recorded file there with the recorded hash."""
    manifest = json.loads(manifest_path.read_text())
    for job in manifest["jobs"]:
        assert job["state"] == "done", job
        assert job["files"], job
        for file in job["files"]:
            data = (manifest_path.parent / file["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == file["sha256"]
    return manifest


def batch_file(tmp_path: Path, seeds: range, steps: int) -> Path:
    path = tmp_path / "jobs.yaml"
    jobs = "".join(f"  - {{name: job{seed}, prompt: 'pixel art item {seed}', seed: {seed}}}\n" for seed in seeds)
    path.write_text(f"workflow: {TXT2IMG}\ndefaults: {{steps: {steps}}}\njobs:\n{jobs}")
    return path


# ---------------------------------------------------------------------------------------------------- end to end
def test_run_command_end_to_end(comfy, tmp_path):
    out = tmp_path / "out"
    result = dgx("run", str(TXT2IMG), "--set", "prompt=a red slime, pixel art", "--set", "seed=1234567",
                 "--set", "steps=3", "--server", comfy.url, "-o", str(out))
    assert result.returncode == 0, result.stderr
    manifest = check_files(out / "manifest.json")
    job = manifest["jobs"][0]
    assert job["seed"] == 1234567 and job["server"] == comfy.url
    assert job["params"] == {"prompt": "a red slime, pixel art", "seed": 1234567, "steps": 3}
    path = out / job["files"][0]["path"]
    assert path == out / "tiny_txt2img" / "sprite.png" and str(path) in result.stdout
    image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    assert image.shape == (64, 64, 3) and image.std() > 5.0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / "run_command_sprite.png")

    # The server ran exactly what the manifest says.
    entry = comfy.get_json(f"/history/{job['prompt_id']}")[job["prompt_id"]]
    assert entry["status"]["status_str"] == "success"
    graph = entry["prompt"][2]
    assert graph["5"]["inputs"]["seed"] == 1234567 and graph["5"]["inputs"]["steps"] == 3
    assert graph["2"]["inputs"]["text"] == "a red slime, pixel art"


def test_client_uploads_inputs_and_reports_progress(comfy, tmp_path):
    source = np.zeros((8, 16, 3), dtype=np.uint8)
    source[..., 0] = np.arange(16) * 16
    source[..., 1] = 200
    source_path = tmp_path / "gradient.png"
    Image.fromarray(source).save(source_path)
    events = []
    result = Client([comfy.url]).run_sync(INVERT, {"image": str(source_path)}, out_dir=tmp_path / "out",
                                          progress=lambda e: events.append(e.kind))
    inverted = np.asarray(Image.open(result.files[0].path).convert("RGB"), dtype=np.int16)
    assert np.abs(inverted - (255 - source.astype(np.int16))).max() <= 1  # SaveImage truncates 254.99 to 254
    uploaded = [p.name for p in (comfy.base_dir / "input").glob("gradient-*.png")]
    assert uploaded == [f"gradient-{hashlib.sha256(source_path.read_bytes()).hexdigest()[:12]}.png"]
    assert events[:2] == ["server_up", "queued"] and events[-2:] == ["executed", "done"]
    assert "running" in events and "progress" in events


def test_rejected_prompts_name_the_node(comfy, tmp_path):
    result = dgx("run", str(TXT2IMG), "--set", "Sampler.cfg=-5", "--server", comfy.url, "-o", str(tmp_path / "a"))
    assert result.returncode == 1
    assert "job tiny_txt2img failed:" in result.stderr
    assert "node 'Sampler' (KSampler): Value -5.0 smaller than min of 0.0 (cfg)" in result.stderr
    assert "--resume" in result.stderr

    # ComfyUI answers 200 when one output is valid and drops the failing one; the client must not accept that.
    partial = ApiWorkflow.from_dict({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 1},
              "_meta": {"title": "Good Canvas"}},
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}, "_meta": {"title": "Good Preview"}},
        "3": {"class_type": "EmptyImage", "inputs": {"width": 0, "height": 8, "batch_size": 1, "color": 2},
              "_meta": {"title": "Broken Canvas"}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}, "_meta": {"title": "Broken Preview"}},
    }, name="partial")
    with pytest.raises(JobFailed, match="node 'Broken Canvas' \\(EmptyImage\\): Value 0 smaller than min of 1"):
        Client([comfy.url]).run_sync(partial, out_dir=tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["jobs"][0]["state"] == "failed"


def test_forget_history_removes_finished_prompts_from_the_server(comfy, tmp_path):
    workflow = ApiWorkflow.from_dict({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 4, "batch_size": 1, "color": 0},
              "_meta": {"title": "Canvas"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "forget"},
              "_meta": {"title": "Tile"}}}, name="flat")
    jobs = [Job.create(workflow, {"Canvas.color": 0x102030 + i}) for i in range(3)]
    batch = Client([comfy.url], forget_history=True).run_batch_sync(jobs, out_dir=tmp_path / "out")
    assert batch.ok and all(len(job.files) == 1 for job in batch.jobs)
    for job in batch.jobs:
        assert comfy.get_json(f"/history/{job.prompt_id}") == {}


def test_job_timeout_cancels_the_prompt_on_the_server(comfy, tmp_path):
    job = Job.create(ApiWorkflow.load(TXT2IMG), {"seed": 4242, "steps": 100})
    batch = Client([comfy.url], job_timeout=0.5).run_batch_sync([job], out_dir=tmp_path / "out")
    (result,) = batch.jobs
    assert result.state == "failed" and result.error == f"did not finish within 0.5 s on {comfy.url}"
    queue = comfy.get_json("/queue")
    assert result.prompt_id not in {item[1] for key in ("queue_running", "queue_pending") for item in queue[key]}
    assert output_seeds(comfy, seeds={4242}) == {}


# ---------------------------------------------------------------------------------------------------- two servers
def test_batch_of_24_jobs_over_two_servers(comfy, comfy2, tmp_path):
    seeds = range(5000, 5024)
    out = tmp_path / "out"
    result = dgx("batch", str(batch_file(tmp_path, seeds, steps=1)), "--server", comfy.url, "--server", comfy2.url,
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "24/24 done, 0 failed" in result.stdout
    assert "[24/24] job" in result.stderr  # the non-terminal progress lines
    manifest = check_files(out / "manifest.json")
    per_server = collections.Counter(job["server"] for job in manifest["jobs"])
    assert set(per_server) == {comfy.url, comfy2.url}
    assert min(per_server.values()) >= 6, per_server  # both servers carried a real share
    for job in manifest["jobs"]:
        server = comfy if job["server"] == comfy.url else comfy2
        assert server.get_json(f"/history/{job['prompt_id']}")[job["prompt_id"]]["status"]["status_str"] == "success"
    assert output_seeds(comfy, comfy2, seeds=set(seeds)) == {seed: 1 for seed in seeds}


def test_server_killed_and_restarted_mid_batch_loses_no_job_and_runs_none_twice(comfy, comfy2, tmp_path):
    seeds = range(6000, 6024)
    workflow = ApiWorkflow.load(TXT2IMG)
    jobs = [Job.create(workflow, {"prompt": f"pixel art gem {s}", "seed": s, "steps": 6}) for s in seeds]
    killed = threading.Event()
    restart_errors = []

    def restart():
        time.sleep(1.0)
        try:
            comfy2.start()
        except Exception as err:  # reported by the test below
            restart_errors.append(err)

    restarter = threading.Thread(target=restart)

    def on_event(event):
        # Kill the second server while it samples a job (step 1 of 6), once the batch is well under way.
        if (not killed.is_set() and event.kind == "progress" and event.server == comfy2.url
                and event.step == (1, 6) and event.counts.get("done", 0) >= 4):
            comfy2.kill()
            killed.set()
            restarter.start()

    client = Client([comfy.url, comfy2.url], max_backoff=2.0, server_down_timeout=120)
    batch = client.run_batch_sync(jobs, out_dir=tmp_path / "out", progress=on_event)
    restarter.join(timeout=180)
    assert killed.is_set() and not restart_errors
    assert batch.ok, [(j.name, j.state, j.error) for j in batch.failed]
    manifest = check_files(tmp_path / "out" / "manifest.json")
    lost = [job for job in manifest["jobs"] if any(a.get("result") == "lost" for a in job["attempts"])]
    assert lost, "the kill hit no job in flight"
    for job in lost:
        assert job["attempts"][-1]["result"] == "success"
        assert job["attempts"][-1]["prompt_id"] != job["attempts"][0]["prompt_id"]
    assert output_seeds(comfy, comfy2, seeds=set(seeds)) == {seed: 1 for seed in seeds}


def test_server_away_too_long_hands_its_jobs_to_the_other(comfy, comfy2, tmp_path):
    """The second server dies for good (the last test using it): after the down timeout its jobs run on the first."""
    seeds = range(9000, 9012)
    workflow = ApiWorkflow.load(TXT2IMG)
    jobs = [Job.create(workflow, {"prompt": f"pixel art coin {s}", "seed": s, "steps": 6}) for s in seeds]
    killed = threading.Event()
    messages = []

    def on_event(event):
        if event.kind in ("lost", "server_down"):
            messages.append(event.message)
        if (not killed.is_set() and event.kind == "progress" and event.server == comfy2.url
                and event.step == (1, 6) and event.counts.get("done", 0) >= 2):
            comfy2.kill()
            killed.set()

    client = Client([comfy.url, comfy2.url], max_backoff=1.0, server_down_timeout=3)
    batch = client.run_batch_sync(jobs, out_dir=tmp_path / "out", progress=on_event)
    assert killed.is_set()
    assert batch.ok, [(j.name, j.state, j.error) for j in batch.failed]
    manifest = check_files(tmp_path / "out" / "manifest.json")
    moved = [job for job in manifest["jobs"] if any(a.get("result") == "lost" for a in job["attempts"])]
    assert moved and all(job["server"] == comfy.url for job in moved)
    assert f"{comfy2.url} was unreachable for 3 s" in messages
    assert output_seeds(comfy, comfy2, seeds=set(seeds)) == {seed: 1 for seed in seeds}


# ---------------------------------------------------------------------------------------------------- stop, resume
def our_prompt_ids(manifest_path: Path) -> set[str]:
    ids = set()
    for text in [manifest_path.read_text()] + ([manifest_path.with_suffix(".journal").read_text()]
                                               if manifest_path.with_suffix(".journal").exists() else []):
        ids |= set(re.findall(r'"prompt_id": "([0-9a-f]{32})"', text))
    return ids


def wait_for(condition, timeout: float = 60.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_ctrl_c_stops_the_server_side_jobs_and_resume_finishes_them(comfy, tmp_path):
    seeds = range(7000, 7003)
    out = tmp_path / "out"
    process = subprocess.Popen(dgx_command("batch", str(batch_file(tmp_path, seeds, steps=100)), "--server", comfy.url,
                                           "-o", str(out)), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        manifest_path = wait_for(lambda: (out / "manifest.json").exists() and out / "manifest.json", what="manifest")

        def running_ours():
            queue = comfy.get_json("/queue")
            return {item[1] for item in queue["queue_running"]} & our_prompt_ids(manifest_path)

        running = wait_for(running_ours, what="a running job")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert f"dgx-pixels batch --resume {manifest_path}" in stderr
    queue = comfy.get_json("/queue")
    left = {item[1] for key in ("queue_running", "queue_pending") for item in queue[key]}
    assert not left & our_prompt_ids(manifest_path), "the batch's prompts are still on the server"
    (running_id,) = running
    entry = comfy.get_json(f"/history/{running_id}")[running_id]
    assert any(kind == "execution_interrupted" for kind, _ in entry["status"]["messages"])
    states = collections.Counter(job["state"] for job in json.loads(manifest_path.read_text())["jobs"])
    assert states["interrupted"] >= 1 and states["queued"] == 0, states

    result = dgx("batch", "--resume", str(out), "--server", comfy.url)
    assert result.returncode == 0, result.stderr
    check_files(manifest_path)
    assert output_seeds(comfy, seeds=set(seeds)) == {seed: 1 for seed in seeds}


def test_killed_client_resumes_without_running_any_job_twice(comfy, tmp_path):
    """The client dies (no clean-up) with jobs finished and jobs still queued on the server; the resume takes the
    finished ones from the server's history and follows the queued ones to their end, queueing none again."""
    seeds = range(8000, 8006)
    out = tmp_path / "out"
    process = subprocess.Popen(dgx_command("batch", str(batch_file(tmp_path, seeds, steps=30)), "--server", comfy.url,
                                           "-o", str(out), "-q"), cwd=ROOT)
    try:
        manifest_path = wait_for(lambda: (out / "manifest.json").exists() and out / "manifest.json", what="manifest")

        def on_server():
            ids = our_prompt_ids(manifest_path)
            queue = comfy.get_json("/queue")
            queued = {item[1] for key in ("queue_running", "queue_pending") for item in queue[key]} & ids
            finished = {i for i in ids if comfy.get_json(f"/history/{i}")}
            return (finished, queued) if finished and queued else None

        wait_for(on_server, what="a finished job and a queued one")
        process.kill()
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    finished, queued = on_server() or (set(), set())
    sent = finished | queued | {i for i in our_prompt_ids(manifest_path) if comfy.get_json(f"/history/{i}")}

    result = dgx("batch", "--resume", str(manifest_path), "--server", comfy.url)
    assert result.returncode == 0, result.stderr
    manifest = check_files(manifest_path)
    for job in manifest["jobs"]:
        if job["attempts"][0]["prompt_id"] in sent:
            assert len(job["attempts"]) == 1, job  # taken over from the server, not queued again
    assert output_seeds(comfy, seeds=set(seeds)) == {seed: 1 for seed in seeds}
    assert os.listdir(out / "job8000") == ["sprite.png"]
