"""The queue's records on a real redis-server (no worker, no ComfyUI): names checked before any contact, a job
created once, taken under a lease, given its outcome once, and a job whose message a broken connection lost found
and sent again."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

from dgx_pixels.common.errors import InputError
from dgx_pixels.queue.engine import make_app
from dgx_pixels.queue.fetch import fetch
from dgx_pixels.queue.names import check_broker_url, redact, split_ref
from dgx_pixels.queue.store import BrokerUnreachable, Store
from dgx_pixels.queue.submit import cancel, submit
from dgx_pixels.queue.worker import send_unsent
from paths import DATA, REPO

TXT2IMG = DATA / "tiny_txt2img.json"


def queued_messages(store: Store, queue: str) -> list[str]:
    """The task ids waiting in ``queue`` (every priority step)."""
    names = [key.decode() for key in store.redis.keys(f"{queue}*")]
    return [json.loads(message)["headers"]["id"] for name in names for message in store.redis.lrange(name, 0, -1)]


# ---------------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize("url", ["http://box:6379/0", "redis://", "redis://box:0/0", "redis://box:6379/db",
                                 "redis://box:x/0", "redis://b ox:6379/0", "redis://[::1:6379/0"])
def test_a_bad_broker_url_is_one_line_naming_it(url):
    with pytest.raises(InputError, match="not a broker URL"):
        check_broker_url(url)


def test_a_password_never_shows():
    url = "redis://:s3cret@queue-box:6379/0"
    assert check_broker_url(url) == url
    assert redact(url) == "redis://:***@queue-box:6379/0"
    assert redact("rediss://studio:s3cret@queue-box:6380/2") == "rediss://studio:***@queue-box:6380/2"
    with pytest.raises(InputError) as err:
        check_broker_url("redis://:s3cret@queue-box:6379/x")
    assert "s3cret" not in str(err.value)


def test_an_unreachable_broker_hides_its_password(broker):
    closed = redact(broker.url).replace(f":{broker.port}/", ":1/")
    with pytest.raises(BrokerUnreachable) as err:
        Store(closed.replace("redis://", "redis://:s3cret@"), timeout=1).ping()
    assert "s3cret" not in str(err.value) and ":***@" in str(err.value)


@pytest.mark.parametrize("ref", ["../x", "a/b/c", "a/..", "", "-x"])
def test_a_job_reference_is_a_plain_name(ref):
    with pytest.raises(InputError):
        split_ref(ref)


def test_commands_refuse_bad_values_before_contacting_anything():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DGX_PIXELS_BROKER", None)
    for args, words in ((["submit", TXT2IMG, "--broker", "redis://127.0.0.1:1/0", "--priority", "12"], "priority"),
                        (["jobs"], "no broker given"),
                        (["fetch", "x", "-o", "out", "--broker", "redis://:pw@h:1/z"], "not a broker URL"),
                        (["worker", "--broker", "redis://127.0.0.1:1/0", "--name", "a b"], "worker name")):
        result = subprocess.run([sys.executable, "-m", "dgx_pixels", *map(str, args)], capture_output=True,
                                text=True, env=env, timeout=60, cwd=REPO)
        assert result.returncode == 2 and words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and "pw" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 3, result.stderr


# ---------------------------------------------------------------------------------------------------- records
def test_submitting_the_same_batch_again_queues_nothing_twice(store, broker, jobs):
    first = submit(broker.url, jobs(3), submitter="ann", priority=4, batch="props")
    again = submit(broker.url, jobs(3), submitter="ann", priority=4, batch="props")
    assert len(first.queued) == 3 and again.queued == [] and sorted(again.existing) == sorted(first.queued)
    assert sorted(queued_messages(store, "dgx-pixels.ann")) == sorted(first.queued)
    assert {record["state"] for record in store.jobs(first.queued)} == {"queued"}


def test_a_job_is_leased_to_one_worker_and_its_outcome_written_once(store, broker, jobs):
    job_id = submit(broker.url, jobs(1), submitter="ann", priority=5, batch="one").queued[0]
    assert store.start(job_id, "gpu-a", 30) == ("started", "1")
    assert store.start(job_id, "gpu-b", 30) == ("held", "gpu-a")
    record = store.job(job_id)
    store.put_file(store.file_key(job_id, "1", 0), b"png", 60)
    done = {"state": "done", "files": [{"key": store.file_key(job_id, "1", 0)}]}
    assert store.commit(record, done, "gpu-a") is True
    assert store.commit(record, {"state": "done", "files": []}, "gpu-b") is False
    assert store.results([job_id])[job_id] == done
    assert store.start(job_id, "gpu-b", 30) == ("terminal", "")
    assert store.redis.sismember(store.key("pending"), job_id) == 0


def test_a_lapsed_lease_lets_another_worker_take_the_job_and_counts_it_lost(store, broker, jobs):
    job_id = submit(broker.url, jobs(1), submitter="ann", priority=5, batch="lapse").queued[0]
    store.start(job_id, "gpu-a", 1)
    time.sleep(1.2)
    assert store.start(job_id, "gpu-b", 30) == ("started", "2")
    assert store.job(job_id)["lost"] == "1"


def test_cancel_gives_unfinished_jobs_their_outcome_once(store, broker, jobs):
    ids = submit(broker.url, jobs(3), submitter="ann", priority=5, batch="stop").queued
    store.start(ids[0], "gpu-a", 30)
    store.commit(store.job(ids[0]), {"state": "done", "files": []}, "gpu-a")
    report = cancel(broker.url, ids, "ann")
    assert sorted(report.cancelled) == sorted(ids[1:]) and report.finished == 1
    assert [store.results(ids)[i]["state"] for i in ids] == ["done", "cancelled", "cancelled"]


# ---------------------------------------------------------------------------------------------------- lost messages
def test_a_message_lost_between_taking_and_recording_it_is_sent_again(store, broker, jobs):
    ids = submit(broker.url, jobs(4), submitter="ann", priority=5, batch="lost").queued
    app = make_app(broker.url)
    assert store.unsent(store.queue_names()) == []
    # What kombu does when a worker's connection breaks after BRPOP and before the message is recorded as
    # unacknowledged: the message is off its list and nowhere else.
    waiting = [key.decode() for key in store.redis.keys("dgx-pixels.ann*")]
    taken = json.loads(store.redis.rpop(waiting[0]))["headers"]["id"]
    assert [record["id"] for record in store.unsent(store.queue_names())] == [taken]
    assert send_unsent(store, app) == 1
    assert sorted(queued_messages(store, "dgx-pixels.ann")) == sorted(ids)
    assert store.unsent(store.queue_names()) == []


def test_messages_held_unacknowledged_or_for_finished_jobs_are_not_sent_again(store, broker, jobs):
    ids = submit(broker.url, jobs(3), submitter="bo", priority=5, batch="kept").queued
    waiting = [key.decode() for key in store.redis.keys("dgx-pixels.bo*")]
    message = store.redis.rpop(waiting[0])
    store.redis.hset("unacked", "tag-1", json.dumps([json.loads(message), "", "dgx-pixels.bo"]))
    finished = json.loads(store.redis.rpop(waiting[0]))["headers"]["id"]
    store.commit(store.job(finished), {"state": "done", "files": []}, "gpu-a")
    assert store.unsent(store.queue_names()) == []
    assert finished not in store.redis.smembers(store.key("pending"))
    assert len(ids) == 3


def test_a_job_its_submitter_recorded_but_never_sent_is_sent_after_a_grace(store, broker, jobs, monkeypatch):
    from dgx_pixels.queue import store as storelib

    ids = submit(broker.url, jobs(2), submitter="cy", priority=5, batch="half").queued
    for key in store.redis.keys("dgx-pixels.cy*"):
        store.redis.delete(key)
    for job_id in ids:
        store.redis.hset(store.key("job", job_id), "state", "new")
    assert store.unsent(store.queue_names()) == []  # its submitter may still be sending
    monkeypatch.setattr(storelib, "UNSENT_GRACE_SECONDS", -1.0)
    assert sorted(record["id"] for record in store.unsent(store.queue_names())) == sorted(ids)


def test_one_sweep_covers_every_request_made_before_it_started(store):
    runs = []
    first, second = store.ask_for_sweep(), store.ask_for_sweep()
    assert store.sweep_if_needed(second, "gpu-a", lambda: runs.append("a"))
    assert store.sweep_if_needed(first, "gpu-b", lambda: runs.append("b"))
    assert runs == ["a"]
    store.redis.set(store.key("sweep", "lock"), "gpu-c")
    later = store.ask_for_sweep()
    assert not store.sweep_if_needed(later, "gpu-a", lambda: runs.append("a2"))  # gpu-c sweeps now
    assert runs == ["a"]


# ---------------------------------------------------------------------------------------------------- fetch
def test_fetch_trusts_no_name_or_byte_from_the_store(store, broker, jobs, tmp_path):
    ids = submit(broker.url, jobs(2), submitter="di", priority=5, batch="trust").queued
    good, bad = (store.job(job_id) for job_id in ids)
    for record, name, data, digest in ((good, "tile.png", b"good", hashlib.sha256(b"good").hexdigest()),
                                       (bad, "../escape.png", b"bad", hashlib.sha256(b"bad").hexdigest())):
        key = store.file_key(record["id"], "1", 0)
        store.put_file(key, data, 60)
        store.commit(record, {"state": "done", "files": [{"name": name, "key": key, "sha256": digest}]}, "w")
    report = fetch(store, ids, tmp_path / "out", store.results(ids))
    assert report.done == [good["id"]] and report.failed[0][0] == bad["id"]
    assert "not a plain file name" in report.failed[0][2]
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["results.json", "tile-001", "tile.png"]
    assert not (tmp_path / "escape.png").exists()
