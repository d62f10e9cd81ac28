"""PNG encoding for files a game loads: 8-bit pixels, indexed when the image has at most 256 colours, losslessly
optimised with oxipng, with no text chunks.

Pixel art is naturally indexed: a sheet of 16 colours stored as RGBA spends 32 bits on what 4 bits say. An image
with at most 256 distinct RGBA values is written as a palette (PLTE) with per-entry alpha (tRNS); it decodes to
exactly the same RGBA pixels. oxipng then tries its filters, bit depths and colour types and keeps the smallest
lossless file (it may turn a grey palette into greyscale, say); every decoder engines use reads all of them.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ..common.errors import InputError

PALETTE_LIMIT = 256
OXIPNG_LEVEL = 2  # oxipng's own default: higher levels take several times longer for a few bytes more

try:  # a runtime requirement; without its wheel (an unusual platform) PNGs are still written, only larger
    import oxipng
except ImportError:  # pragma: no cover - depends on the platform
    oxipng = None


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


def indexed(rgba: np.ndarray) -> Image.Image | None:
    """The image as a palette image with per-entry alpha, or None when it has more than 256 colours."""
    packed = np.ascontiguousarray(rgba).view(np.uint32).reshape(rgba.shape[:2])
    colours, indices = np.unique(packed, return_inverse=True)
    if len(colours) > PALETTE_LIMIT:
        return None
    entries = colours.view(np.uint8).reshape(-1, 4)
    image = Image.fromarray(indices.reshape(rgba.shape[:2]).astype(np.uint8), "P")
    image.putpalette(entries[:, :3].tobytes(), rawmode="RGB")
    image.info["transparency"] = entries[:, 3].tobytes()
    return image


def optimised(data: bytes) -> bytes:
    """``data`` (a PNG) made as small as oxipng can without changing a pixel, every ancillary chunk dropped."""
    if oxipng is None:
        return data
    return oxipng.optimize_from_memory(data, level=OXIPNG_LEVEL, strip=oxipng.StripChunks.all())


def png_bytes(rgba: np.ndarray, *, palette: bool = True, optimise: bool = True) -> bytes:
    """The PNG a game loads: indexed when it can be (``palette``), oxipng-optimised (``optimise``), no text chunks
    (no ComfyUI prompt or workflow inside the game's assets). Decodes to exactly ``rgba``."""
    rgba = np.ascontiguousarray(rgba)
    image = (indexed(rgba) if palette else None) or Image.fromarray(rgba, "RGBA")
    buffer = io.BytesIO()
    if optimise and oxipng is not None:  # oxipng recompresses anyway: a fast first deflate is enough
        image.save(buffer, format="PNG", compress_level=1)
        return optimised(buffer.getvalue())
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
