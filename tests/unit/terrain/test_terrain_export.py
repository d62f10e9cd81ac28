"""A terrain set in Tiled: pytiled-parser reads the exported .tsx with a wangset of the set's two terrains, and a map
painted the way Tiled's terrain brush picks tiles (by the colours at each cell's corners and edges) shows the very
tiles the set's autotile rules pick, variants included."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from pytiled_parser import parse_tileset

from dgx_pixels.common.errors import InputError
from dgx_pixels.export.bevy import render_files
from dgx_pixels.export.tiled import WANG_ORDER
from dgx_pixels.sheets import tileset
from dgx_pixels.terrain import maps, orders
from dgx_pixels.terrain.plan import plan_terrain

GRASS, DIRT = 1, 2  # Tiled's colour numbers: the first terrain, the second


def exported(tmp_path, plan):
    tiles = [torch.ones(plan.tile_size, plan.tile_size, 4)] * len(plan.tiles)
    sheet, layout = tileset.assemble_tileset(tiles, autotile=plan.order, masks=plan.masks,
                                             terrains=plan.map_terrains)
    for file, data in render_files(sheet, layout, "meadow").items():
        (tmp_path / file).write_bytes(data)
    (wangset,) = parse_tileset(tmp_path / "meadow.tsx").wang_sets
    return wangset, json.loads((tmp_path / "meadow.tileset.json").read_text())


def tiled_colours(order: str, terrain: np.ndarray) -> np.ndarray:
    """Each cell's eight wang colours (Tiled's order) as the terrain brush leaves them: corner 16, every vertex is
    a terrain; blob 47, every cell is, and an edge or a corner is dirt only where every cell sharing it is dirt."""
    if order == "corner 16":
        v = np.where(terrain, DIRT, GRASS)
        corners = {"NE": v[:-1, 1:], "SE": v[1:, 1:], "SW": v[1:, :-1], "NW": v[:-1, :-1]}
        return np.stack([corners.get(d, np.zeros_like(v[:-1, :-1])) for d in WANG_ORDER], axis=-1)
    rows, columns = terrain.shape
    padded = np.pad(terrain, 1, mode="edge")
    around = {d: padded[1 + dy:1 + dy + rows, 1 + dx:1 + dx + columns] for d, (dy, dx) in orders.STEPS.items()}
    sharing = {"N": ["N"], "E": ["E"], "S": ["S"], "W": ["W"], "NE": ["N", "E", "NE"], "SE": ["S", "E", "SE"],
               "SW": ["S", "W", "SW"], "NW": ["N", "W", "NW"]}
    return np.stack([np.where(terrain & np.logical_and.reduce([around[n] for n in sharing[d]]), DIRT, GRASS)
                     for d in WANG_ORDER], axis=-1)


@pytest.mark.parametrize("order, wang_type", [("corner 16", "corner"), ("blob 47", "mixed")])
def test_tiled_paints_a_map_with_the_tiles_the_autotile_rules_pick(tmp_path, order, wang_type):
    plan = plan_terrain(order, "grass", "dirt", tile_size=8, canvas=64, variants=2)
    wangset, data = exported(tmp_path, plan)
    assert wangset.wang_type == wang_type
    assert [(c.name, tuple(c.color)[:3]) for c in wangset.wang_colors] == [("grass", (60, 155, 60)),
                                                                            ("dirt", (155, 106, 60))]
    assert data["terrains"] == ["grass", "dirt"]
    by_colours: dict[tuple, set[int]] = {}
    for tile_id, wang in wangset.wang_tiles.items():
        by_colours.setdefault(tuple(wang.wang_id), set()).add(tile_id)
    island = next((t.index for t in plan.tiles if t.mask == 0), None) if order == "blob 47" else None
    assert sorted(wangset.wang_tiles) == [t.index for t in plan.tiles if t.index != island]
    rng = np.random.default_rng(4)
    for _ in range(20):
        shape = (13, 17) if order == "corner 16" else (12, 16)
        terrain = maps.top_down_terrain(rng, *shape)
        keys = orders.cell_keys(order, terrain)
        colours = tiled_colours(order, terrain)
        for y, x in np.ndindex(keys.shape):
            key = orders.key_name(order, int(keys[y, x]))
            tiled_picks = by_colours[tuple(colours[y, x])]
            if key == 0 and order == "blob 47":  # an island: Tiled has no centre, it shows plain grass there
                assert tiled_picks == set(plan.tiles_for(orders.PLAIN_A))
            else:
                assert tiled_picks == set(plan.tiles_for(key)), (y, x, key)


def test_a_platformer_set_keeps_one_terrain_and_air_stays_empty(tmp_path):
    plan = plan_terrain("platformer", "grass", "dirt", tile_size=8, canvas=64, variants=1)
    wangset, data = exported(tmp_path, plan)
    assert plan.map_terrains == () and data["terrains"] == []
    assert [c.name for c in wangset.wang_colors] == ["meadow"] and len(wangset.wang_tiles) == len(plan.tiles)
    top = dict(zip(WANG_ORDER, wangset.wang_tiles[1].wang_id))  # "top": air (0, Tiled's empty) above
    assert (top["N"], top["S"], top["E"], top["W"]) == (0, 1, 1, 1)


@pytest.mark.parametrize("options", [dict(autotile="platformer", terrains=("grass", "dirt")),
                                     dict(autotile="corner 16", terrains=("grass",)),
                                     dict(autotile="none", terrains=("grass", "dirt"))])
def test_terrain_names_need_a_top_down_set_and_two_names(options):
    count = len(tileset.autotile_masks(options["autotile"]) or [0, 0])
    with pytest.raises(InputError, match="terrain names go with a corner 16 or blob 47 set, two of them"):
        tileset.assemble_tileset([torch.ones(4, 4, 4)] * count, **options)
