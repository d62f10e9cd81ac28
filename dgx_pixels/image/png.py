"""PNG encoding for files a game loads: 8-bit RGBA pixels and optimised PNG bytes with no text chunks."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ..common.errors import InputError


def to_uint8(pixels) -> np.ndarray:
    """8-bit pixels from a float tensor/array in 0..1 (or an array already uint8), any shape."""
    if hasattr(pixels, "detach"):
        pixels = pixels.detach().float().cpu().numpy()
    array = np.asarray(pixels)
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    return array


def to_rgba8(sheet) -> np.ndarray:
    """A sheet as ``[H, W, 4]`` uint8 from a float tensor/array in 0..1 or a uint8 array."""
    array = to_uint8(sheet)
    if array.ndim != 3 or array.shape[-1] != 4:
        raise InputError(f"the sheet must be RGBA [height, width, 4], got {list(array.shape)}")
    return array


def png_bytes(rgba: np.ndarray) -> bytes:
    """RGBA PNG, optimised, with no text chunks (no ComfyUI prompt or workflow inside the game's assets)."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
