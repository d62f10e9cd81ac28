"""Edge profiles: how much colour (and alpha) step lies between each pair of neighbouring columns or rows.

A profile is built per scale level. At level ``(radius, rows)`` the image is first averaged over bands of ``rows``
rows (for the column profile; columns for the row profile), then the step at each cut position is the difference
between the mean of the ``radius`` pixels after it and the ``radius`` pixels before it (a box step: blurred edges
count whole, pixel noise averages out). Steps below a few times the typical step are noise; the rest count
squared, averaged over the bands. Coarse levels see the soft, low-contrast edges of big cells and none of the
texture inside them; fine levels resolve small cells. A candidate cell size is judged on the level that suits it
(``level_for_cell``).
"""
from __future__ import annotations

import torch

# (step radius, rows averaged) per level, in input pixels: the radius is about a quarter of the cells it suits and
# the band about half of them, so a one-cell detail still shows whole.
LEVELS = ((2, 4), (4, 8), (8, 16), (16, 32))
CELL_PER_RADIUS = 4.0
NOISE_FACTOR = 3.0  # steps below this many times the median step are noise
NOISE_SAMPLES = 16384  # the median is taken over at most about this many steps
ALPHA_WEIGHT = 3.0  # an alpha step counts like a full step in every colour channel


def level_for_cell(cell: torch.Tensor) -> torch.Tensor:
    """The level whose step radius is nearest (in ratio) to a quarter of each cell size."""
    radius = (cell / CELL_PER_RADIUS).clamp(min=1.0)
    return (torch.log2(radius / LEVELS[0][0]).round().long()).clamp(0, len(LEVELS) - 1)


def edge_profiles(image: torch.Tensor, mask: torch.Tensor, levels: list[int] | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Edge energy by cut position: columns ``[B, len(LEVELS), W+1]`` and rows ``[B, len(LEVELS), H+1]``.

    ``levels``: which levels to compute (the others stay zero); all by default.
    """
    wanted = set(range(len(LEVELS)) if levels is None else levels)
    data = image[..., :3]  # [B, H, W, C]
    if bool(mask.any()):
        data = torch.cat([data, ALPHA_WEIGHT * mask[..., None]], dim=-1)
    batch, height, width, _ = data.shape
    columns = data.new_zeros((batch, len(LEVELS), width + 1))
    rows = data.new_zeros((batch, len(LEVELS), height + 1))
    # Each level's bands are pairs of the previous level's bands: the averaging costs about one pass per axis.
    row_bands, column_bands, band = data, data, 1
    for level in range(max(wanted) + 1):
        while band < LEVELS[level][1]:
            row_bands, column_bands, band = _pairs(row_bands, 1), _pairs(column_bands, 2), 2 * band
        if level in wanted:
            radius = LEVELS[level][0]
            columns[:, level] = _axis_profile(row_bands, radius, along=2)
            rows[:, level] = _axis_profile(column_bands, radius, along=1)
    return columns, rows


def _pairs(data: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean of neighbouring pairs along ``dim`` (a last odd one stays as it is); unchanged when only one is left."""
    size = data.shape[dim]
    if size < 2:
        return data
    end = size - size % 2
    even = data.narrow(dim, 0, end)
    pairs = (even[_every_other(dim, 0)] + even[_every_other(dim, 1)]) * 0.5
    return torch.cat([pairs, data.narrow(dim, end, 1)], dim=dim) if size % 2 else pairs


def _every_other(dim: int, start: int) -> tuple:
    return (slice(None),) * dim + (slice(start, None, 2),)


def _axis_profile(bands: torch.Tensor, radius: int, along: int) -> torch.Tensor:
    """``[B, H', W', C]`` with steps along dim ``along`` (1 or 2), bands along the other -> ``[B, L+1]``."""
    batch, length = bands.shape[0], bands.shape[along]
    # Box means from one cumulative sum: with the axis padded by r copies of its end pixels (no step there) and
    # S[i] the sum of the first i padded pixels, the step at cut x (between pixels x - 1 and x) is
    # mean(x .. x+r-1) - mean(x-r .. x-1) = (S[x + 2r] - 2 S[x + r] + S[x]) / r.
    ends = list(bands.shape)
    ends[along] = radius
    start = list(bands.shape)
    start[along] = 1
    padded = torch.cat([bands.new_zeros(start), bands.narrow(along, 0, 1).expand(ends), bands,
                        bands.narrow(along, length - 1, 1).expand(ends)], dim=along)
    cumulative = padded.cumsum(dim=along)
    span = length + 1
    step = (cumulative.narrow(along, 2 * radius, span) - 2 * cumulative.narrow(along, radius, span)
            + cumulative.narrow(along, 0, span)) / radius
    strength = step.abs().sum(dim=-1)  # [B, ...] with the cut positions along ``along``
    flat = strength.reshape(batch, -1)
    stride = max(1, flat.shape[1] // NOISE_SAMPLES)
    floor = NOISE_FACTOR * flat[:, ::stride].median(dim=1).values.clamp(min=1e-4)
    return (strength - floor[:, None, None]).clamp(min=0).square().mean(dim=3 - along)


def levels_for_range(min_cell: float, max_cell: float) -> list[int]:
    """The levels that candidate cells between ``min_cell`` and ``max_cell`` are judged on."""
    low, high = level_for_cell(torch.tensor([min_cell, max(min_cell, max_cell)], dtype=torch.float64)).tolist()
    return list(range(low, high + 1))

