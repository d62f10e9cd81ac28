"""A real `dgx-pixels worker` process on a real redis-server, in front of the fake ComfyUI of the client's tests
(every prompt runs at once): it starts, runs each job once, stores its file, and at start sends again the message
of a job that had lost it."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

from dgx_pixels.queue.submit import submit
from fake_comfy import FakeComfy, tiny_png
from paths import REPO


def test_a_worker_runs_every_job_once_and_sends_a_lost_message_again(broker, store, jobs, tmp_path):
    fake = FakeComfy().start()
    ids = submit(broker.url, jobs(3), submitter="ann", priority=5, batch="served").queued
    waiting = [key.decode() for key in store.redis.keys("dgx-pixels.ann*")]
    store.redis.rpop(waiting[0])  # as a connection broken between BRPOP and recording the message would
    log = tmp_path / "worker.log"
    with open(log, "wb") as handle:
        worker = subprocess.Popen([sys.executable, "-m", "dgx_pixels", "worker", "--broker", broker.url,
                                   "--comfyui", fake.url, "--name", "unit"], cwd=REPO, stdout=handle,
                                  stderr=subprocess.STDOUT, start_new_session=True,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 90
        while any(outcome is None for outcome in store.results(ids).values()):
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        fake.stop()
    outcomes = store.results(ids)
    assert {outcome["state"] for outcome in outcomes.values()} == {"done"}, outcomes
    for outcome in outcomes.values():
        (file,) = outcome["files"]
        assert store.file(file["key"]) == tiny_png() and file["sha256"] == hashlib.sha256(tiny_png()).hexdigest()
    assert len(fake.prompts) == 3  # each job ran once, the lost one included
    assert "1 job(s) had no message on the broker" in log.read_text()
    assert [record["attempts"] for record in store.jobs(ids)] == ["1", "1", "1"]
