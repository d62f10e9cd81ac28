"""LDtk: ``<name>.ldtk``, a project holding the sheet's tileset definition (its image beside it, tile grid size,
spacing, padding), an enum tagging the tiles and each tile's custom data, plus one empty level to open it with.

- Tilesets: for autotile orders the enum ``<Name>Mask`` has a value per neighbour mask (``mask_0``...) tagging each
  tile; custom data per tile: ``{"mask": m, "seamless": true}``.
- Sprite sheets: the enum ``<Name>Animation`` has a value per animation tagging its frames; custom data per frame:
  its duration and its sockets and hitboxes (cell pixels).
LDtk tiles are square and on a grid, so a trimmed sheet or one with non-square cells is refused with the reason.
Identifiers (uids, iids) are derived from the asset name, so a new export keeps them.
"""
from __future__ import annotations

import json
import re
import uuid

from ..common.errors import InputError
from ..sheets.layout import SheetLayout
from ..sheets.sockets import marks_dict
from .place import AssetPlace

JSON_VERSION = "1.5.3"
APP_BUILD_ID = 473703.0  # the build id LDtk 1.5.3 writes
TILESET_UID, ENUM_UID, LEVEL_UID = 1, 2, 3
BACKGROUND = "#40465B"


def identifier(text: str) -> str:
    """An LDtk identifier (letters, digits and _, not starting with a digit), capitalised as LDtk does."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text)
    cleaned = cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"
    return cleaned[:1].upper() + cleaned[1:]


def _iid(name: str, part: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dgx-pixels:{name}:{part}"))


def check_grid(layout: SheetLayout) -> int:
    if layout.trimmed or not layout.grid:
        raise InputError("LDtk reads a sheet as a grid of tiles; export it untrimmed (trim off)")
    if layout.cell[0] != layout.cell[1]:
        raise InputError(f"LDtk tiles are square but the cells are {layout.cell[0]}x{layout.cell[1]}; set a square "
                         "cell size (cell_width = cell_height) for the LDtk export")
    return layout.cell[0]


def tags_and_data(layout: SheetLayout, name: str) -> tuple[dict | None, list[dict], list[dict]]:
    """(the enum definition or None, the enum tags, the tiles' custom data)."""
    if layout.kind == "tilesets":
        data = [{"tileId": t.index, "data": json.dumps({"mask": t.mask, "seamless": t.seamless})}
                for t in layout.tiles]
        if layout.autotile == "none":
            return None, [], data
        masks = sorted({t.mask for t in layout.tiles})
        values = {f"mask_{mask}": [t.index for t in layout.tiles if t.mask == mask] for mask in masks}
        enum_name = f"{identifier(name)}Mask"
    else:
        data = []
        for frame in layout.frames:
            if all(entry["tileId"] != frame.index for entry in data):
                data.append({"tileId": frame.index, "data": json.dumps(
                    {"duration_ms": frame.duration_ms, **marks_dict(frame.sockets, frame.hitboxes)})})
        if not layout.animations:
            return None, [], data
        values = {identifier(a.name): sorted(set(layout.atlas_indices(a))) for a in layout.animations}
        enum_name = f"{identifier(name)}Animation"
    enum = {"identifier": enum_name, "uid": ENUM_UID, "tags": [], "iconTilesetUid": TILESET_UID,
            "externalRelPath": None, "externalFileChecksum": None,
            "values": [{"id": value_id, "tileRect": None, "color": 0} for value_id in values]}
    tags = [{"enumValueId": value_id, "tileIds": tile_ids} for value_id, tile_ids in values.items()]
    return enum, tags, data


def ldtk_project(layout: SheetLayout, image: str, name: str) -> dict:
    grid = check_grid(layout)
    enum, tags, data = tags_and_data(layout, name)
    tileset = {
        "__cWid": layout.columns, "__cHei": layout.rows, "identifier": identifier(name), "uid": TILESET_UID,
        "relPath": image, "embedAtlas": None, "pxWid": layout.size[0], "pxHei": layout.size[1],
        "tileGridSize": grid, "spacing": layout.padding, "padding": layout.offset, "tags": [],
        "tagsSourceEnumUid": ENUM_UID if enum else None, "enumTags": tags, "customData": data,
        "savedSelections": [], "cachedPixelData": None,
    }
    level = {
        "identifier": "Level_0", "iid": _iid(name, "level"), "uid": LEVEL_UID, "worldX": 0, "worldY": 0,
        "worldDepth": 0, "pxWid": grid * 16, "pxHei": grid * 16, "__bgColor": BACKGROUND, "bgColor": None,
        "useAutoIdentifier": True, "bgRelPath": None, "bgPos": None, "bgPivotX": 0.5, "bgPivotY": 0.5,
        "__smartColor": "#ADADB5", "__bgPos": None, "externalRelPath": None, "fieldInstances": [],
        "layerInstances": [], "__neighbours": [],
    }
    return {
        "__header__": {"fileType": "LDtk Project JSON", "app": "LDtk", "doc": "https://ldtk.io/json",
                       "schema": "https://ldtk.io/files/JSON_SCHEMA.json", "appAuthor": "Sebastien 'deepnight' Benard",
                       "appVersion": JSON_VERSION, "url": "https://ldtk.io"},
        "iid": _iid(name, "project"), "jsonVersion": JSON_VERSION, "appBuildId": APP_BUILD_ID, "nextUid": 4,
        "identifierStyle": "Capitalize", "toc": [], "worldLayout": "Free", "worldGridWidth": 256,
        "worldGridHeight": 256, "defaultLevelWidth": 256, "defaultLevelHeight": 256, "defaultPivotX": 0.0,
        "defaultPivotY": 0.0, "defaultGridSize": grid, "defaultEntityWidth": grid, "defaultEntityHeight": grid,
        "bgColor": BACKGROUND, "defaultLevelBgColor": "#696A79", "minifyJson": False, "externalLevels": False,
        "exportTiled": False, "simplifiedExport": False, "imageExportMode": "None", "exportLevelBg": True,
        "pngFilePattern": None, "backupOnSave": False, "backupLimit": 10, "backupRelPath": None,
        "levelNamePattern": "Level_%idx", "tutorialDesc": None, "customCommands": [], "flags": [],
        "defs": {"layers": [], "entities": [], "tilesets": [tileset], "enums": [enum] if enum else [],
                 "externalEnums": [], "levelFields": []},
        "levels": [level], "worlds": [], "dummyWorldIid": _iid(name, "world"),
    }


def ldtk_files(place: AssetPlace, layout: SheetLayout, options) -> dict[str, bytes]:
    project = ldtk_project(layout, place.image, place.name)
    return {f"{place.name}.ldtk": (json.dumps(project, indent=1) + "\n").encode()}


def ldtk_snippet(place: AssetPlace, layout: SheetLayout, options) -> str:
    return "\n".join([
        f"{place.path(place.name + '.ldtk')}: open it in LDtk; the tileset {identifier(place.name)} (and its enum",
        "tags) is defined there. To use it in another project, copy the image next to that project and add it",
        "under Tilesets, then pick the enum for its tags. Each tile's custom data holds its mask or its sockets.",
        ""])
