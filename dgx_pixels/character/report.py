"""The consistency check's inputs and picture: the reference brought to the frames' pixel scale, and the frames laid
out one strip per row with the failing ones marked."""
from __future__ import annotations

import math

import torch

from ..common.errors import InputError
from ..image.background import background_to_alpha
from ..image.ops import join_alpha, nearest_upscale
from ..pixel.downscale import downscale
from ..poses.openpose import tile_rows
from .consistency import Report

LARGER = 1.5  # a reference this much taller or wider than the frames is at another scale: brought down to theirs
PICTURE_CELL = 96  # frames are zoomed (whole numbers) to about this height in the picture
BACKDROP = (0.18, 0.18, 0.2)
MARKS = {"anchor": (0.25, 0.55, 1.0), "failed": (1.0, 0.15, 0.15), "passed": (0.35, 0.35, 0.38)}


def with_alpha(image: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """IMAGE ``[B, H, W, C]`` + MASK (1 = transparent) -> RGBA; a fully opaque image gets its plain backdrop (read
    from the border) made transparent, so a sprite on white still has a shape."""
    rgb = image[..., :3]
    transparent = torch.zeros(rgb.shape[:3], dtype=rgb.dtype, device=rgb.device) if mask is None else mask
    if transparent.shape[1:] != rgb.shape[1:3]:
        transparent = torch.zeros(rgb.shape[:3], dtype=rgb.dtype, device=rgb.device)
    if image.shape[-1] == 4:
        transparent = torch.maximum(transparent, 1 - image[..., 3])
    if not bool((transparent >= 0.5).any()) and min(rgb.shape[1:3]) >= 2:
        transparent, _ = background_to_alpha(rgb, transparent, lock_batch=False)
    return join_alpha(rgb, transparent.expand(rgb.shape[0], -1, -1))


def at_frame_scale(reference: torch.Tensor, frame_size: tuple[int, int]) -> torch.Tensor:
    """A reference RGBA batch ``[M, h, w, 4]`` at the frames' pixel scale: one drawn at the generation size (the
    anchor cell) is reduced to true pixels of the frames' size (height matched, aspect kept) by the pixel grid."""
    height, width = reference.shape[1:3]
    frame_w, frame_h = frame_size
    if height <= frame_h * LARGER and width <= frame_w * LARGER:
        return reference
    target_w = max(1, round(width * frame_h / height))
    native, native_mask, _ = downscale(reference[..., :3], 1 - reference[..., 3], target_size=f"{target_w}x{frame_h}")
    return join_alpha(native, native_mask)


def picture(frames: torch.Tensor, reference: torch.Tensor, report: Report) -> torch.Tensor:
    """RGBA ``[H, W, 4]``: the reference first (blue frame), then one row per strip, failing frames framed in red.
    Every frame is zoomed by one whole number so small sprites are easy to see."""
    if frames.shape[0] != len(report.frames):
        raise InputError(f"{frames.shape[0]} frames for a report of {len(report.frames)}")
    height = max(frames.shape[1], reference.shape[1])
    width = max(frames.shape[2], reference.shape[2])
    zoom = max(1, math.floor(PICTURE_CELL / height))

    def framed(image: torch.Tensor, mark: str) -> torch.Tensor:
        cell = image.new_zeros(height + 2, width + 2, 4)
        cell[..., :3] = torch.tensor(MARKS[mark], device=image.device)
        cell[..., 3] = 1
        inner = cell[1:-1, 1:-1]
        inner[..., :3] = torch.tensor(BACKDROP, device=image.device)
        top, left = height - image.shape[0], (width - image.shape[1]) // 2
        alpha = image[..., 3:]
        region = inner[top:, left:left + image.shape[1]]
        region[..., :3] = image[..., :3] * alpha + region[..., :3] * (1 - alpha)
        return cell

    cells = [framed(reference[0], "anchor")]
    cells += [framed(frame, "passed" if score.passed else "failed") for frame, score in zip(frames, report.frames)]
    rows: dict[str, list[int]] = {}
    for number, score in enumerate(report.frames, start=1):
        rows.setdefault(score.strip, []).append(number)
    sheet = tile_rows(torch.stack(cells), [[0], *rows.values()])
    empty = sheet[..., 3:] == 0  # the rest of a short row
    sheet = torch.where(empty, torch.tensor([*BACKDROP, 1.0], device=sheet.device), sheet)
    return nearest_upscale(sheet[None], zoom)[0]
