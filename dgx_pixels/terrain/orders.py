"""Terrain orders: which tiles a set of transitions between two terrains holds, how a map picks a tile for each
cell, and so which tiles may touch.

- corner 16 (Wang corners): every map vertex is terrain A or B; a cell's tile is the mask of its corners that are B
  (sheets.tileset.CORNER_BITS), tile i has mask i.
- blob 47: every map cell is A or B; a B cell's tile is the blob mask of its B neighbours (BLOB_BITS, corners only
  with both edges beside them), tile i is the i-th of the 47 masks; an A cell shows the plain A tile.
- platformer (side view): every map cell is solid or air; a solid cell's tile is the blob mask of its solid
  neighbours, which must be one of PLATFORMER_TILES; air shows nothing. Terrain B is the ground, terrain A the
  surface on top of it (grass on dirt).

Cells outside a map repeat the nearest cell inside, so a map's border shows no edge that is not there.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np

from ..common.errors import InputError
from ..sheets.tileset import BLOB_BITS, CORNER_BITS, PLATFORMER_TILES, autotile_masks, blob_mask

ORDERS = ("corner 16", "blob 47", "platformer")
FULL_A, FULL_B, TRANSITION = "full a", "full b", "transition"
PLAIN_A = "a"  # the key of an A cell of a blob map (no mask: the plain A tile)
AIR = "air"  # the key of an air cell of a platformer map (no tile)
# Where each neighbour of a cell lies, (row, column) steps.
STEPS = {"N": (-1, 0), "NE": (-1, 1), "E": (0, 1), "SE": (1, 1), "S": (1, 0), "SW": (1, -1), "W": (0, -1),
         "NW": (-1, -1)}
BLOB_REDUCTION = np.array([blob_mask(raw) for raw in range(256)])


@dataclass(frozen=True)
class TileSpec:
    mask: int | None  # the autotile mask; None: the plain A tile of a blob set (outside the autotile set)
    name: str
    kind: str  # FULL_A, FULL_B or TRANSITION


def check_order(order: str) -> str:
    if order not in ORDERS:
        raise InputError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    return order


def order_tiles(order: str) -> list[TileSpec]:
    """The order's own tiles, in the standard numbering of the export (sheets.tileset.autotile_masks)."""
    masks = autotile_masks(check_order(order))
    if order == "corner 16":
        kinds = {0: FULL_A, 15: FULL_B}
        return [TileSpec(mask, f"corner {mask}", kinds.get(mask, TRANSITION)) for mask in masks]
    if order == "blob 47":
        return [TileSpec(mask, f"blob {mask}", FULL_B if mask == 255 else TRANSITION) for mask in masks]
    return [TileSpec(mask, name, FULL_B if mask == 255 else TRANSITION) for name, mask in PLATFORMER_TILES]


def corner_masks(vertices: np.ndarray) -> np.ndarray:
    """Vertex terrains ``[..., R+1, C+1]`` (True = B) -> each cell's corner mask ``[..., R, C]``."""
    v = vertices.astype(np.int64)
    return (v[..., :-1, 1:] * CORNER_BITS["NE"] + v[..., 1:, 1:] * CORNER_BITS["SE"]
            + v[..., 1:, :-1] * CORNER_BITS["SW"] + v[..., :-1, :-1] * CORNER_BITS["NW"])


def blob_masks(cells: np.ndarray) -> np.ndarray:
    """Cell terrains ``[..., R, C]`` (True = B / solid) -> each B cell's blob mask, -1 for the others."""
    rows, columns = cells.shape[-2:]
    padded = np.pad(cells, [(0, 0)] * (cells.ndim - 2) + [(1, 1), (1, 1)], mode="edge").astype(np.int64)
    raw = np.zeros(cells.shape, np.int64)
    for direction, (dy, dx) in STEPS.items():
        raw += padded[..., 1 + dy:1 + dy + rows, 1 + dx:1 + dx + columns] * BLOB_BITS[direction]
    return np.where(cells, BLOB_REDUCTION[raw], -1)


def cell_keys(order: str, terrain: np.ndarray) -> np.ndarray:
    """A map's terrain (vertices for corner 16, cells otherwise) -> each cell's tile key as an int array: the mask,
    or -1 for an A / air cell."""
    return corner_masks(terrain) if order == "corner 16" else blob_masks(terrain)


def key_name(order: str, key: int) -> int | str:
    return key if key >= 0 else (AIR if order == "platformer" else PLAIN_A)


@lru_cache(maxsize=None)
def touching_keys(order: str) -> frozenset[tuple[int | str, int | str, str]]:
    """Every (first, second, axis) of tile keys that may meet in a map of this order: axis "x" puts first left of
    second, "y" above it. Found by trying every terrain around two neighbouring cells."""
    allowed = {spec.mask for spec in order_tiles(order) if spec.mask is not None}
    found = set()
    for axis in ("x", "y"):
        if order == "corner 16":
            shape, first, second = ((2, 3), (0, 0), (0, 1)) if axis == "x" else ((3, 2), (0, 0), (1, 0))
        else:
            shape, first, second = ((3, 4), (1, 1), (1, 2)) if axis == "x" else ((4, 3), (1, 1), (2, 1))
        size = shape[0] * shape[1]
        terrains = np.array(list(product((False, True), repeat=size))).reshape(-1, *shape)
        keys = cell_keys(order, terrains)
        for a, b in {(int(k[first]), int(k[second])) for k in keys}:
            if all(key < 0 or key in allowed for key in (a, b)):
                found.add((key_name(order, a), key_name(order, b), axis))
    if order == "platformer":
        found = {pair for pair in found if pair[:2] != (AIR, AIR)}
    return frozenset(found)
