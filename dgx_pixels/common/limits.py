"""How many pixels one image (and one batch) may hold before anything is decoded or allocated.

A 12000x12000 PNG is 140 KB on disk and over 6 GB once decoded and processed; a pose batch of 1024 frames of
4096x4096 is 200 GB of float32. Sizes are known before the work starts (an image file's header, a node's inputs),
so they are checked first and refused with a message that says how to raise the limit.

The default is sized for a 24 GB machine: about 120 bytes per pixel are alive at the peak of ``pixelize`` (measured
on 1000^2 to 4000^2 images), so one 64-megapixel image needs about 8 GB, and two processed side by side still fit.
A batch (a pose batch's skeletons, a sheet's frames together) may hold four times that: its pixels are kept as
float32 RGB(A) but not processed all at once.
"""
from __future__ import annotations

import os

from .errors import InputError

PIXEL_LIMIT_ENV = "DGX_PIXELS_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 8192 * 8192
BATCH_FACTOR = 4


def pixel_limit(override: int | None = None) -> int:
    """The most pixels one image may have: ``override`` (a command's --max-pixels), else DGX_PIXELS_MAX_PIXELS,
    else the default."""
    if override is not None:
        value, source = override, "--max-pixels"
    else:
        text = os.environ.get(PIXEL_LIMIT_ENV, "").strip().replace("_", "")
        if not text:
            return DEFAULT_MAX_PIXELS
        source = PIXEL_LIMIT_ENV
        try:
            value = int(text)
        except ValueError:
            raise InputError(f"{PIXEL_LIMIT_ENV}={text[:40]!r} is not a whole number of pixels") from None
    if value < 1:
        raise InputError(f"{source} must be at least 1 pixel, got {value}")
    return value


def check_image_size(width: int, height: int, what: str, override: int | None = None) -> None:
    """Refuse one image of ``width`` x ``height`` over the limit, before it is decoded or allocated."""
    _refuse_over(width * height, pixel_limit(override), f"{what} is {width}x{height}")


def check_batch_pixels(total: int, what: str, override: int | None = None) -> None:
    """Refuse a batch of ``total`` pixels (frames x width x height) over the batch limit."""
    _refuse_over(total, pixel_limit(override) * BATCH_FACTOR, what)


def _refuse_over(total: int, limit: int, what: str) -> None:
    if total > limit:
        raise InputError(f"{what} = {total:,} pixels, over the limit of {limit:,}; raise it with {PIXEL_LIMIT_ENV} "
                         "if this machine has the memory")
