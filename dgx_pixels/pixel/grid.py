"""Recover the true pixel grid of "fake" pixel art: big, uneven cells on a grid that drifts, soft edges, noise,
texture inside cells, stray details smaller than a cell and JPEG blocks.

Edge profiles per axis at several scale levels (edges.py) score every candidate cell count, both axes together
(spacing.py); the cuts of the chosen counts then follow any drift and move onto the edges they stand for
(cuts.py). The profiles are batched torch on the image's device; the per-axis work on them (1-D, a few thousand
values) runs in numpy after one read back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..common.errors import InputError
from ..common.sizes import parse_size
from ..image.ops import check_image, check_mask
from .cells import flat_cell_share
from .cuts import follow_drift, predicted_cuts, snap_cuts
from .edges import edge_profiles, level_for_cell, levels_for_range
from .spacing import PEAK_LEVEL, axis_fit, choose_counts, fit_strength, grid_fit

MIN_CONFIDENCE = 0.25
MIN_FLAT_SHARE = 0.5  # below this share of the colour variance between cells, the "cells" are not pixels
LONE_AXIS_PENALTY = 0.5  # an axis without edges takes the other's cell size; the grid is then less sure


@dataclass
class PixelGrid:
    """Cut positions per axis, in input pixels: ``cuts_x[i]..cuts_x[i+1]`` is native column ``i``."""

    cuts_x: list[int]
    cuts_y: list[int]
    confidence: float
    input_size: tuple[int, int]  # (width, height) of the image the grid was found on

    @property
    def native_size(self) -> tuple[int, int]:
        return len(self.cuts_x) - 1, len(self.cuts_y) - 1

    @property
    def cell_size(self) -> float:
        (w, h), (nw, nh) = self.input_size, self.native_size
        return (w / nw + h / nh) / 2

    @property
    def found(self) -> bool:
        return self.confidence > 0

    def to_dict(self) -> dict:
        return {"cuts_x": self.cuts_x, "cuts_y": self.cuts_y, "confidence": round(self.confidence, 4),
                "input_size": list(self.input_size), "native": list(self.native_size),
                "cell_size": round(self.cell_size, 3)}

    @classmethod
    def identity(cls, width: int, height: int) -> "PixelGrid":
        """One cell per pixel: what "no grid found" means (the image passes through unchanged)."""
        return cls(list(range(width + 1)), list(range(height + 1)), 0.0, (width, height))


@dataclass
class GridSet:
    """The GRID value in ComfyUI: one grid for a whole batch (locked) or one per image (same native size)."""

    grids: list[PixelGrid] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return len(self.grids) == 1

    def for_image(self, index: int) -> PixelGrid:
        return self.grids[0] if self.locked else self.grids[index]

    @property
    def confidence(self) -> float:
        return min(g.confidence for g in self.grids)


def detect_grid(
    image: torch.Tensor,
    mask: torch.Tensor | None = None,
    target_size: str = "",
    min_cell: float = 4.0,
    max_cell: float = 256.0,
    lock: bool = True,
) -> GridSet:
    """Find the pixel grid of an IMAGE batch; ``lock``: one grid for all frames, else one per frame (same size).

    ``target_size`` ("64x64", or "64" for a width alone) snaps the result to exactly that many cells.
    """
    image = check_image(image, min_size=1)
    mask = check_mask(mask, image)
    if not 1 <= min_cell <= max_cell:
        raise InputError(f"cell size range {min_cell}..{max_cell} is empty; give min <= max, both >= 1")
    batch, height, width, _ = image.shape
    want_w, want_h = (parse_size(target_size, "target size", lone="width", low=1) if target_size.strip()
                      else (None, None))
    if width < 2 or height < 2:
        return GridSet([PixelGrid.identity(width, height)])
    levels = sorted(set(levels_for_range(min_cell, max_cell)) | {PEAK_LEVEL})
    frames_x, frames_y = (frames.double().cpu().numpy() for frames in edge_profiles(image, mask, levels))
    profiles_x, profiles_y = frames_x.sum(0), frames_y.sum(0)  # [levels, L+1]
    if want_w:
        count_x = want_w
        count_y = want_h or max(1, round(height / (width / want_w)))
        confidence = 1e-3  # the size was given: the grid stands even where edges are weak
        fit_x = fit_y = None
    else:
        fit_x = axis_fit(profiles_x, min_cell, max_cell)
        fit_y = axis_fit(profiles_y, min_cell, max_cell)
        count_x, count_y, confidence = _counts(fit_x, fit_y, width, height)
        if confidence < MIN_CONFIDENCE:
            return GridSet([PixelGrid.identity(width, height)])
    if count_x > width or count_y > height:
        raise InputError(f"target size {count_x}x{count_y} is larger than the image ({width}x{height})")
    cuts = []
    for frames, profiles, fit, length, count in ((frames_x, profiles_x, fit_x, width, count_x),
                                                 (frames_y, profiles_y, fit_y, height, count_y)):
        level = int(level_for_cell(length / count))
        profile = profiles[level]
        offset = (float(fit.offset[fit.index(count)]) if fit is not None and 0 <= fit.index(count) < len(fit.counts)
                  else float(grid_fit(profile, np.array([count]))[1][0]))
        base = predicted_cuts(length, count, offset)
        # cuts are placed on the finest level (sharpest peaks); the count came from the level that suits it
        fine = profiles[PEAK_LEVEL]
        if not want_w:
            base = follow_drift(profile, base, min_cell)
        per_frame = [fine] if lock else list(frames[:, PEAK_LEVEL])
        cuts.append([snap_cuts(frame, base) for frame in per_frame])
    if not want_w:
        # a grid is only as sure as its cells are flat: boxes laid over noise or a photo line up with some edges
        # but hold as much colour variance inside as between them
        flat = float(torch.stack([flat_cell_share(image[index], *cuts_of(index, cuts))
                                  for index in range(batch)]).min())
        confidence = min(confidence, flat)
        if flat < MIN_FLAT_SHARE:
            return GridSet([PixelGrid.identity(width, height)])
    grids = [PixelGrid(cuts_x, cuts_y, confidence, (width, height)) for cuts_x, cuts_y in zip(*cuts)]
    return GridSet(grids)


def cuts_of(index: int, cuts: list[list[list[int]]]) -> tuple[list[int], list[int]]:
    """(cuts_x, cuts_y) of frame ``index`` from the per-axis lists (one entry when locked)."""
    cuts_x, cuts_y = cuts
    return cuts_x[min(index, len(cuts_x) - 1)], cuts_y[min(index, len(cuts_y) - 1)]


def _counts(fit_x, fit_y, width: int, height: int) -> tuple[int, int, float]:
    """(cells across, cells down, confidence); confidence 0 when no grid explains the edges."""
    if fit_x is None and fit_y is None:
        return 0, 0, 0.0
    if fit_x is None or fit_y is None:  # edges along one axis only: square cells of that axis's size
        fit = fit_x or fit_y
        count = int(fit.counts[int(fit.score.argmax())])
        other = max(1, round((height if fit is fit_x else width) / fit.cell(count)))
        confidence = LONE_AXIS_PENALTY * fit_strength(fit, count)
        return (count, other, confidence) if fit is fit_x else (other, count, confidence)
    count_x, count_y = choose_counts(fit_x, fit_y)
    return count_x, count_y, min(fit_strength(fit_x, count_x), fit_strength(fit_y, count_y))


def draw_grid(image: torch.Tensor, grids: GridSet, colour=(1.0, 0.24, 0.78), opacity: float = 0.75) -> torch.Tensor:
    """The input with each frame's cuts drawn as one-pixel lines (a diagnostic overlay)."""
    overlay = image[..., :3].clone()
    paint = torch.tensor(colour, dtype=overlay.dtype, device=overlay.device)
    height, width = overlay.shape[1:3]
    for index in range(overlay.shape[0]):
        grid = grids.for_image(index)
        if not grid.found:
            continue
        columns = torch.tensor(grid.cuts_x, device=overlay.device).clamp(max=width - 1)
        rows = torch.tensor(grid.cuts_y, device=overlay.device).clamp(max=height - 1)
        overlay[index, :, columns] = overlay[index, :, columns] * (1 - opacity) + paint * opacity
        overlay[index, rows, :] = overlay[index, rows, :] * (1 - opacity) + paint * opacity
    return overlay
