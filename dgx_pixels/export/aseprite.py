"""Aseprite's JSON sprite-sheet data, array form (as ``aseprite --sheet --data --format json-array`` writes it):
frames with their rectangles and durations, frame tags, and the pivot as a slice."""
from __future__ import annotations

from .. import __version__
from ..sheets.layout import Rect, SheetLayout

APP = "https://github.com/dgx-pixels/dgx-pixels"
DIRECTIONS = ("forward", "reverse", "pingpong", "pingpong_reverse")
PIVOT_SLICE_COLOUR = "#0000ffff"


def _rect(rect: Rect) -> dict:
    return {"x": rect.x, "y": rect.y, "w": rect.w, "h": rect.h}


def frame_tag(name: str, first: int, last: int, loop: str) -> dict:
    """Aseprite writes ``repeat`` (a string) only when a tag plays a fixed number of times: once = "1"."""
    tag = {"name": name, "from": first, "to": last, "direction": loop if loop in DIRECTIONS else "forward"}
    if loop == "once":
        tag["repeat"] = "1"
    return tag


def aseprite_array(layout: SheetLayout, image: str, name: str) -> dict:
    cell = Rect(0, 0, *layout.cell)
    frames = [{
        "filename": f"{name} {position}.png",
        "frame": _rect(layout.rects[frame.index]),
        "rotated": False,
        "trimmed": frame.trim != cell,
        "spriteSourceSize": _rect(frame.trim),
        "sourceSize": {"w": cell.w, "h": cell.h},
        "duration": frame.duration_ms,
    } for position, frame in enumerate(layout.frames)]
    return {
        "frames": frames,
        "meta": {
            "app": APP,
            "version": __version__,
            "image": image,
            "format": "RGBA8888",
            "size": {"w": layout.size[0], "h": layout.size[1]},
            "scale": "1",
            "frameTags": [frame_tag(a.name, a.start, a.end, a.loop) for a in layout.animations],
            "layers": [],
            "slices": [{
                "name": "pivot",
                "color": PIVOT_SLICE_COLOUR,
                "keys": [{"frame": 0, "bounds": _rect(cell), "pivot": {"x": layout.pivot[0], "y": layout.pivot[1]}}],
            }],
        },
    }
