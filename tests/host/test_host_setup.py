"""Host set-up from the starting points users have: a torch chosen once stays chosen, an existing ComfyUI's own
Python is used as it is, a ComfyUI Desktop base folder gets the pack, and doctor tells what this machine can do.

Each test works in a cache of its own (DGX_PIXELS_CACHE); the environments it makes link to the provisioned host's
venv, so nothing is downloaded."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from dgx_pixels.host.server import free_port
from paths import REPO


def dgx(cache: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "DGX_PIXELS_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "dgx_pixels", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def copy_of_comfyui(host, folder: Path) -> Path:
    """A ComfyUI install of the user's: the pinned checkout's files with an environment of its own beside them."""
    top = Path(host.comfyui)

    def ignored(directory: str, names: list[str]) -> set[str]:
        skipped = {".git", "models", "custom_nodes"} if Path(directory) == top else set()
        return skipped | {"__pycache__"} & set(names)

    shutil.copytree(top, folder, ignore=ignored)
    (folder / "custom_nodes").mkdir()
    (folder / "venv").symlink_to(Path(host.python).parent.parent, target_is_directory=True)
    return folder


def recorded(cache: Path) -> dict:
    return json.loads((cache / "host" / "host.json").read_text())


def test_doctor_reports_this_machine_with_the_fixes(tmp_path):
    result = subprocess.run([sys.executable, "-m", "dgx_pixels", "doctor", "--json", "--start"], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    findings = json.loads(result.stdout)
    by_check = {finding["check"]: finding for finding in findings}
    assert by_check["pack"]["status"] == "ok" and "DGX-Pixels nodes" in by_check["pack"]["detail"]
    assert by_check["comfyui"]["status"] == "ok" and "0.3.64" in by_check["comfyui"]["detail"]
    if shutil.which("nvidia-smi") is None:
        assert by_check["gpu"]["status"] == "warn" and "no NVIDIA GPU" in by_check["gpu"]["detail"]
        assert "nvidia-smi" in by_check["gpu"]["fix"]
    assert "CUDA" in by_check["torch"]["detail"] or "CPU-only" in by_check["torch"]["detail"]
    workflows = {f["check"] for f in findings if f["check"].startswith("models: ")}
    assert workflows >= {"models: character_sprite_sheet", "models: cleanup_existing_art"}
    assert by_check["models: cleanup_existing_art"]["status"] == "ok"
    character = by_check["models: character_sprite_sheet"]
    assert character["status"] == "ok" or "dgx-pixels models download" in character["fix"]
    assert {"disk", "memory", "export roots"} <= set(by_check)
    text = subprocess.run([sys.executable, "-m", "dgx_pixels", "doctor"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert "-> `dgx-pixels doctor --start`" in text.stdout  # what was not checked says how to check it


def test_a_torch_chosen_once_survives_host_run(host, tmp_path):
    cache = tmp_path / "cache"
    (cache / "host").mkdir(parents=True)
    (cache / "host" / "venv").symlink_to(Path(host.python).parent.parent, target_is_directory=True)
    chosen = ["torch>=2.0", "torchvision>=0.1"]  # what the host already has, spelled as a user's own choice
    setup = dgx(cache, "host", "setup", "--comfyui", host.comfyui, "--torch", *chosen)
    assert setup.returncode == 0, setup.stderr
    assert recorded(cache)["torch"] == chosen
    port = str(free_port())
    env = {**os.environ, "DGX_PIXELS_CACHE": str(cache)}
    run = subprocess.Popen([sys.executable, "-m", "dgx_pixels", "host", "run", "--port", port, "--cpu"], cwd=REPO,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = run.stdout.readline()
            output.append(line)
            if "ComfyUI: http://" in line or not line:
                break
    finally:
        run.kill()
        run.wait()
    text = "".join(output)
    assert f"ComfyUI: http://127.0.0.1:{port}/" in text, text
    assert "installing the host requirements" not in text  # the pin did not come back
    assert recorded(cache)["torch"] == chosen


def test_an_existing_comfyui_keeps_its_own_python(host, tmp_path):
    comfyui = copy_of_comfyui(host, tmp_path / "ComfyUI")
    cache = tmp_path / "cache"
    setup = dgx(cache, "host", "setup", "--comfyui", str(comfyui))
    assert setup.returncode == 0, setup.stderr
    record = recorded(cache)
    assert record["python"] == str(comfyui / "venv" / "bin" / "python") and record["own_environment"]
    assert not (cache / "host" / "venv").exists()  # no second environment of ours
    lock = (cache / "host" / "requirements.lock.txt").read_text()
    assert "torch" not in lock and "numpy" in lock  # only the pack's own small requirements went in
    doctor = dgx(cache, "doctor", "--json", "--start")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    findings = {f["check"]: f for f in json.loads(doctor.stdout)}
    assert findings["pack"]["status"] == "ok"
    assert "ComfyUI's own environment" in findings["environment"]["detail"]


def test_comfyui_desktop_base_folder_gets_the_pack(host, tmp_path):
    base = tmp_path / "Documents" / "ComfyUI"
    for folder in ("models/checkpoints", "custom_nodes", "user", "input", "output"):
        (base / folder).mkdir(parents=True)
    (base / ".venv").symlink_to(Path(host.python).parent.parent, target_is_directory=True)
    cache = tmp_path / "cache"
    setup = dgx(cache, "host", "setup", "--comfyui", str(base))
    assert setup.returncode == 0, setup.stderr
    assert "ComfyUI Desktop" in setup.stdout and "restart ComfyUI Desktop" in setup.stdout
    link = base / "custom_nodes" / "dgx-pixels"
    assert link.is_symlink() and link.resolve() == REPO.resolve()
    run = dgx(cache, "host", "run")
    assert run.returncode == 2 and "the app runs the server" in run.stderr
    listing = dgx(cache, "models", "list")
    assert listing.returncode == 0 and "sd_xl_base_1.0" in listing.stdout
