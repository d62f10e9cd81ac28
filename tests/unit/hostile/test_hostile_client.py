"""Hostile servers for the client: real loopback sockets that hang, flap, fail, answer in other shapes or send other
bytes than they claim. ``dgx-pixels run`` ends within its timeouts with one clear line naming what the server did,
nothing is written outside its output folder, and what the server sent in the wrong format is not saved."""
from __future__ import annotations

import json
import time

import pytest
from aiohttp import web

from dgx_pixels.remote.client import Client
from dgx_pixels.remote.client.records import Job
from fake_comfy import FakeComfy, SilentServer
from hostile import Sandbox
from paths import DATA

TXT2IMG = DATA / "tiny_txt2img.json"
INVERT = DATA / "invert_image.json"


@pytest.fixture
def box(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


@pytest.fixture
def serve():
    started = []

    def start(server):
        started.append(server.start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


def run(box: Sandbox, url: str, *extra: str, workflow=TXT2IMG):
    """``dgx-pixels run`` of one job against ``url``, timed; outputs into the sandbox's out/ folder."""
    started = time.monotonic()
    result = box.main("run", str(workflow), "--server", url, "-o", "out", "-q", *extra)
    return result, time.monotonic() - started


def only_out_changed(result) -> None:
    assert result.changes.outside("out") == set()


async def reply(status: int = 200, body: bytes | str = b"{}", content_type: str = "application/json"):
    return web.Response(status=status, body=body.encode() if isinstance(body, str) else body,
                        content_type=content_type)


# ---------------------------------------------------------------------------------------------------- hanging
def test_a_server_that_accepts_and_never_answers_does_not_hang_run(box, serve):
    silent = serve(SilentServer())
    result, took = run(box, silent.url, "--request-timeout", "1", "--retries", "1")
    result.refused(3, "cannot reach any ComfyUI server", "no answer within 1 s")
    assert took < 20
    only_out_changed(result)
    assert not (box.root / "out").exists()  # nothing started: no half-made run folder


def test_the_job_timeout_bounds_waiting_for_a_silent_server(box, serve):
    silent = serve(SilentServer())
    result, took = run(box, silent.url, "--job-timeout", "2")  # the request timeout stays 30 s
    result.refused(3, "cannot reach any ComfyUI server")
    assert took < 10


async def close_at_once(request, fake):
    """A websocket handler that accepts the connection and closes it straight away."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.close()
    return ws


def test_a_websocket_that_closes_at_once_ends_the_run_within_the_job_timeout(box, serve):
    flapping = serve(FakeComfy({"ws": close_at_once}))
    result, took = run(box, flapping.url, "--job-timeout", "3")
    result.refused(3, "the websocket closed")
    assert took < 15


def test_a_websocket_that_closes_at_once_counts_as_a_failed_connection(box, serve):
    flapping = serve(FakeComfy({"ws": close_at_once}))
    result, took = run(box, flapping.url, "--retries", "1")  # no job timeout: the retries end it
    result.refused(3, "cannot reach any ComfyUI server", "the websocket closed")
    assert took < 20


# ---------------------------------------------------------------------------------------------------- errors
def test_http_500_on_prompt_is_reported_as_a_server_error_with_its_text(box, serve):
    async def fail(request, fake):
        return await reply(500, "the database is on fire", "text/plain")

    server = serve(FakeComfy({"post_prompt": fail}))
    result, _ = run(box, server.url, "--retries", "1")
    result.refused(1, "answered with an error: HTTP 500 from POST /prompt: 'the database is on fire'")
    assert "restarted" not in result.err and "lost" not in result.err
    only_out_changed(result)


@pytest.mark.parametrize("route, body, message", [
    ("get_prompt", "[1, 2]", "the server sent a JSON list for GET /prompt, not an object"),
    ("get_prompt", "<html>hello</html>", "for GET /prompt, which is not JSON"),
    ("get_prompt", '{"exec_info": {"queue_remaining": "many"}}', "no whole number as exec_info.queue_remaining"),
])
def test_wrong_shaped_replies_while_connecting_are_named(box, serve, route, body, message):
    async def odd(request, fake):
        return await reply(200, body)

    server = serve(FakeComfy({route: odd}))
    result, took = run(box, server.url, "--retries", "1")
    result.refused(3, message)
    assert "AttributeError" not in result.err and took < 20


@pytest.mark.parametrize("route, body, message", [
    ("post_prompt", "[1]", "the server sent a JSON list for POST /prompt (HTTP 200), not an object"),
    ("post_prompt", '{"node_errors": ["x"], "error": 5}', "rejected the prompt"),
    ("history", '{"PROMPT_ID": "done"}', "history entry that is not an object"),
])
def test_wrong_shaped_replies_fail_the_job_with_what_the_server_sent(box, serve, route, body, message):
    async def odd(request, fake):
        if route == "post_prompt" and body.startswith('{"node'):
            return await reply(400, body)
        if route == "history":  # the job "runs", but the server describes it strangely
            prompt_id = request.match_info.get("prompt_id", "")
            return await reply(200, body.replace("PROMPT_ID", prompt_id))
        return await reply(200, body)

    server = serve(FakeComfy({route: odd}))
    result, _ = run(box, server.url, "--retries", "0", "--job-timeout", "20")
    result.refused(1, message)
    assert "AttributeError" not in result.err and "internal error" not in result.err
    only_out_changed(result)


@pytest.mark.parametrize("call, route, body, message", [
    ("queued_ids", "queue", '{"queue_running": "all"}', "a queue_running that is not a list of queue entries"),
    ("queued_ids", "queue", '{"queue_pending": [[1, 2]]}', "a queue_pending that is not a list of queue entries"),
    ("history", "history", '"just text"', "a JSON str for GET /history/p1, not an object"),
    ("upload", "upload", '{"name": 5}', "for POST /upload/image; expected its name and subfolder"),
    ("queue_remaining", "get_prompt", '{"exec_info": []}', "no whole number as exec_info.queue_remaining"),
])
def test_each_call_names_a_reply_of_another_shape(tmp_path, serve, call, route, body, message):
    import asyncio
    import concurrent.futures

    import aiohttp

    from dgx_pixels.remote.client.records import BadReply
    from dgx_pixels.remote.client.server import Server, Settings
    from PIL import Image

    async def odd(request, fake):
        return await reply(200, body)

    server = serve(FakeComfy({route: odd}))
    Image.new("RGB", (2, 2)).save(tmp_path / "a.png")

    async def ask():
        async with aiohttp.ClientSession() as session:
            remote = Server(server.url, session, "client", Settings(retries=0))
            arguments = {"history": ("p1",), "upload": (tmp_path / "a.png",)}.get(call, ())
            await getattr(remote, {"upload": "upload_image"}.get(call, call))(*arguments)

    with pytest.raises(BadReply, match=message.replace("(", r"\(").replace(")", r"\)")):
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever runs in this thread
            pool.submit(asyncio.run, ask()).result()


def test_malformed_websocket_events_are_ignored_and_the_job_finishes(box, serve):
    junk = ["[]", "not json", '{"type": "executing", "data": []}', '{"type": "status", "data": {"status": 5}}',
            '{"type": "progress", "data": {"prompt_id": "PROMPT_ID", "value": "x", "max": null}}',
            '{"type": "executing", "data": {"prompt_id": ["a"], "node": 1}}',
            '{"type": "execution_cached", "data": {"prompt_id": "PROMPT_ID", "nodes": 7}}']
    server = serve(FakeComfy(events=junk))
    result, _ = run(box, server.url)
    assert result.code == 0, result.err
    assert list((box.root / "out").rglob("*.png"))
    only_out_changed(result)


# ---------------------------------------------------------------------------------------------------- downloads
def test_non_png_bytes_from_view_are_not_saved_as_png(box, serve):
    server = serve(FakeComfy(view_body=b"<html>an error page, not a picture</html>"))
    result, _ = run(box, server.url)
    result.refused(1, "is named .png but its bytes are not an image (they start with b'<html>an error p')")
    assert not list((box.root / "out").rglob("*.png"))
    manifest = json.loads((box.root / "out" / "manifest.json").read_text())
    assert manifest["jobs"][0]["state"] == "executed"  # finished on the server: a resume downloads it again


def test_a_jpeg_served_under_a_png_name_is_not_saved(box, serve):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="JPEG")
    server = serve(FakeComfy(view_body=buffer.getvalue()))
    run(box, server.url)[0].refused(1, "is named .png but its bytes are a JPEG image, not PNG")


def test_an_image_over_the_pixel_limit_is_not_downloaded_as_one(box, serve):
    from bombs import bomb_png

    server = serve(FakeComfy(view_body=bomb_png(12000, 12000)))
    run(box, server.url)[0].refused(1, "12000x12000 = 144,000,000 pixels, over the limit")


def test_an_endless_download_stops_at_the_reply_limit(tmp_path, serve):
    async def endless(request, fake):
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"\0" * (1 << 20)
        for _ in range(64):
            await response.write(chunk)
        return response

    server = serve(FakeComfy({"view": endless}))
    client = Client([server.url])
    client.settings.max_reply_bytes = 4 << 20
    batch = client.run_batch_sync([Job.create(TXT2IMG, {})], out_dir=tmp_path / "out")
    assert "the server sent over 4,194,304 bytes for GET /view" in batch.jobs[0].error
    assert not list((tmp_path / "out").rglob("*.png"))


@pytest.mark.parametrize("server_name", ["evil.sh\u0000.png/../../x", "../../../../outside.png\n", "a." + "p" * 300,
                                         "noext"])
def test_server_file_names_never_shape_local_paths(box, serve, server_name):
    server = serve(FakeComfy(output_name=server_name, view_body=b"{}"))
    result, _ = run(box, server.url)
    assert result.code == 0, result.err
    only_out_changed(result)
    (saved,) = [p for p in (box.root / "out").rglob("*") if p.is_file() and p.name != "manifest.json"]
    assert saved.parent.parent == box.root / "out" and saved.suffix == ".bin"


# ---------------------------------------------------------------------------------------------------- uploads, resume
def test_an_image_parameter_that_is_not_an_image_is_never_uploaded(box, serve):
    secret = box.root / "home" / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    server = serve(FakeComfy())
    result, _ = run(box, server.url, "--set", f"image={secret}", workflow=INVERT)
    result.refused(1, "id_rsa is not an image")
    assert server.uploads == []


@pytest.mark.parametrize("damage, message", [
    (lambda m: m["jobs"][0].pop("params"), "is damaged: a job: 'params' is missing"),
    (lambda m: m["jobs"][0].update(attempts=["x"]), "is damaged: an attempt is not an object"),
    (lambda m: m["jobs"][0].update(state="exploded"), "is damaged"),
    (lambda m: m.update(workflows={"w": {"prompt": 5}}), "is damaged: a workflow: 'prompt' is missing"),
    (lambda m: m["jobs"][0].update(workflow="other"), "its jobs name workflows it does not hold (other)"),
    (lambda m: m.update(jobs={"a": 1}), "is damaged: the manifest: 'jobs' is missing or of another type"),
])
def test_a_damaged_manifest_is_refused_before_any_server_is_asked(box, serve, damage, message):
    server = serve(FakeComfy())
    assert run(box, server.url)[0].code == 0
    path = box.root / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    damage(manifest)
    path.write_text(json.dumps(manifest))
    box.main("run", "--resume", str(path), "--server", server.url, "-q").refused(2, message)


def test_a_long_batch_line_runs_under_a_short_folder_name(box, serve):
    server = serve(FakeComfy())
    (box.root / "jobs.yaml").write_text(json.dumps({"jobs": [{"name": "knight " * 80, "prompt": "x" * 100000}]}))
    result = box.main("batch", "jobs.yaml", "--workflow", str(TXT2IMG), "--server", server.url, "-o", "out", "-q")
    assert result.code == 0, result.err
    (folder,) = [p for p in (box.root / "out").iterdir() if p.is_dir()]
    assert len(folder.name) <= 100 and folder.name.startswith("knight-knight")
    assert len(server.prompts[0]["prompt"]["2"]["inputs"]["text"]) == 100000
