"""Dithering: ordered (Bayer 2/4/8) and error diffusion (Floyd-Steinberg, Atkinson)."""
from __future__ import annotations

import torch

from .space import nearest_index

DITHERS = ("none", "bayer 2", "bayer 4", "bayer 8", "floyd-steinberg", "atkinson")

BAYER_2 = torch.tensor([[0, 2], [3, 1]], dtype=torch.float32)


def bayer_matrix(size: int) -> torch.Tensor:
    """Thresholds in (0, 1) of the ``size`` x ``size`` Bayer matrix (size 2, 4 or 8)."""
    matrix = BAYER_2
    while matrix.shape[0] < size:
        matrix = torch.cat([torch.cat([4 * matrix, 4 * matrix + 2], 1), torch.cat([4 * matrix + 3, 4 * matrix + 1], 1)])
    return (matrix + 0.5) / matrix.numel()


def ordered_dither(points: torch.Tensor, palette_points: torch.Tensor, thresholds: torch.Tensor, strength: float
                   ) -> torch.Tensor:
    """Ordered dithering ``[B, H, W, 3]`` -> indices ``[B, H, W]``: each pixel is a mix of its nearest palette colour
    and the one partner that best reproduces it along the line between them; the share ``t`` of the partner that
    does (times ``strength``) decides, against the pixel's Bayer threshold, which of the two it takes. A flat area
    between two colours so comes out in exactly the right proportion, in the matrix's pattern."""
    flat = points.reshape(-1, 3)
    threshold = thresholds.expand(points.shape[:-1]).reshape(-1)
    out = torch.empty(flat.shape[0], dtype=torch.long, device=points.device)
    chunk = 1 << 16
    for start in range(0, flat.shape[0], chunk):
        pixel = flat[start:start + chunk]
        nearest = nearest_index(pixel, palette_points)
        base = palette_points[nearest]  # [n, 3]
        towards = palette_points[None] - base[:, None]  # [n, K, 3]
        length = towards.square().sum(dim=-1)
        share = ((pixel - base)[:, None] * towards).sum(dim=-1) / length.clamp(min=1e-12)
        share = share.clamp(0, 1).masked_fill(length < 1e-12, 0)
        residual = ((pixel - base)[:, None] - share[..., None] * towards).square().sum(dim=-1)
        partner = residual.masked_fill(share <= 0, float("inf")).argmin(dim=1)
        mix = share.gather(1, partner[:, None])[:, 0] * strength
        out[start:start + chunk] = torch.where(threshold[start:start + chunk] < mix, partner, nearest)
    return out.reshape(points.shape[:-1])


def error_diffusion(lab: torch.Tensor, palette_lab: torch.Tensor, method: str, strength: float) -> torch.Tensor:
    """Floyd-Steinberg or Atkinson on ``[B, H, W, 3]`` perceptual colours; returns palette indices ``[B, H, W]``.

    Pixel (y, x) only depends on pixels with a smaller x + 2y, so each such anti-diagonal is processed at once
    (W + 2H vector steps, batched over frames) instead of pixel by pixel.
    """
    if method == "floyd-steinberg":
        spread = [(0, 1, 7 / 16), (1, -1, 3 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16)]
    else:
        spread = [(0, 1, 1 / 8), (0, 2, 1 / 8), (1, -1, 1 / 8), (1, 0, 1 / 8), (1, 1, 1 / 8), (2, 0, 1 / 8)]
    batch, height, width, _ = lab.shape
    work = lab.clone()
    index = torch.zeros(batch, height, width, dtype=torch.long, device=lab.device)
    rows = torch.arange(height, device=lab.device)
    norms = palette_lab.square().sum(dim=1)
    for step in range(width + 2 * (height - 1)):
        columns = step - 2 * rows
        valid = (columns >= 0) & (columns < width)
        ys, xs = rows[valid], columns[valid]
        pixels = work[:, ys, xs]  # [B, n, 3]
        chosen = (norms - 2 * pixels @ palette_lab.T).argmin(dim=-1)
        index[:, ys, xs] = chosen
        error = (pixels - palette_lab[chosen]) * strength
        for dy, dx, weight in spread:
            ty, tx = ys + dy, xs + dx
            inside = (ty < height) & (tx >= 0) & (tx < width)
            work[:, ty[inside], tx[inside]] += error[:, inside] * weight
    return index
