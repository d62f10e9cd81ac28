"""A map painted with a terrain set by the autotile rules, so seams show at a glance.

The map's terrain is random but smooth (blobs of each terrain on a top-down map; rolling ground with steps, a
block and a platform on a side-view one); each cell gets the tile its neighbourhood asks for, a variant picked at
random where the set has several.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..common.errors import InputError
from ..export.safe_write import write_asset_files
from ..image.png import png_bytes
from . import orders
from .plan import TerrainPlan

MAX_CELLS = 64  # per side


def smooth_field(rng: np.random.Generator, rows: int, columns: int, feature: int = 3) -> np.ndarray:
    """Value noise: random values every ``feature`` cells, blended bilinearly, in 0..1."""
    coarse = rng.random((rows // feature + 2, columns // feature + 2))
    y = np.arange(rows) / feature
    x = np.arange(columns) / feature
    y0, x0 = y.astype(int), x.astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    top = coarse[y0][:, x0] * (1 - fx) + coarse[y0][:, x0 + 1] * fx
    bottom = coarse[y0 + 1][:, x0] * (1 - fx) + coarse[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def top_down_terrain(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    """True = terrain B, about half of it, in blobs."""
    field = smooth_field(rng, rows, columns)
    return field >= np.median(field)


def side_view_terrain(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    """True = solid: ground rising and falling in steps (each level at least two cells wide), with a block and a
    thin platform floating above it where there is room."""
    solid = np.zeros((rows, columns), bool)
    height = max(2, rows // 3)
    column = 0
    tops = []
    while column < columns:
        run = int(rng.integers(2, 5))
        tops += [rows - height] * run
        column += run
        height = int(np.clip(height + rng.choice([-1, 0, 1]), 2, max(2, rows // 2)))
    for x, top in enumerate(tops[:columns]):
        solid[top:, x] = True
    for thickness, length in ((2, 4), (1, 3)):
        x = int(rng.integers(0, max(1, columns - length)))
        ground = min(tops[x:x + length])
        y = ground - thickness - 2 - int(rng.integers(0, 2))
        if y >= 1:
            solid[y:y + thickness, x:x + length] = True
    return solid


def settle(solid: np.ndarray, allowed: set[int]) -> np.ndarray:
    """Clear solid cells whose neighbourhood no tile of the set shows, until every solid cell has a tile."""
    solid = solid.copy()
    for _ in range(solid.size):
        keys = orders.blob_masks(solid)
        unpaintable = solid & ~np.isin(keys, list(allowed))
        if not unpaintable.any():
            break
        solid &= ~unpaintable
    return solid


def random_map(plan: TerrainPlan, rows: int, columns: int, seed: int) -> np.ndarray:
    """``[rows, columns]`` of tile indices (-1: air) painted by the set's autotile rules."""
    if not (2 <= rows <= MAX_CELLS and 2 <= columns <= MAX_CELLS):
        raise InputError(f"the map must be 2 to {MAX_CELLS} cells each way, got {columns}x{rows}")
    rng = np.random.default_rng(seed)
    if plan.order == "corner 16":
        terrain = top_down_terrain(rng, rows + 1, columns + 1)
    elif plan.order == "blob 47":
        terrain = top_down_terrain(rng, rows, columns)
    else:
        allowed = {tile.mask for tile in plan.tiles if tile.mask is not None}
        terrain = settle(side_view_terrain(rng, rows, columns), allowed)
    keys = orders.cell_keys(plan.order, terrain)
    chosen = np.full((rows, columns), -1)
    for y in range(rows):
        for x in range(columns):
            choices = plan.tiles_for(orders.key_name(plan.order, int(keys[y, x])))
            if choices:
                chosen[y, x] = choices[int(rng.integers(len(choices)))]
    return chosen


def paint_map(tiles: torch.Tensor, chosen: np.ndarray) -> torch.Tensor:
    """RGBA tiles ``[N, S, S, 4]`` and a map of tile indices (-1: nothing) -> the map RGBA ``[R*S, C*S, 4]``."""
    rows, columns = chosen.shape
    size = tiles.shape[1]
    picture = torch.zeros(rows * size, columns * size, 4, dtype=tiles.dtype, device=tiles.device)
    for y in range(rows):
        for x in range(columns):
            if chosen[y, x] >= 0:
                picture[y * size:(y + 1) * size, x * size:(x + 1) * size] = tiles[int(chosen[y, x])]
    return picture


def save_beside_export(exported: str, rgba8: np.ndarray, roots: list[Path]) -> Path:
    """Write the map as ``<name>.map.png`` beside the tileset image an export wrote (its listed files), through
    the export's safe writer (previous version kept). Returns the file."""
    images = [Path(line.strip()) for line in exported.splitlines() if line.strip().endswith(".png")]
    tileset = next((path for path in images if path.parent.name == path.stem), None)
    if tileset is None or len(tileset.parents) < 4:
        raise InputError(f"no exported tileset image among the files {exported.splitlines()[:3]}; connect the "
                         "files output of Bevy Export")
    name, kind = tileset.stem, tileset.parents[1].name
    project = tileset.parents[3]
    file_name = f"{name}.map.png"
    write_asset_files(project, f"assets/{kind}/{name}", {file_name: png_bytes(rgba8)}, roots)
    return tileset.with_name(file_name)
