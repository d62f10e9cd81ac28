"""The public Client: runs workflows on ComfyUI servers (async methods, each with a sync twin)."""
from __future__ import annotations

import asyncio
import concurrent.futures
import math
import signal
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import aiohttp

from ...common.errors import InputError
from ..params import ApiWorkflow
from .manifest import RunManifest
from .records import DEFAULT_SERVER, BatchResult, Event, Job, JobFailed, JobResult, normalise_url
from .scheduler import BatchRun
from .server import Settings


def _check_settings(seconds: Mapping[str, float | None], counts: Mapping[str, tuple[int, int]]) -> None:
    """Timeouts and intervals are positive numbers of seconds (None: no job timeout), counts whole numbers of at least
    their lowest value: a timeout of -1 would end every wait at once, or never."""
    for name, value in seconds.items():
        if value is None and name == "job_timeout":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise InputError(f"{name} must be a number of seconds above 0, got {value!r}")
    for name, (value, lowest) in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise InputError(f"{name} must be a whole number of at least {lowest}, got {value!r}")


class Client:
    """Runs workflows on ComfyUI servers. Async methods, each with a ``*_sync`` twin for plain scripts.

    ``servers``: URLs (``http://host:port``); jobs go to the live server with the shortest queue, at most
    ``queue_depth`` waiting per server (so a second server is used as soon as the first is busy, and jobs from
    other users count). ``request_timeout`` bounds each HTTP call, ``job_timeout`` each job (None: no limit);
    failed calls are retried ``retries`` times with exponential backoff from ``backoff`` seconds. A server away
    longer than ``server_down_timeout`` loses its jobs to the others; a job lost ``max_attempts`` times fails.
    ``forget_history`` deletes finished prompts from the servers' histories once they are recorded (long batches
    on shared servers).
    """

    def __init__(self, servers: Sequence[str] = (DEFAULT_SERVER,), *, queue_depth: int = 2,
                 request_timeout: float = 30.0, connect_timeout: float = 5.0, job_timeout: float | None = None,
                 retries: int = 4, backoff: float = 0.5, max_backoff: float = 8.0,
                 server_down_timeout: float = 60.0, max_attempts: int = 3, poll_interval: float = 5.0,
                 forget_history: bool = False, download_types: Sequence[str] = ("output",),
                 client_id: str | None = None):
        if isinstance(servers, str):
            servers = [servers]
        self.servers = list(dict.fromkeys(normalise_url(s) for s in servers))
        if not self.servers:
            raise InputError("no server given")
        _check_settings({"request_timeout": request_timeout, "connect_timeout": connect_timeout,
                         "job_timeout": job_timeout, "server_down_timeout": server_down_timeout,
                         "poll_interval": poll_interval, "backoff": backoff, "max_backoff": max_backoff},
                        {"queue_depth": (queue_depth, 1), "retries": (retries, 0), "max_attempts": (max_attempts, 1)})
        self.settings = Settings(queue_depth, request_timeout, connect_timeout, job_timeout, retries, backoff,
                                 max_backoff, server_down_timeout, max_attempts, poll_interval, forget_history,
                                 tuple(download_types))
        self.client_id = client_id or uuid.uuid4().hex
        self.session: aiohttp.ClientSession | None = None
        self._entered = 0

    async def __aenter__(self) -> "Client":
        if self._entered == 0:
            self.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.settings.connect_timeout))
        self._entered += 1
        return self

    async def __aexit__(self, *exc) -> None:
        self._entered -= 1
        if self._entered == 0 and self.session is not None:
            await self.session.close()
            self.session = None

    # ------------------------------------------------------------------ async API
    async def run(self, workflow: ApiWorkflow | str | Path, params: Mapping[str, Any] | None = None, *,
                  out_dir: str | Path, name: str = "", progress: Callable[[Event], None] | None = None) -> JobResult:
        """Run one job; returns its result, raises JobFailed (with the server's reason) when it fails."""
        job = Job.create(workflow, params, name=name)
        batch = await self.run_batch([job], out_dir=out_dir, progress=progress)
        result = batch.jobs[0]
        if not result.ok:
            raise JobFailed(f"job {result.name} {result.state}: {result.error}")
        return result

    async def run_batch(self, jobs: Sequence[Job], *, out_dir: str | Path,
                        progress: Callable[[Event], None] | None = None) -> BatchResult:
        """Run every job; the outputs and ``manifest.json`` go to ``out_dir`` (which must not hold a run yet).
        Failed jobs are in the result (``.failed``), not raised."""
        RunManifest.check_free(Path(out_dir), jobs)  # before contacting any server
        return await self._drive(lambda: RunManifest.create(out_dir, jobs, self.servers, self.client_id), progress,
                                 self.client_id)

    async def resume(self, manifest: str | Path, *, progress: Callable[[Event], None] | None = None) -> BatchResult:
        """Continue a batch from its manifest (a path or its folder): finished jobs are kept, jobs the servers
        finished meanwhile are downloaded, the others queued again. Uses this client's servers."""
        loaded = RunManifest.load(manifest)  # a bad manifest is reported before any server is contacted

        def reuse() -> RunManifest:
            loaded.servers = list(dict.fromkeys(loaded.servers + self.servers))
            return loaded

        return await self._drive(reuse, progress, loaded.client_id)

    async def _drive(self, make_manifest: Callable[[], RunManifest], progress, client_id: str) -> BatchResult:
        async with self:
            manifest = await BatchRun(self.session, self.settings, progress, client_id).run(self.servers, make_manifest)
        return manifest.result()

    # ------------------------------------------------------------------ sync twins
    def run_sync(self, *args, **kwargs) -> JobResult:
        return self._sync(self.run(*args, **kwargs))

    def run_batch_sync(self, *args, **kwargs) -> BatchResult:
        return self._sync(self.run_batch(*args, **kwargs))

    def resume_sync(self, *args, **kwargs) -> BatchResult:
        return self._sync(self.resume(*args, **kwargs))

    @staticmethod
    def _sync(coroutine):
        """Run ``coroutine`` in a fresh event loop; Ctrl-C cancels it (so the servers' jobs are stopped and the
        manifest saved) and then raises KeyboardInterrupt."""
        async def main():
            loop = asyncio.get_running_loop()
            task = asyncio.current_task()
            try:
                loop.add_signal_handler(signal.SIGINT, task.cancel)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or no signal support: Ctrl-C raises KeyboardInterrupt as usual
            try:
                return await coroutine
            finally:
                try:
                    loop.remove_signal_handler(signal.SIGINT)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop in this thread: the usual case
        else:
            # Called from code that already runs an event loop (a notebook, a GUI, Playwright's sync API): run in
            # a thread of its own rather than fail.
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                return pool.submit(asyncio.run, main()).result()
        try:
            return asyncio.run(main())
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None
