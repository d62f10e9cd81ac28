"""Tilesets: same-size tiles -> one image in Tiled's layout (margin around, spacing between), with a seam check per
tile and, for autotile sets, each tile's neighbour mask.

Autotile masks (the tile order a generator or artist follows):
- corner 16: tile i has corner mask i, NE = 1, SE = 2, SW = 4, NW = 8 (a corner is "terrain" when set).
- blob 47: tile i has the i-th of the 47 valid 8-neighbour masks in ascending order, N = 1, NE = 2, E = 4,
  SE = 8, S = 16, SW = 32, W = 64, NW = 128; a corner counts only when both edges beside it are set.
- platformer: a side-view ground set, tile i is PLATFORMER_TILES[i]: a solid tile with the blob mask of its solid
  neighbours (air elsewhere), the edges and corners a platformer level is built from.

A terrain set may hold more tiles than its order (variants of the full tiles, the plain other terrain): each tile's
mask is then given; a tile with no mask is outside the autotile set.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence

import torch

from ..common.errors import InputError
from ..common.limits import check_batch_pixels
from ..image.seamless import wrap_difference
from .layout import Rect, SheetFrame, SheetLayout, TileInfo, grid_rects
from .align import check_frames, check_spacing

AUTOTILE_SETS = ("none", "corner 16", "blob 47", "platformer")
BLOB_BITS = {"N": 1, "NE": 2, "E": 4, "SE": 8, "S": 16, "SW": 32, "W": 64, "NW": 128}
CORNER_BITS = {"NE": 1, "SE": 2, "SW": 4, "NW": 8}
CORNER_EDGES = {"NE": ("N", "E"), "SE": ("S", "E"), "SW": ("S", "W"), "NW": ("N", "W")}
# Side view, 4 columns: a thick platform's 3x3 block (with its inner corners beside it), then a one-tile-thick
# platform's left end, middle and right end.
PLATFORMER_TILES = (("top-left", 28), ("top", 124), ("top-right", 112), ("inner top-left", 127),
                    ("left", 31), ("fill", 255), ("right", 241), ("inner top-right", 253),
                    ("bottom-left", 7), ("bottom", 199), ("bottom-right", 193), ("inner bottom-left", 223),
                    ("platform left end", 4), ("platform", 68), ("platform right end", 64),
                    ("inner bottom-right", 247))
SET_COLUMNS = {"corner 16": 4, "blob 47": 8, "platformer": 4}
TWO_TERRAIN_SETS = ("corner 16", "blob 47")  # top-down sets: both terrains are ground (a platformer's other is air)
SEAM_ALLOWANCE = 2 / 255  # differences below one or two 8-bit steps are noise, not a seam


def blob_mask(raw: int) -> int:
    """An 8-neighbour mask with each corner dropped unless both edges beside it are set (what blob tiles show)."""
    mask = raw
    for corner, (edge_a, edge_b) in CORNER_EDGES.items():
        if not (raw & BLOB_BITS[edge_a] and raw & BLOB_BITS[edge_b]):
            mask &= ~BLOB_BITS[corner]
    return mask


def blob47_masks() -> list[int]:
    """The 47 distinct 8-neighbour masks once corners without both adjacent edges are dropped, ascending."""
    return sorted({blob_mask(raw) for raw in range(256)})


def autotile_masks(autotile: str) -> list[int] | None:
    if autotile not in AUTOTILE_SETS:
        raise InputError(f"autotile set must be one of {', '.join(AUTOTILE_SETS)}, got {autotile!r}")
    return {"none": None, "corner 16": list(range(16)), "blob 47": blob47_masks(),
            "platformer": [mask for _, mask in PLATFORMER_TILES]}[autotile]


def mask_bits(autotile: str) -> dict[str, int] | None:
    """What each bit of a tile's mask means in a set: corners for corner 16, the 8 neighbours otherwise."""
    return {"none": None, "corner 16": CORNER_BITS}.get(autotile, BLOB_BITS)


def seam_report(tiles: torch.Tensor, tolerance: float = 1.5) -> list[TileInfo]:
    """Per tile of ``[N, H, W, 4]``: wrap-around edge differences against the tile's own neighbour differences.

    A tile is seamless when neither wrap-around edge differs more than ``tolerance`` times the typical
    difference between neighbouring pixels inside it along the same axis (plus a couple of 8-bit steps for
    noise). Colours count premultiplied by alpha, so colour hidden under transparency does not matter.
    """
    premultiplied = torch.cat([tiles[..., :3] * tiles[..., 3:], tiles[..., 3:]], dim=-1)
    seam_x = wrap_difference(premultiplied, "x")
    seam_y = wrap_difference(premultiplied, "y")
    zero = torch.zeros_like(seam_x)
    across = (premultiplied[:, :, 1:] - premultiplied[:, :, :-1]).abs().mean(dim=(1, 2, 3)) \
        if tiles.shape[2] > 1 else zero
    down = (premultiplied[:, 1:] - premultiplied[:, :-1]).abs().mean(dim=(1, 2, 3)) if tiles.shape[1] > 1 else zero
    rows = torch.stack([seam_x, seam_y, across, down]).T.tolist()
    return [TileInfo(index, round(sx, 5), round(sy, 5), round(nx, 5), round(ny, 5),
                     sx <= tolerance * nx + SEAM_ALLOWANCE and sy <= tolerance * ny + SEAM_ALLOWANCE)
            for index, (sx, sy, nx, ny) in enumerate(rows)]


def check_masks(autotile: str, count: int, masks: Sequence[int | None] | None) -> list[int | None] | None:
    """The masks of ``count`` tiles of an autotile set: the order's own, or the given ones checked against it."""
    order = autotile_masks(autotile)
    if masks is None:
        if order is not None and len(order) != count:
            raise InputError(f"a {autotile} autotile set has {len(order)} tiles but {count} were given")
        return order
    if order is None:
        raise InputError("tile masks were given but the autotile set is none; name the set they belong to")
    masks = list(masks)
    if len(masks) != count:
        raise InputError(f"{len(masks)} tile masks for {count} tiles; give one per tile")
    strange = [mask for mask in masks if mask is not None and mask not in order]
    if strange:
        raise InputError(f"mask {strange[0]} is not a tile of the {autotile} set")
    return masks


def assemble_tileset(tiles: list[torch.Tensor], columns: int = 0, spacing: int = 0, margin: int = 0,
                     autotile: str = "none", seam_tolerance: float = 1.5,
                     masks: Sequence[int | None] | None = None,
                     terrains: Sequence[str] = ()) -> tuple[torch.Tensor, SheetLayout]:
    """Tiles (RGBA ``[H, W, 4]``, all one size) -> tileset RGBA ``[H, W, 4]`` and its layout (tile i at index i).

    ``columns`` 0: about square (the autotile sets use their usual 4 and 8 wide). ``margin``: pixels around the
    image; ``spacing``: pixels between tiles (Tiled's meaning; Bevy's from_grid offset and padding). ``masks``:
    each tile's autotile mask when the set holds more than its order (a terrain set with variants). ``terrains``:
    the names of a top-down set's two terrains (where a mask's bits are unset, where they are set), so a map
    editor paints with both; a tile with no mask is then all the first.
    """
    check_frames(tiles)
    height, width = tiles[0].shape[:2]
    for number, tile in enumerate(tiles):
        if tuple(tile.shape[:2]) != (height, width):
            raise InputError(f"tile {number} is {tile.shape[1]}x{tile.shape[0]} but tile 0 is {width}x{height}; "
                             "every tile of a tileset must be the same size")
    spacing, margin = check_spacing("spacing", spacing), check_spacing("margin", margin)
    if not seam_tolerance >= 0:
        raise InputError(f"seam tolerance must be 0 or more, got {seam_tolerance}")
    masks = check_masks(autotile, len(tiles), masks)
    terrains = tuple(terrains)
    if terrains and (autotile not in TWO_TERRAIN_SETS or len(terrains) != 2 or not all(terrains)):
        raise InputError(f"terrain names go with a {' or '.join(TWO_TERRAIN_SETS)} set, two of them; got "
                         f"{list(terrains)} for {autotile}")
    count = len(tiles)
    default_columns = SET_COLUMNS.get(autotile) or max(1, math.ceil(math.sqrt(count)))
    columns = min(check_spacing("columns", columns, 4096) or default_columns, count)
    rows = math.ceil(count / columns)
    stack = torch.stack([tile.to(tiles[0].device) for tile in tiles])
    stack = stack * (stack[..., 3:] > 0)

    rects = grid_rects((width, height), columns, rows, spacing, margin)
    size = (2 * margin + columns * width + (columns - 1) * spacing, 2 * margin + rows * height + (rows - 1) * spacing)
    check_batch_pixels(size[0] * size[1], f"the tileset is {size[0]}x{size[1]}")
    sheet = torch.zeros((size[1], size[0], 4), dtype=stack.dtype, device=stack.device)
    for index in range(count):
        rect = rects[index]
        sheet[rect.y:rect.bottom, rect.x:rect.right] = stack[index]

    report = seam_report(stack, seam_tolerance)
    tiles_info = tuple(replace(info, mask=masks[info.index] if masks else None) for info in report)
    return sheet, SheetLayout(
        kind="tilesets", size=size, cell=(width, height), columns=columns, rows=rows, padding=spacing, offset=margin,
        extrude=0, grid=True, trimmed=False, pivot=(width // 2, height // 2), rects=tuple(rects),
        frames=tuple(SheetFrame(i, 100, Rect(0, 0, width, height), i) for i in range(count)),
        tiles=tiles_info, autotile=autotile, terrains=terrains)
