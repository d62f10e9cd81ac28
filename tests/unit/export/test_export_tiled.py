"""Tilesets for Tiled: pytiled-parser reads the exported .tsx, its geometry finds every tile's pixels in the PNG,
and autotile masks arrive as Tiled wang ids (corner and mixed sets) and in the tileset JSON."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pytiled_parser import parse_tileset

from dgx_pixels.sheets import tileset
from dgx_pixels.export.bevy import render_files
from dgx_pixels.export.tiled import WANG_ORDER


def _tiles(count: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(count)
    tiles = [torch.rand(6, 5, 4, generator=generator) for _ in range(count)]
    for tile in tiles:
        tile[..., 3] = 1.0
    return tiles


def _export(tmp_path: Path, tiles, name="ground", **options):
    sheet, layout = tileset.assemble_tileset(tiles, **options)
    files = render_files(sheet, layout, name)
    for file, data in files.items():
        (tmp_path / file).write_bytes(data)
    return layout, files, parse_tileset(tmp_path / f"{name}.tsx")


@pytest.mark.parametrize("options", [{}, {"spacing": 2, "margin": 1, "columns": 3}, {"margin": 3}])
def test_tiled_reads_the_tsx_and_its_geometry_finds_every_tile(tmp_path, options):
    tiles = _tiles(7)
    layout, files, parsed = _export(tmp_path, tiles, **options)
    assert (parsed.name, parsed.tile_width, parsed.tile_height) == ("ground", 5, 6)
    assert (parsed.spacing, parsed.margin) == (options.get("spacing", 0), options.get("margin", 0))
    assert (parsed.tile_count, parsed.columns) == (7, layout.columns)
    assert parsed.image == Path("ground.png") and (parsed.image_width, parsed.image_height) == layout.size
    image = np.asarray(Image.open(io.BytesIO(files["ground.png"])).convert("RGBA"))
    for tile_id in range(parsed.tile_count):  # Tiled's own rule for where tile N is
        column, row = tile_id % parsed.columns, tile_id // parsed.columns
        x = parsed.margin + column * (parsed.tile_width + parsed.spacing)
        y = parsed.margin + row * (parsed.tile_height + parsed.spacing)
        expected = (tiles[tile_id].numpy() * 255).round().astype(np.uint8)
        assert np.array_equal(image[y:y + parsed.tile_height, x:x + parsed.tile_width], expected)
    assert all(parsed.tiles[i].properties["seamless"] == layout.tiles[i].seamless for i in range(7))
    assert not parsed.wang_sets


def test_corner_autotiles_become_a_tiled_corner_wangset(tmp_path):
    layout, files, parsed = _export(tmp_path, _tiles(16), autotile="corner 16")
    (wangset,) = parsed.wang_sets
    assert wangset.wang_type == "corner" and len(wangset.wang_colors) == 1
    for mask in range(16):  # NE = 1 -> top-right, SE = 2 -> bottom-right, SW = 4 -> bottom-left, NW = 8 -> top-left
        wang = wangset.wang_tiles[mask].wang_id
        assert [wang[1], wang[3], wang[5], wang[7]] == [(mask >> bit) & 1 for bit in range(4)]
        assert wang[0::2] == [0, 0, 0, 0]
    data = json.loads(files["ground.tileset.json"])
    assert data["autotile"] == "corner 16" and [t["mask"] for t in data["tiles"]] == list(range(16))
    assert data["mask_bits"] == {"NE": 1, "SE": 2, "SW": 4, "NW": 8}


def test_blob_autotiles_become_a_mixed_wangset_with_valid_corners(tmp_path):
    layout, files, parsed = _export(tmp_path, _tiles(47), autotile="blob 47")
    (wangset,) = parsed.wang_sets
    assert wangset.wang_type == "mixed" and len(wangset.wang_tiles) == 47
    masks = tileset.blob47_masks()
    for tile_id, mask in enumerate(masks):
        wang = dict(zip(WANG_ORDER, wangset.wang_tiles[tile_id].wang_id))
        assert sum(tileset.BLOB_BITS[d] for d, colour in wang.items() if colour) == mask
        for corner, (a, b) in {"NE": ("N", "E"), "SE": ("S", "E"), "SW": ("S", "W"), "NW": ("N", "W")}.items():
            assert not wang[corner] or (wang[a] and wang[b])


def test_plain_tilesets_write_no_masks(tmp_path):
    _, files, _ = _export(tmp_path, _tiles(3))
    data = json.loads(files["ground.tileset.json"])
    assert data["autotile"] == "none" and data["mask_bits"] is None
    assert [t["mask"] for t in data["tiles"]] == [None] * 3 and [t["id"] for t in data["tiles"]] == [0, 1, 2]


def test_a_terrain_set_with_variants_and_a_plain_tile_becomes_one_wangset(tmp_path):
    """Variants share their full tile's wang id (Tiled picks among them); a tile without a mask (the plain other
    terrain of a blob set) stays out of the wangset; platformer sets are mixed sets of blob masks."""
    masks = tileset.blob47_masks() + [None, 255, 255]
    layout, files, parsed = _export(tmp_path, _tiles(50), autotile="blob 47", masks=masks)
    (wangset,) = parsed.wang_sets
    assert sorted(wangset.wang_tiles) == [i for i in range(50) if i != 47]
    assert wangset.wang_tiles[48].wang_id == wangset.wang_tiles[49].wang_id == wangset.wang_tiles[46].wang_id
    assert json.loads(files["ground.tileset.json"])["tiles"][47]["mask"] is None
    layout, files, parsed = _export(tmp_path, _tiles(16), name="side", autotile="platformer")
    (wangset,) = parsed.wang_sets
    assert wangset.wang_type == "mixed" and len(wangset.wang_tiles) == 16
    top = dict(zip(WANG_ORDER, wangset.wang_tiles[1].wang_id))  # "top": air above
    assert (top["N"], top["NE"], top["NW"], top["E"], top["S"], top["W"]) == (0, 0, 0, 1, 1, 1)
    assert json.loads(files["side.tileset.json"])["mask_bits"] == tileset.BLOB_BITS
