"""Misbehaving servers on loopback sockets, for the client's hostile tests.

``FakeComfy`` speaks just enough of ComfyUI's protocol to run a job end to end (GET /prompt, POST /prompt, the
websocket's status and execution events, /queue, /history, /view, /upload/image), and any route can be replaced by a
misbehaviour. ``SilentServer`` accepts connections and never answers a byte. Both run in a thread of their own and
serve until stopped.
"""
from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
import uuid
from typing import Awaitable, Callable

from aiohttp import WSMsgType, web
from PIL import Image

Handler = Callable[[web.Request, "FakeComfy"], Awaitable[web.StreamResponse]]


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (4, 4), (200, 40, 40, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


class FakeComfy:
    """A loopback server that runs every queued prompt at once: ``executing`` events, a history entry whose
    outputs name ``output_name``, and /view serving ``view_body``. ``routes`` replaces handlers by route name
    (``get_prompt``, ``post_prompt``, ``queue``, ``history``, ``view``, ``upload``, ``ws``); ``events`` are sent
    on the websocket before a job's own ones."""

    def __init__(self, routes: dict[str, Handler] | None = None, *, output_name: str = "sprite_00001_.png",
                 view_body: bytes | None = None, events: list[str] | None = None):
        self.routes = routes or {}
        self.output_name = output_name
        self.view_body = tiny_png() if view_body is None else view_body
        self.events = events or []
        self.history: dict[str, dict] = {}
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self.uploads: list[bytes] = []
        self.prompts: list[dict] = []
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.url = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "FakeComfy":
        self.thread.start()
        assert self.started.wait(10), "the fake server did not start"
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application(client_max_size=64 << 20)
        for method, path, name in (("GET", "/prompt", "get_prompt"), ("POST", "/prompt", "post_prompt"),
                                   ("GET", "/queue", "queue"), ("POST", "/queue", "ok"),
                                   ("GET", "/history/{prompt_id}", "history"), ("POST", "/history", "ok"),
                                   ("POST", "/interrupt", "ok"), ("GET", "/view", "view"),
                                   ("POST", "/upload/image", "upload"), ("GET", "/ws", "ws")):
            app.router.add_route(method, path, self._dispatcher(name))
        runner = web.AppRunner(app)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        self.started.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(runner.cleanup())

    def _dispatcher(self, name: str):
        async def handle(request: web.Request) -> web.StreamResponse:
            handler = self.routes.get(name) or getattr(self, f"_{name}")
            return await handler(request, self) if name in self.routes else await handler(request)
        return handle

    # ------------------------------------------------------------------ ComfyUI's behaviour
    async def _ok(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({})

    async def _get_prompt(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"exec_info": {"queue_remaining": 0}})

    async def _queue(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"queue_running": [], "queue_pending": []})

    async def _history(self, request: web.Request) -> web.StreamResponse:
        prompt_id = request.match_info["prompt_id"]
        return web.json_response({prompt_id: self.history[prompt_id]} if prompt_id in self.history else {})

    async def _view(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=self.view_body, content_type="image/png")

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        self.uploads.append(form["image"].file.read())
        return web.json_response({"name": form["image"].filename, "subfolder": "", "type": "input"})

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets[request.query.get("clientId", "")] = ws
        await ws.send_str(json.dumps({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}},
                                                                 "sid": "x"}}))
        async for message in ws:
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
        return ws

    async def _post_prompt(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.prompts.append(body)
        prompt_id = body.get("prompt_id") or uuid.uuid4().hex
        asyncio.get_running_loop().create_task(self.run_prompt(prompt_id, body.get("client_id", "")))
        return web.json_response({"prompt_id": prompt_id, "number": len(self.prompts), "node_errors": {}})

    async def run_prompt(self, prompt_id: str, client_id: str) -> None:
        """The prompt "runs": events on the websocket, then a successful history entry."""
        await asyncio.sleep(0.05)
        outputs = {"9": {"images": [{"filename": self.output_name, "subfolder": "", "type": "output"}]}}
        self.history[prompt_id] = {"status": {"status_str": "success", "completed": True, "messages": []},
                                   "outputs": outputs}
        ws = self.sockets.get(client_id)
        if ws is None or ws.closed:
            return
        for text in self.events:
            await ws.send_str(text.replace("PROMPT_ID", prompt_id))
        for kind, data in (("execution_start", {}), ("executing", {"node": "9"}),
                           ("executed", {"node": "9", "output": outputs["9"]}), ("execution_success", {}),
                           ("executing", {"node": None})):
            await ws.send_str(json.dumps({"type": kind, "data": {**data, "prompt_id": prompt_id}}))


class SilentServer:
    """Accepts every connection and never sends a byte (a hung server, or a firewall that swallows packets)."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> "SilentServer":
        self.thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def stop(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()
