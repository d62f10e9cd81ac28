"""The models the shipped workflows expect, and a resumable, hash-checked downloader into ComfyUI's model folders.

Only the standard library is used, so ``dgx-pixels models download`` works before torch is installed.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import InputError

CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelFile:
    name: str  # what users type: `dgx-pixels models download sdxl-base`
    filename: str  # the file name the workflows select in their loader nodes
    folder: str  # ComfyUI models/ subfolder
    url: str
    size_mb: int  # approximate, for the listing
    licence: str
    sha256: str | None = None  # None: not pinned; the hash is printed and recorded after download
    used_by: str = ""


# Sources: each model's page on huggingface.co (the URL's repository); sizes rounded.
CATALOG: tuple[ModelFile, ...] = (
    ModelFile("sdxl-base", "sd_xl_base_1.0.safetensors", "checkpoints",
              "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/sd_xl_base_1.0.safetensors",
              6940, "CreativeML Open RAIL++-M",
              "31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b", "all SDXL workflows"),
    ModelFile("pixel-art-xl", "pixel-art-xl.safetensors", "loras",
              "https://huggingface.co/nerijs/pixel-art-xl/resolve/main/pixel-art-xl.safetensors",
              171, "CreativeML Open RAIL-M", None, "all SDXL workflows (pixel-art style LoRA)"),
    ModelFile("openpose-sdxl", "xinsir-openpose-sdxl-1.0.safetensors", "controlnet",
              "https://huggingface.co/xinsir/controlnet-openpose-sdxl-1.0/resolve/main/"
              "diffusion_pytorch_model.safetensors",
              2500, "Apache-2.0", None, "character_sprite_sheet (optional pose guidance)"),
    ModelFile("sd15", "v1-5-pruned-emaonly.safetensors", "checkpoints",
              "https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/"
              "v1-5-pruned-emaonly.safetensors",
              4270, "CreativeML Open RAIL-M",
              "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa", "SD1.5 variants for small GPUs"),
    ModelFile("openpose-sd15", "control_v11p_sd15_openpose_fp16.safetensors", "controlnet",
              "https://huggingface.co/comfyanonymous/ControlNet-v1-1_fp16_safetensors/resolve/main/"
              "control_v11p_sd15_openpose_fp16.safetensors",
              723, "CreativeML Open RAIL-M", None, "SD1.5 variants (pose guidance)"),
)


def load_catalog(path: str | Path | None = None) -> dict[str, ModelFile]:
    """The built-in catalogue, or one from a JSON file (a list of objects with ModelFile's fields)."""
    if path is None:
        return {m.name: m for m in CATALOG}
    try:
        entries = json.loads(Path(path).read_text())
        return {e["name"]: ModelFile(**e) for e in entries}
    except (OSError, ValueError, TypeError, KeyError) as err:
        raise InputError(f"{path}: not a model catalogue ({err})") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(name: str, done: int, total: int | None, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-6) / 1e6
    size = f"/{total / 1e6:.1f}" if total else ""
    print(f"\r{name}: {done / 1e6:.1f}{size} MB ({rate:.1f} MB/s)", end="", file=sys.stderr, flush=True)


def download(model: ModelFile, models_dir: Path, retries: int = 5, timeout: float = 60.0) -> Path:
    """Fetch ``model`` into ``models_dir/<folder>/<filename>``; resumes a ``.part`` file; checks sha256.

    The final file appears only once complete and verified; a mismatch keeps nothing under the final name.
    """
    target = models_dir / model.folder / model.filename
    if target.exists() and (model.sha256 is None or sha256_of(target) == model.sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    started = time.monotonic()
    for attempt in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(model.url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if have and response.status != 206:
                    have = 0  # the server ignored the range: start over
                length = response.headers.get("Content-Length")
                total = have + int(length) if length else None
                with open(part, "ab" if have else "wb") as handle:
                    done = have
                    for block in iter(lambda: response.read(CHUNK), b""):
                        handle.write(block)
                        done += len(block)
                        _progress(model.name, done, total, started)
                if total is not None and done < total:
                    raise ConnectionError(f"connection closed at {done} of {total} bytes")
            break
        except urllib.error.HTTPError as err:
            if err.code == 416 and have:  # asked past the end: the part file is already whole
                break
            raise InputError(f"{model.name}: {model.url} answered HTTP {err.code}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as err:
            if attempt == retries:
                raise InputError(
                    f"{model.name}: download failed after {retries + 1} tries ({err}); run the same command again "
                    f"to resume from {part}"
                ) from None
            print(f"\n{model.name}: {err}; retrying in {2 ** attempt} s", file=sys.stderr)
            time.sleep(min(2 ** attempt, 30))
    print(file=sys.stderr)
    digest = sha256_of(part)
    if model.sha256 and digest != model.sha256:
        part.unlink()
        raise InputError(f"{model.name}: sha256 mismatch (expected {model.sha256}, got {digest}); the download was "
                         "deleted, nothing was installed")
    os.replace(part, target)
    (target.parent / (target.name + ".sha256")).write_text(f"{digest}  {target.name}\n")
    return target
