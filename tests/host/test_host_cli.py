"""The host set-up as a user meets it: the command finds the provisioned host with no variable set."""
from __future__ import annotations

import subprocess
import sys
import time
from paths import REPO

ROOT = REPO


def dgx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dgx_pixels", *args], cwd=ROOT, capture_output=True, text=True)


def test_second_setup_is_quick_and_finds_the_recorded_host(host):
    started = time.monotonic()
    result = dgx("host", "setup")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    assert host.comfyui in result.stdout


def test_setup_without_a_reachable_source_says_how_to_give_one(tmp_path):
    env_cache = tmp_path / "cache"
    result = subprocess.run(
        [sys.executable, "-m", "dgx_pixels", "host", "setup", "--comfyui", str(tmp_path / "nowhere")],
        cwd=ROOT, capture_output=True, text=True, env={"DGX_PIXELS_CACHE": str(env_cache), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "--comfyui /path/to/ComfyUI" in result.stderr
