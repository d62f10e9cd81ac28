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
    # The first level's bands are read from the image in one pass per axis; each later level's bands are pairs of
    # the previous level's. Each axis is padded once, with as many copies of its end pixels (no step there) as the
    # widest step reaches: a narrower step near the ends sees the same values.
    band, reach = LEVELS[0][1], max(LEVELS[level][0] for level in wanted)
    row_bands = _padded(_bands(data, 1, band), 2, reach)
    column_bands = _padded(_bands(data, 2, band), 1, reach)
    for level in range(max(wanted) + 1):
        while band < LEVELS[level][1]:
            row_bands, column_bands, band = _pairs(row_bands, 1), _pairs(column_bands, 2), 2 * band
        if level in wanted:
            radius = LEVELS[level][0]
            columns[:, level] = _axis_profile(row_bands, radius, reach, along=2)
            rows[:, level] = _axis_profile(column_bands, radius, reach, along=1)
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
    pairs = (even[_every_other(dim, 0)] + even[_every_other(dim, 1)]) * 0.5
    return torch.cat([pairs, data.narrow(dim, end, 1)], dim=dim) if size % 2 else pairs


def _every_other(dim: int, start: int) -> tuple:
    return (slice(None),) * dim + (slice(start, None, 2),)


def _padded(bands: torch.Tensor, dim: int, reach: int) -> torch.Tensor:
    """``bands`` with ``reach`` copies of its first and last pixels along ``dim`` before and after."""
    ends = list(bands.shape)
    ends[dim] = reach
    length = bands.shape[dim]
    return torch.cat([bands.narrow(dim, 0, 1).expand(ends), bands, bands.narrow(dim, length - 1, 1).expand(ends)],
                     dim=dim)


def _axis_profile(bands: torch.Tensor, radius: int, reach: int, along: int) -> torch.Tensor:
    """``[B, H', W', C]`` padded by ``reach`` along dim ``along`` (1 or 2), bands along the other -> ``[B, L+1]``."""
    batch, length = bands.shape[0], bands.shape[along] - 2 * reach
    # The step at cut x (between pixels x - 1 and x) is (sum(x .. x+r-1) - sum(x-r .. x-1)) / r: sums of r
    # neighbours built by doubling (r is a power of two), a few additions where a convolution costs a setup per
    # image size.
    sums, width = bands, 1
    while width < radius:
        kept = sums.shape[along] - width
        sums, width = sums.narrow(along, 0, kept) + sums.narrow(along, width, kept), 2 * width
    step = sums.narrow(along, reach, length + 1) - sums.narrow(along, reach - radius, length + 1)
    # summed over the channels (and divided by r) as a product with a vector: a reduction over a last dimension of
    # 3 or 4 is several times slower on the CPU
    strength = step.abs_() @ step.new_full((step.shape[-1],), 1.0 / radius)  # cut positions along ``along``
    flat = strength.reshape(batch, -1)
    stride = max(1, flat.shape[1] // NOISE_SAMPLES)
    floor = NOISE_FACTOR * flat[:, ::stride].median(dim=1).values.clamp(min=1e-4)
    return strength.sub_(floor[:, None, None]).clamp_(min=0).square_().mean(dim=3 - along)


def levels_for_range(min_cell: float, max_cell: float) -> list[int]:
    """The levels that candidate cells between ``min_cell`` and ``max_cell`` are judged on."""
    low, high = level_for_cell(np.array([min_cell, max(min_cell, max_cell)])).tolist()
    return list(range(low, high + 1))
