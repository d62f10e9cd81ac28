"""A real redis-server on loopback for the queue's unit tests (one per module), emptied before each test."""
from __future__ import annotations

import pytest

from dgx_pixels.queue.store import Store
from dgx_pixels.remote.batchfile import expand
from dgx_pixels.remote.params import ApiWorkflow
from paths import DATA
from redis_server import RedisServer


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("broker")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def store(broker) -> Store:
    store = Store(broker.url)
    store.redis.flushdb()
    return store


def jobs(count: int, seed: int = 100):
    """``count`` one-step jobs of the tiny test workflow, named tile-001, tile-002, ..."""
    return expand(ApiWorkflow.load(DATA / "tiny_txt2img.json"), {"seed": seed, "steps": 1}, "tile", count)


@pytest.fixture(name="jobs")
def jobs_fixture():
    return jobs
