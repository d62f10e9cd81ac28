"""The interfaces other programs use, under hostile use: the MCP server (through the SDK's own client) and the REST
routes (a real aiohttp server with the pack's routes, a plain HTTP client). Paths outside the allowed folders, huge
or malformed arguments and unknown workflow names come back as tool errors or HTTP 4xx naming the problem; nothing
is written outside the allowed folders, and the server keeps serving."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from hostile import Sandbox, changes
from sheet_samples import figure, save_rgba

OFFLINE = "http://127.0.0.1:9"  # nothing listens there: a job that got past the checks would fail to connect


# ---------------------------------------------------------------------------------------------------- MCP
@pytest.fixture
def box(tmp_path) -> Sandbox:
    sandbox = Sandbox(tmp_path)
    for folder in ("project", "secret"):
        (tmp_path / folder).mkdir()
    save_rgba(figure(), tmp_path / "project" / "art.png")
    save_rgba(figure(), tmp_path / "secret" / "private.png")
    (tmp_path / "project" / "escape").symlink_to(tmp_path / "secret")
    return sandbox


def call_tools(box: Sandbox, *calls: tuple[str, dict]) -> list:
    """Each (tool, arguments) through the SDK's client against the server (in this process), then one more call
    showing it still serves; returns the results."""
    from mcp import Client

    from dgx_pixels.mcp.server import Settings, build_server

    settings = Settings([OFFLINE], [box.root / "project"], box.root / "project" / "runs",
                        {"retries": 0, "request_timeout": 2.0})

    async def session():
        async with Client(build_server(settings)) as client:
            results = [await client.call_tool(name, arguments) for name, arguments in calls]
            alive = await client.call_tool("list_workflows", {})
            assert not alive.is_error and alive.structured_content["workflows"]
            return results

    return asyncio.run(session())


def refused(box: Sandbox, tool: str, arguments: dict, *texts: str) -> None:
    before = box.tree()
    (result,) = call_tools(box, (tool, arguments))
    assert result.is_error, result
    message = result.content[0].text
    for text in texts:
        assert text in message, message
    assert "Traceback" not in message
    touched = changes(before, box.tree())
    assert not (touched.added | touched.removed | touched.modified), touched


@pytest.mark.parametrize("tool, arguments, message", [
    ("cleanup_image", {"image": "SECRET/private.png", "output": "out.png"}, "is outside the allowed folders"),
    ("cleanup_image", {"image": "art.png", "output": "SECRET/stolen.png"}, "is outside the allowed folders"),
    ("cleanup_image", {"image": "art.png", "output": "../secret/stolen.png"}, "contains '..'"),
    ("cleanup_image", {"image": "escape/private.png", "output": "out.png"}, "is outside the allowed folders"),
    ("cleanup_image", {"image": "art.png", "output": "escape/stolen.png"}, "is outside the allowed folders"),
    ("apply_palette", {"image": "/etc/passwd", "output": "o.png", "palette": "PICO-8"}, "outside the allowed"),
    ("apply_palette", {"image": "art.png", "output": "o.png", "palette": "SECRET/private.png"}, "outside the allowed"),
    ("list_project_assets", {"project": "/"}, "outside the allowed folders"),
    ("list_project_assets", {"project": "escape"}, "outside the allowed folders"),
    ("generate_tiles", {"prompt": "moss", "bevy_project": "SECRET"}, "outside the allowed folders"),
    ("run_workflow", {"workflow": "cleanup_existing_art", "parameters": {"image": "SECRET/private.png"}},
     "outside the allowed folders"),
])
def test_mcp_paths_outside_the_allowed_folders_are_tool_errors(box, tool, arguments, message):
    secret = str(box.root / "secret")
    arguments = {key: value.replace("SECRET", secret) if isinstance(value, str) else
                 {k: v.replace("SECRET", secret) for k, v in value.items()} for key, value in arguments.items()}
    refused(box, tool, arguments, message)


@pytest.mark.parametrize("tool, arguments, message", [
    ("run_workflow", {"workflow": "../../etc/passwd"}, "no workflow '../../etc/passwd' in the library"),
    ("run_workflow", {"workflow": "item_icon"}, "did you mean 'item_icons'?"),
    ("run_workflow", {"workflow": str(Path(__file__))}, "in the library; library workflows: character_sprite"),
    ("run_workflow", {"workflow": "item_icons", "parameters": {"stepz": 3}}, "unknown parameter 'stepz'"),
    ("run_workflow", {"workflow": "item_icons", "parameters": {"steps": 0}}, "must be at least 1, got 0"),
    ("run_workflow", {"workflow": "item_icons", "parameters": {"items": "x" * 70_000}}, "at most 65,536"),
    ("run_workflow", {"workflow": "item_icons", "parameters": {f"p{n}": 1 for n in range(65)}},
     "validation error"),
    ("generate_tiles", {"prompt": "x" * 1_000_000}, "at most 2000 characters"),
    ("generate_tiles", {"prompt": "moss", "tiles": "many"}, "valid integer"),
    ("generate_tiles", {"prompt": "moss", "tiles": 10**30}, "less than or equal to 64"),
    ("generate_tiles", {}, "prompt"),
    ("generate_items", {"items": ["sword"] * 10_000}, "at most 256 items"),
    ("generate_character", {"prompt": "knight", "directions": "up"}, "directions"),
    ("generate_character", {"prompt": "knight", "asset_name": "../../x"}, "should match pattern"),
    ("generate_character", {"prompt": "knight", "parameters": {"nested": {"a": 1}}}, "parameters"),
    ("job_status", {"job_id": "0" * 64}, "no job '000"),
    ("job_status", {"job_id": "x" * 100_000}, "at most 64 characters"),
    ("cancel_job", {"job_id": "nope"}, "no job 'nope'"),
    ("export_to_bevy", {"job_id": "nope", "project": "."}, "no job 'nope'"),
    ("cleanup_image", {"image": "art.png", "output": "out.jpg"}, "must be a .png file"),
    ("cleanup_image", {"image": "art.png", "output": "o.png", "size": "huge"}, "should match pattern"),
    ("apply_palette", {"image": "art.png", "output": "o.png", "palette": "NOPE-9"}, "no built-in palette 'NOPE-9'"),
])
def test_mcp_bad_arguments_and_unknown_names_are_tool_errors(box, tool, arguments, message):
    refused(box, tool, arguments, message)


def test_mcp_an_unknown_tool_and_a_job_resource_that_is_not_there_do_not_stop_the_server(box):
    from mcp import Client
    from mcp.shared.exceptions import MCPError

    from dgx_pixels.mcp.server import Settings, build_server

    settings = Settings([OFFLINE], [box.root / "project"], box.root / "project" / "runs")

    async def session():
        async with Client(build_server(settings)) as client:
            unknown = await client.call_tool("format_disk", {})
            assert unknown.is_error and "format_disk" in unknown.content[0].text
            for uri in ("dgx-pixels://jobs/nope/sheet.png", "dgx-pixels://jobs/x/..%2F..%2Fsecret%2Fprivate.png",
                        "dgx-pixels://jobs/x/sheet.exe"):
                with pytest.raises(MCPError):
                    await client.read_resource(uri)
            assert not (await client.call_tool("list_workflows", {})).is_error

    asyncio.run(session())


def test_mcp_starts_without_torch(box):
    """The server and its tool list come up without importing torch (the image tools import it when called)."""
    import subprocess
    import sys

    code = ("import sys; from dgx_pixels.mcp.server import Settings, build_server; "
            "build_server(Settings([], [__import__('pathlib').Path('.')], __import__('pathlib').Path('o'))); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], cwd=box.root, env=box.env, check=True, timeout=120)


def test_mcp_without_the_sdk_says_how_to_install_it(box):
    """A command-line install without the extra: one line naming the package to install, exit 2."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['mcp'] = sys.modules['anyio'] = None; "
            "from dgx_pixels.cli.main import main; sys.exit(main(['mcp']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=box.root, env=box.env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == ["dgx-pixels mcp: error: this command needs mcp, which is not "
                                                  "installed: pip install 'dgx-pixels[mcp]' (the official MCP SDK)"]


# ---------------------------------------------------------------------------------------------------- REST
@pytest.fixture
def rest(tmp_path):
    """The pack's REST routes on a real aiohttp server (loopback), over a job service whose jobs would go to a
    server that is not there; yields (base URL, input folder)."""
    from dgx_pixels.remote.rest import add_routes
    from dgx_pixels.remote.service import JobService, images_in

    inputs, secret = tmp_path / "input", tmp_path / "secret"
    inputs.mkdir()
    secret.mkdir()
    save_rgba(figure(), inputs / "art.png")
    save_rgba(figure(), secret / "private.png")
    service = JobService([OFFLINE], tmp_path / "jobs", images_in(inputs, "the input folder"),
                         client_options={"retries": 0, "request_timeout": 2.0})
    routes = web.RouteTableDef()
    add_routes(routes, lambda: service)
    app = web.Application()
    app.add_routes(routes)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/dgx-pixels/v1", tmp_path
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


def http(method: str, url: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def job(**body) -> bytes:
    return json.dumps(body).encode()


@pytest.mark.parametrize("method, path, body, status, message", [
    ("POST", "/jobs", job(workflow="../../etc/passwd"), 400, "no workflow '../../etc/passwd' in the library"),
    ("POST", "/jobs", job(workflow="/etc/passwd"), 400, "no workflow '/etc/passwd' in the library"),
    ("POST", "/jobs", job(workflow=["item_icons"]), 400, "no workflow a list in the library"),
    ("GET", "/workflows/..%2F..%2Fetc%2Fpasswd", None, 404, "no workflow '../../etc/passwd'"),
    ("POST", "/jobs", job(workflow="cleanup_existing_art", parameters={"image": "../secret/private.png"}), 400,
     "contains '..'"),
    ("POST", "/jobs", job(workflow="cleanup_existing_art", parameters={"image": "SECRET/private.png"}), 400,
     "is outside the allowed folders"),
    ("POST", "/jobs", job(workflow="cleanup_existing_art", parameters={"image": "missing.png"}), 400,
     "no file 'missing.png' in the input folder; upload it first"),
    ("POST", "/jobs", b"{not json", 400, "not JSON"),
    ("POST", "/jobs", b"[1, 2]", 400, "must be a JSON object, got a list"),
    ("POST", "/jobs", job(workflow="item_icons", prompt="x"), 400, "unknown key(s) prompt"),
    ("POST", "/jobs", b'{"workflow": "item_icons", "parameters": {"items": "' + b"x" * (2 << 20) + b'"}}', 413,
     "over 1,048,576 bytes"),
    ("POST", "/jobs", job(workflow="item_icons", parameters={f"p{n}": 1 for n in range(65)}), 400,
     "65 parameters given; at most 64"),
    ("POST", "/jobs", job(workflow="item_icons", parameters={"steps": {"$gt": 1}}), 400,
     "must be text, a number or true/false"),
    ("POST", "/jobs", job(workflow="item_icons", parameters="steps=3"), 400, "parameters must be an object"),
    ("POST", "/jobs", job(workflow="item_icons", name="x" * 1000), 400, "a job name is text of at most 100"),
    ("POST", "/jobs", b"[" * 100_000, 400, "not JSON"),
    ("GET", "/jobs/" + "0" * 32, None, 404, "no job '000"),
    ("GET", "/jobs/nope?wait=abc", None, 404, "no job 'nope'"),
    ("GET", "/jobs/nope/files/..%2F..%2Fsecret%2Fprivate.png", None, 404, "no job 'nope'"),
    ("POST", "/jobs/nope/cancel", None, 404, "no job 'nope'"),
])
def test_rest_refuses_with_the_status_and_the_message(rest, method, path, body, status, message):
    base, root = rest
    if body is not None:
        body = body.replace(b"SECRET", str(root / "secret").encode())
    before = {str(p) for p in root.rglob("*")}
    code, answer = http(method, base + path, body)
    assert (code, message in answer.get("error", "")) == (status, True), answer
    assert {str(p) for p in root.rglob("*")} == before  # nothing written, no job folder made
    assert http("GET", base + "/workflows")[0] == 200  # still serving


def test_rest_wait_and_file_names_of_a_real_job_are_checked(rest):
    base, root = rest
    code, answer = http("POST", base + "/jobs", job(workflow="cleanup_existing_art", parameters={"image": "art.png"}))
    assert code == 201, answer
    job_id = answer["job"]["id"]
    assert http("GET", f"{base}/jobs/{job_id}?wait=abc")[0] == 400
    assert http("GET", f"{base}/jobs/{job_id}?wait=1e9")[0] == 400
    code, answer = http("GET", f"{base}/jobs/{job_id}?wait=30")  # nothing listens: it fails, saying so
    assert answer["job"]["state"] == "failed" and "cannot reach any ComfyUI server" in answer["job"]["error"]
    for name in ("..%2Fmanifest.json", "manifest.json", "%2Fetc%2Fpasswd"):
        code, answer = http("GET", f"{base}/jobs/{job_id}/files/{name}")
        assert code == 404 and "has no file" in answer["error"]
