"""Sockets (named points: a hand to hold a weapon, the head, the feet) and hitboxes (named boxes) of a frame.

They are measured where the frame is made (the pose batch knows every joint) in that frame's pixels, its ``space``,
and travel with the frame tags (FRAMES). A sheet maps them the way the frame's pixels moved: into native pixels
(through the pixel grid's cuts when it is known, else by the size ratio), then by the frame's offset in its cell.
On the sheet (SheetFrame) they are whole pixels of the cell, x right and y down from the cell's top-left corner,
the frame's own coordinates in Aseprite: a socket is the pixel holding the point, a hitbox the pixels it covers.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Sequence

from ..common.errors import InputError

MAX_MARKS = 64  # per frame: a rig has a dozen; more is a mistake, and every export repeats them per frame


@dataclass(frozen=True)
class Socket:
    name: str
    x: float
    y: float


@dataclass(frozen=True)
class Hitbox:
    name: str
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _name(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64 or not value.isprintable():
        raise InputError(f"{what} name must be 1-64 printable characters, got {value!r}")
    return value


def coerce_marks(sockets, hitboxes) -> tuple[tuple[Socket, ...], tuple[Hitbox, ...]]:
    """Sockets and hitboxes as they may arrive (dataclasses, dicts from JSON) -> checked tuples."""
    sockets, hitboxes = list(sockets or ()), list(hitboxes or ())
    if len(sockets) + len(hitboxes) > MAX_MARKS:
        raise InputError(f"a frame has {len(sockets) + len(hitboxes)} sockets and hitboxes; at most {MAX_MARKS}")
    points = []
    for item in sockets:
        data = item.__dict__ if isinstance(item, Socket) else item
        if not isinstance(data, dict):
            raise InputError(f"a socket must be {{name, x, y}}, got {type(item).__name__}")
        name = _name(data.get("name"), "a socket's")
        points.append(Socket(name, _number(data.get("x"), f"socket {name}'s x"),
                             _number(data.get("y"), f"socket {name}'s y")))
    boxes = []
    for item in hitboxes:
        data = item.__dict__ if isinstance(item, Hitbox) else item
        if not isinstance(data, dict):
            raise InputError(f"a hitbox must be {{name, x, y, w, h}}, got {type(item).__name__}")
        name = _name(data.get("name"), "a hitbox's")
        values = [_number(data.get(key), f"hitbox {name}'s {key}") for key in ("x", "y", "w", "h")]
        if values[2] < 0 or values[3] < 0:
            raise InputError(f"hitbox {name} has a negative size {values[2]}x{values[3]}")
        boxes.append(Hitbox(name, *values))
    return tuple(points), tuple(boxes)


def through_cuts(value: float, cuts: Sequence[int]) -> float:
    """A coordinate in input pixels -> native pixels, through the pixel grid's cuts along that axis (cell ``i``
    spans ``cuts[i]..cuts[i+1]``); beyond the ends the outer cells' sizes carry on."""
    cell = min(max(bisect.bisect_right(cuts, value) - 1, 0), len(cuts) - 2)
    return cell + (value - cuts[cell]) / max(1, cuts[cell + 1] - cuts[cell])


def to_native(x: float, y: float, space: tuple[int, int], size: tuple[int, int], grid=None) -> tuple[float, float]:
    """A point measured in a ``space`` (width, height) frame -> the pixels of the frame as it is now (``size``),
    through ``grid`` (a PixelGrid found on frames of that space) when given, else by the size ratio."""
    if not space[0] or tuple(space) == tuple(size):
        return x, y
    if grid is not None and tuple(grid.input_size) == tuple(space) and grid.native_size == tuple(size):
        return through_cuts(x, grid.cuts_x), through_cuts(y, grid.cuts_y)
    return x * size[0] / space[0], y * size[1] / space[1]


def place_marks(sockets: Sequence[Socket], hitboxes: Sequence[Hitbox], space: tuple[int, int], size: tuple[int, int],
                offset: tuple[int, int], grid=None) -> tuple[tuple[Socket, ...], tuple[Hitbox, ...]]:
    """A frame's marks in its cell: mapped into its current pixels, moved by its ``offset`` in the cell, as whole
    pixels (a socket: the pixel holding the point; a hitbox: every pixel it touches)."""
    dx, dy = offset
    placed_sockets = []
    for socket in sockets:
        x, y = to_native(socket.x, socket.y, space, size, grid)
        placed_sockets.append(Socket(socket.name, math.floor(x) + dx, math.floor(y) + dy))
    placed_boxes = []
    for box in hitboxes:
        x0, y0 = to_native(box.x, box.y, space, size, grid)
        x1, y1 = to_native(box.right, box.bottom, space, size, grid)
        left, top = math.floor(x0), math.floor(y0)
        placed_boxes.append(Hitbox(box.name, left + dx, top + dy, max(1, math.ceil(x1) - left),
                                   max(1, math.ceil(y1) - top)))
    return tuple(placed_sockets), tuple(placed_boxes)


def marks_dict(sockets: Sequence[Socket], hitboxes: Sequence[Hitbox]) -> dict:
    """``{"sockets": {name: [x, y]}, "hitboxes": {name: [x, y, w, h]}}``: the form the JSON exports carry."""
    return {"sockets": {s.name: [s.x, s.y] for s in sockets},
            "hitboxes": {b.name: [b.x, b.y, b.w, b.h] for b in hitboxes}}
