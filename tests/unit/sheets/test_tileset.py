"""Tilesets: Tiled's margin/spacing layout (= Bevy from_grid offset/padding), tile order, seam check, autotile masks."""
from __future__ import annotations

import pytest
import torch

import bevy_oracle
from dgx_pixels.sheets import tileset
from dgx_pixels.common.errors import InputError


def _tiles(count: int, size: int = 8) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(count)
    tiles = [torch.rand(size, size, 4, generator=generator) for _ in range(count)]
    for tile in tiles:
        tile[..., 3] = 1.0
    return tiles


@pytest.mark.parametrize("spacing, margin, columns", [(0, 0, 0), (1, 0, 3), (2, 3, 2), (0, 4, 5)])
def test_tiles_sit_where_from_grid_and_tiled_expect_them_in_order(spacing, margin, columns):
    tiles = _tiles(7)
    sheet, layout = tileset.assemble_tileset(tiles, columns, spacing, margin)
    assert layout.kind == "tilesets" and (layout.padding, layout.offset) == (spacing, margin)
    _, rects = bevy_oracle.from_grid(layout.cell, layout.columns, layout.rows, (spacing,) * 2, (margin,) * 2)
    assert [((r.x, r.y), (r.right, r.bottom)) for r in layout.rects] == rects
    width = 2 * margin + layout.columns * 8 + (layout.columns - 1) * spacing  # Tiled's image width rule
    assert layout.size[0] == width and sheet.shape[1] == width
    for frame in layout.frames:
        rect = layout.rects[frame.index]
        assert frame.index == frame.source
        assert torch.equal(sheet[rect.y:rect.bottom, rect.x:rect.right], tiles[frame.source])
    if margin:
        assert not sheet[:margin].any() and not sheet[:, :margin].any()


def test_default_is_no_spacing_no_margin_and_about_square():
    _, layout = tileset.assemble_tileset(_tiles(10))
    assert (layout.padding, layout.offset, layout.columns, layout.rows) == (0, 0, 4, 3)


def test_seam_check_tells_tiling_textures_from_ones_with_an_edge():
    noise = _tiles(1, 16)[0]
    flat = torch.ones(16, 16, 4) * torch.tensor([0.3, 0.6, 0.2, 1.0])
    gradient = flat.clone()
    gradient[..., 0] = torch.linspace(0.0, 1.0, 16)[None, :]
    stripes = flat.clone()
    stripes[::2, :, 1] = 0.9  # alternating rows: row 0 differs from row 15, just as every neighbour row does
    report = tileset.seam_report(torch.stack([noise, flat, gradient, stripes]))
    assert [tile.seamless for tile in report] == [True, True, False, True]
    assert report[2].seam_x == pytest.approx(1.0 / 4, abs=1e-4)  # red jumps 1.0 in one of 4 channels
    assert report[2].seam_y == 0.0


def test_transparent_pixels_do_not_count_their_hidden_colour():
    tile = torch.zeros(8, 8, 4)
    tile[..., 0] = torch.linspace(0, 1, 8)[None, :]  # a gradient hidden under alpha 0
    assert tileset.seam_report(tile[None])[0].seamless


def test_autotile_sets_record_each_tiles_mask():
    masks = tileset.blob47_masks()
    assert len(masks) == 47 and masks[0] == 0 and masks[-1] == 255
    assert 2 not in masks  # NE alone needs N and E
    _, corner = tileset.assemble_tileset(_tiles(16), autotile="corner 16")
    assert [tile.mask for tile in corner.tiles] == list(range(16)) and corner.columns == 4
    _, blob = tileset.assemble_tileset(_tiles(47), autotile="blob 47")
    assert [tile.mask for tile in blob.tiles] == masks and (blob.columns, blob.rows) == (8, 6)


@pytest.mark.parametrize("tiles, kwargs, message", [
    (_tiles(15), {"autotile": "corner 16"}, "a corner 16 autotile set has 16 tiles but 15 were given"),
    (_tiles(2) + [torch.ones(8, 9, 4)], {}, "tile 2 is 9x8 but tile 0 is 8x8"),
    (_tiles(2), {"autotile": "wang"}, "autotile set must be one of none, corner 16, blob 47, platformer"),
    (_tiles(2), {"spacing": 300}, "spacing must be between 0 and 256"),
    ([], {}, "no frames"),
])
def test_bad_tilesets_are_explained(tiles, kwargs, message):
    with pytest.raises(InputError, match=message):
        tileset.assemble_tileset(tiles, **kwargs)


def test_a_terrain_set_gives_each_tile_its_mask_variants_included():
    platformer = [mask for _, mask in tileset.PLATFORMER_TILES]
    _, side = tileset.assemble_tileset(_tiles(16), autotile="platformer")
    assert [tile.mask for tile in side.tiles] == platformer and side.columns == 4
    assert all(tileset.blob_mask(mask) == mask for mask in platformer), "platformer tiles are blob tiles"
    masks = tileset.blob47_masks() + [None, 255, 255]  # the plain other terrain, two variants of the full tile
    _, blob = tileset.assemble_tileset(_tiles(50), autotile="blob 47", masks=masks)
    assert [tile.mask for tile in blob.tiles] == masks and blob.columns == 8
    assert tileset.mask_bits("corner 16") == tileset.CORNER_BITS and tileset.mask_bits("platformer") == \
        tileset.BLOB_BITS and tileset.mask_bits("none") is None


@pytest.mark.parametrize("masks, kwargs, message", [
    ([1, 2], {"autotile": "corner 16"}, "2 tile masks for 3 tiles"),
    ([1, 2, 16], {"autotile": "corner 16"}, "mask 16 is not a tile of the corner 16 set"),
    ([1, 2, 3], {}, "the autotile set is none"),
])
def test_bad_tile_masks_are_explained(masks, kwargs, message):
    with pytest.raises(InputError, match=message):
        tileset.assemble_tileset(_tiles(3), masks=masks, **kwargs)
