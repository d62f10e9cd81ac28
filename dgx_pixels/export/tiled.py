"""Tiled tilesets (.tsx) and the tileset JSON with seams and autotile masks.

Wang ids list eight colours clockwise from the top: top, top-right, right, bottom-right, bottom, bottom-left,
left, top-left (Tiled's order); colour 1 is the terrain, 0 is none.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..sheets.layout import SheetLayout
from ..sheets.tileset import mask_bits

TILED_VERSION = ("1.10", "1.10.2")
WANG_ORDER = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
TERRAIN_COLOUR = "#3c9b3c"


def wang_id(mask: int, autotile: str) -> str:
    bits = mask_bits(autotile)
    return ",".join("1" if direction in bits and mask & bits[direction] else "0" for direction in WANG_ORDER)


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
        ET.SubElement(wangset, "wangcolor", {"name": name, "color": TERRAIN_COLOUR, "tile": "-1",
                                             "probability": "1"})
        for tile in (tile for tile in layout.tiles if tile.mask is not None):  # no mask: outside the set
            ET.SubElement(wangset, "wangtile", {"tileid": str(tile.index),
                                                "wangid": wang_id(tile.mask, layout.autotile)})
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
