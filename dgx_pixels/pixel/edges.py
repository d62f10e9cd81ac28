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

import numpy as np
import torch
import torch.nn.functional as F

# (step radius, rows averaged) per level, in input pixels: the radius is about a quarter of the cells it suits and
# the band about half of them, so a one-cell detail still shows whole.
LEVELS = ((2, 4), (4, 8), (8, 16), (16, 32))
CELL_PER_RADIUS = 4.0
NOISE_FACTOR = 3.0  # steps below this many times the median step are noise
NOISE_SAMPLES = 4096  # the median is taken over at most about this many steps
ALPHA_WEIGHT = 3.0  # an alpha step counts like a full step in every colour channel


def level_for_cell(cell: float | np.ndarray) -> np.ndarray:
    """The level whose step radius is nearest (in ratio) to a quarter of each cell size."""
    radius = np.maximum(np.asarray(cell, dtype=np.float64) / CELL_PER_RADIUS, 1.0)
    return np.round(np.log2(radius / LEVELS[0][0])).astype(np.int64).clip(0, len(LEVELS) - 1)


def edge_profiles(image: torch.Tensor, mask: torch.Tensor, levels: list[int] | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Edge energy by cut position: columns ``[B, len(LEVELS), W+1]`` and rows ``[B, len(LEVELS), H+1]``.

    ``levels``: which levels to compute (the others stay zero); all by default.
    """
    wanted = set(range(len(LEVELS)) if levels is None else levels)
    data = image[..., :3]  # [B, H, W, C]
    if float(mask.amax()) > 0:  # (amax: several times faster than any() on a float mask)
        data = torch.cat([data, ALPHA_WEIGHT * mask[..., None]], dim=-1)
    batch, height, width, _ = data.shape
    columns = data.new_zeros((batch, len(LEVELS), width + 1))
    rows = data.new_zeros((batch, len(LEVELS), height + 1))
    # The first level's bands are read from the image in one pass per axis, then laid out as planes per channel
    # with the axis of the steps last (every later operation then runs along contiguous rows): ``[B, C, bands,
    # L + 2 * reach]``, padded once with as many copies of the end pixels (no step there) as the widest step
    # reaches (a narrower step near the ends sees the same values). Each later level's bands are pairs of the
    # previous level's.
    band, reach = LEVELS[0][1], max(LEVELS[level][0] for level in wanted)
    column_planes = _planes(_bands(data, 1, band), reach)
    row_planes = _planes(_bands(data, 2, band).transpose(1, 2), reach)
    for level in range(max(wanted) + 1):
        while band < LEVELS[level][1]:
            column_planes, row_planes, band = _pairs(column_planes, 2), _pairs(row_planes, 2), 2 * band
        if level in wanted:
            radius = LEVELS[level][0]
            columns[:, level] = _axis_profile(column_planes, radius, reach)
            rows[:, level] = _axis_profile(row_planes, radius, reach, transposed=True)
    return columns, rows


def _bands(data: torch.Tensor, dim: int, factor: int) -> torch.Tensor:
    """Means of ``factor`` (a power of two) neighbours along ``dim`` (1: rows, 2: columns of ``[B, H, W, C]``):
    what ``log2(factor)`` rounds of ``_pairs`` give, with the whole groups averaged at once (a strided convolution
    across columns, where a reshape would read the channels interleaved)."""
    size = data.shape[dim]
    whole = size - size % factor
    tail = data.narrow(dim, whole, size - whole)
    for _ in range(factor.bit_length() - 1):
        tail = _pairs(tail, dim)
    if whole == 0:
        return tail
    if dim == 1:
        batch, _, width, channels = data.shape
        groups = data.narrow(1, 0, whole).reshape(batch, whole // factor, factor, width, channels).mean(dim=2)
    else:
        channels = data.shape[3]
        weight = data.new_full((channels, 1, 1, factor), 1.0 / factor)
        # (the stride leaves the tail out; narrowing first would cost a copy of the image)
        groups = F.conv2d(data.permute(0, 3, 1, 2), weight, stride=(1, factor), groups=channels).permute(0, 2, 3, 1)
    return torch.cat([groups, tail], dim=dim) if tail.shape[dim] else groups


def _pairs(data: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean of neighbouring pairs along ``dim`` (a last odd one stays as it is); unchanged when only one is left."""
    size = data.shape[dim]
    if size < 2:
        return data
    end = size - size % 2
    even = data.narrow(dim, 0, end)
    pairs = (even[_every_other(dim, 0)] + even[_every_other(dim, 1)]).mul_(0.5)
    return torch.cat([pairs, data.narrow(dim, end, 1)], dim=dim) if size % 2 else pairs


def _every_other(dim: int, start: int) -> tuple:
    return (slice(None),) * dim + (slice(start, None, 2),)


def _planes(bands: torch.Tensor, reach: int) -> torch.Tensor:
    """``[B, bands, L, C]`` -> ``[B, C, bands, L + 2 * reach]`` with ``reach`` copies of the first and last pixels
    of each row before and after it, in one copy."""
    batch, count, length, channels = bands.shape
    planes = bands.new_empty((batch, channels, count, length + 2 * reach))
    source = bands.permute(0, 3, 1, 2)
    planes[..., reach:reach + length] = source
    planes[..., :reach] = source[..., :1]
    planes[..., reach + length:] = source[..., -1:]
    return planes


def _axis_profile(planes: torch.Tensor, radius: int, reach: int, transposed: bool = False) -> torch.Tensor:
    """``[B, C, bands, L + 2 * reach]`` (see ``_planes``) -> ``[B, L+1]``; ``transposed``: the planes run down
    the image's columns (the noise sample is still drawn in the image's row-major order)."""
    batch, length = planes.shape[0], planes.shape[3] - 2 * reach
    # The step at cut x (between pixels x - 1 and x) is (sum(x .. x+r-1) - sum(x-r .. x-1)) / r: sums of r
    # neighbours built by doubling (r is a power of two), a few additions where a convolution costs a setup per
    # image size.
    sums, width = planes, 1
    while width < radius:
        kept = sums.shape[3] - width
        sums, width = sums[..., :kept] + sums[..., width:width + kept], 2 * width
    step = sums[..., reach:reach + length + 1] - sums[..., reach - radius:reach - radius + length + 1]
    strength = step.abs_().sum(dim=1).mul_(1.0 / radius)  # [B, bands, L+1]
    flat = (strength.transpose(1, 2) if transposed else strength).reshape(batch, -1)
    stride = max(1, flat.shape[1] // NOISE_SAMPLES)
    floor = NOISE_FACTOR * flat[:, ::stride].median(dim=1).values.clamp(min=1e-4)
    return strength.sub_(floor[:, None, None]).clamp_(min=0).square_().mean(dim=1)


def levels_for_range(min_cell: float, max_cell: float) -> list[int]:
    """The levels that candidate cells between ``min_cell`` and ``max_cell`` are judged on."""
    low, high = level_for_cell(np.array([min_cell, max(min_cell, max_cell)])).tolist()
    return list(range(low, high + 1))
