"""Samples of every grid cell: a K x K lattice of points inside each cell's central part (soft edges and misplaced
cuts stay out), gathered for all cells at once; and how well one colour per cell explains them."""
from __future__ import annotations

import torch

SAMPLES_PER_AXIS = 5
CENTRAL_PART = 0.5  # samples span the middle half of each cell


def sample_positions(cuts: list[int], device) -> torch.Tensor:
    """``[n, K]`` pixel indices inside each cell's central part along one axis."""
    edges = torch.tensor(cuts, dtype=torch.float32, device=device)
    start, size = edges[:-1], edges[1:] - edges[:-1]
    fractions = torch.linspace(0.5 - CENTRAL_PART / 2, 0.5 + CENTRAL_PART / 2, SAMPLES_PER_AXIS, device=device)
    points = start[:, None] + size[:, None] * fractions[None, :]
    return points.floor().long().clamp(min=start.long()[:, None], max=(edges[1:].long() - 1)[:, None])


def gather_cells(image: torch.Tensor, cuts_x: list[int], cuts_y: list[int]) -> torch.Tensor:
    """``[H, W, C]`` -> ``[ny, nx, K*K, C]`` samples of every cell."""
    ys = sample_positions(cuts_y, image.device)  # [ny, K]
    xs = sample_positions(cuts_x, image.device)  # [nx, K]
    (rows, per_axis), columns = ys.shape, xs.shape[0]
    # whole sampled rows, then their sampled columns: two row-wise copies instead of one gather of every sample
    picked = image.index_select(0, ys.flatten()).index_select(1, xs.flatten())  # [ny*K, nx*K, C]
    return (picked.reshape(rows, per_axis, columns, per_axis, -1).permute(0, 2, 1, 3, 4)
            .reshape(rows, columns, per_axis * per_axis, -1))


def flat_cell_share(image: torch.Tensor, cuts_x: list[int], cuts_y: list[int]) -> torch.Tensor:
    """0..1 (a 0-d tensor on the image's device, so a batch's shares are read back once): the share of the colour
    variance of the cells' samples that lies between cells, not inside them.

    Pixel art is flat per cell: near 1 on the true grid, even with texture and noise; near 0 where the "cells"
    are arbitrary boxes over noise or a photo. A frame of one colour counts as flat (1)."""
    samples = gather_cells(image, cuts_x, cuts_y).flatten(0, 1).double()  # [cells, S, C]
    # variances from the first two moments of each cell, summed over its samples as a product with ones (a
    # reduction over the middle dimension is several times slower on the CPU)
    ones = samples.new_ones(samples.shape[1]) / samples.shape[1]
    means = samples.transpose(1, 2) @ ones  # [cells, C]
    squares = samples.square().transpose(1, 2) @ ones
    inside = (squares - means.square()).sum(-1).mean()
    total = (squares.mean(0) - means.mean(0).square()).sum()
    share = (1 - inside / total.clamp(min=1e-12)).clamp(0, 1)
    return torch.where(total > 1e-12, share, torch.ones_like(share))
