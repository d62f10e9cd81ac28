"""A sheet's layout: its rectangles, frames, animations and tiles (the SHEET type), as every exporter reads it."""
from __future__ import annotations

from dataclasses import dataclass

from .sockets import Hitbox, Socket

ASSET_KINDS = ("sprites", "tilesets", "items")  # the assets/ folder a sheet is exported into


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class SheetFrame:
    """One input frame on the sheet: the atlas rectangle holding its pixels and where they sit in the cell."""
    index: int  # into SheetLayout.rects (the Bevy atlas index)
    duration_ms: int
    trim: Rect  # the stored pixels' place inside the cell (the whole cell unless trimmed)
    source: int  # position in the input frames
    sockets: tuple[Socket, ...] = ()  # whole pixels of the cell (x right, y down from its top-left corner)
    hitboxes: tuple[Hitbox, ...] = ()


@dataclass(frozen=True)
class SheetAnimation:
    name: str
    start: int  # first and last position in SheetLayout.frames (inclusive)
    end: int
    loop: str  # forward, reverse, pingpong or once


@dataclass(frozen=True)
class TileInfo:
    index: int
    seam_x: float  # mean difference across the left/right wrap-around edge (0..1)
    seam_y: float  # the same across the top/bottom edge
    neighbour_x: float  # mean difference between side-by-side pixels inside the tile, for scale
    neighbour_y: float  # the same for pixels above one another
    seamless: bool
    mask: int | None = None  # autotile neighbour mask, when the tileset is an autotile set


@dataclass(frozen=True)
class SheetLayout:
    """Everything an exporter needs to describe a sheet (the SHEET type in ComfyUI)."""
    kind: str  # sprites, tilesets or items: the export folder
    size: tuple[int, int]  # the sheet image (width, height)
    cell: tuple[int, int]  # the common frame size (width, height)
    columns: int
    rows: int
    padding: int  # pixels between neighbouring rectangles (from_grid's padding)
    offset: int  # pixels before the first rectangle on both axes (from_grid's offset)
    extrude: int  # edge pixels repeated around each rectangle
    grid: bool  # rects == from_grid(cell, columns, rows, padding, offset)
    trimmed: bool
    pivot: tuple[int, int]  # the anchor point inside the cell (feet for baseline alignment), pixels from top-left
    rects: tuple[Rect, ...]
    frames: tuple[SheetFrame, ...]
    animations: tuple[SheetAnimation, ...] = ()
    tiles: tuple[TileInfo, ...] = ()
    autotile: str = "none"
    terrains: tuple[str, ...] = ()  # a two-terrain set's names (unset bits, set bits): Tiled colours 1 and 2

    def atlas_indices(self, animation: SheetAnimation) -> list[int]:
        return [self.frames[i].index for i in range(animation.start, animation.end + 1)]

    def durations(self, animation: SheetAnimation) -> list[int]:
        return [self.frames[i].duration_ms for i in range(animation.start, animation.end + 1)]

    def play_positions(self, animation: SheetAnimation) -> list[int]:
        """Frame positions in the order one loop shows them (reverse backwards; pingpong goes back without
        repeating the ends)."""
        positions = list(range(animation.start, animation.end + 1))
        if animation.loop == "reverse":
            return positions[::-1]
        if animation.loop == "pingpong" and len(positions) > 2:
            return positions + positions[-2:0:-1]
        return positions

    def play_order(self, animation: SheetAnimation) -> list[int]:
        """Atlas indices in the order they are shown in one loop."""
        return [self.frames[position].index for position in self.play_positions(animation)]

    def anchor(self, trim: Rect | None = None) -> tuple[float, float]:
        """Bevy ``Anchor`` (x right, y up, -0.5..0.5 over the shown rectangle) that puts the pivot on the entity."""
        trim = trim or Rect(0, 0, *self.cell)
        px, py = self.pivot
        return (px - trim.x) / trim.w - 0.5, 0.5 - (py - trim.y) / trim.h


def grid_rects(cell: tuple[int, int], columns: int, rows: int, padding: int, offset: int) -> list[Rect]:
    """The rectangles ``TextureAtlasLayout::from_grid`` makes (row-major from the top left)."""
    width, height = cell
    return [Rect(offset + column * (width + padding), offset + row * (height + padding), width, height)
            for row in range(rows) for column in range(columns)]
