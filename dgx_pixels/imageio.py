"""PNG files <-> ComfyUI-style tensors for the command line and tests (IMAGE ``[B,H,W,3]`` + MASK ``[B,H,W]``)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .errors import InputError


def load_image(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Read any Pillow-readable file as IMAGE ``[1,H,W,3]`` and MASK ``[1,H,W]`` (1 = transparent)."""
    try:
        with Image.open(path) as im:
            im.load()
            rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable image ({err})") from None
    tensor = torch.from_numpy(rgba).unsqueeze(0)
    return tensor[..., :3].contiguous(), (1.0 - tensor[..., 3]).contiguous()


def to_pil(image: torch.Tensor, mask: torch.Tensor | None = None) -> Image.Image:
    """One image ``[H,W,3]`` (+ mask ``[H,W]``) -> an RGB or RGBA Pillow image (RGBA when any pixel is see-through)."""
    rgb = (image[..., :3].detach().float().cpu().clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    if mask is None or not bool((mask > 0).any()):
        return Image.fromarray(rgb, "RGB")
    alpha = ((1.0 - mask.detach().float().cpu().clamp(0, 1)) * 255).round().to(torch.uint8).numpy()
    return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")


def save_png(path: str | Path, image: torch.Tensor, mask: torch.Tensor | None = None) -> Path:
    """Write one image as PNG, atomically: a crash never leaves a half-written file under ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        to_pil(image, mask).save(tmp, format="PNG", optimize=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
