"""A terrain set planned tile by tile: for each tile of the order (and the variants), where terrain A, terrain B and
air lie, which pixels the model draws again, its prompt and seed; then the canvases it is drawn on and the native
tiles made from what was drawn.

Each canvas is the two base tiles (snapped to the native grid) cut together along the tile's regions, enlarged to
the generation size. The model redraws only a band along the boundaries (a transition) or the whole inside (a
variant); the outer ``keep_edge`` native pixels stay as the base tiles have them, so every edge continues the
neighbour's edge. What was drawn is pasted back over the canvas where it may change, then reduced to the native
grid (one colour per cell), so the kept pixels come out exactly as planned.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..character.reroll import parse_seeds
from ..common.errors import InputError
from ..pixel.downscale import downscale
from ..pixel.grid import GridSet, PixelGrid
from ..sheets.tileset import SET_COLUMNS, TWO_TERRAIN_SETS
from . import orders, shapes

VARIANT_A, VARIANT_B = "variant a", "variant b"
DEFAULT_TEMPLATE = "pixel art game tile, {terrain}, seamless texture, 16-bit"
PAIR_TEXT = {"platformer": "{a} on top of {b}, side view"}  # how a transition tile's prompt names both terrains
AIR_BACKDROP = 0.9  # what air looks like to the model (a plain light backdrop; it is never drawn on)
MAX_VARIANTS = 16
REGION_COLOURS = torch.tensor([[0.36, 0.62, 0.28], [0.55, 0.38, 0.22], [0.0, 0.0, 0.0]])


@dataclass(frozen=True)
class PlannedTile:
    index: int  # place in the tileset
    mask: int | None  # autotile mask; None: the plain A tile of a blob set
    name: str
    kind: str  # orders.FULL_A / FULL_B / TRANSITION, VARIANT_A / VARIANT_B
    seed: int
    prompt: str

    @property
    def key(self) -> int | str:
        """What a map cell asks for to show this tile (its mask, or the plain A cell)."""
        return orders.PLAIN_A if self.mask is None else self.mask


@dataclass(frozen=True, eq=False)
class TerrainPlan:
    """The TERRAIN value in ComfyUI."""
    order: str
    terrains: tuple[str, str]
    tile_size: int  # native pixels
    cell: int  # generation pixels per native pixel
    keep_edge: int
    tiles: tuple[PlannedTile, ...]
    regions: np.ndarray  # [N, S, S]: shapes.A / B / AIR
    draw: np.ndarray  # [N, S, S] bool: redrawn by the model
    base_prompts: tuple[str, str]
    base_seeds: tuple[int, int]
    _by_key: dict = field(default_factory=dict, repr=False)

    @property
    def canvas(self) -> int:
        return self.tile_size * self.cell

    @property
    def columns(self) -> int:
        return SET_COLUMNS[self.order]

    @property
    def masks(self) -> list[int | None]:
        return [tile.mask for tile in self.tiles]

    @property
    def map_terrains(self) -> tuple[str, ...]:
        """The terrains a map editor paints with, when both are ground (a platformer's other terrain is air)."""
        return self.terrains if self.order in TWO_TERRAIN_SETS else ()

    def tiles_for(self, key: int | str) -> list[int]:
        """The tiles a map cell with this key may show (the order's tile first, then its variants)."""
        if not self._by_key:
            for tile in self.tiles:
                self._by_key.setdefault(tile.key, []).append(tile.index)
        return self._by_key.get(key, [])

    def pairs(self) -> list[tuple[int, int, str]]:
        """Every (first, second, axis) of tiles that may touch (axis x: first left of second, y: above it); -1 is
        air, which a tile's edge must meet with transparency."""
        found = []
        for a, b, axis in sorted(orders.touching_keys(self.order), key=str):
            for first in self.tiles_for(a) if a != orders.AIR else [-1]:
                found += [(first, second, axis) for second in (self.tiles_for(b) if b != orders.AIR else [-1])]
        return sorted(found)

    def describe(self) -> dict:
        """The plan as JSON: what each tile is and its seed."""
        return {"order": self.order, "terrains": list(self.terrains), "tile_size": self.tile_size,
                "base_seeds": list(self.base_seeds),
                "planned": [{"index": t.index, "name": t.name, "kind": t.kind, "mask": t.mask, "seed": t.seed}
                            for t in self.tiles]}

    def grid(self) -> GridSet:
        cuts = list(range(0, self.canvas + 1, self.cell))
        return GridSet([PixelGrid(cuts, cuts, 1.0, (self.canvas, self.canvas))])

    def native(self, image: torch.Tensor, what: str) -> torch.Tensor:
        """A base tile (``[H, W, C]``, square, a whole multiple of the tile size) -> native ``[S, S, 3]``."""
        height, width = image.shape[:2]
        if height != width or width % self.tile_size:
            raise InputError(f"{what} is {width}x{height}; give a square tile whose side is a multiple of the tile "
                             f"size {self.tile_size} (e.g. {self.tile_size}x{self.tile_size} or "
                             f"{self.canvas}x{self.canvas})")
        step = width // self.tile_size
        cuts = list(range(0, width + 1, step))
        grid = GridSet([PixelGrid(cuts, cuts, 1.0, (width, width))])
        return downscale(image[None, ..., :3].float(), grids=grid)[0][0]

    def canvases(self, base_a: torch.Tensor, base_b: torch.Tensor) -> torch.Tensor:
        """``[N, C, C, 3]``: each tile's regions filled from the native base tiles, at the generation size."""
        regions = torch.from_numpy(self.regions).to(base_a.device).long()[..., None]
        backdrop = torch.full_like(base_a, AIR_BACKDROP)
        native = torch.where(regions == shapes.A, base_a, torch.where(regions == shapes.B, base_b, backdrop))
        return native.repeat_interleave(self.cell, dim=1).repeat_interleave(self.cell, dim=2)

    def draw_masks(self, device=None) -> torch.Tensor:
        """``[N, C, C]``: 1 where the model draws (an inpainting MASK)."""
        draw = torch.from_numpy(self.draw).to(device).float()
        return draw.repeat_interleave(self.cell, dim=1).repeat_interleave(self.cell, dim=2)

    def alpha(self, device=None) -> torch.Tensor:
        """``[N, S, S]`` MASK: 1 over air."""
        return torch.from_numpy(self.regions == shapes.AIR).to(device).float()

    def finish(self, drawn: torch.Tensor, canvases: torch.Tensor, first: int = 0) -> torch.Tensor:
        """What the model drew (``[n, C, C, 3]``, tiles ``first`` to ``first + n - 1``) pasted over their canvases
        where it may change -> native tiles ``[n, S, S, 3]``, one colour per grid cell."""
        if tuple(drawn.shape[:3]) != tuple(canvases.shape[:3]):
            raise InputError(f"the drawn tiles are {tuple(drawn.shape[:3])} but the canvases "
                             f"{tuple(canvases.shape[:3])}; decode the sampler's output of these canvases")
        if not (0 <= first and first + drawn.shape[0] <= len(self.tiles)):
            raise InputError(f"tiles {first} to {first + drawn.shape[0] - 1} asked of a set of {len(self.tiles)}")
        planned = self.draw[first:first + drawn.shape[0]]
        draw = torch.from_numpy(planned).to(drawn.device)
        draw = draw.repeat_interleave(self.cell, dim=1).repeat_interleave(self.cell, dim=2)[..., None]
        pasted = torch.where(draw, drawn[..., :3].float(), canvases[..., :3].float())
        native = downscale(pasted, grids=self.grid())[0]
        # Kept cells exactly as the canvas holds them (a cell's mean of equal values can be off by a rounding).
        kept = torch.from_numpy(~planned).to(drawn.device)[..., None]
        return torch.where(kept, canvases[:, ::self.cell, ::self.cell, :3].float(), native)

    def picture(self) -> torch.Tensor:
        """RGBA ``[H, W, 4]``: every tile's regions (A green, B brown, air clear), the redrawn band lighter, laid
        out as the tileset."""
        regions = torch.from_numpy(self.regions).long()
        rgb = REGION_COLOURS[regions]
        rgb = torch.where(torch.from_numpy(self.draw)[..., None], rgb * 0.55 + 0.45, rgb)
        return tile_sheet(torch.cat([rgb, (regions != shapes.AIR).float()[..., None]], dim=-1), self.columns)


def tile_sheet(tiles: torch.Tensor, columns: int) -> torch.Tensor:
    """Tiles ``[N, S, S, C]`` in rows of ``columns`` with a clear pixel between them, for looking at."""
    count, size = tiles.shape[:2]
    rows = -(-count // columns)
    sheet = torch.zeros(rows * (size + 1) - 1, columns * (size + 1) - 1, tiles.shape[-1], dtype=tiles.dtype,
                        device=tiles.device)
    for index in range(count):
        y, x = divmod(index, columns)
        sheet[y * (size + 1):y * (size + 1) + size, x * (size + 1):x * (size + 1) + size] = tiles[index]
    return sheet


def draw_region(regions: np.ndarray, kind: str, keep_edge: int, blend: int) -> np.ndarray:
    """Where the model draws in one tile: a band of ``blend`` pixels along region boundaries (transitions) or the
    whole inside (variants), never air, never the outer ``keep_edge`` pixels."""
    size = regions.shape[0]
    if kind in (orders.FULL_A, orders.FULL_B):
        return np.zeros((size, size), bool)
    if kind in (VARIANT_A, VARIANT_B):
        draw = np.ones((size, size), bool)
    else:
        padded = np.pad(regions, blend, mode="edge")
        draw = np.zeros((size, size), bool)
        for dy in range(-blend, blend + 1):
            for dx in range(-blend, blend + 1):
                draw |= padded[blend + dy:blend + dy + size, blend + dx:blend + dx + size] != regions
    draw &= regions != shapes.AIR
    if keep_edge:
        draw[:keep_edge], draw[size - keep_edge:], draw[:, :keep_edge], draw[:, size - keep_edge:] = (False,) * 4
    return draw


def plan_terrain(order: str, terrain_a: str, terrain_b: str, tile_size: int = 32, canvas: int = 1024,
                 variants: int = 2, keep_edge: int = 1, blend: int = 0, seed: int = 0, tile_seeds: str = "",
                 template: str = DEFAULT_TEMPLATE) -> TerrainPlan:
    """The plan of a terrain set: the order's tiles, then (blob 47) the plain A tile, then ``variants`` of each
    full tile. ``blend`` 0: an eighth of the tile. ``tile_seeds``: seeds of single tiles ('5=123'; 'a' and 'b' for
    the base tiles), the others use ``seed``."""
    orders.check_order(order)
    names = (terrain_a.strip(), terrain_b.strip())
    if not all(names):
        raise InputError("name both terrains, e.g. 'grass' and 'dirt'")
    if "{terrain}" not in template:
        raise InputError(f"the prompt template must hold {{terrain}}, got {template!r}")
    if not 4 <= tile_size <= 256:
        raise InputError(f"tile size must be from 4 to 256 native pixels, got {tile_size}")
    if canvas % tile_size or canvas % 8:
        raise InputError(f"the canvas ({canvas} px) must be a whole multiple of the tile size ({tile_size}) and of "
                         f"8 (the latent grid), e.g. {tile_size * max(1, round(canvas / tile_size / 8)) * 8}")
    if not 0 <= variants <= MAX_VARIANTS:
        raise InputError(f"variants must be from 0 to {MAX_VARIANTS}, got {variants}")
    if not 0 <= keep_edge <= tile_size // 4:
        raise InputError(f"keep_edge must be from 0 to a quarter tile ({tile_size // 4}), got {keep_edge}")
    blend = blend or max(1, tile_size // 8)
    seeds = parse_seeds(tile_seeds)
    specs = orders.order_tiles(order)
    if order == "blob 47":
        specs.append(orders.TileSpec(None, f"plain {names[0]}", orders.FULL_A))
    full = {"corner 16": (0, 15), "blob 47": (None, 255), "platformer": (None, 255)}[order]
    extra = [] if order == "platformer" else [(full[0], VARIANT_A, names[0])]
    for mask, kind, name in extra + [(full[1], VARIANT_B, names[1])]:
        specs += [orders.TileSpec(mask, f"{name} variant {number}", kind) for number in range(1, variants + 1)]
    text = {orders.FULL_A: names[0], VARIANT_A: names[0], orders.FULL_B: names[1], VARIANT_B: names[1],
            orders.TRANSITION: PAIR_TEXT.get(order, "{a} meeting {b}").format(a=names[0], b=names[1])}
    tiles = tuple(PlannedTile(index, spec.mask, spec.name, spec.kind, seeds.get(str(index), seed),
                              template.replace("{terrain}", text[spec.kind])) for index, spec in enumerate(specs))
    regions = np.stack([shapes.tile_regions(order, spec.mask, tile_size) for spec in specs])
    draw = np.stack([draw_region(region, tile.kind, keep_edge, blend) for region, tile in zip(regions, tiles)])
    return TerrainPlan(order, names, tile_size, canvas // tile_size, keep_edge, tiles, regions, draw,
                       tuple(template.replace("{terrain}", name) for name in names),
                       (seeds.get("a", seed), seeds.get("b", seed)))
