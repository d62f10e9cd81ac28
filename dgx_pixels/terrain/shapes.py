"""Where each terrain lies in a tile, at the native size: terrain A, terrain B or air (platformer).

Every tile's outer ring of pixels is decided by what it shares with the tile beside it (the two corners of an edge;
the edge and corner bits of a blob mask), the same way on both sides, so neighbouring tiles meet with the terrain
running on across the edge. Inside, corners are rounded.

- corner 16: the corners' terrains blended across the tile on smoothstep-warped axes (a half tile between two
  like corners, about a quarter disc for a lone one), B where the blend is at least one half.
- blob 47 and platformer: a 3x3 grid of zones, a band of ``band`` pixels around the middle: the middle is B (solid),
  an edge zone follows its edge bit, a corner zone its corner bit. A platformer's solid pixels are ground (B) except
  the surface (A): the first two bands of solid pixels under air.
"""
from __future__ import annotations

import numpy as np

from ..sheets.tileset import BLOB_BITS, CORNER_BITS

A, B, AIR = 0, 1, 2


def smoothstep(t: np.ndarray) -> np.ndarray:
    return t * t * (3 - 2 * t)


def corner_regions(mask: int, size: int) -> np.ndarray:
    corner = {name: float(bool(mask & bit)) for name, bit in CORNER_BITS.items()}
    t = smoothstep((np.arange(size) + 0.5) / size)
    u, v = t[None, :], t[:, None]  # across (west -> east), down (north -> south)
    top = corner["NW"] * (1 - u) + corner["NE"] * u
    bottom = corner["SW"] * (1 - u) + corner["SE"] * u
    blend = top * (1 - v) + bottom * v
    # The ring from its own edge's two corners only.
    blend[0, :], blend[-1, :] = top[0], bottom[0]
    blend[:, 0] = corner["NW"] * (1 - t) + corner["SW"] * t
    blend[:, -1] = corner["NE"] * (1 - t) + corner["SE"] * t
    return np.where(blend >= 0.5, B, A).astype(np.uint8)


def zone_band(size: int, order: str) -> int:
    """The width of the edge zones: a quarter tile for blob sets, an eighth for side-view ground."""
    return max(1, size // (8 if order == "platformer" else 4))


def _zones(size: int, band: int) -> np.ndarray:
    """Zone index (0 first band, 1 middle, 2 last band) of each pixel along one axis."""
    index = np.ones(size, np.int64)
    index[:band], index[size - band:] = 0, 2
    return index


def zone_table(mask: int) -> np.ndarray:
    """3x3 zone values (1 = B / solid) of a B cell with this (reduced) blob mask, rows north to south."""
    bit = {name: int(bool(mask & value)) for name, value in BLOB_BITS.items()}
    return np.array([[bit["NW"], bit["N"], bit["NE"]], [bit["W"], 1, bit["E"]], [bit["SW"], bit["S"], bit["SE"]]])


def hard_solid(mask: int, size: int, band: int) -> np.ndarray:
    zones = _zones(size, band)
    return zone_table(mask)[zones[:, None], zones[None, :]].astype(bool)


def surface(solid: np.ndarray, above: np.ndarray, depth: int) -> np.ndarray:
    """Solid pixels with air at most ``depth`` pixels above them; ``above``: the ``depth`` rows over the tile."""
    column = np.concatenate([above, solid])
    air_over = np.zeros_like(solid)
    for step in range(1, depth + 1):
        air_over |= ~column[depth - step:depth - step + solid.shape[0]]
    return solid & air_over


def blob_regions(mask: int, size: int, order: str) -> np.ndarray:
    band = zone_band(size, order)
    solid = hard_solid(mask, size, band)
    if order != "platformer":
        return round_inside(np.where(solid, B, A).astype(np.uint8))
    # Over the tile lies the north neighbour: its bottom and middle zones hold, column by column, what this tile's
    # top row holds (the corner bits are shared), so the surface runs on across edges.
    depth = 2 * band
    above = np.repeat(solid[:1], depth, axis=0)
    regions = np.where(solid, np.where(surface(solid, above, depth), A, B), AIR).astype(np.uint8)
    return round_inside(regions)


def round_inside(regions: np.ndarray) -> np.ndarray:
    """Round corners inside the tile: each pixel takes the most common region within a small disc (the ring
    keeps its value, which neighbours share)."""
    size = regions.shape[0]
    radius = max(1, size // 16)
    if size < 5:
        return regions
    padded = np.pad(regions, radius, mode="edge")
    offsets = [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)
               if dy * dy + dx * dx <= (radius + 0.5) ** 2]
    counts = np.zeros((3, size, size), np.int64)
    for dy, dx in offsets:
        window = padded[radius + dy:radius + dy + size, radius + dx:radius + dx + size]
        for region in range(3):
            counts[region] += window == region
    # Ties keep the pixel's own region.
    own = np.take_along_axis(counts, regions[None].astype(np.int64), axis=0)[0]
    rounded = np.where(counts.max(axis=0) > own, counts.argmax(axis=0), regions).astype(np.uint8)
    rounded[0], rounded[-1], rounded[:, 0], rounded[:, -1] = regions[0], regions[-1], regions[:, 0], regions[:, -1]
    return rounded


def tile_regions(order: str, mask: int | None, size: int) -> np.ndarray:
    """``[size, size]`` of A / B / AIR for one tile; a mask of None is the plain A tile."""
    if mask is None:
        return np.full((size, size), A, np.uint8)
    if order == "corner 16":
        return corner_regions(mask, size)
    return blob_regions(mask, size, order)
