"""`dgx-pixels models download` against a real HTTP server on loopback: resume, sha256 check, final placement."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from paths import REPO

ROOT = REPO
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class RangeServer(ThreadingHTTPServer):
    """Serves PAYLOAD at /model.bin with Range support; the first ``cut_first`` answers stop half way."""

    def __init__(self, cut_first: int = 0):
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.cut_first = cut_first
        self.ranges: list[str | None] = []


class RangeHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != "/model.bin":
            self.send_error(404)
            return
        header = self.headers.get("Range")
        self.server.ranges.append(header)
        start = int(header.split("=")[1].split("-")[0]) if header else 0
        body = PAYLOAD[start:]
        self.send_response(206 if header else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.server.cut_first > 0:
            self.server.cut_first -= 1
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    srv = RangeServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()


def catalog(tmp_path: Path, server, sha256: str | None) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([{
        "name": "tiny", "filename": "tiny.safetensors", "folder": "loras",
        "url": f"http://127.0.0.1:{server.server_address[1]}/model.bin", "size_mb": 1, "licence": "test",
        "sha256": sha256}]))
    return path


def download(tmp_path: Path, catalog_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dgx_pixels", "models", "download", "tiny", "--catalog",
                           str(catalog_path), "--models-dir", str(tmp_path / "models")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_download_resumes_after_a_dropped_connection_and_checks_the_hash(tmp_path, server):
    server.cut_first = 1
    result = download(tmp_path, catalog(tmp_path, server, hashlib.sha256(PAYLOAD).hexdigest()))
    assert result.returncode == 0, result.stderr
    target = tmp_path / "models" / "loras" / "tiny.safetensors"
    assert target.read_bytes() == PAYLOAD
    assert server.ranges[0] is None and server.ranges[1] == f"bytes={len(PAYLOAD) // 2}-"
    assert not (target.parent / "tiny.safetensors.part").exists()
    # Already there and verified: nothing is fetched again.
    assert download(tmp_path, catalog(tmp_path, server, hashlib.sha256(PAYLOAD).hexdigest())).returncode == 0
    assert len(server.ranges) == 2


def test_a_hash_mismatch_installs_nothing(tmp_path, server):
    result = download(tmp_path, catalog(tmp_path, server, "0" * 64))
    assert result.returncode == 2
    assert "sha256 mismatch" in result.stderr
    assert not list((tmp_path / "models" / "loras").iterdir())


def test_unknown_models_and_unreachable_servers_are_clear_errors(tmp_path, server):
    path = catalog(tmp_path, server, None)
    result = subprocess.run([sys.executable, "-m", "dgx_pixels", "models", "download", "nope", "--catalog",
                             str(path), "--models-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "unknown model(s) nope" in result.stderr
    path.write_text(path.read_text().replace(f":{server.server_address[1]}/", ":9/"))
    result = subprocess.run([sys.executable, "-m", "dgx_pixels", "models", "download", "tiny", "--catalog",
                             str(path), "--models-dir", str(tmp_path), "--retries", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "download failed" in result.stderr
