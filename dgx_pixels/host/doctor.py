"""``dgx-pixels doctor``: what this machine and its ComfyUI host can do, each finding with its fix.

The GPU and driver (nvidia-smi), the CUDA version and architectures torch was built for against the card's, the
torch, ComfyUI and frontend versions, whether the pack loads in ComfyUI, the models each shipped workflow needs and
which are present, the export roots, free disk and memory. Torch is asked in the host's Python, so the doctor
itself runs without it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from ..common.errors import InputError
from ..export.paths import ENV_ROOTS, allowed_roots
from ..library.folder import API_DIR
from . import gpu, models, provision
from .server import LocalServer

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
# The loader inputs that name model files, and the models/ folder each reads.
MODEL_INPUTS = {("CheckpointLoaderSimple", "ckpt_name"): "checkpoints", ("LoraLoader", "lora_name"): "loras",
                ("ControlNetLoader", "control_net_name"): "controlnet"}
MIN_FREE_DISK_GB = 20  # SDXL, the LoRA and the ControlNet take about 10 GB; ComfyUI's outputs and caches the rest
MIN_AVAILABLE_MEMORY_GB = 16


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # ok, warn, fail or info
    detail: str
    fix: str = ""


def python_findings(host: provision.Host | None) -> list[Finding]:
    found = [Finding("python", OK if sys.version_info >= (3, 10) else FAIL,
                     f"this command runs on Python {sys.version.split()[0]}", "" if sys.version_info >= (3, 10)
                     else "use Python 3.10 or newer")]
    if host is not None:
        version = _run_python(host.python, "import sys; print(sys.version.split()[0])")
        found.append(Finding("host python", OK if version else FAIL, f"{host.python}: Python {version or '?'}",
                             "" if version else "run `dgx-pixels host setup` again"))
    return found


def host_findings(host: provision.Host | None) -> list[Finding]:
    if host is None:
        return [Finding("host", FAIL, "no ComfyUI host is provisioned",
                        "`make host` or `dgx-pixels host setup [--comfyui FOLDER] [--python PATH]`")]
    if not host.comfyui:
        return [Finding("host", INFO, f"ComfyUI Desktop, custom nodes in {host.custom_nodes}",
                        "the app runs ComfyUI; restart it after installing or updating DGX-Pixels")]
    version_file = host.comfyui_path / "comfyui_version.py"
    match = re.search(r'__version__\s*=\s*"([^"]+)"', version_file.read_text()) if version_file.is_file() else None
    version = match[1] if match else "unknown"
    tested = host.commit == provision.COMFYUI_COMMIT
    found = [Finding("comfyui", OK if tested else WARN,
                     f"ComfyUI {version} at {host.comfyui} (commit {host.commit[:8]}; tested: "
                     f"{provision.COMFYUI_VERSION} at {provision.COMFYUI_COMMIT[:8]})",
                     "" if tested else "other versions may work; report what breaks")]
    frontend = _run_python(host.python, "import importlib.metadata as m; print(m.version('comfyui-frontend-package'))")
    found.append(Finding("frontend", OK if frontend else WARN, f"comfyui-frontend-package {frontend or 'missing'}",
                         "" if frontend else "pip install -r ComfyUI/requirements.txt in the host's Python"))
    env = "ComfyUI's own environment" if host.own_environment else "a venv of DGX-Pixels"
    found.append(Finding("environment", INFO, f"{env}; torch requirements: {' '.join(host.torch)}"))
    return found


def gpu_findings(python: str | None) -> list[Finding]:
    report = gpu.probe(python) if python else gpu.GpuReport(*gpu.nvidia_cards())
    found = []
    for card in report.cards:
        found.append(Finding("gpu", OK, f"{card.name}, driver {card.driver}, compute capability "
                                        f"{card.compute_capability} ({card.arch})"))
    if not report.cards:
        found.append(Finding("gpu", WARN, f"no NVIDIA GPU: nvidia-smi {report.smi_error}",
                             "every node runs on the CPU; generation needs an NVIDIA GPU and its driver "
                             "(on a DGX Spark: the DGX OS driver, `nvidia-smi` must list the GB10)"))
    torch = report.torch
    if python is None:
        return found
    if not torch.version:
        found.append(Finding("torch", FAIL, f"torch does not import in the host's Python ({torch.error})",
                             "`dgx-pixels host setup`"))
        return found
    build = f"CUDA {torch.cuda}, code for {', '.join(torch.arch) or 'no GPU'}" if torch.cuda else "CPU-only build"
    found.append(Finding("torch", INFO, f"torch {torch.version} ({build})"))
    reason = report.cpu_reason()
    if report.cards:
        found.append(Finding("cuda", OK if not reason else FAIL,
                             "ComfyUI will sample on the GPU" if not reason else reason,
                             "" if not reason else "fix it, or run on the CPU on purpose: "
                                                   "`dgx-pixels host run --cpu`"))
    return found


def pack_findings(host: provision.Host | None, server: str | None, start: bool) -> list[Finding]:
    if server:
        try:
            with urllib.request.urlopen(server.rstrip("/") + "/object_info", timeout=30) as answer:
                nodes = [name for name in json.loads(answer.read()) if name.startswith("DGXPixels")]
        except (urllib.error.URLError, OSError, ValueError) as err:
            return [Finding("pack", FAIL, f"{server} did not answer /object_info ({err})",
                            "start ComfyUI (`dgx-pixels host run`) or give the right --server")]
        return [Finding("pack", OK if nodes else FAIL, f"{server} serves {len(nodes)} DGX-Pixels nodes",
                        "" if nodes else "look for 'IMPORT FAILED' and dgx-pixels in the ComfyUI log")]
    if not start:
        return [Finding("pack", INFO, "not checked in ComfyUI",
                        "`dgx-pixels doctor --start` starts a throwaway ComfyUI to load the pack, or give --server")]
    if host is None or not host.comfyui:
        return [Finding("pack", INFO, "no ComfyUI folder to start here", "check a running one with --server URL")]
    with tempfile.TemporaryDirectory(prefix="dgx-pixels-doctor-") as base:
        try:
            with LocalServer(host, Path(base), cpu=True) as local:
                count = sum(name.startswith("DGXPixels") for name in local.object_info())
        except InputError as err:
            lines = [line for line in str(err).splitlines() if "IMPORT FAILED" in line or "rror" in line][:6]
            return [Finding("pack", FAIL, "DGX-Pixels did not load in ComfyUI: " + " | ".join(lines),
                            "install the pack's requirements in the host's Python; see the log lines above")]
    return [Finding("pack", OK, f"ComfyUI loads the pack: {count} DGX-Pixels nodes")]


def models_dir(host: provision.Host | None) -> Path | None:
    return host.models_path if host is not None else None


def model_findings(folder: Path | None) -> list[Finding]:
    """Per shipped workflow, the model files its loaders select and whether each is in ``folder``."""
    catalogue = {(m.folder, m.filename): m for m in models.CATALOG}
    found = []
    for path in sorted(API_DIR.glob("*.json")):
        if path.name.endswith(".params.json"):
            continue
        needed = sorted({(MODEL_INPUTS[(node.get("class_type"), key)], value)
                         for node in json.loads(path.read_text()).values()
                         for key, value in node.get("inputs", {}).items()
                         if (node.get("class_type"), key) in MODEL_INPUTS and isinstance(value, str)})
        workflow = path.name.removesuffix(".json")
        if not needed:
            found.append(Finding(f"models: {workflow}", OK, "needs no model"))
            continue
        missing = [(sub, name) for sub, name in needed if folder is None or not (folder / sub / name).exists()]
        names = [catalogue[item].name for item in missing if item in catalogue]
        found.append(Finding(f"models: {workflow}", OK if not missing else WARN,
                             "all present: " + ", ".join(f"{s}/{n}" for s, n in needed) if not missing else
                             "missing: " + ", ".join(f"{s}/{n}" for s, n in missing),
                             "" if not missing else f"`dgx-pixels models download {' '.join(names)}`" if names
                             else "put the files into ComfyUI's models folders"))
    return found


def export_findings(environ: dict | None = None) -> list[Finding]:
    roots = allowed_roots(environ=environ)
    if not roots:
        return [Finding("export roots", INFO, f"{ENV_ROOTS} is not set: the Bevy Export node writes only inside "
                                              "ComfyUI's output folder",
                        f"to export into your game, start ComfyUI with {ENV_ROOTS}=/path/to/games")]
    found = []
    for root in roots:
        usable = root.is_dir() and os.access(root, os.W_OK)
        found.append(Finding("export roots", OK if usable else WARN,
                             f"{root}: {'writable' if usable else 'missing or not writable'}",
                             "" if usable else f"create it or fix {ENV_ROOTS}"))
    return found


def resource_findings(paths: list[Path]) -> list[Finding]:
    found = []
    for path in dict.fromkeys(p for p in paths if p is not None):
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is None:
            continue
        free = shutil.disk_usage(existing).free / 2 ** 30
        found.append(Finding("disk", OK if free >= MIN_FREE_DISK_GB else WARN, f"{free:.0f} GB free at {path}",
                             "" if free >= MIN_FREE_DISK_GB else f"free at least {MIN_FREE_DISK_GB} GB"))
    available = _available_memory_gb()
    if available is not None:
        found.append(Finding("memory", OK if available >= MIN_AVAILABLE_MEMORY_GB else WARN,
                             f"{available:.0f} GB available (a DGX Spark's 128 GB are shared by CPU and GPU)",
                             "" if available >= MIN_AVAILABLE_MEMORY_GB else
                             "close other programs; SDXL wants about 12 GB while sampling"))
    return found


def examine(server: str | None = None, start: bool = False, models_folder: Path | None = None) -> list[Finding]:
    host = provision.load_host()
    folder = models_folder or models_dir(host)
    return [*python_findings(host), *host_findings(host), *gpu_findings(host.python if host else None),
            *pack_findings(host, server, start), *model_findings(folder), *export_findings(),
            *resource_findings([provision.cache_dir(), folder])]


def as_json(findings: list[Finding]) -> str:
    return json.dumps([asdict(finding) for finding in findings], indent=1)


def _run_python(python: str, code: str) -> str:
    try:
        result = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def _available_memory_gb() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemAvailable:\s+(\d+) kB", text, re.MULTILINE)
    return int(match[1]) / 2 ** 20 if match else None
