"""Web engines: Phaser 3/4 and PixiJS 8.

- Phaser: ``<name>.json``, Aseprite's array form with frame numbers as names (what ``createFromAseprite`` looks
  up), the frame tags, per-frame durations, sockets/hitboxes as slices, and each frame's ``anchor`` (the pivot,
  which Phaser makes the sprite's origin). PixiJS reads the same file (its frames, by number, and anchors).
- PixiJS: ``<name>.pixi.json``, TexturePacker's JSON hash with ``animations`` (what ``Spritesheet`` turns into
  texture lists), each frame's ``anchor`` (the pivot over the untrimmed frame, as Pixi anchors ``orig``), its
  ``duration`` and its sockets/hitboxes, and the frame tags under ``meta`` for loops.
Paths in the snippets are relative to the project folder (serve it, or point the export at ``public/``).
"""
from __future__ import annotations

import json

from .. import __version__
from ..sheets.layout import SheetLayout
from ..sheets.sockets import marks_dict
from .aseprite import APP, aseprite_data, frame_tag
from .place import AssetPlace


def _json(data: dict) -> bytes:
    return (json.dumps(data, indent=1) + "\n").encode()


def frame_keys(layout: SheetLayout, name: str) -> list[str]:
    """Readable, unique frame names: ``walk_E 0`` per animation frame, ``<name> <position>`` when untagged."""
    keys = [f"{name} {position}" for position in range(len(layout.frames))]
    for animation in layout.animations:
        for offset, position in enumerate(range(animation.start, animation.end + 1)):
            keys[position] = f"{animation.name} {offset}"
    return keys


def pixi_hash(layout: SheetLayout, image: str, name: str) -> dict:
    cell_w, cell_h = layout.cell
    keys = frame_keys(layout, name)
    frames = {}
    for key, frame in zip(keys, layout.frames):
        rect, trim = layout.rects[frame.index], frame.trim
        entry = {
            "frame": {"x": rect.x, "y": rect.y, "w": rect.w, "h": rect.h},
            "rotated": False,
            "trimmed": (trim.x, trim.y, trim.w, trim.h) != (0, 0, cell_w, cell_h),
            "spriteSourceSize": {"x": trim.x, "y": trim.y, "w": trim.w, "h": trim.h},
            "sourceSize": {"w": cell_w, "h": cell_h},
            "anchor": _anchor(layout),
            "duration": frame.duration_ms,
        }
        if frame.sockets or frame.hitboxes:
            entry.update(marks_dict(frame.sockets, frame.hitboxes))
        frames[key] = entry
    animations = {animation.name: [keys[p] for p in layout.play_positions(animation)]
                  for animation in layout.animations}
    return {
        "frames": frames,
        "animations": animations,
        "meta": {
            "app": APP, "version": __version__, "image": image, "format": "RGBA8888",
            "size": {"w": layout.size[0], "h": layout.size[1]}, "scale": "1",
            "frameTags": [frame_tag(a.name, a.start, a.end, a.loop) for a in layout.animations],
        },
    }


def _anchor(layout: SheetLayout) -> dict:
    """The pivot as a fraction of the untrimmed frame: PixiJS's ``anchor``, and Phaser's frame pivot (its sprites
    take it as their origin)."""
    return {"x": round(layout.pivot[0] / layout.cell[0], 6), "y": round(layout.pivot[1] / layout.cell[1], 6)}


def phaser_files(place: AssetPlace, layout: SheetLayout, options) -> dict[str, bytes]:
    data = aseprite_data(layout, place.image, place.name, "array", "number")
    for frame in data["frames"]:
        frame["anchor"] = _anchor(layout)
    return {f"{place.name}.json": _json(data)}


def pixi_files(place: AssetPlace, layout: SheetLayout, options) -> dict[str, bytes]:
    return {f"{place.name}.pixi.json": _json(pixi_hash(layout, place.image, place.name))}


def _first_tag(layout: SheetLayout) -> str:
    return layout.animations[0].name if layout.animations else ""


def phaser_snippet(place: AssetPlace, layout: SheetLayout, options) -> str:
    first = _first_tag(layout)
    play = f"    this.add.sprite(200, 150, '{place.name}').setScale(4).play('{first}');" if first else \
        f"    this.add.image(200, 150, '{place.name}', '0').setScale(4);"
    return "\n".join([
        f"// {place.path(place.image)} in Phaser 3 or 4 (pixelArt: true in the game config keeps pixels crisp).",
        "function preload() {",
        f"    this.load.aseprite('{place.name}', '{place.path(place.image)}', '{place.path(place.name + '.json')}');",
        "}",
        "",
        "function create() {",
        f"    this.anims.createFromAseprite('{place.name}');",
        "    // Aseprite tags loop unless they carry a repeat count; createFromAseprite leaves them all at one play.",
        f"    for (const tag of this.cache.json.get('{place.name}').meta.frameTags) {{",
        "        this.anims.get(tag.name).repeat = tag.repeat ? Number(tag.repeat) - 1 : -1;",
        "    }",
        play,
        "}",
        "",
    ])


def pixi_snippet(place: AssetPlace, layout: SheetLayout, options) -> str:
    first = _first_tag(layout)
    lines = [
        f"// {place.path(place.image)} in PixiJS 8.",
        "import { AnimatedSprite, Assets } from 'pixi.js';",
        "",
        f"const sheet = await Assets.load('{place.path(place.name + '.pixi.json')}');",
        "sheet.textureSource.scaleMode = 'nearest';",
    ]
    if first:
        lines += [
            "// Each frame keeps its own duration; tags without a repeat count loop.",
            "function play(name) {",
            "    const keys = sheet.data.animations[name];",
            "    const sprite = new AnimatedSprite(keys.map((key) => ({ texture: sheet.textures[key], "
            "time: sheet.data.frames[key].duration })));",
            "    const tag = sheet.data.meta.frameTags.find((t) => t.name === name);",
            "    sprite.loop = !(tag && tag.repeat);",
            "    sprite.play();",
            "    return sprite;",
            "}",
            f"app.stage.addChild(play('{first}'));",
        ]
    return "\n".join(lines) + "\n"
