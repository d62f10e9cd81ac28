"""Tiled tilesets (.tsx) and the tileset JSON with seams and autotile masks.

Wang ids list eight colours clockwise from the top: top, top-right, right, bottom-right, bottom, bottom-left,
left, top-left (Tiled's order). A set of one terrain has colour 1 for it and 0 for none (nothing there: Tiled's
erasing); a set of two terrains (a top-down terrain set) has colour 1 where a mask's bit is unset and 2 where it is
set, so a map is painted with either.

Tiled's mixed sets have no centre: a blob tile with no neighbour set (an island of the second terrain) would pass
for the plain first terrain in a two-terrain set, so it stays out of the wangset (engines that autotile by cell read
it from the tileset JSON).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..sheets.layout import SheetLayout
from ..sheets.tileset import mask_bits

TILED_VERSION = ("1.10", "1.10.2")
WANG_ORDER = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
TERRAIN_COLOUR = "#3c9b3c"
TERRAIN_COLOURS = ("#3c9b3c", "#9b6a3c")  # the two terrains of a terrain set


def wang_id(mask: int | None, autotile: str, terrains: int = 1) -> str:
    """The Tiled wang id of a tile's mask; with two terrains a mask of None is the plain first terrain."""
    bits = mask_bits(autotile)
    if terrains == 1:
        return ",".join("1" if direction in bits and mask & bits[direction] else "0" for direction in WANG_ORDER)
    return ",".join(("2" if mask and mask & bits[direction] else "1") if direction in bits else "0"
                    for direction in WANG_ORDER)


def wang_tiles(layout: SheetLayout) -> list[tuple[int, str]]:
    """(tile id, wang id) of every tile in the wangset."""
    if not layout.terrains:
        return [(tile.index, wang_id(tile.mask, layout.autotile)) for tile in layout.tiles if tile.mask is not None]
    island = layout.autotile != "corner 16"  # mask 0 of a blob set
    return [(tile.index, wang_id(tile.mask, layout.autotile, 2)) for tile in layout.tiles
            if not (island and tile.mask == 0)]


def tileset_tsx(layout: SheetLayout, name: str, image: str) -> str:
    count = len(layout.frames)
    root = ET.Element("tileset", {
        "version": TILED_VERSION[0], "tiledversion": TILED_VERSION[1], "name": name,
        "tilewidth": str(layout.cell[0]), "tileheight": str(layout.cell[1]),
        "spacing": str(layout.padding), "margin": str(layout.offset),
        "tilecount": str(count), "columns": str(layout.columns),
    })
    ET.SubElement(root, "image", {"source": image, "width": str(layout.size[0]), "height": str(layout.size[1])})
    for tile in layout.tiles:
        element = ET.SubElement(root, "tile", {"id": str(tile.index)})
        properties = ET.SubElement(element, "properties")
        ET.SubElement(properties, "property", {"name": "seamless", "type": "bool",
                                               "value": "true" if tile.seamless else "false"})
    if layout.autotile != "none" and layout.tiles:
        wangsets = ET.SubElement(root, "wangsets")
        wangset = ET.SubElement(wangsets, "wangset", {
            "name": name, "type": "corner" if layout.autotile == "corner 16" else "mixed", "tile": "-1"})
        colours = zip(layout.terrains, TERRAIN_COLOURS) if layout.terrains else [(name, TERRAIN_COLOUR)]
        for colour_name, colour in colours:
            ET.SubElement(wangset, "wangcolor", {"name": colour_name, "color": colour, "tile": "-1",
                                                 "probability": "1"})
        for index, wang in wang_tiles(layout):
            ET.SubElement(wangset, "wangtile", {"tileid": str(index), "wangid": wang})
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def tileset_json(layout: SheetLayout, name: str, image: str) -> dict:
    bits = mask_bits(layout.autotile)
    return {
        "name": name,
        "image": image,
        "image_size": {"w": layout.size[0], "h": layout.size[1]},
        "tile_size": {"w": layout.cell[0], "h": layout.cell[1]},
        "columns": layout.columns,
        "rows": layout.rows,
        "tilecount": len(layout.frames),
        "spacing": layout.padding,
        "margin": layout.offset,
        "autotile": layout.autotile,
        "mask_bits": bits,
        "terrains": list(layout.terrains),
        "tiles": [{
            "id": tile.index,
            "x": layout.rects[tile.index].x,
            "y": layout.rects[tile.index].y,
            "seamless": tile.seamless,
            "seam_x": tile.seam_x,
            "seam_y": tile.seam_y,
            "neighbour_x": tile.neighbour_x,
            "neighbour_y": tile.neighbour_y,
            "mask": tile.mask,
        } for tile in layout.tiles],
    }
