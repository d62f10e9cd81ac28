"""One ComfyUI server: HTTP calls with timeouts and retries, and its websocket feed."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import aiohttp

from ...common.errors import InputError
from ...common.files import read_limited
from ...image.decode import FORMAT_OF_SUFFIX, check_image_bytes
from .replies import describe_rejection, progress_text, reply_object, reply_text
from .records import (BadReply, ClientError, EventKind, JobRecord, PromptRejected, ServerError, ServerUnreachable,
                      normalise_url, safe_name)

CAPTION_BYTES = 64 << 10  # a training image's caption file: a line of text
CANCEL_WAIT = 15.0  # seconds a cancel waits for the server to let go of an interrupted prompt


def _describe(err: BaseException, timeout: float) -> str:
    if isinstance(err, asyncio.TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(err, aiohttp.ClientConnectorError):
        os_error = err.os_error
        errno = getattr(os_error, "errno", None)
        reason = (os.strerror(errno) if isinstance(errno, int) and errno > 0
                  else getattr(os_error, "strerror", None) or str(os_error or err))
        return f"cannot connect to {err.host}:{err.port} ({reason.lower()})"
    return str(err) or type(err).__name__


@dataclass
class Settings:
    queue_depth: int = 2
    request_timeout: float = 30.0
    connect_timeout: float = 5.0
    job_timeout: float | None = None
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    server_down_timeout: float = 60.0
    max_attempts: int = 3
    poll_interval: float = 5.0
    forget_history: bool = False
    download_types: tuple[str, ...] = ("output",)
    max_reply_bytes: int = 1 << 30  # one answer (an output file, a history entry) held in memory at most


class Backoff:
    """The wait between tries: ``settings.backoff`` seconds at first, doubling up to ``settings.max_backoff``, each
    wait jittered by 20 % so that clients that failed together do not retry together."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.delay = settings.backoff

    def reset(self) -> None:
        self.delay = self.settings.backoff

    async def wait(self) -> None:
        await asyncio.sleep(self.delay * random.uniform(0.8, 1.2))
        self.delay = min(self.delay * 2, self.settings.max_backoff)


class Attempt:
    """One queueing of a job on a server, fed by the server's websocket events."""

    def __init__(self, job: JobRecord, server: "Server", total_nodes: int, titles: Mapping[str, str],
                 emit: Callable[..., None]):
        self.job = job
        self.server = server
        self.prompt_id = job.prompt_id
        self.total_nodes = max(total_nodes, 1)
        self.titles = titles
        self.emit = emit
        self.signal = asyncio.Event()
        self.reason = ""
        self.last_event = time.monotonic()
        self.nodes_done: set[str] = set()
        self.node: str | None = None
        self.step: tuple[int, int] | None = None
        self.text = ""  # the running node's latest progress text
        self.outputs: dict[str, Any] = {}
        self.succeeded = False

    def fraction(self) -> float:
        partial = self.step[0] / self.step[1] if self.step and self.step[1] else 0.0
        return min(1.0, (len(self.nodes_done) + partial) / self.total_nodes)

    def wake(self, reason: str) -> None:
        # "ended" (the server said so) and "lost" outrank a "check" still waiting to be handled.
        if not self.signal.is_set() or self.reason == "check":
            self.reason = reason
        self.signal.set()

    def on_event(self, kind: str, data: dict) -> None:
        self.last_event = time.monotonic()
        if kind == "execution_start":
            self.emit(EventKind.RUNNING, self.job, self.server.url)
            return
        if kind == "execution_cached":
            self.nodes_done.update(data.get("nodes") or [])
        elif kind == "executing":
            if self.node is not None:
                self.nodes_done.add(self.node)
            self.node, self.step, self.text = data.get("node"), None, ""
            if self.node is None:
                self.wake("ended")
                return
        elif kind == "progress":
            self.step = (int(data.get("value", 0)), int(data.get("max", 0)))
        elif kind == "executed":
            self.nodes_done.add(str(data.get("node")))
            if data.get("output"):
                self.outputs[str(data.get("node"))] = data["output"]
        elif kind == "execution_success":
            self.succeeded = True
            return
        else:
            return
        title = self.titles.get(self.node, self.node or "")
        self.emit(EventKind.PROGRESS, self.job, self.server.url, fraction=self.fraction(), node=title, step=self.step,
                  text=self.text)


class Server:
    """One ComfyUI server: HTTP calls with timeouts and retries, and its websocket feed (reconnecting)."""

    def __init__(self, url: str, session: aiohttp.ClientSession, client_id: str, settings: Settings,
                 on_change: Callable[[], None] = lambda: None, emit: Callable[..., None] = lambda *a, **k: None):
        self.url = normalise_url(url)
        self.session = session
        self.client_id = client_id
        self.settings = settings
        self.on_change = on_change
        self.emit = emit
        self.up = False
        self.failures = 0  # connection attempts failed in a row
        self.load = 0  # prompts waiting or running there, everyone's, as the server last reported
        self.dispatched = 0  # jobs handed to this server whose prompt is not registered yet
        self.down_since = time.monotonic()
        self.up_since: float | None = None
        self.last_error = "not contacted yet"
        self.attempts: dict[str, Attempt] = {}
        # Prompts this client gave up on while the server was away: deleted there if it comes back with them.
        self.abandoned: set[str] = set()
        self.uploads: dict[str, str] = {}
        self.listener: asyncio.Task | None = None
        self.connected = asyncio.Event()

    @property
    def busy(self) -> int:
        """The queue length used for choosing a server: the server's report, never less than our own prompts
        there (the report lags behind what was just sent)."""
        return max(self.load, len(self.attempts) + self.dispatched)

    # ------------------------------------------------------------------ HTTP
    async def request(self, method: str, path: str, *, json_body: Any = None, params: dict | None = None,
                      form: Callable[[], aiohttp.FormData] | None = None, retries: int | None = None,
                      timeout: float | None = None) -> tuple[int, bytes]:
        """(status, body) of one HTTP call, bounded by the request timeout (connecting included) and the reply size
        limit; connection failures, timeouts and 5xx answers are retried with exponential backoff, then raise
        ServerUnreachable (no answer) or ServerError (the server's own error, with its text)."""
        retries = self.settings.retries if retries is None else retries
        timeout = timeout or self.settings.request_timeout
        backoff = Backoff(self.settings)
        for attempt in range(retries + 1):
            failure: type[ClientError] = ServerUnreachable
            try:
                async with self.session.request(method, self.url + path, json=json_body, params=params,
                                                data=form() if form else None,
                                                timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                    body = await self._read(response, f"{method} {path}")
                    if response.status < 500:
                        return response.status, body
                    failure = ServerError
                    problem = f"HTTP {response.status} from {method} {path}: {reply_text(body)}"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
                problem = _describe(err, timeout)
            if attempt < retries:
                await backoff.wait()
        if failure is ServerError:
            raise ServerError(f"ComfyUI at {self.url} answered with an error: {problem}")
        raise ServerUnreachable(f"cannot reach ComfyUI at {self.url}: {problem}")

    async def _read(self, response: aiohttp.ClientResponse, what: str) -> bytes:
        """The body, refused (BadReply) once it passes ``max_reply_bytes``: a server cannot fill the memory."""
        limit = self.settings.max_reply_bytes
        if response.content_length is not None and response.content_length > limit:
            raise BadReply(f"the server sent {response.content_length:,} bytes for {what}; the limit is {limit:,}")
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(1 << 20):
            size += len(chunk)
            if size > limit:
                raise BadReply(f"the server sent over {limit:,} bytes for {what}; the limit is {limit:,}")
            chunks.append(chunk)
        return b"".join(chunks)

    async def get_json(self, path: str, **kwargs) -> dict:
        """A JSON object from ``GET path``; anything else is a BadReply saying what the server sent."""
        status, body = await self.request("GET", path, **kwargs)
        if status != 200:
            raise ClientError(f"{self.url}{path}: HTTP {status}: {reply_text(body)}")
        return reply_object(body, f"GET {path}")

    async def queue_remaining(self, **kwargs) -> int:
        """Prompts waiting or running on the server (everyone's), from ``GET /prompt``."""
        exec_info = (await self.get_json("/prompt", **kwargs)).get("exec_info", {})
        remaining = exec_info.get("queue_remaining", 0) if isinstance(exec_info, dict) else None
        if type(remaining) is not int:
            raise BadReply("the server sent no whole number as exec_info.queue_remaining for GET /prompt")
        return remaining

    async def queued_ids(self) -> set[str]:
        """Prompt ids running or waiting on the server (``GET /queue``)."""
        queue = await self.get_json("/queue")
        ids = set()
        for key in ("queue_running", "queue_pending"):
            items = queue.get(key, [])
            if not isinstance(items, list) or not all(isinstance(item, list) and len(item) > 1
                                                      and isinstance(item[1], str) for item in items):
                raise BadReply(f"the server sent a {key} that is not a list of queue entries for GET /queue")
            ids.update(item[1] for item in items)
        return ids

    async def history(self, prompt_id: str) -> dict | None:
        entry = (await self.get_json(f"/history/{prompt_id}")).get(prompt_id)
        if entry is not None and not isinstance(entry, dict):
            raise BadReply(f"the server sent a history entry that is not an object for GET /history/{prompt_id}")
        return entry

    async def upload_image(self, path: Path) -> str:
        """Upload a local file into the server's input folder under a content-addressed name (so repeated
        uploads are free and never renamed); returns the name LoadImage-style inputs take."""
        data = self._image_bytes(path)
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.uploads:
            return self.uploads[digest]
        uploaded = await self._upload(path, data, f"{safe_name(path.stem)}-{digest[:12]}{path.suffix.lower()}")
        self.uploads[digest] = uploaded
        return uploaded

    async def upload_folder(self, folder: Path) -> str:
        """Upload a folder's images (and the .txt caption beside each) into ``training/<name>-<digest>`` of the
        server's input folder, named by the contents (a changed set never mixes with an older upload); returns
        that subfolder."""
        files = {}
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in FORMAT_OF_SUFFIX:
                files[path.name] = self._image_bytes(path)
                caption = path.with_suffix(".txt")
                if caption.is_file():
                    files[caption.name] = read_limited(caption, CAPTION_BYTES, "caption file")
        if not files:
            raise ClientError(f"{folder}: no images ({', '.join(sorted(FORMAT_OF_SUFFIX))}) to upload")
        digest = hashlib.sha256()
        for name, data in files.items():
            digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        subfolder = f"training/{safe_name(folder.name)}-{digest.hexdigest()[:12]}"
        for name, data in files.items():
            await self._upload(folder / name, data, safe_name(Path(name).stem) + Path(name).suffix.lower(),
                               subfolder)
        return subfolder

    def _image_bytes(self, path: Path) -> bytes:
        data = read_limited(path, self.settings.max_reply_bytes, "image to upload")
        try:
            check_image_bytes(data, str(path), suffix=path.suffix if path.suffix.lower() in FORMAT_OF_SUFFIX else None)
        except InputError as err:
            raise ClientError(str(err)) from None
        return data

    async def _upload(self, path: Path, data: bytes, name: str, subfolder: str = "") -> str:
        def form() -> aiohttp.FormData:
            body = aiohttp.FormData()
            body.add_field("image", data, filename=name, content_type="application/octet-stream")
            body.add_field("overwrite", "true")
            if subfolder:
                body.add_field("subfolder", subfolder)
            return body

        status, answer = await self.request("POST", "/upload/image", form=form)
        if status != 200:
            raise ClientError(f"{self.url} refused the upload of {path} (HTTP {status}: "
                              f"{answer[:300].decode(errors='replace')})")
        info = reply_object(answer, "POST /upload/image")
        if not isinstance(info.get("name"), str) or not isinstance(info.get("subfolder", ""), str):
            raise BadReply(f"the server sent {reply_text(answer)} for POST /upload/image; expected its name and "
                           "subfolder")
        return f"{info['subfolder']}/{info['name']}" if info.get("subfolder") else info["name"]

    async def submit(self, prompt: dict, prompt_id: str, titles: Mapping[str, str]) -> None:
        """Queue ``prompt`` under ``prompt_id``. A rejection raises PromptRejected with the node errors by title;
        a 200 that still lists node errors (an output was dropped) is cancelled and rejected too. A server error
        (HTTP 5xx) after the retries raises ServerError with the server's text, unless the prompt was queued."""
        body = {"prompt": prompt, "client_id": self.client_id, "prompt_id": prompt_id}
        backoff = Backoff(self.settings)
        for attempt in range(self.settings.retries + 1):
            try:
                status, raw = await self.request("POST", "/prompt", json_body=body, retries=0)
                break
            except (ServerUnreachable, ServerError) as err:
                failure = err
            # The failed try may have reached the server: never queue one prompt id twice.
            try:
                if prompt_id in await self.queued_ids() or await self.history(prompt_id) is not None:
                    return
            except ClientError:
                pass
            if attempt == self.settings.retries:
                raise failure
            await backoff.wait()
        answer = reply_object(raw, f"POST /prompt (HTTP {status})")
        if status == 200 and not answer.get("node_errors"):
            return
        if status == 200:
            await self.cancel([prompt_id])
        raise PromptRejected(f"{self.url} rejected the prompt: " + describe_rejection(answer, titles))

    async def view(self, ref: Mapping[str, str]) -> bytes:
        params = {"filename": ref["filename"], "subfolder": ref.get("subfolder", ""), "type": ref.get("type", "output")}
        status, body = await self.request("GET", "/view", params=params)
        if status != 200:
            raise ClientError(f"{self.url} has no output file {ref['filename']!r} (HTTP {status})")
        return body

    async def cancel(self, prompt_ids: Iterable[str]) -> None:
        """Delete the prompts still waiting in the queue and interrupt the one running, if it is one of them; return
        once none of them is on the server's queue any more (or after CANCEL_WAIT seconds)."""
        prompt_ids = list(prompt_ids)
        deadline = time.monotonic() + CANCEL_WAIT
        pause = 0.1
        while True:
            await self.request("POST", "/queue", json_body={"delete": prompt_ids}, retries=1)
            for prompt_id in prompt_ids:
                await self.request("POST", "/interrupt", json_body={"prompt_id": prompt_id}, retries=1)
            # A prompt may have started between the delete and the interrupt, and an interrupted one stays on the
            # queue until the sampler reaches its next step (seconds on a busy machine): look again.
            prompt_ids = list(set(prompt_ids) & await self.queued_ids())
            if not prompt_ids or time.monotonic() + pause > deadline:
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    async def forget(self, prompt_ids: list[str]) -> None:
        await self.request("POST", "/history", json_body={"delete": prompt_ids}, retries=1)

    # ------------------------------------------------------------------ websocket
    @property
    def ws_url(self) -> str:
        return re.sub(r"^http", "ws", self.url) + "/ws"

    def start_listening(self) -> None:
        if self.listener is None:
            self.listener = asyncio.create_task(self._listen(), name=f"dgx-pixels ws {self.url}")

    async def stop_listening(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            try:
                await self.listener
            except asyncio.CancelledError:
                pass
            self.listener = None

    async def _listen(self) -> None:
        backoff = Backoff(self.settings)
        while True:
            connected_at = None
            try:
                # The handshake is an HTTP request: bounded like one (a server that accepts the connection and
                # never answers must not hang the run).
                ws = await asyncio.wait_for(
                    self.session.ws_connect(self.ws_url, params={"clientId": self.client_id}, heartbeat=20.0,
                                            max_msg_size=self.settings.max_reply_bytes),
                    self.settings.request_timeout)
                async with ws:
                    self.load = await self.queue_remaining(retries=0)
                    connected_at = time.monotonic()
                    self._set_up(True)
                    self._recheck_attempts()
                    await self._delete_abandoned()
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.TEXT:
                            self._dispatch(message.data)
                        elif message.type == aiohttp.WSMsgType.BINARY:
                            self._dispatch_progress_text(message.data)
                        elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                            break
                    self.last_error = "the websocket closed"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ClientError, ValueError) as err:
                self.last_error = _describe(err, self.settings.request_timeout)
            if self._stable(connected_at):
                self.failures = 0
                backoff.reset()
            else:  # a connection that closes at once counts as a failed one, so flapping ends like an outage
                self.failures += 1
            self._set_up(False)
            self.on_change()
            if time.monotonic() - self.down_since > self.settings.server_down_timeout:
                self._fail_over()
            await backoff.wait()

    def _stable(self, connected_at: float | None) -> bool:
        """Whether a connection lasted long enough (the connect timeout) to count as the server being back."""
        return connected_at is not None and time.monotonic() - connected_at >= self.settings.connect_timeout

    def _set_up(self, up: bool) -> None:
        if up == self.up:
            return
        self.up = up
        if up:
            self.up_since = time.monotonic()
            self.connected.set()
            self.emit(EventKind.SERVER_UP, None, self.url)
        else:
            if self._stable(self.up_since):
                self.down_since = time.monotonic()  # a brief reconnection leaves the outage's start where it was
            self.connected.clear()
            self.emit(EventKind.SERVER_DOWN, None, self.url, message=self.last_error)
        self.on_change()

    def _recheck_attempts(self) -> None:
        """After (re)connecting, every job still in flight here asks the server where it stands: events sent
        while the socket was down are lost."""
        for attempt in list(self.attempts.values()):
            attempt.wake("check")

    def _fail_over(self) -> None:
        """The server has been away too long: its unfinished jobs go back to the pool for the other servers (and
        finished ones stop waiting: their files stay on its disk for a resume)."""
        for attempt in list(self.attempts.values()):
            if not attempt.succeeded:
                self.abandoned.add(attempt.prompt_id)
            attempt.wake("lost")

    async def _delete_abandoned(self) -> None:
        if self.abandoned:
            try:
                await self.cancel(self.abandoned)
                self.abandoned.clear()
            except ClientError:
                pass

    def _dispatch(self, text: str) -> None:
        """One websocket message; anything that is not ComfyUI's protocol is ignored (the job's state is asked of
        the server over HTTP anyway)."""
        try:
            event = json.loads(text)
        except (ValueError, RecursionError):
            return
        kind, data = (event.get("type"), event.get("data")) if isinstance(event, dict) else (None, None)
        if not isinstance(data, dict):
            return
        if kind == "status":
            status = data.get("status")
            info = status.get("exec_info") if isinstance(status, dict) else None
            remaining = info.get("queue_remaining") if isinstance(info, dict) else None
            if type(remaining) is int:
                self.load = remaining
                self.on_change()
            return
        prompt_id = data.get("prompt_id")
        attempt = self.attempts.get(prompt_id) if isinstance(prompt_id, str) else None
        if attempt is not None:
            try:
                attempt.on_event(kind, data)
            except (TypeError, ValueError):
                pass  # a malformed progress or node report: the job is still followed

    def _dispatch_progress_text(self, message: bytes) -> None:
        """A node's progress text (a binary message; other binary messages, previews, are ignored). It names no
        prompt: it goes to the one job here running that node (ComfyUI runs one prompt at a time), and shows with
        that job's next progress report (nodes send the text just before their progress)."""
        parsed = progress_text(message)
        if parsed is None:
            return
        node, text = parsed
        running = [attempt for attempt in self.attempts.values() if attempt.node == node]
        if len(running) == 1:
            running[0].text = text
