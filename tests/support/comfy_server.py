"""A real ComfyUI server for tests (dgx_pixels.host.server.LocalServer: the provisioned host on a free loopback
port, a temporary base directory, this pack loaded) with helpers to queue API prompts, follow them over the
websocket, and fetch outputs through /view."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import websocket
from PIL import Image

from dgx_pixels.host import provision as hostlib
from dgx_pixels.host.server import LocalServer, ServerFailed
from paths import REPO

PACK_ROOT = REPO
PROGRESS_TEXT_EVENT = (3).to_bytes(4, "big")  # ComfyUI's BinaryEventTypes.TEXT, the first word of the message


def copy_tracked_files(destination: Path) -> Path:
    """The files git would ship (tracked, or new and not ignored) copied into ``destination``: what a registry
    install or a source archive holds, without build outputs or caches."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=PACK_ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (PACK_ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PACK_ROOT / name, destination / name)
    return destination


class ComfyError(AssertionError):
    """A prompt was rejected or failed on the server; the message carries the server log's tail."""

    def __init__(self, message: str, event: dict | None = None):
        super().__init__(message)
        self.event = event or {}


class ComfyServer(LocalServer):
    """A LocalServer with what the tests do to it: queue prompts, follow them, upload and fetch files."""

    def __init__(self, host: hostlib.Host, base_dir: Path, models: dict[str, list[Path]] | None = None,
                 pack_dir: Path | None = None):
        super().__init__(host, base_dir, models, pack_dir)
        self.client_id = uuid.uuid4().hex
        self.last_history: dict = {}
        self.last_executed: set[str] = set()  # the nodes the last run executed (not served from the cache)
        self.last_progress: list[dict] = []  # the last run's "progress" messages, in order
        self.last_texts: list[bytes] = []  # the last run's progress-text messages (binary, as ComfyUI frames them)

    def start(self, timeout: float = 180.0) -> "ComfyServer":
        try:
            return super().start(timeout)
        except ServerFailed as err:
            raise ComfyError(str(err)) from None

    def post_json(self, path: str, body) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def upload_image(self, path: Path, name: str | None = None) -> str:
        """Upload a file into the server's input folder; returns the name LoadImage takes."""
        boundary = uuid.uuid4().hex
        name = name or path.name
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + path.read_bytes() + (
            f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\ntrue"
            f"\r\n--{boundary}--\r\n"
        ).encode()
        request = urllib.request.Request(self.url + "/upload/image", data=body,
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["name"]

    # ------------------------------------------------------------------ prompts
    def queue(self, prompt: dict) -> str:
        status, answer = self.post_json("/prompt", {"prompt": prompt, "client_id": self.client_id})
        if status != 200 or answer.get("node_errors"):
            raise ComfyError(f"prompt rejected (HTTP {status}): {json.dumps(answer, indent=1)[:4000]}")
        return answer["prompt_id"]

    def run(self, prompt: dict, timeout: float = 300.0) -> dict:
        """Queue ``prompt``, wait for it over the websocket, and return its history entry's outputs."""
        ws = websocket.create_connection(f"ws://127.0.0.1:{self.port}/ws?clientId={self.client_id}", timeout=timeout)
        self.last_executed, self.last_progress, self.last_texts = set(), [], []
        try:
            prompt_id = self.queue(prompt)
            deadline = time.monotonic() + timeout
            while True:
                if time.monotonic() > deadline:
                    raise ComfyError(f"prompt {prompt_id} did not finish within {timeout:.0f} s\n{self.log_tail()}")
                message = ws.recv()
                if not isinstance(message, str):
                    if message[:4] == PROGRESS_TEXT_EVENT:
                        self.last_texts.append(message)
                    continue  # binary preview frames
                event = json.loads(message)
                data = event.get("data", {})
                if data.get("prompt_id") != prompt_id:
                    continue
                if event["type"] in ("execution_error", "execution_interrupted"):
                    raise ComfyError(f"{event['type']}: {json.dumps(data, indent=1)[:6000]}\n{self.log_tail()}",
                                     event)
                if event["type"] == "executing" and data.get("node") is None:
                    break
                if event["type"] == "progress":
                    self.last_progress.append(data)
                if event["type"] == "executing":
                    self.last_executed.add(data["node"])
        finally:
            ws.close()
        history = self.get_json(f"/history/{prompt_id}")[prompt_id]
        self.last_history = history
        if history["status"].get("status_str") != "success":
            raise ComfyError(f"prompt {prompt_id} ended with {history['status']}\n{self.log_tail()}")
        return history["outputs"]

    def cached_nodes(self) -> set[str]:
        """Nodes of the last run that ComfyUI served from its cache instead of executing."""
        messages = self.last_history.get("status", {}).get("messages", [])
        return {node for kind, data in messages if kind == "execution_cached" for node in data["nodes"]}

    def execution_error(self, prompt: dict, timeout: float = 120.0) -> dict:
        """Run a prompt expected to fail at execution time; return the execution_error event's data."""
        try:
            self.run(prompt, timeout)
        except ComfyError as err:
            if err.event.get("type") == "execution_error":
                return err.event["data"]
            raise
        raise AssertionError("the prompt succeeded but was expected to fail")

    def fetch(self, item: dict) -> Image.Image:
        """Download one entry of a node's ``images`` output through /view."""
        query = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item.get("subfolder", ""),
                                        "type": item.get("type", "output")})
        with urllib.request.urlopen(f"{self.url}/view?{query}", timeout=60) as response:
            image = Image.open(io.BytesIO(response.read()))
            image.load()
            return image
