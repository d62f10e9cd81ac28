"""Provision and start a ComfyUI host for DGX-Pixels: ComfyUI at a pinned commit plus a venv, in a per-user cache.

The host lives in ``cache_dir()/host`` (``~/.cache/dgx-pixels/host`` by default) so every checkout of the project
on a machine, CI's fresh clones included, finds it with no variable set. ``host.json`` there records where ComfyUI
is and which Python runs it. Only the standard library is used: this runs before torch exists.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..common.errors import InputError
from ..common.files import write_atomic
from ..common.paths import PROJECT_ROOT

COMFYUI_URL = "https://github.com/comfyanonymous/ComfyUI.git"
COMFYUI_COMMIT = "a125cd84b054a57729b5eecab930ca9408719832"
COMFYUI_VERSION = "0.3.64"
TORCH_SPEC = ("torch==2.14.1", "torchvision==0.29.1")
# ComfyUI runs without torchaudio (its audio nodes fail to import, nothing else does).
SKIPPED_COMFY_REQUIREMENTS = ("torchaudio",)
# ComfyUI imports these without listing them in its requirements.txt.
UNLISTED_COMFY_REQUIREMENTS = ("requests",)
PACK_DIR_NAME = "dgx-pixels"


def cache_dir() -> Path:
    """Per-user cache: ``$DGX_PIXELS_CACHE``, else ``$XDG_CACHE_HOME/dgx-pixels``, else ``~/.cache/dgx-pixels``."""
    if os.environ.get("DGX_PIXELS_CACHE"):
        return Path(os.environ["DGX_PIXELS_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dgx-pixels"


def host_dir() -> Path:
    return cache_dir() / "host"


@dataclass
class Host:
    comfyui: str
    python: str
    commit: str
    requirements_stamp: str = ""

    @property
    def comfyui_path(self) -> Path:
        return Path(self.comfyui)

    def save(self) -> None:
        write_atomic(host_dir() / "host.json", (json.dumps(asdict(self), indent=2) + "\n").encode())


def load_host() -> Host | None:
    """The provisioned host, or None when there is none (or its files are gone)."""
    path = host_dir() / "host.json"
    if not path.is_file():
        return None
    try:
        host = Host(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None
    if not is_comfyui_folder(host.comfyui_path) or not Path(host.python).exists():
        return None
    return host


def is_comfyui_folder(path: Path) -> bool:
    return (path / "main.py").is_file() and (path / "comfy").is_dir() and (path / "nodes.py").is_file()


def _run(cmd: list[str], log, cwd: Path | None = None) -> None:
    log("  $ " + " ".join(str(c) for c in cmd))
    result = subprocess.run([str(c) for c in cmd], cwd=cwd)
    if result.returncode != 0:
        raise InputError(f"command failed with exit code {result.returncode}: {' '.join(str(c) for c in cmd)}")


def _git_commit(folder: Path) -> str:
    result = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def _clone(source: str, dest: Path, commit: str, log) -> None:
    """Clone ``source`` (URL or local git path) into ``dest`` at ``commit``; reuse ``dest`` if already there."""
    if is_comfyui_folder(dest) and _git_commit(dest) == commit:
        return
    if dest.exists():
        shutil.rmtree(dest)
    _run(["git", "clone", "--no-checkout", "--quiet", source, dest], log)
    _run(["git", "-C", dest, "checkout", "--quiet", commit], log)


def comfy_requirements(comfyui: Path) -> list[str]:
    lines = (comfyui / "requirements.txt").read_text().splitlines()
    keep = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        name = line.split("=")[0].split(">")[0].split("<")[0].split("~")[0].strip()
        if line and name not in SKIPPED_COMFY_REQUIREMENTS:
            keep.append(line)
    return keep


def project_requirements() -> list[str]:
    found = []
    for name in ("requirements.txt", "requirements-test.txt"):
        path = PROJECT_ROOT / name
        if path.is_file():
            found += [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
    return [ln for ln in found if ln]


def provision(source: str | None = None, torch_spec: tuple[str, ...] = TORCH_SPEC, log=print) -> Host:
    """Make sure a host exists and has every requirement; cheap when nothing changed.

    ``source``: an existing ComfyUI folder (used in place), a git URL or a local git repository (cloned into the
    cache at the pinned commit), or None (reuse the recorded host, else clone the official repository).
    """
    existing = load_host()
    if source is None and existing is not None:
        comfyui = existing.comfyui_path
    elif source is not None and is_comfyui_folder(Path(source).expanduser()):
        comfyui = Path(source).expanduser().resolve()
    else:
        comfyui = host_dir() / "ComfyUI"
        try:
            _clone(source or COMFYUI_URL, comfyui, COMFYUI_COMMIT, log)
        except InputError as err:
            raise InputError(
                f"could not get ComfyUI from {source or COMFYUI_URL} ({err}). Give a source: "
                "`dgx-pixels host setup --comfyui /path/to/ComfyUI` (an existing ComfyUI folder) or "
                "`--comfyui <git URL or local git repository>`; it is checked out at the pinned commit "
                f"{COMFYUI_COMMIT[:8]} (ComfyUI {COMFYUI_VERSION})."
            ) from err

    venv = host_dir() / "venv"
    python = venv / ("Scripts/python.exe" if platform.system() == "Windows" else "bin/python")
    if not python.exists():
        log(f"creating the host venv in {venv}")
        _run([sys.executable, "-m", "venv", venv], log)

    requirements = [*torch_spec, *comfy_requirements(comfyui), *UNLISTED_COMFY_REQUIREMENTS, *project_requirements()]
    stamp = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:16]
    host = Host(comfyui=str(comfyui), python=str(python), commit=_git_commit(comfyui))
    if existing is None or existing.requirements_stamp != stamp or existing.python != host.python:
        log("installing the host requirements (torch, ComfyUI's, DGX-Pixels') ...")
        req_file = host_dir() / "requirements.lock.txt"
        req_file.write_text("\n".join(requirements) + "\n")
        _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", req_file], log)
    host.requirements_stamp = stamp
    host.save()
    if host.commit not in (COMFYUI_COMMIT, "unknown"):
        log(f"note: ComfyUI at {comfyui} is at {host.commit[:8]}; DGX-Pixels is tested at {COMFYUI_COMMIT[:8]}")
    return host


def require_host() -> Host:
    host = load_host()
    if host is None:
        raise InputError(
            "no ComfyUI host is provisioned; run `make host` or `python -m dgx_pixels host setup "
            "[--comfyui /path/to/ComfyUI]` first"
        )
    return host


def link_pack(host: Host, pack_root: Path = PROJECT_ROOT) -> Path:
    """Put this checkout into the host's ``custom_nodes`` as a link (left alone if it is a real folder)."""
    if not (pack_root / "nodes").is_dir() or not (pack_root / "__init__.py").is_file():
        raise InputError(f"{pack_root} holds the command line but not the node pack (a pip install); run the host "
                         "from a checkout of the DGX-Pixels repository, or put that checkout into ComfyUI's "
                         "custom_nodes yourself")
    target = host.comfyui_path / "custom_nodes" / PACK_DIR_NAME
    if target.is_symlink():
        if target.resolve() == pack_root.resolve():
            return target
        target.unlink()
    elif target.exists():
        return target
    target.symlink_to(pack_root.resolve(), target_is_directory=True)
    return target


def cuda_available(host: Host) -> bool:
    result = subprocess.run(
        [host.python, "-c", "import torch; print(torch.cuda.is_available())"], capture_output=True, text=True
    )
    return result.stdout.strip() == "True"


def server_command(host: Host, port: int = 8188, listen: str = "127.0.0.1", extra: list[str] | None = None
                   ) -> list[str]:
    cmd = [host.python, str(host.comfyui_path / "main.py"), "--listen", listen, "--port", str(port)]
    if not cuda_available(host):
        cmd.append("--cpu")
    return cmd + list(extra or [])
