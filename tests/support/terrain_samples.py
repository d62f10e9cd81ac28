"""Made terrain tiles: seamless textures (sums of whole-period waves, so they repeat exactly) and a terrain set cut
from them by a plan, with a band "drawn" (noise) where the model would draw."""
from __future__ import annotations

import math

import torch
from PIL import Image

from dgx_pixels.terrain.plan import TerrainPlan

GRASS = (0.30, 0.60, 0.25)
DIRT = (0.55, 0.38, 0.20)


def seamless_texture(size: int, colour, seed: int, levels: int = 0) -> torch.Tensor:
    """``[size, size, 3]`` that tiles with itself; ``levels`` > 0: that many shades only (a small palette)."""
    generator = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    field = torch.zeros(size, size)
    for _ in range(6):
        fx, fy = torch.randint(1, 4, (2,), generator=generator)
        phase = float(torch.rand(1, generator=generator)) * 2 * math.pi
        field += torch.sin(2 * math.pi * (fx * x + fy * y) / size + phase) / 6
    if levels:
        field = torch.round((field + 1) / 2 * (levels - 1)) / (levels - 1) * 2 - 1
    return (torch.tensor(colour)[None, None] * (1 + 0.35 * field[..., None])).clamp(0, 1)


def made_set(plan: TerrainPlan, seed: int = 0, noise: float = 0.08) -> torch.Tensor:
    """RGBA ``[N, S, S, 4]``: the plan's tiles cut from two made textures, the drawn band replaced by noise."""
    size = plan.canvas
    base_a = plan.native(seamless_texture(size, GRASS, seed + 1), "a")
    base_b = plan.native(seamless_texture(size, DIRT, seed + 2), "b")
    canvases = plan.canvases(base_a, base_b)
    generator = torch.Generator().manual_seed(seed)
    drawn = (canvases + torch.randn(canvases.shape, generator=generator) * noise).clamp(0, 1)
    tiles = plan.finish(drawn, canvases)
    return torch.cat([tiles, 1 - plan.alpha()[..., None]], dim=-1)


def save_tile_png(path, tile: torch.Tensor) -> None:
    Image.fromarray((tile.clamp(0, 1) * 255).round().byte().numpy()).save(path)
