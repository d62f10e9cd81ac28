"""A terrain set's plan: its tiles (order, plain A, variants) with masks, kinds, prompts and seeds; canvases cut from
the base tiles on the native grid; the kept edges come back exactly after drawing; clear errors for bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dgx_pixels.common.errors import InputError
from dgx_pixels.sheets.tileset import assemble_tileset
from dgx_pixels.terrain import orders, shapes
from dgx_pixels.terrain.plan import VARIANT_A, VARIANT_B, plan_terrain
from terrain_samples import DIRT, GRASS, seamless_texture


@pytest.mark.parametrize("order, standard, extra", [("corner 16", 16, [(0, VARIANT_A), (15, VARIANT_B)]),
                                                     ("blob 47", 47, [(None, VARIANT_A), (255, VARIANT_B)]),
                                                     ("platformer", 16, [(255, VARIANT_B)])])
def test_the_set_is_the_order_then_the_plain_a_tile_then_the_variants(order, standard, extra):
    plan = plan_terrain(order, "grass", "dirt", tile_size=16, canvas=64, variants=2)
    assert [t.mask for t in plan.tiles[:standard]] == [t.mask for t in orders.order_tiles(order)]
    rest = plan.tiles[standard:]
    if order == "blob 47":
        assert (rest[0].mask, rest[0].kind, rest[0].name) == (None, orders.FULL_A, "plain grass")
        rest = rest[1:]
    assert [(t.mask, t.kind) for t in rest] == [entry for entry in extra for _ in range(2)]
    assert [t.index for t in plan.tiles] == list(range(len(plan.tiles)))
    assert plan.regions.shape == (len(plan.tiles), 16, 16) and plan.canvas == 64 and plan.cell == 4
    # Variants are drawn inside only; the full tiles are the base tiles as they are.
    for tile in plan.tiles:
        drawn = plan.draw[tile.index]
        if tile.kind in (orders.FULL_A, orders.FULL_B):
            assert not drawn.any()
        else:
            assert drawn.any() and not drawn[0].any() and not drawn[:, -1].any(), tile
    # The tileset takes the plan's masks (variants share their full tile's mask).
    _, layout = assemble_tileset([torch.ones(16, 16, 4)] * len(plan.tiles), autotile=order, masks=plan.masks)
    assert [t.mask for t in layout.tiles] == plan.masks


def test_prompts_name_the_terrains_and_seeds_can_be_set_tile_by_tile():
    plan = plan_terrain("corner 16", "grass", "dirt", 16, 64, variants=1, seed=9, tile_seeds="5=123, b=77, x=1",
                        template="pixel art, {terrain}")
    assert plan.base_prompts == ("pixel art, grass", "pixel art, dirt") and plan.base_seeds == (9, 77)
    assert plan.tiles[0].prompt == "pixel art, grass" and plan.tiles[15].prompt == "pixel art, dirt"
    assert plan.tiles[5].prompt == "pixel art, grass meeting dirt" and plan.tiles[5].seed == 123
    assert {t.seed for t in plan.tiles if t.index != 5} == {9}
    side = plan_terrain("platformer", "grass", "dirt", 16, 64, template="{terrain}")
    assert side.tiles[0].prompt == "grass on top of dirt, side view"


def test_canvases_are_the_base_tiles_on_the_native_grid_and_the_kept_pixels_come_back_exactly():
    plan = plan_terrain("blob 47", "grass", "dirt", tile_size=16, canvas=64, variants=1, keep_edge=2)
    grass, dirt = seamless_texture(64, GRASS, 1), seamless_texture(64, DIRT, 2)
    native_a, native_b = plan.native(grass, "a"), plan.native(dirt, "b")
    assert native_a.shape == (16, 16, 3)
    assert torch.allclose(plan.native(native_a.repeat_interleave(2, 0).repeat_interleave(2, 1), "a"), native_a)
    canvases = plan.canvases(native_a, native_b)
    assert canvases.shape == (len(plan.tiles), 64, 64, 3)
    cells = canvases.reshape(-1, 16, 4, 16, 4, 3)
    assert (cells == cells[:, :, :1, :, :1]).all(), "every canvas is made of whole native cells"
    masks = plan.draw_masks()
    assert masks.shape == (len(plan.tiles), 64, 64) and set(masks.unique().tolist()) <= {0.0, 1.0}
    drawn = torch.rand(canvases.shape, generator=torch.Generator().manual_seed(3))
    tiles = plan.finish(drawn, canvases)
    regions = torch.from_numpy(plan.regions).long()[..., None]
    expected = torch.where(regions == shapes.A, native_a, native_b)
    kept = ~torch.from_numpy(plan.draw)
    assert torch.equal(tiles[kept], expected[kept])
    assert (tiles[torch.from_numpy(plan.draw)] - expected[torch.from_numpy(plan.draw)]).abs().mean() > 0.05
    assert kept[:, :2].all() and kept[:, -2:].all() and kept[:, :, :2].all() and kept[:, :, -2:].all()
    # Tile by tile (as the node gets them) gives the same tiles as the whole set at once.
    one_by_one = torch.cat([plan.finish(drawn[i:i + 1], canvases[i:i + 1], i) for i in range(len(plan.tiles))])
    assert torch.equal(one_by_one, tiles)


def test_platformer_air_is_transparent_and_never_drawn():
    plan = plan_terrain("platformer", "grass", "dirt", tile_size=16, canvas=64)
    air = plan.regions == shapes.AIR
    assert air.any() and not (plan.draw & air).any()
    assert torch.equal(plan.alpha(), torch.from_numpy(air).float())
    top = next(t.index for t in plan.tiles if t.name == "top")
    assert plan.alpha()[top, 0].all() and not plan.alpha()[top, -1].any()


@pytest.mark.parametrize("change, message", [
    (dict(canvas=100), "whole multiple of the tile size"), (dict(canvas=36, tile_size=12), "and of 8"),
    (dict(terrain_b=" "), "name both terrains"), (dict(template="pixel art"), "{terrain}"),
    (dict(order="hex 12"), "order must be one of"), (dict(variants=99), "variants"),
    (dict(keep_edge=9), "keep_edge"), (dict(tile_size=2), "tile size")])
def test_bad_plans_say_what_is_wrong(change, message):
    arguments = {"order": "corner 16", "terrain_a": "grass", "terrain_b": "dirt", "tile_size": 32, "canvas": 1024,
                 **change}
    with pytest.raises(InputError, match=message.replace("{", r"\{").replace("}", r"\}")):
        plan_terrain(**arguments)


def test_a_base_tile_of_another_size_is_refused_by_name():
    plan = plan_terrain("corner 16", "grass", "dirt", tile_size=16, canvas=64)
    with pytest.raises(InputError, match=r"tile A \(rock.png\) is 50x50; .* multiple of the tile size 16"):
        plan.native(torch.zeros(50, 50, 3), "tile A (rock.png)")
    with pytest.raises(InputError, match="canvases"):
        plan.finish(torch.zeros(2, 64, 64, 3), torch.zeros(18, 64, 64, 3))
    with pytest.raises(InputError, match="tiles 20 to 20 asked of a set of 20"):
        plan.finish(torch.zeros(1, 64, 64, 3), torch.zeros(1, 64, 64, 3), 20)


def test_the_mask_picture_lays_the_tiles_out_as_the_tileset():
    plan = plan_terrain("blob 47", "grass", "dirt", tile_size=8, canvas=64, variants=0)
    picture = plan.picture()
    assert picture.shape == (6 * 9 - 1, 8 * 9 - 1, 4)  # 48 tiles, 8 a row, a pixel between
    assert np.isclose(picture[0, 8].numpy(), 0).all()  # the gap
