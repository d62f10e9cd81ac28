"""Godot 4: the sheet as resources a project loads as they are (text resources, format 3).

- ``<name>.tres``: a ``SpriteFrames`` for sprites and items: one ``AtlasTexture`` per atlas rectangle (``region``;
  a trimmed frame's ``margin`` restores its place in the cell), one animation per tag with its frames in play order
  (reverse backwards, pingpong there and back), ``speed`` in frames per second and each frame's ``duration`` as a
  multiple of its frame time, ``loop`` false for tags that play once. Metadata: ``pivot`` and ``cell_size`` (pixels)
  and, when the frames have them, ``sockets`` and ``hitboxes``: per animation, per shown frame, name -> Vector2 /
  Rect2 in cell pixels (x right, y down from the cell's top-left, the frame index AnimatedSprite2D reports).
  For tilesets a ``TileSet``: one ``TileSetAtlasSource`` (texture, margins, separation, region size), each tile's
  ``seamless`` flag as custom data, and for autotile orders a terrain set (corner 16: match corners; blob 47: match
  corners and sides) with every tile's peering bits.
- ``<name>.tscn`` (sprites and items): an AnimatedSprite2D with nearest filtering (Godot 4 filters per CanvasItem,
  not at import), its pivot on the node's origin and the first animation playing.
- ``<name>.png.import``: the importer's settings for pixel art: lossless, no mipmaps, never VRAM-compressed when
  seen in 3D, and no alpha-border fix (it would rewrite the colour of transparent pixels; nothing filters them).
  Godot completes the file (uid, imported path) on its first import and keeps these settings.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..sheets.layout import SheetLayout
from ..sheets.tileset import BLOB_BITS, CORNER_BITS
from .place import AssetPlace

FORMAT = 3  # Godot 4's text resource format
LOOP_NONE, LOOP_LINEAR = False, True
# Terrain peering bits of square tiles, by our mask bit names (TileSet.CellNeighbor).
PEERING_BITS = {"N": "top_side", "NE": "top_right_corner", "E": "right_side", "SE": "bottom_right_corner",
                "S": "bottom_side", "SW": "bottom_left_corner", "W": "left_side", "NW": "top_left_corner"}
TERRAIN_MODES = {"corner 16": (1, CORNER_BITS), "blob 47": (0, BLOB_BITS)}  # MATCH_CORNERS, MATCH_CORNERS_AND_SIDES
IMPORT_PARAMS = (("compress/mode", "0"), ("compress/high_quality", "false"), ("compress/lossy_quality", "0.7"),
                 ("mipmaps/generate", "false"), ("mipmaps/limit", "-1"), ("process/fix_alpha_border", "false"),
                 ("process/premult_alpha", "false"), ("process/size_limit", "0"), ("detect_3d/compress_to", "0"))


@dataclass(frozen=True)
class Call:
    """A Godot constructor or reference: ``Rect2(0, 0, 16, 16)``, ``ExtResource("1_sheet")``."""
    name: str
    args: tuple


def value(item) -> str:
    """Godot's text form of a value (bool, int, float, str, list, dict, Call)."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        text = repr(round(item, 6))
        return text if any(ch in text for ch in ".e") else text + ".0"
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)  # Godot reads the same escapes
    if isinstance(item, Call):
        return f"{item.name}({', '.join(value(arg) for arg in item.args)})"
    if isinstance(item, list):
        return "[" + ", ".join(value(element) for element in item) + "]"
    if isinstance(item, dict):
        if not item:
            return "{}"
        return "{\n" + ",\n".join(f"{json.dumps(str(key))}: {value(v)}" for key, v in item.items()) + "\n}"
    raise TypeError(f"no Godot form for {type(item).__name__}")


def resource_file(kind: str, external: list[tuple[str, str, str]], internal: list[tuple[str, str, dict]],
                  properties: dict, scene: bool = False) -> str:
    """A text resource: ``external`` (type, path, id), ``internal`` (type, id, properties), then the resource."""
    steps = len(external) + len(internal) + 1
    header = "gd_scene" if scene else f'gd_resource type="{kind}"'
    lines = [f"[{header} load_steps={steps} format={FORMAT}]", ""]
    for type_name, path, ident in external:
        lines += [f'[ext_resource type="{type_name}" path="{path}" id="{ident}"]', ""]
    for type_name, ident, fields in internal:
        lines += [f'[sub_resource type="{type_name}" id="{ident}"]']
        lines += [f"{key} = {value(v)}" for key, v in fields.items()] + [""]
    if not scene:
        lines.append("[resource]")
    lines += [f"{key} = {value(v)}" for key, v in properties.items()]
    return "\n".join(lines) + "\n"


def res_path(place: AssetPlace, file_name: str) -> str:
    return f"res://{place.path(file_name)}"


def _vector(x, y) -> Call:
    return Call("Vector2", (float(x), float(y)))


def sprite_frames(layout: SheetLayout, image: str) -> str:
    """The SpriteFrames resource of a sheet whose image is at ``image`` (a res:// path)."""
    cell_w, cell_h = layout.cell
    atlas_ids: dict[int, str] = {}
    internal = []
    for frame in layout.frames:
        if frame.index in atlas_ids:
            continue
        atlas_ids[frame.index] = f"AtlasTexture_{frame.index}"
        rect, trim = layout.rects[frame.index], frame.trim
        fields = {"atlas": Call("ExtResource", ("1_sheet",)), "region": Call("Rect2", (rect.x, rect.y, rect.w, rect.h))}
        if (trim.w, trim.h) != (cell_w, cell_h):
            fields["margin"] = Call("Rect2", (trim.x, trim.y, cell_w - trim.w, cell_h - trim.h))
        fields["filter_clip"] = True
        internal.append(("AtlasTexture", atlas_ids[frame.index], fields))
    animations, sockets, hitboxes = [], {}, {}
    for name, positions, loop in _animations(layout):
        base = min(layout.frames[p].duration_ms for p in positions)
        animations.append({
            "frames": [{"duration": layout.frames[p].duration_ms / base,
                        "texture": Call("SubResource", (atlas_ids[layout.frames[p].index],))} for p in positions],
            "loop": loop, "name": name, "speed": 1000.0 / base})
        sockets[name] = [{s.name: _vector(s.x, s.y) for s in layout.frames[p].sockets} for p in positions]
        hitboxes[name] = [{b.name: Call("Rect2", (b.x, b.y, b.w, b.h)) for b in layout.frames[p].hitboxes}
                          for p in positions]
    properties = {"animations": animations, "metadata/pivot": _vector(*layout.pivot),
                  "metadata/cell_size": Call("Vector2i", (cell_w, cell_h))}
    if any(frame.sockets or frame.hitboxes for frame in layout.frames):
        properties.update({"metadata/sockets": sockets, "metadata/hitboxes": hitboxes})
    return resource_file("SpriteFrames", [("Texture2D", image, "1_sheet")], internal, properties)


def _animations(layout: SheetLayout) -> list[tuple[str, list[int], bool]]:
    """(name, frame positions in play order, loops) per tag; an untagged sheet is one looping "default"."""
    if not layout.animations:
        return [("default", list(range(len(layout.frames))), LOOP_LINEAR)]
    return [(a.name, layout.play_positions(a), LOOP_NONE if a.loop == "once" else LOOP_LINEAR)
            for a in layout.animations]


def tileset(layout: SheetLayout, image: str, terrain: str) -> str:
    """The TileSet resource of a tileset whose image is at ``image``; ``terrain`` names the autotile terrain."""
    width, height = layout.cell
    source = {"texture": Call("ExtResource", ("1_sheet",)),
              "margins": Call("Vector2i", (layout.offset, layout.offset)),
              "separation": Call("Vector2i", (layout.padding, layout.padding)),
              "texture_region_size": Call("Vector2i", (width, height))}
    mode = TERRAIN_MODES.get(layout.autotile)
    for tile in layout.tiles:
        key = f"{tile.index % layout.columns}:{tile.index // layout.columns}/0"
        source[key] = 0
        if mode is not None and tile.mask is not None:
            source[f"{key}/terrain_set"] = 0
            if tile.mask:  # a tile with no terrain corner is the empty tile: in the set, of no terrain
                source[f"{key}/terrain"] = 0
            for bit_name, bit in mode[1].items():
                if tile.mask & bit:
                    source[f"{key}/terrains_peering_bit/{PEERING_BITS[bit_name]}"] = 0
        source[f"{key}/custom_data_0"] = tile.seamless
    properties = {"tile_size": Call("Vector2i", (width, height))}
    if mode is not None:
        properties.update({"terrain_set_0/mode": mode[0], "terrain_set_0/terrain_0/name": terrain,
                           "terrain_set_0/terrain_0/color": Call("Color", (0.235, 0.608, 0.235, 1))})
    properties.update({"custom_data_layer_0/name": "seamless", "custom_data_layer_0/type": 1,  # Variant.Type BOOL
                       "sources/0": Call("SubResource", ("TileSetAtlasSource_0",))})
    return resource_file("TileSet", [("Texture2D", image, "1_sheet")],
                         [("TileSetAtlasSource", "TileSetAtlasSource_0", source)], properties)


def scene(layout: SheetLayout, frames_path: str, name: str) -> str:
    """A scene of one AnimatedSprite2D showing the SpriteFrames at ``frames_path``."""
    first = layout.animations[0].name if layout.animations else "default"
    node = {"texture_filter": 1,  # CanvasItem.TEXTURE_FILTER_NEAREST
            "sprite_frames": Call("ExtResource", ("1_frames",)), "animation": first, "autoplay": first,
            "centered": False, "offset": _vector(-layout.pivot[0], -layout.pivot[1])}
    text = resource_file("", [("SpriteFrames", frames_path, "1_frames")], [], {}, scene=True)
    return text + "\n".join([f'[node name="{name}" type="AnimatedSprite2D"]',
                             *(f"{key} = {value(v)}" for key, v in node.items())]) + "\n"


def import_settings(image: str) -> str:
    params = "\n".join(f"{key}={v}" for key, v in IMPORT_PARAMS)
    return (f'[remap]\n\nimporter="texture"\ntype="CompressedTexture2D"\n\n[deps]\n\nsource_file="{image}"\n\n'
            f"[params]\n\n{params}\n")


def godot_files(place: AssetPlace, layout: SheetLayout, options) -> dict[str, bytes]:
    image = res_path(place, place.image)
    files = {f"{place.image}.import": import_settings(image)}
    if layout.kind == "tilesets":
        files[f"{place.name}.tres"] = tileset(layout, image, place.name)
    else:
        files[f"{place.name}.tres"] = sprite_frames(layout, image)
        files[f"{place.name}.tscn"] = scene(layout, res_path(place, f"{place.name}.tres"), place.name)
    return {name: text.encode() for name, text in files.items()}


def godot_snippet(place: AssetPlace, layout: SheetLayout, options) -> str:
    if layout.kind == "tilesets":
        return "\n".join([
            f"# {res_path(place, place.name + '.tres')}: a TileSet. Select a TileMapLayer, set its Tile Set to this",
            "# file, and paint (autotile sets: the Terrains tab paints with the terrain). In code:",
            f"$TileMapLayer.tile_set = load(\"{res_path(place, place.name + '.tres')}\")", ""])
    lines = [
        f"# {res_path(place, place.name + '.tscn')}: drag it into a scene, or in code:",
        f"var sprite = load(\"{res_path(place, place.name + '.tscn')}\").instantiate()",
        "add_child(sprite)"]
    if not any(frame.sockets for frame in layout.frames):
        return "\n".join(lines + [""])
    return "\n".join(lines + [
        "# A socket follows the frame shown (pixel centre, relative to the pivot on the node's origin):",
        "func socket(sprite: AnimatedSprite2D, socket_name: String) -> Vector2:",
        "    var frames = sprite.sprite_frames",
        "    var at = frames.get_meta(\"sockets\")[sprite.animation][sprite.frame][socket_name]",
        "    return at + Vector2(0.5, 0.5) - frames.get_meta(\"pivot\")",
        ""])
