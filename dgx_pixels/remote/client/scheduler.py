"""A batch on its way through the servers: scheduling, following, failing over and downloading."""
from __future__ import annotations

import asyncio
import hashlib
import re
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import aiohttp

from ...common.errors import InputError
from ...common.files import write_atomic
from .manifest import RunManifest
from ...image.decode import FORMAT_OF_SUFFIX, check_image_bytes
from .records import (BadReply, ClientError, Event, EventKind, JobRecord, JobState, PromptRejected, ServerUnreachable,
                      normalise_url, now_iso, safe_name)
from .replies import describe_failure, succeeded
from .server import Server, Settings, Attempt


async def wait_for_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait at most ``timeout`` s for ``event``; True when it is set. asyncio.wait_for loses a cancellation (Ctrl-C)
    that arrives in the same loop turn as the event (Python 3.11); asyncio.wait lets it through."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    return bool(done)


def output_refs(outputs: Mapping[str, Any], titles: Mapping[str, str], types: Sequence[str]) -> list[dict]:
    """The downloadable files in a prompt's outputs (``{node id: ui}``), with the title of the node that made each."""
    refs = []
    for node_id, ui in outputs.items() if isinstance(outputs, Mapping) else ():
        for key, items in ui.items() if isinstance(ui, Mapping) else ():
            for item in items if isinstance(items, list) else ():
                if not isinstance(item, dict) or not all(isinstance(item.get(field, ""), str)
                                                         for field in ("filename", "subfolder", "type")):
                    continue  # not a file reference as ComfyUI writes one
                if item.get("filename") and item.get("type", "output") in types:
                    refs.append({"node_id": node_id, "node": titles.get(node_id, node_id), "kind": key,
                                 "filename": item["filename"], "subfolder": item.get("subfolder", ""),
                                 "type": item.get("type", "output")})
    return refs


def local_names(refs: list[dict]) -> list[str]:
    """A file name per output: the node's title and the server's extension, numbered when a node made several
    files of one extension (a node's sheet.png and sheet.json keep plain names)."""
    per_kind: dict[tuple[str, str], int] = {}
    for ref in refs:
        key = (ref["node_id"], file_suffix(ref["filename"]))
        per_kind[key] = per_kind.get(key, 0) + 1
    slugs: dict[str, str] = {}
    for ref in refs:
        if ref["node_id"] not in slugs:
            slug = safe_name(ref["node"]).lower()
            slugs[ref["node_id"]] = slug if slug not in slugs.values() else f"{slug}-{safe_name(ref['node_id'])}"
    names, seen = [], dict.fromkeys(per_kind, 0)
    for ref in refs:
        key = (ref["node_id"], file_suffix(ref["filename"]))
        index = seen[key]
        seen[key] += 1
        number = f"_{index:03d}" if per_kind[key] > 1 else ""
        names.append(f"{slugs[ref['node_id']]}{number}{key[1]}")
    return names


def file_suffix(server_name: str) -> str:
    """The server's file suffix when it is a plain one (.png, .json...), else .bin: the name the server chose never
    shapes the local file beyond that."""
    suffix = Path(server_name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else ".bin"


def check_download(data: bytes, server_name: str, local_name: str, url: str) -> None:
    """An output saved as an image must be one, in the format its name says, within the pixel limit."""
    try:
        check_image_bytes(data, f"{server_name!r} from {url}", Path(local_name).suffix)
    except InputError as err:
        raise BadReply(f"not saved: {err}") from None


class BatchRun:
    """Spreads a manifest's unfinished jobs over the servers and follows them to the end."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings, progress: Callable[[Event], None] | None,
                 client_id: str):
        self.session = session
        self.client_id = client_id
        self.settings = settings
        self.manifest: RunManifest | None = None
        self.progress = progress
        self.wake = asyncio.Event()
        self.servers: dict[str, Server] = {}
        self.pending: deque[JobRecord] = deque()
        self.tasks: set[asyncio.Task] = set()
        self.to_forget: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}
        self.fatal: BaseException | None = None  # a ClientError, or a bug raised again as it is (its traceback kept)

    # ------------------------------------------------------------------ events and state
    def emit(self, kind: EventKind, job: JobRecord | None, server: str = "", **info) -> None:
        if self.progress is None:
            return
        try:
            self.progress(Event(kind, job, server, counts=dict(self.counts), **info))
        except Exception as err:  # a broken callback stops the batch cleanly instead of killing a listener
            self.fatal = self.fatal or ClientError(f"the progress callback failed: {err!r}")
            self.wake.set()

    def set_state(self, job: JobRecord, state: JobState) -> None:
        self.counts[job.state.value] -= 1
        self.counts[state.value] += 1
        job.state = state
        self.manifest.dirty = True

    def changed(self) -> None:
        self.wake.set()

    # ------------------------------------------------------------------ servers
    def server(self, url: str) -> Server:
        """The server at ``url``; one outside this run's list (a resumed job's old server) is used over HTTP only."""
        url = normalise_url(url)
        if url not in self.servers:
            self.servers[url] = Server(url, self.session, self.client_id, self.settings,
                                       self.changed, self.emit)
        return self.servers[url]

    async def connect(self, urls: Sequence[str]) -> list[Server]:
        """Start every server's websocket; fail when none answers within the retries."""
        servers = [self.server(url) for url in urls]
        for server in servers:
            server.start_listening()
        started = time.monotonic()
        while not any(s.up for s in servers):
            waited_too_long = self.settings.job_timeout and time.monotonic() - started > self.settings.job_timeout
            if waited_too_long or all(s.failures > self.settings.retries for s in servers):
                for server in servers:
                    await server.stop_listening()
                reasons = "; ".join(f"{s.url}: {s.last_error}" for s in servers)
                raise ServerUnreachable(f"cannot reach any ComfyUI server ({reasons}). Start one with "
                                        "`dgx-pixels host run`, or pass --server URL")
            self.wake.clear()
            await wait_for_event(self.wake, 1.0)
        return servers

    def pick_server(self, servers: Sequence[Server]) -> Server | None:
        """The live server with the shortest queue that still has room (ties: the first in the list)."""
        ready = [s for s in servers if s.up and s.busy < self.settings.queue_depth]
        return min(ready, key=lambda s: s.busy) if ready else None

    # ------------------------------------------------------------------ the run
    async def run(self, urls: Sequence[str], make_manifest: Callable[[], RunManifest]) -> RunManifest:
        """Connect, then make (or load) the manifest, so an unreachable server leaves no half-started run."""
        try:
            servers = await self.connect(urls)
            self.manifest = make_manifest()
        except BaseException:
            for server in self.servers.values():
                await server.stop_listening()
            raise
        self.counts = self.manifest.counts()
        flusher = asyncio.create_task(self.flush_periodically())
        try:
            await self.prepare_resumed()
            await self.schedule(servers)
        except asyncio.CancelledError:
            await self.stop_on_servers()
            raise
        finally:
            flusher.cancel()
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, flusher, return_exceptions=True)
            self.manifest.save()
            await self.forget_done()
            for server in self.servers.values():
                await server.stop_listening()
        if self.fatal is not None:
            raise self.fatal
        return self.manifest

    async def prepare_resumed(self) -> None:
        """Sort the manifest's jobs: downloads to finish, jobs to follow or to check, jobs to queue."""
        for job in self.manifest.jobs:
            if job.state == JobState.DONE:
                continue
            if job.state == JobState.EXECUTED:
                self.start(self.download_task(job))
            elif job.state == JobState.QUEUED:
                self.start(self.follow_task(job, self.server(job.server)))
            else:
                if job.state in (JobState.FAILED, JobState.INTERRUPTED):
                    self.new_attempt(job)
                    self.set_state(job, JobState.PENDING)
                self.pending.append(job)
        if self.manifest.dirty:
            self.manifest.save()

    def start(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self.fatal is None:
            self.fatal = task.exception()
        self.wake.set()

    async def schedule(self, servers: list[Server]) -> None:
        while (self.pending or self.tasks) and self.fatal is None:
            while self.pending:
                server = self.pick_server(servers)
                if server is None:
                    break
                job = self.pending.popleft()
                server.dispatched += 1
                self.start(self.submit_task(job, server))
            # With no server left, pending jobs wait at most the down timeout (or the job timeout, if shorter).
            away = min(self.settings.server_down_timeout, self.settings.job_timeout or float("inf"))
            if self.pending and not self.tasks and all(
                    not s.up and time.monotonic() - s.down_since > away for s in servers):
                reasons = "; ".join(f"{s.url}: {s.last_error}" for s in servers)
                raise ServerUnreachable(f"no ComfyUI server has answered for {away:g} s "
                                        f"({reasons}); {len(self.pending)} job(s) not run")
            self.wake.clear()
            await wait_for_event(self.wake, 1.0)

    # ------------------------------------------------------------------ one job
    def new_attempt(self, job: JobRecord) -> None:
        """A fresh prompt id for queueing the job again (a reused id could be mistaken for the old run)."""
        job.prompt_id = uuid.uuid4().hex
        job.server = ""
        job.outputs = []
        job.error = ""

    def requeue(self, job: JobRecord, why: str) -> None:
        lost = sum(1 for a in job.attempts if a.get("result") == "lost")
        if lost >= self.settings.max_attempts:
            job.error = f"lost {lost} times ({why}); giving up"
            self.set_state(job, JobState.FAILED)
            self.emit(EventKind.FAILED, job, job.server, message=job.error)
            return
        self.new_attempt(job)
        self.set_state(job, JobState.PENDING)
        self.manifest.log(job)
        self.emit(EventKind.LOST, job, message=why)
        self.pending.appendleft(job)

    async def submit_task(self, job: JobRecord, server: Server) -> None:
        workflow = self.manifest.workflows[job.workflow]
        titles = workflow.output_titles()
        try:
            uploads = {}
            for pname, path in workflow.image_parameters(job.params).items():
                uploads[pname] = await server.upload_image(Path(path))
            prompt = workflow.bind(job.params, uploads)
        except ServerUnreachable:
            self.pending.appendleft(job)
            return
        except (ClientError, InputError, OSError) as err:
            return self.fail(job, str(err))
        finally:
            server.dispatched -= 1
        attempt = self.attach(job, server)
        job.queued_at = now_iso()
        job.attempts.append({"server": server.url, "prompt_id": job.prompt_id, "at": job.queued_at})
        self.set_state(job, JobState.QUEUED)
        self.manifest.log(job)  # on disk before the prompt can reach the server
        self.emit(EventKind.QUEUED, job, server.url)
        try:
            await server.submit(prompt, job.prompt_id, titles)
        except ServerUnreachable:
            # It may have arrived: the server is asked about it when it answers again.
            attempt.wake("check")
        except ClientError as err:  # rejected, a server error, a reply of another shape
            server.attempts.pop(attempt.prompt_id, None)
            job.attempts[-1]["result"] = "rejected" if isinstance(err, PromptRejected) else "error"
            return self.fail(job, str(err))
        await self.follow(job, attempt)

    def attach(self, job: JobRecord, server: Server) -> Attempt:
        workflow = self.manifest.workflows[job.workflow]
        job.server = server.url
        attempt = Attempt(job, server, len(workflow.prompt), workflow.output_titles(), self.emit)
        server.attempts[job.prompt_id] = attempt
        return attempt

    async def follow_task(self, job: JobRecord, server: Server) -> None:
        """A resumed job the manifest says is on ``server``: ask the server about it, then follow it."""
        if server.listener is None:
            # A server outside this run's list: take its result if it has one, else queue the job here.
            await self.follow_foreign(job, server)
            return
        attempt = self.attach(job, server)
        attempt.wake("check")
        await self.follow(job, attempt)

    async def follow_foreign(self, job: JobRecord, server: Server) -> None:
        try:
            if job.prompt_id in await server.queued_ids():
                await server.cancel([job.prompt_id])
            entry = await server.history(job.prompt_id)
        except ClientError:
            entry = None
        if entry is not None and succeeded(entry):
            await self.finish(job, server, entry.get("outputs", {}))
        else:
            self.requeue(job, f"{server.url} is not in this run's servers")

    async def follow(self, job: JobRecord, attempt: Attempt) -> None:
        """Wait for the job's end on its server, then take the result (or queue it again if it was lost)."""
        server = attempt.server
        deadline = time.monotonic() + self.settings.job_timeout if self.settings.job_timeout else None
        try:
            while True:
                if deadline is not None and time.monotonic() > deadline:
                    return await self.time_out(job, attempt)
                wait = self.settings.poll_interval
                if deadline is not None:
                    wait = max(0.0, min(wait, deadline - time.monotonic()))
                if await wait_for_event(attempt.signal, wait):
                    reason = attempt.reason
                    attempt.signal.clear()
                else:
                    if not server.up or time.monotonic() - attempt.last_event < self.settings.poll_interval:
                        continue
                    reason = "check"  # quiet for a while: make sure no event was missed
                if reason == "lost" and attempt.succeeded:
                    job.attempts[-1]["result"] = "success"
                    return await self.finish(job, server, attempt.outputs)
                if reason == "lost":
                    job.attempts[-1]["result"] = "lost"
                    away = self.settings.server_down_timeout
                    return self.requeue(job, f"{server.url} was unreachable for {away:g} s")
                try:
                    if reason == "check" and job.prompt_id in await server.queued_ids():
                        continue
                    entry = await server.history(job.prompt_id)
                except ServerUnreachable:
                    continue  # the server is away; it is asked again when it is back
                except ClientError as err:  # it answers, but not as ComfyUI does
                    job.attempts[-1]["result"] = "error"
                    return self.fail(job, str(err))
                if entry is None and attempt.succeeded:
                    # Finished (we saw it), but the server forgot it (restarted): its files are still there.
                    entry = {"status": {"status_str": "success"}, "outputs": attempt.outputs}
                if entry is None:
                    job.attempts[-1]["result"] = "lost"
                    return self.requeue(job, f"{server.url} no longer knows the prompt (it restarted)")
                if succeeded(entry):
                    job.attempts[-1]["result"] = "success"
                    return await self.finish(job, server, entry.get("outputs") or attempt.outputs)
                job.attempts[-1]["result"] = "error"
                return self.fail(job, describe_failure(entry, attempt.titles))
        finally:
            server.attempts.pop(attempt.prompt_id, None)  # the job may hold a new id by now (queued again)

    async def time_out(self, job: JobRecord, attempt: Attempt) -> None:
        """Cancel the job on its server (within one request timeout, so a server that is away cannot hold the run
        past the job's deadline) and fail it, unless it finished meanwhile."""
        server = attempt.server

        async def cancel_and_ask() -> dict | None:
            await server.cancel([job.prompt_id])
            return await server.history(job.prompt_id)

        try:
            entry = await asyncio.wait_for(cancel_and_ask(), self.settings.request_timeout)
        except (ClientError, asyncio.TimeoutError):
            entry = None
        if entry is not None and succeeded(entry):
            return await self.finish(job, server, entry.get("outputs", {}))
        job.attempts[-1]["result"] = "timeout"
        self.fail(job, f"did not finish within {self.settings.job_timeout:g} s on {server.url}")

    def fail(self, job: JobRecord, error: str) -> None:
        job.error = error
        job.finished_at = now_iso()
        self.set_state(job, JobState.FAILED)
        self.emit(EventKind.FAILED, job, job.server, message=error)

    async def finish(self, job: JobRecord, server: Server, outputs: Mapping[str, Any]) -> None:
        """The server finished the job: record its outputs (so it is never queued again), then download them."""
        titles = self.manifest.workflows[job.workflow].output_titles()
        job.outputs = output_refs(outputs, titles, self.settings.download_types)
        self.set_state(job, JobState.EXECUTED)
        self.manifest.log(job)  # never queued again, even if the server forgets it before the download
        self.emit(EventKind.EXECUTED, job, server.url, fraction=1.0)
        await self.download(job, server)

    async def download_task(self, job: JobRecord) -> None:
        await self.download(job, self.server(job.server))

    async def download(self, job: JobRecord, server: Server) -> None:
        folder = self.manifest.out_dir / safe_name(job.name)
        files = []
        try:
            for ref, name in zip(job.outputs, local_names(job.outputs)):
                data = await self.fetch(server, ref)
                if Path(name).suffix in FORMAT_OF_SUFFIX:
                    check_download(data, ref["filename"], name, server.url)
                path = folder / name
                write_atomic(path, data)
                files.append({"path": path.relative_to(self.manifest.out_dir).as_posix(),
                              "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "node": ref["node"],
                              "server_file": ref["filename"]})
        except (ClientError, OSError) as err:
            # It stays "executed": a resume downloads the files without running the job again.
            job.error = f"outputs not downloaded: {err}"
            self.emit(EventKind.FAILED, job, server.url, message=job.error)
            return
        job.files = files
        job.error = ""
        job.finished_at = now_iso()
        self.set_state(job, JobState.DONE)
        if self.settings.forget_history:
            self.to_forget.setdefault(server.url, []).append(job.prompt_id)
        self.emit(EventKind.DONE, job, server.url, fraction=1.0)

    async def fetch(self, server: Server, ref: Mapping[str, str]) -> bytes:
        """One output file; while its server is away (restarting), wait for it up to the down timeout."""
        try:
            return await server.view(ref)
        except ServerUnreachable:
            if server.listener is None:
                raise
            if not await wait_for_event(server.connected, self.settings.server_down_timeout):
                raise ServerUnreachable(f"{server.url} did not come back to serve {ref['filename']}")
            return await server.view(ref)

    # ------------------------------------------------------------------ manifest, cancelling
    async def flush_periodically(self, interval: float = 0.5) -> None:
        """Rewrite the manifest when it changed: every ``interval`` s, or less often for big batches, so that the
        rewrites take at most about 5% of the time (the journal covers what matters in between)."""
        pause = interval
        while True:
            await asyncio.sleep(pause)
            if self.manifest.dirty:
                started = time.monotonic()
                self.manifest.save()
                pause = max(interval, 20 * (time.monotonic() - started))
                await self.forget_done()

    async def forget_done(self) -> None:
        """Drop finished prompts from the servers' histories, only once the manifest on disk says they are done."""
        forget, self.to_forget = self.to_forget, {}
        for url, prompt_ids in forget.items():
            try:
                await self.servers[url].forget(prompt_ids)
            except ClientError:
                pass

    async def stop_on_servers(self) -> None:
        """Cancelled: remove this batch's prompts from the servers and record where each job stands."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        by_server: dict[str, list[JobRecord]] = {}
        for job in self.manifest.jobs:
            if job.state == JobState.QUEUED:
                by_server.setdefault(job.server, []).append(job)
        await asyncio.gather(*(self.stop_on_server(self.server(url), jobs) for url, jobs in by_server.items()))
        self.manifest.save()

    async def stop_on_server(self, server: Server, jobs: list[JobRecord]) -> None:
        try:
            await asyncio.wait_for(server.cancel([job.prompt_id for job in jobs]), self.settings.request_timeout)
            for job in jobs:
                entry = await asyncio.wait_for(server.history(job.prompt_id), self.settings.request_timeout)
                if entry is not None and succeeded(entry):
                    # It finished before the interrupt arrived: keep it, a resume only downloads it.
                    titles = self.manifest.workflows[job.workflow].output_titles()
                    job.outputs = output_refs(entry.get("outputs", {}), titles, self.settings.download_types)
                    self.set_state(job, JobState.EXECUTED)
                else:
                    self.set_state(job, JobState.INTERRUPTED)
                    self.emit(EventKind.INTERRUPTED, job, server.url)
        except (ClientError, asyncio.TimeoutError):
            pass  # unreachable: its jobs stay "queued" and a resume asks the server again
