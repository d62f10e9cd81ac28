"""Build the MCP server and run it: stdio (the default; an assistant starts the command) or streamable HTTP on
127.0.0.1 behind a bearer token.

Nothing here imports torch: the tools that need it import it when they are called, so the server starts fast and a
client that only queues jobs on a ComfyUI server never loads it.
"""
from __future__ import annotations

import contextlib
import hmac
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from .. import __version__
from ..common.errors import InputError, describe_os_error
from ..remote.client.records import ClientError
from ..remote.service import Busy, JobNotFound, JobService, inside_folders

INSTRUCTIONS = """DGX-Pixels makes pixel-art game assets: true pixel art at native resolution, one palette, clean \
alpha, sprite sheets and tilesets with their animation tags, exported into a Bevy game's assets/ folder.

- generate_character / generate_tiles / generate_items draw new assets on a ComfyUI server (minutes on a GPU, \
progress is reported); give bevy_project to have the result written into the game and get the Rust code to paste.
- cleanup_image turns an existing picture (AI output, an upscaled sprite) into true pixel art without a server.
- The files of a job are resources (dgx-pixels://jobs/<job>/<file>): read them to look at the sheet (PNG) and its \
metadata (JSON: frames, animations, pivot, palette).
- Paths must lie inside the allowed folders (list_workflows reports them)."""
HTTP_PATH = "/mcp"


@dataclass
class Settings:
    """``servers``: ComfyUI URLs; ``roots``: the folders tools may read and write (relative paths are taken in the
    first); ``out_dir``: where the jobs' files go; ``client_options``: the client's timeouts and retries."""

    servers: list[str]
    roots: list[Path]
    out_dir: Path
    client_options: dict[str, Any] = field(default_factory=dict)


class Studio:
    """What the tools share: the settings and the job service."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.service = JobService(settings.servers, settings.out_dir, self.image_file, keep_finished=1000,
                                  client_options=settings.client_options)

    def path(self, value: Any, what: str) -> Path:
        """A path argument, inside the allowed folders (InputError says why not)."""
        return inside_folders(value, self.settings.roots, what)

    def image_file(self, parameter: str, value: str) -> str:
        path = self.path(value, f"image {parameter!r}")
        if not path.is_file():
            raise InputError(f"image {parameter!r}: no such file: {value[:200]}")
        return str(path)


@contextlib.contextmanager
def tool_errors():
    """A problem the caller can fix becomes a tool error with its message (the server carries on)."""
    try:
        yield
    except (InputError, JobNotFound, Busy, ClientError) as err:
        raise ToolError(str(err)) from None
    except OSError as err:
        raise ToolError(describe_os_error(err)) from None


def build_server(settings: Settings) -> MCPServer:
    from . import jobs, local

    studio = Studio(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_server):
        try:
            yield studio
        finally:
            await studio.service.close()

    server = MCPServer("dgx-pixels", title="DGX-Pixels", version=__version__, instructions=INSTRUCTIONS,
                       lifespan=lifespan, log_level="WARNING")
    jobs.register(server, studio)
    local.register(server, studio)
    return server


def serve_stdio(settings: Settings) -> None:
    build_server(settings).run("stdio")


class BearerToken:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>`` (compared in constant time)."""

    def __init__(self, app, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body",
                            "body": b'{"error": "missing or wrong bearer token"}'})
                return
        await self.app(scope, receive, send)


async def serve_http(settings: Settings, port: int, token: str) -> None:
    """Streamable HTTP at ``http://127.0.0.1:<port>/mcp``, loopback only, every request with the bearer token."""
    import uvicorn

    app = BearerToken(build_server(settings).streamable_http_app(streamable_http_path=HTTP_PATH, host="127.0.0.1"),
                      token)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    await uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")).serve()
