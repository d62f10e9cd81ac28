"""A throwaway ComfyUI from the provisioned host: a free loopback port, a base directory of its own (models, input,
output, user, temp) and this pack linked into its custom_nodes. The checks (doctor), the workflow writer and the
tests start one to talk to a real server."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..common.errors import InputError
from ..common.paths import PROJECT_ROOT
from . import provision


class ServerFailed(InputError):
    """The server exited or did not answer while starting, or the pack failed to import; the log tail says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalServer:
    def __init__(self, host: provision.Host, base_dir: Path, models: dict[str, list[Path]] | None = None,
                 pack_dir: Path | None = None, cpu: bool | None = None):
        """``pack_dir``: a copy of the pack to install as a plain folder (default: this checkout, as a link).
        ``models``: files linked into ``models/<folder>/``. ``cpu``: as for ``provision.server_command``."""
        self.host = host
        self.pack_dir = pack_dir
        self.base_dir = Path(base_dir)
        self.cpu = cpu
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.base_dir / "comfyui.log"
        self.process: subprocess.Popen | None = None
        self._log_file = None
        self._prepare(models or {})

    def _prepare(self, models: dict[str, list[Path]]) -> None:
        for sub in ("custom_nodes", "input", "output", "user", "temp"):
            (self.base_dir / sub).mkdir(parents=True, exist_ok=True)
        if self.pack_dir is None:
            (self.base_dir / "custom_nodes" / provision.PACK_DIR_NAME).symlink_to(PROJECT_ROOT,
                                                                                 target_is_directory=True)
        else:
            shutil.copytree(self.pack_dir, self.base_dir / "custom_nodes" / self.pack_dir.name)
        for folder, files in models.items():
            target = self.base_dir / "models" / folder
            target.mkdir(parents=True, exist_ok=True)
            for file in files:
                (target / file.name).symlink_to(file)

    def start(self, timeout: float = 180.0) -> "LocalServer":
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        cmd = provision.server_command(self.host, port=self.port, cpu=self.cpu, log=lambda note: None,
                                       extra=["--base-directory", str(self.base_dir), "--disable-auto-launch"])
        self._log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(cmd, cwd=self.host.comfyui, env=env, stdout=self._log_file,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"ComfyUI exited with code {self.process.returncode} while starting\n"
                                   f"{self.log_tail()}")
            try:
                self.get_json("/system_stats")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.3)
        else:
            raise ServerFailed(f"ComfyUI did not answer within {timeout:.0f} s\n{self.log_tail()}")
        failures = self.pack_import_failures()
        if failures:
            raise ServerFailed(f"DGX-Pixels failed to import in ComfyUI:\n{failures}\n{self.log_tail()}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log_file:
            self._log_file.close()

    def kill(self) -> None:
        """End the server abruptly (SIGKILL), as a crash would; ``start()`` brings it back on the same port with the
        same folders (its queue and history are gone, its output files stay)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._log_file:
            self._log_file.close()

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 80) -> str:
        return "----- ComfyUI log (tail) -----\n" + "\n".join(self.log().splitlines()[-lines:])

    def pack_import_failures(self) -> str:
        pack_name = self.pack_dir.name if self.pack_dir else provision.PACK_DIR_NAME
        return "\n".join(ln for ln in self.log().splitlines() if "IMPORT FAILED" in ln and pack_name in ln)

    def get_json(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def object_info(self, node_class: str | None = None) -> dict:
        return self.get_json("/object_info" + (f"/{node_class}" if node_class else ""))
