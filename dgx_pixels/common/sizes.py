"""Sizes typed as text (``64x64``, ``512``), one reading for every node input and command option."""
from __future__ import annotations

import re

from .errors import InputError

SIZE = re.compile(r"^\s*(\d+)\s*(?:[xX]\s*(\d+))?\s*$")


def parse_size(text: str, what: str = "size", *, lone: str = "error", low: int = 0,
               high: int | None = None) -> tuple[int, int | None]:
    """``"WxH"`` -> (W, H). A lone number is refused (``lone="error"``), a square (``"square"``) or a width whose
    height is left open (``"width"``: (W, None)). Each given side must be in ``low``..``high``."""
    match = SIZE.match(text)
    if match and match[2] is None and lone == "error":
        match = None
    example = "64x64" + {"square": " or 64 (a square)", "width": " or 64 (a width alone)"}.get(lone, "")
    if not match:
        raise InputError(f"{what} {text!r} is not a size like {example}")
    width = int(match[1])
    height = int(match[2]) if match[2] is not None else (width if lone == "square" else None)
    limits = f"from {low}" + (f" to {high}" if high is not None else "")
    for side in (width, height):
        if side is not None and (side < low or (high is not None and side > high)):
            raise InputError(f"{what} {text!r}: each side must be {limits} pixels")
    return width, height
