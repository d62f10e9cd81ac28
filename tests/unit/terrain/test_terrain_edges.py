"""The edge-agreement checker on made tiles: a good set of every order passes; a broken edge, a shifted tile, the
terrains swapped in one tile, and an edge that should meet air but does not are each found, with the tile to blame
and its side."""
from __future__ import annotations

import pytest
import torch

from dgx_pixels.common.errors import InputError
from dgx_pixels.terrain import edges
from dgx_pixels.terrain.plan import plan_terrain
from terrain_samples import made_set

ORDERS = ("corner 16", "blob 47", "platformer")


def plan_of(order: str, variants: int = 1):
    return plan_terrain(order, "grass", "dirt", tile_size=16, canvas=64, variants=variants)


def check(plan, tiles, tolerance=1.5):
    return edges.check_edges(tiles, plan.pairs(), [t.name for t in plan.tiles], tolerance)


@pytest.mark.parametrize("order", ORDERS)
def test_a_good_set_passes(order):
    plan = plan_of(order)
    report = check(plan, made_set(plan))
    assert report.passed and report.failing_tiles == [], report.table()
    assert len(report.pairs) == len(plan.pairs()) > 0
    assert report.to_dict()["worst_ratio"] < 1.0


@pytest.mark.parametrize("order", ORDERS)
def test_a_broken_edge_is_found_and_its_tile_blamed(order):
    plan = plan_of(order)
    tiles = made_set(plan)
    broken = next(t.index for t in plan.tiles if t.kind == "transition" and tiles[t.index, :, -1, 3].all())
    tiles[broken, 1:-1, -1, :3] = torch.tensor([0.1, 0.2, 0.9])  # a blue stripe down the east edge
    report = check(plan, tiles)
    assert not report.passed
    assert report.failing_tiles == [broken], report.table()
    verdict = report.tiles[broken]
    assert list(verdict.failing_sides) == ["E"] and not verdict.passed
    failing = [p for p in report.pairs if not p.agrees]
    assert failing and all(p.first == broken and p.axis == "x" for p in failing)
    assert f"tile {broken} ({plan.tiles[broken].name}): FAILS on E" in report.table()


def test_a_shifted_tile_and_swapped_terrains_are_found():
    plan = plan_of("corner 16", variants=0)
    tiles = made_set(plan)
    tiles[6] = torch.roll(tiles[6], shifts=5, dims=1)  # corner 6 (SE + SW): drawn 5 px too far right
    tiles[9] = tiles[6].flip(0)  # corner 9 (NE + NW) with the wrong half flipped in
    report = check(plan, tiles)
    assert set(report.failing_tiles) >= {6}
    tiles = made_set(plan)
    tiles[1] = made_set(plan, seed=7)[14]  # NE corner tile drawn as its opposite
    report = check(plan, tiles)
    assert 1 in report.failing_tiles and not report.passed


def test_an_edge_against_air_must_be_clear():
    plan = plan_of("platformer", variants=0)
    tiles = made_set(plan)
    top = next(t.index for t in plan.tiles if t.name == "top")
    tiles[top, 0, :, 3] = 1.0  # the air above the top tile filled in
    report = check(plan, tiles)
    assert report.failing_tiles == [top] and "N" in report.tiles[top].failing_sides
    failing = [p for p in report.pairs if not p.agrees]
    assert (edges.AIR, top, "y") in [(p.first, p.second, p.axis) for p in failing]
    assert all(top in (p.first, p.second) for p in failing)  # its side neighbours see the filled corner pixels
    assert "air above tile" in report.table()


def test_the_tolerance_decides_and_a_lone_disagreement_blames_both():
    plan = plan_of("corner 16", variants=0)
    tiles = made_set(plan)
    assert check(plan, tiles, tolerance=0.0).failing_tiles, "nothing meets exactly without a tolerance"
    pairs = [(0, 1, "x")]
    tiles[1, :, 0, :3] = 1.0
    report = edges.check_edges(tiles, pairs)
    assert report.failing_tiles == [0, 1]  # as far as they know, both are to blame


def test_bad_input_names_the_problem():
    with pytest.raises(InputError, match="RGBA"):
        edges.check_edges(torch.zeros(2, 8, 8, 3), [])
    with pytest.raises(InputError, match="beyond the 2 given"):
        edges.check_edges(torch.zeros(2, 8, 8, 4), [(0, 5, "x")])
    with pytest.raises(InputError, match="tolerance"):
        edges.check_edges(torch.zeros(2, 8, 8, 4), [], tolerance=float("nan"))
