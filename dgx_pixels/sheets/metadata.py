"""A sheet's metadata as JSON (``<name>.sheet.json``): everything an exporter needs besides the pixels (the layout,
animation tags, pivot, each frame's sockets and hitboxes, tiles) and the palette, so a sheet made on a ComfyUI server
can be exported anywhere else.

``sheet_metadata`` writes it; ``read_sheet_metadata`` reads it back into a SheetLayout, checking every field: the
file may come from another machine, so nothing in it is trusted (types, ranges, rectangles inside the image, frames
and animations that point at what exists).
"""
from __future__ import annotations

import json
import math
from typing import Any

from ..common.errors import InputError
from .layout import ASSET_KINDS, Rect, SheetAnimation, SheetFrame, SheetLayout, TileInfo
from .sockets import coerce_marks

METADATA_FORMAT = "dgx-pixels-sheet"
METADATA_VERSION = 1
METADATA_SUFFIX = ".sheet.json"
METADATA_LIMIT = 64 << 20  # bytes: a sheet of 100,000 frames is about 10 MB
MAX_SIDE = 1 << 20  # pixels along one side of a sheet or cell
MAX_ITEMS = 1 << 20  # rectangles, frames, animations or tiles
LOOPS = ("forward", "reverse", "pingpong", "once")  # sheets.frames.LOOP_MODES (kept free of its imports)
AUTOTILES = ("none", "corner 16", "blob 47")  # sheets.tileset.AUTOTILE_SETS (which needs torch)


def sheet_metadata(layout: SheetLayout, name: str, image: str, palette: tuple[str, list[str]] | None = None) -> dict:
    """The metadata of a sheet saved as ``image``; ``palette``: its name and ``#rrggbb`` colours, when known."""
    return {
        "format": METADATA_FORMAT, "version": METADATA_VERSION, "name": name, "kind": layout.kind, "image": image,
        "size": list(layout.size), "cell": list(layout.cell), "columns": layout.columns, "rows": layout.rows,
        "padding": layout.padding, "offset": layout.offset, "extrude": layout.extrude, "grid": layout.grid,
        "trimmed": layout.trimmed, "pivot": list(layout.pivot), "anchor": list(layout.anchor()),
        "rects": [[r.x, r.y, r.w, r.h] for r in layout.rects],
        "frames": [{"index": f.index, "duration_ms": f.duration_ms, "trim": [f.trim.x, f.trim.y, f.trim.w, f.trim.h],
                    "source": f.source, "sockets": [vars(socket) for socket in f.sockets],
                    "hitboxes": [vars(hitbox) for hitbox in f.hitboxes]} for f in layout.frames],
        "animations": [{"name": a.name, "start": a.start, "end": a.end, "loop": a.loop,
                        "indices": layout.atlas_indices(a), "durations_ms": layout.durations(a)}
                       for a in layout.animations],
        "tiles": [{"index": t.index, "seam_x": t.seam_x, "seam_y": t.seam_y, "neighbour_x": t.neighbour_x,
                   "neighbour_y": t.neighbour_y, "seamless": t.seamless, "mask": t.mask} for t in layout.tiles],
        "autotile": layout.autotile,
        "palette": {"name": palette[0], "colours": list(palette[1])} if palette else None,
    }


def metadata_bytes(metadata: dict) -> bytes:
    return (json.dumps(metadata, indent=1) + "\n").encode()


class _Reader:
    """Typed access to one JSON object, with errors that name the file and the field."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, what: str) -> InputError:
        return InputError(f"{self.where}: {what}")

    def field(self, data: dict, key: str, kind: type | tuple, label: str = "") -> Any:
        value = data.get(key) if isinstance(data, dict) else None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.fail(f"{label or key!r} is missing or not {_kind_words(kinds)}")
        return value

    def count(self, data: dict, key: str, low: int = 0, high: int = MAX_SIDE, label: str = "") -> int:
        value = self.field(data, key, int, label)
        if not low <= value <= high:
            raise self.fail(f"{label or key!r} is {value}, outside {low}..{high}")
        return value

    def pair(self, data: dict, key: str, low: int = 0, label: str = "") -> tuple[int, int]:
        value = self.field(data, key, list, label)
        if len(value) != 2 or not all(type(v) is int and low <= v <= MAX_SIDE for v in value):
            raise self.fail(f"{label or key!r} must be two whole numbers from {low} to {MAX_SIDE}")
        return value[0], value[1]

    def rect(self, value: Any, label: str, size: tuple[int, int]) -> Rect:
        if not (isinstance(value, list) and len(value) == 4 and all(type(v) is int and v >= 0 for v in value)):
            raise self.fail(f"{label} must be [x, y, width, height] in whole pixels")
        rect = Rect(*value)
        if rect.w < 1 or rect.h < 1 or rect.right > size[0] or rect.bottom > size[1]:
            raise self.fail(f"{label} {value} is empty or leaves the {size[0]}x{size[1]} area")
        return rect

    def items(self, data: dict, key: str) -> list:
        value = self.field(data, key, list)
        if len(value) > MAX_ITEMS:
            raise self.fail(f"{key!r} holds {len(value):,} entries; at most {MAX_ITEMS:,}")
        return value

    def number(self, data: dict, key: str, label: str) -> float:
        value = self.field(data, key, (int, float), label)
        if not math.isfinite(value):
            raise self.fail(f"{label} is not a finite number")
        return float(value)


def _kind_words(kinds: tuple) -> str:
    words = {bool: "true or false", int: "a whole number", float: "a number", str: "text", list: "a list",
             dict: "an object", type(None): "null"}
    return " or ".join(words.get(kind, kind.__name__) for kind in kinds)


def read_sheet_metadata(data: bytes, where: str) -> tuple[SheetLayout, dict]:
    """The layout in a metadata file's bytes, and the file's object (name, image, palette...); InputError names
    ``where`` and the field when anything is missing, of another type or inconsistent."""
    if len(data) > METADATA_LIMIT:
        raise InputError(f"{where} is {len(data):,} bytes; sheet metadata may be at most {METADATA_LIMIT:,}")
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise InputError(f"{where} is not JSON sheet metadata") from None
    read = _Reader(where)
    if not isinstance(value, dict) or value.get("format") != METADATA_FORMAT:
        raise read.fail(f"not {METADATA_FORMAT} metadata (its \"format\" must be {METADATA_FORMAT!r})")
    if value.get("version") != METADATA_VERSION:
        raise read.fail(f"metadata version {str(value.get('version'))[:20]} is not supported (this dgx-pixels "
                        f"reads version {METADATA_VERSION})")
    kind = read.field(value, "kind", str)
    if kind not in ASSET_KINDS:
        raise read.fail(f"'kind' must be one of {', '.join(ASSET_KINDS)}, got {kind[:40]!r}")
    size = read.pair(value, "size", 1)
    cell = read.pair(value, "cell", 1)
    rects = tuple(read.rect(r, f"rect {n}", size) for n, r in enumerate(read.items(value, "rects")))
    frames = []
    for n, frame in enumerate(read.items(value, "frames")):
        label = f"frame {n}"
        index = read.count(frame, "index", 0, max(len(rects) - 1, 0), f"{label} index")
        if not rects:
            raise read.fail(f"{label} points at a rectangle but the sheet has none")
        duration = read.count(frame, "duration_ms", 1, 3_600_000, f"{label} duration_ms")
        trim = read.rect(read.field(frame, "trim", list, f"{label} trim"), f"{label} trim", cell)
        try:  # sockets and hitboxes: absent from files written before sheets carried them
            marks = coerce_marks(frame.get("sockets"), frame.get("hitboxes"))
        except InputError as err:
            raise read.fail(f"{label}: {err}") from None
        frames.append(SheetFrame(index, duration, trim, read.count(frame, "source", 0, MAX_ITEMS, f"{label} source"),
                                 *marks))
    animations = []
    for n, animation in enumerate(read.items(value, "animations")):
        label = f"animation {n}"
        name = read.field(animation, "name", str, f"{label} name")
        if not 0 < len(name) <= 200:
            raise read.fail(f"{label} name must be 1 to 200 characters")
        start = read.count(animation, "start", 0, max(len(frames) - 1, 0), f"{label} start")
        end = read.count(animation, "end", start, max(len(frames) - 1, 0), f"{label} end")
        if not frames:
            raise read.fail(f"{label} points at frames but the sheet has none")
        loop = read.field(animation, "loop", str, f"{label} loop")
        if loop not in LOOPS:
            raise read.fail(f"{label} loop must be one of {', '.join(LOOPS)}, got {loop[:40]!r}")
        animations.append(SheetAnimation(name, start, end, loop))
    tiles = []
    for n, tile in enumerate(read.items(value, "tiles")):
        label = f"tile {n}"
        mask = tile.get("mask") if isinstance(tile, dict) else None
        if mask is not None and not (type(mask) is int and 0 <= mask < 256):
            raise read.fail(f"{label} mask must be null or a whole number from 0 to 255")
        tiles.append(TileInfo(read.count(tile, "index", 0, max(len(rects) - 1, 0), f"{label} index"),
                              *(read.number(tile, key, f"{label} {key}")
                                for key in ("seam_x", "seam_y", "neighbour_x", "neighbour_y")),
                              read.field(tile, "seamless", bool, f"{label} seamless"), mask))
    autotile = read.field(value, "autotile", str)
    if autotile not in AUTOTILES:
        raise read.fail(f"'autotile' must be one of {', '.join(AUTOTILES)}, got {autotile[:40]!r}")
    layout = SheetLayout(kind=kind, size=size, cell=cell, columns=read.count(value, "columns"),
                         rows=read.count(value, "rows"), padding=read.count(value, "padding"),
                         offset=read.count(value, "offset"), extrude=read.count(value, "extrude"),
                         grid=read.field(value, "grid", bool), trimmed=read.field(value, "trimmed", bool),
                         pivot=read.pair(value, "pivot"), rects=rects, frames=tuple(frames),
                         animations=tuple(animations), tiles=tuple(tiles), autotile=autotile)
    _check_palette(value.get("palette"), read)
    return layout, value


def _check_palette(palette: Any, read: _Reader) -> None:
    if palette is None:
        return
    name = read.field(palette, "name", str, "palette name")
    colours = read.field(palette, "colours", list, "palette colours")
    if len(name) > 200 or len(colours) > 256 or not all(
            isinstance(c, str) and len(c) == 7 and c[0] == "#" and all(ch in "0123456789abcdefABCDEF" for ch in c[1:])
            for c in colours):
        raise read.fail("'palette' must have a name and at most 256 colours written like #1d2b53")
