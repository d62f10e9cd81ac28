"""Provision and start a ComfyUI host for DGX-Pixels, respecting what the machine already has.

Three starting points: nothing (ComfyUI is cloned at the pinned commit into the cache, with a venv of ours), an
existing ComfyUI folder (used in place; its own Python environment, when one is found beside it or given with
``--python``, is used too and only our small requirements go into it), or a ComfyUI Desktop base folder (models,
custom_nodes, .venv; the app runs the server itself, so we only install the pack there).

``host.json`` in ``cache_dir()/host`` (``~/.cache/dgx-pixels/host`` by default) records the choice, so every checkout
on the machine, CI's fresh clones included, finds it with no variable set, and a torch chosen once stays chosen.
Only the standard library is used: this runs before torch exists.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..common.errors import InputError
from ..common.files import write_atomic
from ..common.paths import PROJECT_ROOT
from . import gpu

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
    comfyui: str  # the ComfyUI source folder (main.py); empty for ComfyUI Desktop, which runs its own server
    python: str
    commit: str
    requirements_stamp: str = ""
    torch: list[str] = field(default_factory=lambda: list(TORCH_SPEC))  # chosen once, kept by later set-ups
    own_environment: bool = False  # python is the user's ComfyUI environment: only our requirements go there
    custom_nodes: str = ""  # where the pack is linked (empty: <comfyui>/custom_nodes)

    @property
    def comfyui_path(self) -> Path:
        return Path(self.comfyui)

    @property
    def custom_nodes_path(self) -> Path:
        return Path(self.custom_nodes) if self.custom_nodes else self.comfyui_path / "custom_nodes"

    @property
    def models_path(self) -> Path:
        """ComfyUI's models folder (a Desktop base folder holds it beside custom_nodes)."""
        return self.custom_nodes_path.parent / "models"

    def save(self) -> None:
        # Choices left at their default are not written, so a host.json stays as earlier versions wrote it.
        data = {key: value for key, value in asdict(self).items()
                if key not in CHOICES or value != CHOICES[key]}
        write_atomic(host_dir() / "host.json", (json.dumps(data, indent=2) + "\n").encode())


CHOICES = {"torch": list(TORCH_SPEC), "own_environment": False, "custom_nodes": ""}


def load_host() -> Host | None:
    """The provisioned host, or None when there is none (or its files are gone)."""
    path = host_dir() / "host.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        host = Host(**{key: value for key, value in data.items() if key in Host.__dataclass_fields__})
    except (ValueError, TypeError, AttributeError):
        return None
    if host.comfyui and not is_comfyui_folder(host.comfyui_path) or not Path(host.python).exists():
        return None
    return host


def is_comfyui_folder(path: Path) -> bool:
    return (path / "main.py").is_file() and (path / "comfy").is_dir() and (path / "nodes.py").is_file()


def environment_python(folder: Path) -> Path | None:
    """The Python of a ComfyUI install's own environment: ``venv`` or ``.venv`` in the folder (git installs,
    comfy-cli, ComfyUI Desktop), or the portable build's ``python_embeded`` beside it."""
    for candidate in (folder / "venv" / "bin" / "python", folder / ".venv" / "bin" / "python",
                      folder / "venv" / "Scripts" / "python.exe", folder / ".venv" / "Scripts" / "python.exe",
                      folder.parent / "python_embeded" / "python.exe"):
        if candidate.exists():
            return candidate
    return None


def is_desktop_base(path: Path) -> bool:
    """A ComfyUI Desktop base folder: the user's models and custom nodes with the app's .venv, but no ComfyUI code
    (the app bundles it)."""
    return ((path / "custom_nodes").is_dir() and (path / "models").is_dir() and not (path / "main.py").exists()
            and environment_python(path) is not None)


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


def project_requirements(with_tests: bool = True) -> list[str]:
    found = []
    for name in ("requirements.txt", "requirements-test.txt")[:2 if with_tests else 1]:
        path = PROJECT_ROOT / name
        if path.is_file():
            found += [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
    return [ln for ln in found if ln]


def _clone_pinned(source: str | None, log) -> Path:
    comfyui = host_dir() / "ComfyUI"
    try:
        _clone(source or COMFYUI_URL, comfyui, COMFYUI_COMMIT, log)
    except InputError as err:
        raise InputError(
            f"could not get ComfyUI from {source or COMFYUI_URL} ({err}). Give a source: "
            "`dgx-pixels host setup --comfyui /path/to/ComfyUI` (an existing ComfyUI folder or a ComfyUI Desktop "
            "base folder) or `--comfyui <git URL or local git repository>`; it is checked out at the pinned commit "
            f"{COMFYUI_COMMIT[:8]} (ComfyUI {COMFYUI_VERSION})."
        ) from err
    return comfyui


def provision(source: str | None = None, torch_spec: tuple[str, ...] | None = None, python: str | None = None,
              log=print) -> Host:
    """Make sure a host exists and has every requirement; cheap when nothing changed.

    ``source``: an existing ComfyUI folder (used in place), a ComfyUI Desktop base folder, a git URL or a local git
    repository (cloned into the cache at the pinned commit), or None (reuse the recorded host, else clone the
    official repository). ``torch_spec``: pip requirements for torch (None: as chosen before, else the pin).
    ``python``: run ComfyUI with this Python (an existing environment) instead of a venv of ours.
    """
    existing = load_host()
    folder = Path(source).expanduser() if source is not None else None
    own: Path | None = Path(python).expanduser() if python else None
    custom_nodes = ""
    if source is None and existing is not None:
        comfyui, custom_nodes = existing.comfyui, existing.custom_nodes
        if own is None and existing.own_environment:
            own = Path(existing.python)
    elif folder is not None and is_comfyui_folder(folder):
        comfyui = str(folder.resolve())
        own = own or environment_python(folder.resolve())
    elif folder is not None and is_desktop_base(folder):
        comfyui, custom_nodes = "", str((folder / "custom_nodes").resolve())
        own = own or environment_python(folder.resolve())
    else:
        comfyui = str(_clone_pinned(source, log))
    torch = list(torch_spec) if torch_spec else (existing.torch if existing is not None else list(TORCH_SPEC))

    if own is not None:
        if not own.exists():
            raise InputError(f"--python {own}: no such file")
        python_path = own
        # The user's environment already runs ComfyUI: torch and ComfyUI's requirements stay as they are.
        requirements = project_requirements(with_tests=False)
        log(f"using the existing Python environment {python_path}")
    else:
        venv = host_dir() / "venv"
        python_path = venv / ("Scripts/python.exe" if platform.system() == "Windows" else "bin/python")
        if not python_path.exists():
            log(f"creating the host venv in {venv}")
            _run([sys.executable, "-m", "venv", venv], log)
        requirements = [*torch, *comfy_requirements(Path(comfyui)), *UNLISTED_COMFY_REQUIREMENTS,
                        *project_requirements()]
    stamp = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:16]
    host = Host(comfyui=comfyui, python=str(python_path), commit=_git_commit(Path(comfyui)) if comfyui else "desktop",
                torch=torch, own_environment=own is not None, custom_nodes=custom_nodes)
    if existing is None or existing.requirements_stamp != stamp or existing.python != host.python:
        log("installing the host requirements (" + ("DGX-Pixels' only" if own else "torch, ComfyUI's, DGX-Pixels'")
            + ") ...")
        req_file = host_dir() / "requirements.lock.txt"
        write_atomic(req_file, ("\n".join(requirements) + "\n").encode())
        _run([python_path, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", req_file], log)
    host.requirements_stamp = stamp
    host.save()
    if host.comfyui and host.commit not in (COMFYUI_COMMIT, "unknown"):
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
    target = host.custom_nodes_path / PACK_DIR_NAME
    if target.is_symlink():
        if target.resolve() == pack_root.resolve():
            return target
        target.unlink()
    elif target.exists():
        return target
    target.symlink_to(pack_root.resolve(), target_is_directory=True)
    return target


def server_command(host: Host, port: int = 8188, listen: str = "127.0.0.1", cpu: bool | None = None,
                   extra: list[str] | None = None, log=print) -> list[str]:
    """The command that starts the host's ComfyUI. ``cpu``: True runs on the CPU; False needs the GPU; None (the
    default) uses the GPU, or the CPU when the machine has no NVIDIA GPU at all, saying so. A GPU that torch
    cannot use (a CPU-only torch, a driver too old, no code for the card) is refused with the reason and the fix,
    never a silent fall back to a run 50 times slower."""
    if not host.comfyui:
        raise InputError(f"this host is ComfyUI Desktop (custom nodes in {host.custom_nodes}): the app runs the "
                         "server; restart it to load DGX-Pixels")
    cmd = [host.python, str(host.comfyui_path / "main.py"), "--listen", listen, "--port", str(port)]
    if cpu is None or cpu is False:
        report = gpu.probe(host.python)
        reason = report.cpu_reason()
        if reason and (cpu is False or report.cards):
            raise InputError(f"ComfyUI cannot use the GPU: {reason}. To run on the CPU anyway, add --cpu")
        if reason:
            log(f"note: {reason}")
            cpu = True
    return cmd + (["--cpu"] if cpu else []) + list(extra or [])
