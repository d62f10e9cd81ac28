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
    samples = image[ys[:, None, :, None], xs[None, :, None, :]]  # [ny, nx, K, K, C]
    return samples.reshape(ys.shape[0], xs.shape[0], -1, image.shape[-1])


def flat_cell_share(image: torch.Tensor, cuts_x: list[int], cuts_y: list[int]) -> torch.Tensor:
    """0..1 (a 0-d tensor on the image's device, so a batch's shares are read back once): the share of the colour
    variance of the cells' samples that lies between cells, not inside them.

    Pixel art is flat per cell: near 1 on the true grid, even with texture and noise; near 0 where the "cells"
    are arbitrary boxes over noise or a photo. A frame of one colour counts as flat (1)."""
    samples = gather_cells(image, cuts_x, cuts_y).flatten(0, 1).double()  # [cells, S, C]
    inside = samples.var(dim=1, unbiased=False).sum(-1).mean()
    total = samples.flatten(0, 1).var(dim=0, unbiased=False).sum()
    share = (1 - inside / total.clamp(min=1e-12)).clamp(0, 1)
    return torch.where(total > 0, share, torch.ones_like(share))
