"""Aseprite's JSON sprite-sheet data (as ``aseprite --sheet --data`` writes it): frames with their rectangles and
durations, frame tags, the pivot as a slice, and sockets and hitboxes as slices with a key per frame.

Forms: ``array`` (``--format json-array``, frames in a list, each with its ``filename``) or ``hash`` (frames keyed
by name). Frame names: ``aseprite`` is Aseprite's own ``{title} {frame}.{extension}`` ("hero 0.png"); ``number``
is ``{frame}`` alone ("0", "1"...), the names Phaser's ``createFromAseprite`` looks frames up by and the keys PixiJS
gives an array's frames, so one file serves both loaders.

Sockets are 1x1 slices at the socket's pixel with the pivot on it (``socket_<name>``), hitboxes slices of their box
(``hitbox_<name>``); keys are per frame, in the frame's own (cell) coordinates, as Aseprite keeps slices.
"""
from __future__ import annotations

from .. import __version__
from ..common.errors import InputError
from ..sheets.layout import Rect, SheetLayout

APP = "https://github.com/dgx-pixels/dgx-pixels"
DIRECTIONS = ("forward", "reverse", "pingpong", "pingpong_reverse")
PIVOT_SLICE_COLOUR = "#0000ffff"
SOCKET_SLICE_COLOUR = "#ff8000ff"
HITBOX_SLICE_COLOUR = "#ff0000ff"
FORMS = ("array", "hash")
FRAME_NAMES = ("aseprite", "number")


def _rect(rect: Rect) -> dict:
    return {"x": rect.x, "y": rect.y, "w": rect.w, "h": rect.h}


def frame_tag(name: str, first: int, last: int, loop: str) -> dict:
    """Aseprite writes ``repeat`` (a string) only when a tag plays a fixed number of times: once = "1"."""
    tag = {"name": name, "from": first, "to": last, "direction": loop if loop in DIRECTIONS else "forward"}
    if loop == "once":
        tag["repeat"] = "1"
    return tag


def frame_name(name: str, position: int, names: str) -> str:
    return str(position) if names == "number" else f"{name} {position}.png"


def mark_slices(layout: SheetLayout) -> list[dict]:
    """One slice per socket and hitbox name, a key for every frame that has it (cell coordinates)."""
    slices: dict[str, dict] = {}
    for position, frame in enumerate(layout.frames):
        for socket in frame.sockets:
            entry = slices.setdefault(f"socket_{socket.name}", {"name": f"socket_{socket.name}",
                                                                 "color": SOCKET_SLICE_COLOUR, "keys": []})
            entry["keys"].append({"frame": position, "bounds": {"x": socket.x, "y": socket.y, "w": 1, "h": 1},
                                  "pivot": {"x": 0, "y": 0}})
        for box in frame.hitboxes:
            entry = slices.setdefault(f"hitbox_{box.name}", {"name": f"hitbox_{box.name}",
                                                             "color": HITBOX_SLICE_COLOUR, "keys": []})
            entry["keys"].append({"frame": position, "bounds": {"x": box.x, "y": box.y, "w": box.w, "h": box.h}})
    return list(slices.values())


def aseprite_data(layout: SheetLayout, image: str, name: str, form: str = "array", names: str = "aseprite") -> dict:
    if form not in FORMS:
        raise InputError(f"Aseprite JSON form must be one of {', '.join(FORMS)}, got {form!r}")
    if names not in FRAME_NAMES:
        raise InputError(f"frame names must be one of {', '.join(FRAME_NAMES)}, got {names!r}")
    cell = Rect(0, 0, *layout.cell)
    frames = [{
        "filename": frame_name(name, position, names),
        "frame": _rect(layout.rects[frame.index]),
        "rotated": False,
        "trimmed": frame.trim != cell,
        "spriteSourceSize": _rect(frame.trim),
        "sourceSize": {"w": cell.w, "h": cell.h},
        "duration": frame.duration_ms,
    } for position, frame in enumerate(layout.frames)]
    pivot = {"name": "pivot", "color": PIVOT_SLICE_COLOUR,
             "keys": [{"frame": 0, "bounds": _rect(cell), "pivot": {"x": layout.pivot[0], "y": layout.pivot[1]}}]}
    return {
        "frames": frames if form == "array" else {entry.pop("filename"): entry for entry in frames},
        "meta": {
            "app": APP,
            "version": __version__,
            "image": image,
            "format": "RGBA8888",
            "size": {"w": layout.size[0], "h": layout.size[1]},
            "scale": "1",
            "frameTags": [frame_tag(a.name, a.start, a.end, a.loop) for a in layout.animations],
            "layers": [],
            "slices": [pivot, *mark_slices(layout)],
        },
    }


def aseprite_array(layout: SheetLayout, image: str, name: str) -> dict:
    """The array form with Aseprite's own frame names."""
    return aseprite_data(layout, image, name)
