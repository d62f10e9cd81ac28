"""Recover the true pixel grid of "fake" pixel art: big, uneven cells on a grid that drifts, soft edges, noise.

Per axis, an edge profile (colour steps between neighbouring columns or rows, above the noise floor, averaged over
the image) is scored against every candidate cell count ``n``: how much edge energy lies near the cuts of a
uniform ``n``-cell grid (its offset taken from the profile's Fourier phase at ``n``). The best fit wins (a cut on the
image border breaks near-ties), unless a grid of 2, 3 or 4 times coarser cells fits nearly as well: finer grids
explain the true edges too. Where the cell size drifts along the axis, cuts walked from edge to edge one local cell
at a time replace the uniform grid when they explain clearly more. Each cut then moves to the strongest edge near
it, so irregular and drifting grids are recovered cut by cut. Everything is batched torch on the image's device.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..common.errors import InputError
from ..common.sizes import parse_size
from ..image.ops import check_image, check_mask

FIT_TOLERANCE = 0.25  # an edge within this share of a cell from a cut counts as explained by it
NEAR_BEST = 0.04  # a coarser grid wins if it explains this much less edge energy than the best, or less
SNAP_WINDOW = 0.35  # a cut may move this share of a cell towards the strongest edge near it
# Art that fills the canvas starts a cell at the border; among grids that fit alike, prefer that.
PHASE_WEIGHT = 0.1
CHANCE_FIT = 2 * FIT_TOLERANCE  # what a grid explains of edges placed at random
MIN_CONFIDENCE = 0.25
MAX_CELL_ASPECT = 1.3
DRIFT_MARGIN = 0.02  # how much more edge energy walked cuts must explain to replace the uniform grid


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


def edge_profiles(image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Edge energy between neighbouring columns ``[B, W+1]`` and rows ``[B, H+1]``, indexed by cut position.

    Colour steps below twice the typical (median) step count as noise and are ignored; alpha steps count fully.
    """
    rgb = image[..., :3]
    steps_x = (rgb[:, :, 1:] - rgb[:, :, :-1]).abs().sum(-1) + 3 * (mask[:, :, 1:] - mask[:, :, :-1]).abs()
    steps_y = (rgb[:, 1:] - rgb[:, :-1]).abs().sum(-1) + 3 * (mask[:, 1:] - mask[:, :-1]).abs()
    sample = steps_x[:, ::3, ::3].reshape(steps_x.shape[0], -1)
    floor = 2 * sample.median(dim=1).values.clamp(min=1e-3)[:, None, None]
    # squared, so a few strong colour edges outweigh the many faint steps of shading drift and noise
    profile_x = (steps_x - floor).clamp(min=0).square().mean(dim=1)
    profile_y = (steps_y - floor.transpose(1, 2)).clamp(min=0).square().mean(dim=2)
    return F.pad(profile_x, (1, 1)), F.pad(profile_y, (1, 1))


def grid_fit(profile: torch.Tensor, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each candidate cell count, (share of edge energy near its cuts, grid offset in pixels).

    ``profile``: ``[L+1]`` edge energy by cut position for an axis of length L; ``counts``: ``[N]`` cell counts
    (at most L/2).
    """
    length = profile.shape[0] - 1
    counts = counts.to(profile.device)
    energy = profile.double()
    # A comb of n cuts repeats every L/n pixels: where it lines up best is the phase of the profile's Fourier
    # coefficient n (position L is position 0 again), one FFT for every candidate at once.
    folded = torch.cat([energy[:1] + energy[-1:], energy[1:length]])
    harmonic = torch.fft.rfft(folded)[counts]
    cell = length / counts.double()  # [N]
    offset = (-torch.angle(harmonic) / (2 * math.pi)) % 1.0 * cell
    # the energy within FIT_TOLERANCE of a cell around each cut, from prefix sums (the windows never overlap)
    cumulative = F.pad(energy.cumsum(0), (1, 0))  # cumulative[i]: energy at positions < i
    steps = torch.arange(-1, int(counts.max()) + 1, device=profile.device, dtype=torch.float64)
    cuts = offset[:, None] + steps[None, :] * cell[:, None]  # [N, K]
    reach = (FIT_TOLERANCE * cell)[:, None]
    first = (cuts - reach).ceil().clamp(0, length + 1).long()
    after_last = (cuts + reach).floor().clamp(-1, length).long() + 1
    near = (cumulative[after_last] - cumulative[first]).clamp(min=0).sum(dim=1)
    explained = near / energy.sum().clamp(min=1e-9)
    return explained.to(profile.dtype), offset.to(profile.dtype)


def choose_count(profile: torch.Tensor, min_cell: float, max_cell: float) -> tuple[int, float]:
    """(cell count, confidence) for one axis; count 0 when no grid explains the edges."""
    length = profile.shape[0] - 1
    low = max(1, math.ceil(length / max_cell))
    high = min(length // 2, math.floor(length / min_cell))
    if high < low or profile.sum() <= 0:
        return 0, 0.0
    counts = torch.arange(low, high + 1, device=profile.device)
    explained, offsets = grid_fit(profile, counts)
    cells = length / counts.to(profile.dtype)
    phase_error = torch.minimum(offsets, cells - offsets) / cells  # 0: a cut falls on the image border
    score = explained - PHASE_WEIGHT * phase_error
    chosen = int(score.argmax())
    # A grid whose cells are 2, 3 or 4 true cells may fit as well when edges are sharp: take the coarsest such
    # divisor that fits nearly as well.
    for factor in (4, 3, 2):
        count = int(counts[chosen])
        if count % factor == 0 and count // factor >= low:
            coarser = count // factor - low
            if score[coarser] >= score[chosen] - NEAR_BEST:
                chosen = coarser
                break
    confidence = float(((explained[chosen] - CHANCE_FIT) / (1 - CHANCE_FIT)).clamp(0, 1))
    return int(counts[chosen]), confidence


def predicted_cuts(length: int, count: int, offset: float) -> torch.Tensor:
    """Uniform cuts for ``count`` cells: 0, the comb's cuts inside the axis, and ``length``."""
    cell = length / count
    inner = offset + cell * torch.arange(-1, count + 2, dtype=torch.float64)
    inner = inner[(inner > 0.5 * cell) & (inner < length - 0.5 * cell)]
    return torch.cat([torch.tensor([0.0], dtype=torch.float64), inner,
                      torch.tensor([float(length)], dtype=torch.float64)])


def snap_cuts(profile: torch.Tensor, cuts: torch.Tensor) -> list[int]:
    """Move every inner cut to the strongest edge within SNAP_WINDOW of a cell; keep it where no edge stands out."""
    length = profile.shape[0] - 1
    cell = length / (len(cuts) - 1)
    radius = max(1, int(SNAP_WINDOW * cell))
    inner = cuts[1:-1].round().long().to(profile.device)
    if len(inner) == 0:
        return [0, length]
    window = inner[:, None] + torch.arange(-radius, radius + 1, device=profile.device)[None, :]
    valid = (window > 0) & (window < length)
    values = torch.where(valid, profile[window.clamp(0, length)], torch.zeros((), device=profile.device))
    peak, where = values.max(dim=1)
    strong = peak > 0.25 * peak.median().clamp(min=1e-9)
    # the centre of the edge energy around the peak: blurred edges have wide, flat peaks
    near_peak = (values >= 0.6 * peak[:, None]) & valid
    weights = torch.where(near_peak, values, torch.zeros((), device=profile.device))
    centre = (weights * window).sum(1) / weights.sum(1).clamp(min=1e-9)
    snapped = torch.where(strong, centre.round().long(), inner)
    result = [0] + snapped.tolist() + [length]
    # keep the cuts in order with no empty cells
    for i in range(1, len(result) - 1):
        result[i] = min(max(result[i], result[i - 1] + 1), length - (len(result) - 1 - i))
    return result


def walk_cuts(profile: torch.Tensor, cell: float, start: float = 0.0) -> list[int]:
    """Cuts found by stepping one cell at a time to the strongest edge 0.7..1.3 cells ahead: follows a grid
    whose cell size drifts along the axis. A step with no clear edge moves exactly one cell."""
    values = profile.tolist()  # a 1-D profile: a Python walk over cells, not pixels
    length = len(values) - 1
    threshold = 0.25 * float(profile[profile > 0].median()) if bool((profile > 0).any()) else 0.0
    cuts, position = [0], start if start > 0.5 * cell else 0.0
    if position:
        cuts.append(round(position))
    step = cell
    while length - position >= 1.5 * step:
        low, high = int(position + 0.7 * step), min(length - 1, int(position + 1.3 * step) + 1)
        window = values[low:high + 1]
        peak = max(window)
        if peak > threshold:
            near = [(i + low, v) for i, v in enumerate(window) if v >= 0.6 * peak]
            # Always a pixel forward: cells under 2 pixels round to cuts that would stand still, never ending.
            position = max(sum(i * v for i, v in near) / sum(v for _, v in near), cuts[-1] + 1)
        else:
            position += step
        cuts.append(round(position))
        gaps = sorted(b - a for a, b in zip(cuts[-4:], cuts[-3:]))
        step = max(1, gaps[len(gaps) // 2]) if len(cuts) > 3 else cell  # the local cell size, as it drifts
    cuts.append(length)
    return cuts


def cut_fit(profile: torch.Tensor, cuts: list[int]) -> float:
    """Share of the edge energy within FIT_TOLERANCE of a local cell from the nearest cut."""
    positions = torch.arange(profile.shape[0], device=profile.device, dtype=torch.float64)
    edges = torch.tensor(cuts, device=profile.device, dtype=torch.float64)
    right = torch.searchsorted(edges, positions).clamp(1, len(cuts) - 1)
    left_cut, right_cut = edges[right - 1], edges[right]
    distance = torch.minimum(positions - left_cut, right_cut - positions)
    near = distance <= FIT_TOLERANCE * (right_cut - left_cut)
    return float((profile * near).sum() / profile.sum().clamp(min=1e-9))


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
    profile_x, profile_y = edge_profiles(image, mask)
    count_x, conf_x = choose_count(profile_x.sum(0), min_cell, max_cell)
    count_y, conf_y = choose_count(profile_y.sum(0), min_cell, max_cell)
    count_x, count_y = _square_cells(count_x, count_y, width, height, profile_x.sum(0), profile_y.sum(0),
                                     min_cell, max_cell)
    confidence = min(conf_x, conf_y) if count_x and count_y else 0.0
    if confidence and max(width / count_x, height / count_y) > MAX_CELL_ASPECT * min(width / count_x,
                                                                                       height / count_y):
        confidence = 0.0  # pixels are square: axes that disagree this much found texture, not a grid
    if want_w:
        count_x = want_w
        count_y = want_h or max(1, round(height / (width / want_w)))
        confidence = max(confidence, 1e-3)  # the size was given: the grid stands even where edges are weak
    elif confidence < MIN_CONFIDENCE:
        return GridSet([PixelGrid.identity(width, height)])
    if count_x > width or count_y > height:
        raise InputError(f"target size {count_x}x{count_y} is larger than the image ({width}x{height})")
    offset_x = _offset_for(profile_x.sum(0), count_x)
    offset_y = _offset_for(profile_y.sum(0), count_y)
    base_x = _exact_count(predicted_cuts(width, count_x, offset_x), width, count_x)
    base_y = _exact_count(predicted_cuts(height, count_y, offset_y), height, count_y)
    if not want_w:
        base_x = _follow_drift(profile_x.sum(0), base_x)
        base_y = _follow_drift(profile_y.sum(0), base_y)
    frames = [profile_x.sum(0)[None], profile_y.sum(0)[None]] if lock else [profile_x, profile_y]
    grids = [PixelGrid(snap_cuts(px, base_x), snap_cuts(py, base_y), confidence, (width, height))
             for px, py in zip(*frames)]
    return GridSet(grids)


def _follow_drift(profile: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Walked cuts instead of the uniform grid where they explain clearly more edges (a drifting grid; the
    uniform fit may then also have missed a cell or two)."""
    length = profile.shape[0] - 1
    walked = walk_cuts(profile, length / (len(uniform) - 1), float(uniform[1]) if len(uniform) > 2 else 0.0)
    if cut_fit(profile, walked) > cut_fit(profile, snap_cuts(profile, uniform)) + DRIFT_MARGIN:
        return torch.tensor(walked, dtype=torch.float64)
    return uniform


def _offset_for(profile: torch.Tensor, count: int) -> float:
    return float(grid_fit(profile, torch.tensor([count], device=profile.device))[1][0])


def _exact_count(cuts: torch.Tensor, length: int, count: int) -> torch.Tensor:
    """Make the cut list give exactly ``count`` cells (edge cells of an offset grid may round either way)."""
    if len(cuts) - 1 == count:
        return cuts
    return torch.linspace(0, length, count + 1, dtype=torch.float64)


def _square_cells(count_x: int, count_y: int, width: int, height: int, profile_x: torch.Tensor,
                  profile_y: torch.Tensor, min_cell: float, max_cell: float) -> tuple[int, int]:
    """Pixel art has square pixels: when the axes disagree on the cell size, let the axis whose fit barely
    changes take the other's size (e.g. an axis with few edges, where a multiple of the cell fits as well)."""
    if not count_x or not count_y:
        return count_x, count_y
    cell_x, cell_y = width / count_x, height / count_y
    if abs(cell_x - cell_y) <= 0.15 * min(cell_x, cell_y):
        return count_x, count_y
    fit = {}
    for name, profile, length, mine, other in (("x", profile_x, width, count_x, cell_y),
                                               ("y", profile_y, height, count_y, cell_x)):
        proposed = max(1, round(length / other))
        if not (length / max_cell <= proposed <= length / min_cell):
            continue
        explained, _ = grid_fit(profile, torch.tensor([mine, proposed], device=profile.device))
        fit[name] = (float(explained[0] - explained[1]), proposed)
    if not fit:
        return count_x, count_y
    axis, (loss, proposed) = min(fit.items(), key=lambda item: item[1][0])
    if loss > 2 * NEAR_BEST:
        return count_x, count_y
    return (proposed, count_y) if axis == "x" else (count_x, proposed)


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
