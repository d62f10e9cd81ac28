"""A real ComfyUI server for tests: started from the provisioned host on a free loopback port, with a temporary
base directory (models, input, output, user) and this pack loaded; helpers to queue API prompts, follow them over
the websocket, and fetch outputs through /view."""
from __future__ import annotations

import io
import json
import os
import shutil
import socket
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
from paths import REPO

PACK_ROOT = REPO


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ComfyServer:
    def __init__(self, host: hostlib.Host, base_dir: Path, models: dict[str, list[Path]] | None = None,
                 pack_dir: Path | None = None):
        """``pack_dir``: a copy of the pack to install as a plain folder (default: this checkout, as a link)."""
        self.host = host
        self.pack_dir = pack_dir
        self.base_dir = base_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base_dir / "comfyui.log"
        self.client_id = uuid.uuid4().hex
        self.process: subprocess.Popen | None = None
        self.last_history: dict = {}
        self._prepare(models or {})

    def _prepare(self, models: dict[str, list[Path]]) -> None:
        for sub in ("custom_nodes", "input", "output", "user", "temp"):
            (self.base_dir / sub).mkdir(parents=True, exist_ok=True)
        if self.pack_dir is None:
            (self.base_dir / "custom_nodes" / hostlib.PACK_DIR_NAME).symlink_to(PACK_ROOT, target_is_directory=True)
        else:
            shutil.copytree(self.pack_dir, self.base_dir / "custom_nodes" / self.pack_dir.name)
        for folder, files in models.items():
            target = self.base_dir / "models" / folder
            target.mkdir(parents=True, exist_ok=True)
            for file in files:
                (target / file.name).symlink_to(file)

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 180.0) -> "ComfyServer":
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        cmd = hostlib.server_command(self.host, port=self.port, extra=["--base-directory", str(self.base_dir),
                                                                      "--disable-auto-launch"])
        self._log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(cmd, cwd=self.host.comfyui, env=env, stdout=self._log_file,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ComfyError(f"ComfyUI exited with code {self.process.returncode} while starting\n"
                                 f"{self.log_tail()}")
            try:
                self.get_json("/system_stats")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.3)
        else:
            raise ComfyError(f"ComfyUI did not answer within {timeout:.0f} s\n{self.log_tail()}")
        failures = self.pack_import_failures()
        if failures:
            raise ComfyError(f"DGX-Pixels failed to import in ComfyUI:\n{failures}\n{self.log_tail()}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log_file", None):
            self._log_file.close()

    def kill(self) -> None:
        """End the server abruptly (SIGKILL), as a crash would; ``start()`` brings it back on the same port with the
        same folders (its queue and history are gone, its output files stay)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if getattr(self, "_log_file", None):
            self._log_file.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 80) -> str:
        return "----- ComfyUI log (tail) -----\n" + "\n".join(self.log().splitlines()[-lines:])

    def pack_import_failures(self) -> str:
        lines = self.log().splitlines()
        pack_name = self.pack_dir.name if self.pack_dir else hostlib.PACK_DIR_NAME
        return "\n".join(ln for ln in lines if "IMPORT FAILED" in ln and pack_name in ln)

    # ------------------------------------------------------------------ HTTP
    def get_json(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def post_json(self, path: str, body) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def object_info(self, node_class: str | None = None) -> dict:
        return self.get_json("/object_info" + (f"/{node_class}" if node_class else ""))

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
        try:
            prompt_id = self.queue(prompt)
            deadline = time.monotonic() + timeout
            while True:
                if time.monotonic() > deadline:
                    raise ComfyError(f"prompt {prompt_id} did not finish within {timeout:.0f} s\n{self.log_tail()}")
                message = ws.recv()
                if not isinstance(message, str):
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
