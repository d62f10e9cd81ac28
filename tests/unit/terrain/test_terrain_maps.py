"""The map preview: every cell shows the tile its neighbourhood asks for (variants among them), painted tile by
tile; written beside an export through the export's safe writer, never outside the export roots."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dgx_pixels.common.errors import InputError
from dgx_pixels.export.core import export_bevy
from dgx_pixels.image.png import to_rgba8
from dgx_pixels.sheets.tileset import assemble_tileset
from dgx_pixels.terrain import maps, orders
from dgx_pixels.terrain.plan import plan_terrain
from terrain_samples import made_set


@pytest.mark.parametrize("order", orders.ORDERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_cell_shows_the_tile_its_neighbours_ask_for(order, seed):
    plan = plan_terrain(order, "grass", "dirt", tile_size=8, canvas=64, variants=2)
    chosen = maps.random_map(plan, 10, 14, seed)
    assert chosen.shape == (10, 14)
    keys = {tile.index: tile.key for tile in plan.tiles}
    painted = chosen[chosen >= 0]
    assert len(painted) > 20
    # Rebuild the terrain from the chosen tiles and ask the rules again.
    if order == "corner 16":
        vertices = np.zeros((11, 15), bool)
        for (y, x), index in np.ndenumerate(chosen):
            mask = keys[int(index)]
            vertices[y, x + 1], vertices[y + 1, x + 1] = mask & 1, mask & 2
            vertices[y + 1, x], vertices[y, x] = mask & 4, mask & 8
        asked = orders.cell_keys(order, vertices)
        assert len({keys[int(i)] for i in painted}) > 4 and {0, 15} <= {keys[int(i)] for i in painted}
    else:
        cells = np.vectorize(lambda i: i >= 0 and keys[int(i)] != orders.PLAIN_A)(chosen)
        asked = orders.cell_keys(order, cells)
    shown = np.vectorize(lambda i: -1 if i < 0 or keys[int(i)] == orders.PLAIN_A else keys[int(i)])(chosen)
    assert np.array_equal(asked, shown)
    used = set(painted.tolist())
    assert any(plan.tiles[i].kind.startswith("variant") for i in used), "variants take turns with their tile"


def test_a_side_view_map_has_ground_steps_and_only_tiles_of_the_set():
    plan = plan_terrain("platformer", "grass", "dirt", tile_size=8, canvas=64, variants=0)
    chosen = maps.random_map(plan, 10, 16, 0)
    names = {plan.tiles[int(i)].name for i in chosen[chosen >= 0]}
    assert {"top", "fill"} <= names and len(names) >= 5
    assert (chosen[0] == -1).all() and (chosen[-1] >= 0).all()  # air above, ground below


def test_the_painted_map_is_the_tiles_put_in_place():
    plan = plan_terrain("corner 16", "grass", "dirt", tile_size=16, canvas=64, variants=1)
    tiles = made_set(plan)
    chosen = maps.random_map(plan, 4, 5, 3)
    picture = maps.paint_map(tiles, chosen)
    assert picture.shape == (64, 80, 4)
    assert torch.equal(picture[16:32, 32:48], tiles[int(chosen[1, 2])])
    with pytest.raises(InputError, match="2 to 64 cells"):
        maps.random_map(plan, 1, 5, 0)


def test_the_map_is_written_beside_the_exported_tileset(tmp_path):
    plan = plan_terrain("blob 47", "grass", "dirt", tile_size=8, canvas=64, variants=0)
    tiles = made_set(plan)
    sheet, layout = assemble_tileset(list(tiles), autotile="blob 47", masks=plan.masks)
    result = export_bevy(sheet, layout, str(tmp_path / "game"), "meadow", [tmp_path], require_bevy=False)
    listing = "\n".join(str(path) for path in result.files)
    picture = maps.paint_map(tiles, maps.random_map(plan, 6, 9, 0))
    written = maps.save_beside_export(listing, to_rgba8(picture), [tmp_path])
    assert written == result.asset_dir / "meadow.map.png"
    assert Image.open(written).size == (9 * 8, 6 * 8)
    assert maps.save_beside_export(listing, to_rgba8(picture), [tmp_path]) == written  # unchanged: no error
    with pytest.raises(InputError, match="no exported tileset image"):
        maps.save_beside_export("/tmp/some.json", to_rgba8(picture), [tmp_path])
    outside = tmp_path.parent / "elsewhere" / "assets" / "tilesets" / "meadow" / "meadow.png"
    with pytest.raises(InputError):
        maps.save_beside_export(str(outside), to_rgba8(picture), [tmp_path / "game"])
    assert not outside.parent.exists()
