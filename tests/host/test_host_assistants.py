"""Other tools get the assets back, against a real ComfyUI with the pack and the tiny SDXL-layout models:
`dgx-pixels run/generate` bring the sheet and its metadata to this machine and `--bevy` writes them into a local
project (the server's output folder is elsewhere), `--json` is read line by line; the MCP server through the SDK's
own client over stdio and streamable HTTP; the REST job API with a plain HTTP client."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bevy_asset import check_bevy_asset
from comfy_server import ComfyServer
from dgx_pixels.sheets.metadata import read_sheet_metadata
from paths import REPO
from pixel_art import blow_up, true_sprite, uniform_cuts
from tiny_sdxl import CHECKPOINT_NAME, CONTROLNET_NAME, LORA_NAME

CARGO = '[package]\nname = "game"\nversion = "0.1.0"\n\n[dependencies]\nbevy = "0.19"\n'
MODELS = {"checkpoint": CHECKPOINT_NAME, "lora": LORA_NAME}
TILES = {**MODELS, "width": 64, "height": 64, "steps": 2, "tiles": 2, "tile_size": "16x16", "colours": 8,
         "seed": 3}
# A knight's walk cycle facing right: 4 frames of 16x32 native pixels cut from one 128x128 strip, two steps.
WALK = {**MODELS, "controlnet": CONTROLNET_NAME, "width": 128, "height": 128, "steps": 2, "size": "16x32",
        "colours": 8, "seed": 3, "animations": "walk:4", "directions": "right"}


@pytest.fixture(scope="module")
def studio(host, tiny_sdxl_models, tmp_path_factory) -> ComfyServer:
    server = ComfyServer(host, tmp_path_factory.mktemp("assistants-server"),
                         models={folder: [path] for folder, path in tiny_sdxl_models.items()})
    try:
        yield server.start()
    finally:
        server.stop()


def bevy_project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "Cargo.toml").write_text(CARGO)
    return folder


def sprite_file(folder: Path) -> Path:
    """An upscaled, slightly noisy 20x16 sprite on green: what cleanup_existing_art is for."""
    from dgx_pixels.image import io as imageio

    rgb, _ = true_sprite(20, 16, seed=11, alpha=False)
    rgb[:2] = (30, 200, 60)
    rgb[:, :2] = (30, 200, 60)
    image, _ = blow_up(rgb, np.zeros((16, 20), np.float32), uniform_cuts(20, 11.3), uniform_cuts(16, 11.3),
                       noise=0.01)
    path = folder / "old_sprite.png"
    imageio.save_png(path, image[0])
    return path


def dgx(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dgx_pixels", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def check_returned(files: list[dict], root: Path, asset: str, project: Path | None, kind: str):
    """The job's files include the sheet PNG and its metadata, both here with their recorded hashes, and agreeing;
    with ``project``, the Bevy export there holds exactly that sheet. Returns (layout, metadata, rgba)."""
    by_name = {Path(f["path"]).name: f for f in files}
    assert {"sheet.png", "sheet.json"} <= set(by_name), by_name
    for entry in files:
        data = (root / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    metadata_path = root / by_name["sheet.json"]["path"]
    layout, metadata = read_sheet_metadata(metadata_path.read_bytes(), str(metadata_path))
    assert metadata["name"] == asset and metadata["kind"] == kind
    assert metadata["image"] == by_name["sheet.png"]["server_file"]
    rgba = np.asarray(Image.open(root / by_name["sheet.png"]["path"]).convert("RGBA"))
    assert rgba.shape == (layout.size[1], layout.size[0], 4)
    if project is not None:
        check_bevy_asset(project / "assets" / kind / asset, asset, layout, rgba)
    return layout, metadata, rgba


# ---------------------------------------------------------------------------------------------------- CLI
def test_run_returns_the_sheet_and_exports_into_a_local_project(studio, tmp_path):
    """The cleanup workflow (no model) run as a user would: the sheet and metadata come back and --bevy writes the
    game on this machine, not beside the server's output."""
    game, other_engine = bevy_project(tmp_path / "game"), tmp_path / "phaser_game"
    other_engine.mkdir()
    server_output = studio.base_dir / "output"
    assert server_output not in game.parents
    result = dgx("run", "cleanup_existing_art", "--set", f"image={sprite_file(tmp_path)}", "--set", "colours=8",
                 "--set", "asset_name=hero", "--server", studio.url, "-o", str(tmp_path / "run"), "--bevy",
                 str(game), "--export", f"phaser={other_engine}", "-q")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    (job,) = manifest["jobs"]
    assert job["state"] == "done"
    layout, metadata, rgba = check_returned(job["files"], tmp_path / "run", "hero", game, "sprites")
    assert layout.cell == (20, 16) and len(metadata["palette"]["colours"]) <= 8
    bevy, phaser = job["exports"]
    assert bevy["target"] == "bevy" and Path(bevy["project"]) == game.resolve()
    assert bevy["asset_path"] == "sprites/hero/hero.png"
    assert phaser["target"] == "phaser" and Path(phaser["project"]) == other_engine.resolve()
    assert phaser["asset_path"] == "assets/sprites/hero/hero.png"
    for export in (bevy, phaser):
        for file in export["files"]:
            assert hashlib.sha256(Path(file["path"]).read_bytes()).hexdigest() == file["sha256"]
    phaser_png = Image.open(other_engine / "assets" / "sprites" / "hero" / "hero.png").convert("RGBA")
    assert np.array_equal(np.asarray(phaser_png), rgba)
    # the files come back named on stdout, the Bevy code to use them too
    assert str(tmp_path / "run" / job["files"][0]["path"]) in result.stdout
    assert 'asset_server.load("sprites/hero/hero.png")' in result.stdout or "sprites/hero/hero.png" in result.stdout
    # the server's own Bevy Export node wrote into its output folder: a different place
    assert (server_output / "bevy_game" / "assets" / "sprites" / "hero" / "hero.png").is_file()
    # a second run keeps the first version in the project's history
    again = dgx("run", "cleanup_existing_art", "--set", f"image={sprite_file(tmp_path / 'run')}", "--set",
                "colours=4", "--set", "asset_name=hero", "--server", studio.url, "-o", str(tmp_path / "run2"),
                "--bevy", str(game), "-q")
    assert again.returncode == 0, again.stderr
    (export,) = json.loads((tmp_path / "run2" / "manifest.json").read_text())["jobs"][0]["exports"]
    assert export["history"] and Path(export["history"]).is_dir()  # the first version, kept


def test_generate_json_events_line_by_line(studio, tmp_path):
    """`generate character --json`: every stdout line is one JSON event in order (queued, progress, file, done,
    export, summary last); the human output is on stderr."""
    game = bevy_project(tmp_path / "game")
    args = ["generate", "character", "a knight in silver armour", "--animations", WALK["animations"],
            "--directions", WALK["directions"], "--size", WALK["size"], "--colours", str(WALK["colours"]),
            "--seed", str(WALK["seed"]), "--steps", str(WALK["steps"]), "--name", "knight",
            "--server", studio.url, "-o", str(tmp_path / "run"), "--bevy", str(game), "--json"]
    for key in ("checkpoint", "lora", "controlnet", "width", "height"):
        args += ["--set", f"{key}={WALK[key]}"]
    result = dgx(*args)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]  # every line is JSON, nothing else
    kinds = [event["event"] for event in events]
    assert kinds[-1] == "summary" and kinds.count("summary") == 1
    assert set(kinds[:kinds.index("queued")]) <= {"server_up"}  # the server answering, then the job
    assert kinds.index("queued") < kinds.index("running") < kinds.index("done") < kinds.index("export")
    progress = [event["fraction"] for event in events if event["event"] == "progress"]
    assert progress and all(0 <= f <= 1 for f in progress)
    assert any(event.get("step") for event in events if event["event"] == "progress")  # sampler steps
    files = [event for event in events if event["event"] == "file"]
    assert {Path(f["path"]).name for f in files} >= {"sheet.png", "sheet.json"}
    for file in files:
        assert hashlib.sha256(Path(file["path"]).read_bytes()).hexdigest() == file["sha256"]
    (export,) = [event for event in events if event["event"] == "export"]
    assert export["asset_path"] == "sprites/knight/knight.png" and "knight" in export["snippet"]
    summary = events[-1]
    assert summary["ok"] and summary["exit_code"] == 0 and summary["done"] == 1
    (job,) = summary["jobs"]
    layout, metadata, _ = check_returned([{**f, "path": Path(f["path"]).relative_to(tmp_path / "run")}
                                          for f in job["files"]], tmp_path / "run", "knight", game, "sprites")
    assert [a.name for a in layout.animations] == ["walk_E"] and len(layout.rects) == 4
    assert "done" in result.stderr  # the human lines went to stderr


def test_json_failure_is_the_last_line_with_the_message(studio, tmp_path):
    result = dgx("generate", "tiles", "moss", "--set", "checkpoint=missing.safetensors", "--steps", "1",
                 "--server", studio.url, "-o", str(tmp_path / "run"), "--json")
    assert result.returncode == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]
    failed = [event for event in events if event["event"] == "failed"]
    assert failed and "missing.safetensors" in failed[0]["error"]
    assert events[-1]["event"] == "summary" and not events[-1]["ok"] and events[-1]["exit_code"] == 1


# ---------------------------------------------------------------------------------------------------- MCP
def mcp_args(studio: ComfyServer, root: Path) -> list[str]:
    return ["-m", "dgx_pixels", "mcp", "--server", studio.url, "--root", str(root)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def assistant_session(client, root: Path, seed: int, cancel: bool = False) -> dict:
    """What an assistant does: list the tools, ask for a knight's walk cycle exported into the game (following
    its progress), look at the sheet and its metadata, list the game's assets; then refused paths and bad
    arguments, which come back as tool errors while the server keeps serving; with ``cancel``, a long job started
    without waiting is cancelled while it runs. Each test draws with its own ``seed``: a prompt the server ran
    already comes from its cache, with no progress to report."""
    seen: dict = {"progress": []}
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    seen["tools"] = tools
    listed = await client.call_tool("list_workflows", {})
    assert not listed.is_error
    assert {w["name"] for w in listed.structured_content["workflows"]} >= {"character_sprite_sheet",
                                                                           "tileset_seamless", "item_icons"}

    async def progress(value, total, message):
        seen["progress"].append((value, total, message))

    arguments = {"prompt": "a knight in silver armour", "animations": WALK["animations"],
                 "directions": WALK["directions"], "size": WALK["size"], "colours": WALK["colours"],
                 "seed": seed, "steps": WALK["steps"], "asset_name": "knight", "bevy_project": "game",
                 "parameters": {k: WALK[k] for k in ("checkpoint", "lora", "controlnet", "width", "height")}}
    result = await client.call_tool("generate_character", arguments, progress_callback=progress)
    assert not result.is_error, result.content
    seen["generate"] = result
    job = result.structured_content["job"]
    assert job["state"] == "done"
    links = {block.name: block for block in result.content if block.type == "resource_link"}
    assert {"sheet.png", "sheet.json"} <= set(links)
    png = (await client.read_resource(str(links["sheet.png"].uri))).contents[0]
    assert png.mime_type == "image/png"
    seen["png"] = base64.b64decode(png.blob)
    metadata = (await client.read_resource(str(links["sheet.json"].uri))).contents[0]
    assert metadata.mime_type == "application/json"
    seen["metadata"] = json.loads(metadata.text)
    assets = await client.call_tool("list_project_assets", {"project": "game"})
    assert not assets.is_error
    seen["assets"] = assets.structured_content
    status = await client.call_tool("job_status", {"job_id": job["id"]})
    assert status.structured_content["job"]["state"] == "done"
    # refused paths and bad arguments are tool errors
    outside = await client.call_tool("export_to_bevy", {"job_id": job["id"], "project": "/etc"})
    assert outside.is_error and "outside the allowed folders" in outside.content[0].text
    bad = await client.call_tool("generate_tiles", {"prompt": "moss", "tiles": 0})
    assert bad.is_error and "tiles" in bad.content[0].text
    unknown = await client.call_tool("job_status", {"job_id": "nope"})
    assert unknown.is_error and "no job" in unknown.content[0].text
    bad_value = await client.call_tool("run_workflow", {"workflow": "tileset_seamless",
                                                        "parameters": {"tiles": "many"}})
    assert bad_value.is_error and "tiles" in bad_value.content[0].text
    assert not (await client.call_tool("list_palettes", {})).is_error  # still serving
    if cancel:
        seen["cancelled"] = await cancel_running_job(client)
    return seen


async def cancel_running_job(client) -> dict:
    slow = {"prompt": "lava", "tiles": 4, "tile_size": "16x16", "steps": 150, "seed": 19, "wait": False,
            "parameters": {**MODELS, "width": 512, "height": 512}}
    started = await client.call_tool("generate_tiles", slow)
    job = started.structured_content["job"]
    assert job["state"] in ("queued", "running"), job
    deadline = time.monotonic() + 120
    while job["progress"]["fraction"] == 0 and time.monotonic() < deadline:
        job = (await client.call_tool("job_status", {"job_id": job["id"], "wait_seconds": 1}
                                      )).structured_content["job"]
    assert job["state"] == "running", job
    cancelled = await client.call_tool("cancel_job", {"job_id": job["id"]})
    return cancelled.structured_content["job"]


def check_session(seen: dict, root: Path) -> None:
    assert {"generate_character", "generate_tiles", "generate_items", "run_workflow", "job_status", "cancel_job",
            "export_to_bevy", "cleanup_image", "list_palettes", "apply_palette", "list_project_assets",
            "list_workflows"} <= set(seen["tools"])
    assert "pixels" in seen["tools"]["generate_character"].input_schema["properties"]["size"]["description"]
    assert len(seen["progress"]) >= 2 and seen["progress"][-1][0] == 100.0
    assert all(total == 100.0 for _, total, _ in seen["progress"])
    # at most four a second (a two-step tiny run may pass its sampler between two of them), each naming the node
    assert any((message or "").startswith("running: ") for _, _, message in seen["progress"])
    values = [value for value, _, _ in seen["progress"]]
    assert values == sorted(values)
    structured = seen["generate"].structured_content
    export = structured["export"]
    assert export["asset_path"] == "sprites/knight/knight.png"
    assert "sprites/knight/knight.png" in seen["generate"].content[-1].text  # the Bevy code to paste
    folder = root / "game" / "assets" / "sprites" / "knight"
    layout, _ = read_sheet_metadata(json.dumps(seen["metadata"]).encode(), "resource")
    assert [a.name for a in layout.animations] == ["walk_E"] and len(layout.rects) == 4
    rgba = np.asarray(Image.open(io.BytesIO(seen["png"])).convert("RGBA"))
    check_bevy_asset(folder, "knight", layout, rgba)
    (asset,) = seen["assets"]["assets"]
    assert asset["name"] == "knight" and asset["frames"] == 4 and asset["animations"] == ["walk_E"]
    # the job's files are in the output folder under the first root, with their hashes
    for file in structured["job"]["files"]:
        path = Path(file["path"])
        assert root in path.parents and hashlib.sha256(path.read_bytes()).hexdigest() == file["sha256"]


def test_mcp_over_stdio(studio, tmp_path):
    from mcp import Client, StdioServerParameters

    bevy_project(tmp_path / "game")
    parameters = StdioServerParameters(command=sys.executable, args=mcp_args(studio, tmp_path), cwd=str(REPO))

    async def session():
        async with Client(parameters, read_timeout_seconds=600) as client:
            return await assistant_session(client, tmp_path, seed=4)

    check_session(asyncio.run(session()), tmp_path)


def test_mcp_over_streamable_http_with_a_token(studio, tmp_path):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    bevy_project(tmp_path / "game")
    port, token = free_port(), "test-token-" + os.urandom(8).hex()
    server = subprocess.Popen([sys.executable, *mcp_args(studio, tmp_path), "--http", str(port)], cwd=REPO,
                              env={**os.environ, "DGX_PIXELS_MCP_TOKEN": token}, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_for_port(port, server)
        # no token, or a wrong one: 401 before any MCP message is read
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            request = urllib.request.Request(url, data=b"{}", headers={"Content-Type": "application/json",
                                                                       **headers})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 401

        async def session():
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=600)
            async with http, Client(streamable_http_client(url, http_client=http), read_timeout_seconds=600) as client:
                return await assistant_session(client, tmp_path, seed=5, cancel=True)

        seen = asyncio.run(session())
        check_session(seen, tmp_path)
        assert seen["cancelled"]["state"] == "cancelled" and seen["cancelled"]["files"] == []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and studio.get_json("/queue")["queue_running"]:
            time.sleep(0.5)
        assert studio.get_json("/queue") == {"queue_running": [], "queue_pending": []}
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors, errors


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"dgx-pixels mcp exited: {process.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"dgx-pixels mcp did not listen on {port} within {timeout} s")


# ---------------------------------------------------------------------------------------------------- REST
def rest(studio: ComfyServer, method: str, path: str, body=None, parse: bool = True):
    """(status, JSON (or bytes when not ``parse`` or not JSON), headers) of one plain HTTP request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{studio.url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            status, payload, headers = answer.status, answer.read(), answer.headers
    except urllib.error.HTTPError as err:
        status, payload, headers = err.code, err.read(), err.headers
    if parse and headers.get_content_type() == "application/json":
        return status, json.loads(payload), headers
    return status, payload, headers


def test_rest_generate_poll_files(studio, tmp_path):
    status, listing, _ = rest(studio, "GET", "/dgx-pixels/v1/workflows")
    assert status == 200
    tiles = next(w for w in listing["workflows"] if w["name"] == "tileset_seamless")
    assert any(p["name"] == "tile_size" for p in tiles["parameters"])
    status, started, headers = rest(studio, "POST", "/dgx-pixels/v1/jobs",
                                    {"workflow": "tileset_seamless",
                                     "parameters": {**TILES, "prompt": "mossy stone", "asset_name": "moss"}})
    assert status == 201, started
    job_id = started["job"]["id"]
    assert headers["Location"] == f"/dgx-pixels/v1/jobs/{job_id}"
    states, deadline = [], time.monotonic() + 600
    while time.monotonic() < deadline:  # poll as a plain client would, once a second
        status, answer, _ = rest(studio, "GET", f"/dgx-pixels/v1/jobs/{job_id}")
        assert status == 200
        states.append(answer["job"]["state"])
        if answer["job"]["state"] not in ("queued", "running"):
            break
        time.sleep(1)
    job = answer["job"]
    assert job["state"] == "done", job
    assert job["progress"]["fraction"] == 1.0 and job["seed"] == TILES["seed"]
    status, files, _ = rest(studio, "GET", f"/dgx-pixels/v1/jobs/{job_id}/files")
    by_name = {f["name"]: f for f in files["files"]}
    assert {"sheet.png", "sheet.json"} <= set(by_name)
    assert all("path" not in f and "server_file" not in f for f in files["files"])  # no server paths leak
    downloaded = {}
    for name, entry in by_name.items():
        status, data, headers = rest(studio, "GET", entry["url"], parse=False)
        assert status == 200 and headers.get_content_type() == entry["mime"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        downloaded[name] = data
    layout, metadata = read_sheet_metadata(downloaded["sheet.json"], "sheet.json")
    assert metadata["kind"] == "tilesets" and layout.cell == (16, 16) and len(layout.rects) == 2
    image = Image.open(io.BytesIO(downloaded["sheet.png"]))
    assert image.size == tuple(layout.size)
    # the same job through the /api mirror ComfyUI gives every route
    status, mirrored, _ = rest(studio, "GET", f"/api/dgx-pixels/v1/jobs/{job_id}")
    assert status == 200 and mirrored["job"]["id"] == job_id


@pytest.mark.parametrize("body, message", [
    ({"workflow": "tileset_seamless", "parameters": {"tiles": 0}}, "tiles"),
    ({"workflow": "tileset_seamless", "parameters": {"sead": 3}}, "did you mean 'seed'"),
    ({"workflow": "tileset_seamless", "parameters": {"tiles": "many"}}, "expects a whole number"),
    ({"workflow": "no_such_workflow"}, "no_such_workflow"),
    ({"workflow": "cleanup_existing_art", "parameters": {"image": "../../etc/passwd"}}, "'..'"),
    ({"workflow": "cleanup_existing_art", "parameters": {"image": "not_uploaded.png"}}, "upload it first"),
    ({"workflow": "tileset_seamless", "speed": "fast"}, "unknown key"),
])
def test_rest_bad_parameters_are_400_with_the_message(studio, body, message):
    status, answer, _ = rest(studio, "POST", "/dgx-pixels/v1/jobs", body)
    assert status == 400 and message in answer["error"], answer


def test_rest_unknown_job_is_404(studio):
    for method, path in (("GET", "/dgx-pixels/v1/jobs/0123abc"), ("GET", "/dgx-pixels/v1/jobs/0123abc/files"),
                         ("POST", "/dgx-pixels/v1/jobs/0123abc/cancel"),
                         ("GET", "/dgx-pixels/v1/workflows/no_such_workflow")):
        status, answer, _ = rest(studio, method, path)
        assert status == 404 and "error" in answer, (path, answer)


def test_rest_cancel(studio):
    """A job that would take minutes is cancelled while it runs: it ends cancelled, and the server's queue is
    free for the next one."""
    slow = {**TILES, "width": 512, "height": 512, "steps": 150, "tiles": 4, "prompt": "lava", "seed": 9}
    status, started, _ = rest(studio, "POST", "/dgx-pixels/v1/jobs", {"workflow": "tileset_seamless",
                                                                      "parameters": slow})
    assert status == 201
    job_id = started["job"]["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, answer, _ = rest(studio, "GET", f"/dgx-pixels/v1/jobs/{job_id}")
        if answer["job"]["progress"]["fraction"] > 0:
            break
        time.sleep(0.5)
    assert answer["job"]["state"] == "running", answer
    status, cancelled, _ = rest(studio, "POST", f"/dgx-pixels/v1/jobs/{job_id}/cancel")
    assert status == 200 and cancelled["job"]["state"] == "cancelled", cancelled
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and studio.get_json("/queue")["queue_running"]:
        time.sleep(0.5)
    assert studio.get_json("/queue") == {"queue_running": [], "queue_pending": []}
    _, files, _ = rest(studio, "GET", f"/dgx-pixels/v1/jobs/{job_id}/files")
    assert files["files"] == []
