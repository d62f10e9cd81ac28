"""The masks of every tile of every order: numbered as the export numbers them (sheets.tileset CORNER_BITS,
BLOB_BITS, blob47_masks), drawn where their bits say, and continued across every edge the order lets touch."""
from __future__ import annotations

import numpy as np
import pytest

from dgx_pixels.sheets.tileset import (BLOB_BITS, CORNER_BITS, CORNER_EDGES, PLATFORMER_TILES, autotile_masks,
                                       blob47_masks)
from dgx_pixels.terrain import orders, shapes
from dgx_pixels.terrain.orders import AIR, PLAIN_A

SIZES = (16, 32, 12)


def regions_of(order: str, key, size: int) -> np.ndarray:
    return shapes.tile_regions(order, None if key == PLAIN_A else key, size)


def test_each_order_numbers_its_tiles_as_the_export_does():
    assert [t.mask for t in orders.order_tiles("corner 16")] == list(range(16)) == autotile_masks("corner 16")
    assert [t.mask for t in orders.order_tiles("blob 47")] == blob47_masks() == autotile_masks("blob 47")
    assert len(blob47_masks()) == 47
    assert [(t.name, t.mask) for t in orders.order_tiles("platformer")] == list(PLATFORMER_TILES)
    kinds = {order: [t.kind for t in orders.order_tiles(order)] for order in orders.ORDERS}
    assert kinds["corner 16"][0] == orders.FULL_A and kinds["corner 16"][15] == orders.FULL_B
    assert kinds["blob 47"].count(orders.FULL_B) == 1 and kinds["blob 47"][-1] == orders.FULL_B  # 255 last
    assert kinds["platformer"][5] == orders.FULL_B  # the fill


def test_a_map_cell_gets_the_tile_whose_mask_its_neighbours_make():
    """Round trip: a neighbourhood built from a tile's bits asks for exactly that tile."""
    for mask in range(16):
        vertices = np.zeros((2, 2), bool)
        vertices[0, 1], vertices[1, 1] = bool(mask & CORNER_BITS["NE"]), bool(mask & CORNER_BITS["SE"])
        vertices[1, 0], vertices[0, 0] = bool(mask & CORNER_BITS["SW"]), bool(mask & CORNER_BITS["NW"])
        assert orders.cell_keys("corner 16", vertices)[0, 0] == mask
    for mask in blob47_masks():
        cells = np.zeros((3, 3), bool)
        cells[1, 1] = True
        for direction, (dy, dx) in orders.STEPS.items():
            cells[1 + dy, 1 + dx] = bool(mask & BLOB_BITS[direction])
        assert orders.cell_keys("blob 47", cells)[1, 1] == mask
    # A corner neighbour without both edges beside it does not count (the blob reduction).
    lone = np.zeros((3, 3), bool)
    lone[1, 1] = lone[0, 2] = True
    assert orders.cell_keys("blob 47", lone)[1, 1] == 0


@pytest.mark.parametrize("size", SIZES)
def test_corner_tiles_show_terrain_b_at_exactly_their_set_corners(size):
    at = {"NE": (0, size - 1), "SE": (size - 1, size - 1), "SW": (size - 1, 0), "NW": (0, 0)}
    for mask in range(16):
        regions = shapes.tile_regions("corner 16", mask, size)
        for corner, (y, x) in at.items():
            assert regions[y, x] == (shapes.B if mask & CORNER_BITS[corner] else shapes.A), (mask, corner)
        # Along an edge, terrain changes once, half way, when its two corners differ.
        top = regions[0]
        if bool(mask & CORNER_BITS["NW"]) != bool(mask & CORNER_BITS["NE"]):
            assert np.count_nonzero(np.diff(top.astype(int))) == 1 and top[size // 2 - 1] != top[size // 2]


@pytest.mark.parametrize("order", ["blob 47", "platformer"])
@pytest.mark.parametrize("size", SIZES)
def test_blob_tiles_show_terrain_b_towards_exactly_their_set_neighbours(order, size):
    """The middle is always B (solid); the pixel at the middle of each edge and at each corner is B exactly when
    that neighbour's bit is set (corners: as reduced)."""
    last, middle = size - 1, size // 2
    at = {"N": (0, middle), "NE": (0, last), "E": (middle, last), "SE": (last, last), "S": (last, middle),
          "SW": (last, 0), "W": (middle, 0), "NW": (0, 0)}
    for mask in autotile_masks(order):
        regions = shapes.tile_regions(order, mask, size)
        solid = regions != shapes.AIR if order == "platformer" else regions == shapes.B
        assert solid[middle, middle]
        for direction, (y, x) in at.items():
            assert solid[y, x] == bool(mask & BLOB_BITS[direction]), (mask, direction)
        for corner, edges in CORNER_EDGES.items():  # the reduction: a corner only with both edges beside it
            if mask & BLOB_BITS[corner]:
                assert all(mask & BLOB_BITS[edge] for edge in edges)


def test_platformer_ground_has_its_surface_under_air_only():
    size = 32
    top = shapes.tile_regions("platformer", 124, size)  # air above
    fill = shapes.tile_regions("platformer", 255, size)
    wall = shapes.tile_regions("platformer", 31, size)  # air to the left
    assert (top[0] == shapes.AIR).all() and shapes.A in top[:, size // 2] and top[-1, size // 2] == shapes.B
    assert (fill == shapes.B).all()
    assert (wall[:, 0] == shapes.AIR).all() and shapes.A not in wall  # no grass on a wall


def touching_edges(first: np.ndarray, second: np.ndarray, axis: str) -> tuple[np.ndarray, np.ndarray]:
    return (first[:, -1], second[:, 0]) if axis == "x" else (first[-1], second[0])


@pytest.mark.parametrize("order", orders.ORDERS)
@pytest.mark.parametrize("size", SIZES)
def test_every_pair_that_may_touch_continues_the_terrain_across_the_edge(order, size):
    """The terrains along a tile's touching edge are the partner's along its touching edge, pixel for pixel; an
    edge against air is air."""
    pairs = orders.touching_keys(order)
    assert {axis for *_, axis in pairs} == {"x", "y"}
    for first, second, axis in pairs:
        if AIR in (first, second):
            tile = regions_of(order, second if first == AIR else first, size)
            edge = (tile[:, 0] if first == AIR else tile[:, -1]) if axis == "x" else \
                (tile[0] if first == AIR else tile[-1])
            assert (edge == shapes.AIR).all(), (first, second, axis)
            continue
        a, b = touching_edges(regions_of(order, first, size), regions_of(order, second, size), axis)
        assert np.array_equal(a, b), (first, second, axis)


def test_the_pairs_that_may_touch_are_the_ones_sharing_their_edge():
    """corner 16: tiles meet when they share the two corners of the edge; blob 47: two B tiles meet when they
    point at each other and each corner of the edge is set in both exactly when both have the edge beside it (the
    cells above and below them) set; a B tile meets a plain A tile on an edge it has not set."""
    corner = {(a, b) for a, b, axis in orders.touching_keys("corner 16") if axis == "x"}
    assert corner == {(a, b) for a in range(16) for b in range(16)
                      if bool(a & CORNER_BITS["NE"]) == bool(b & CORNER_BITS["NW"])
                      and bool(a & CORNER_BITS["SE"]) == bool(b & CORNER_BITS["SW"])}
    assert len(corner) == 64
    blob = {(a, b) for a, b, axis in orders.touching_keys("blob 47") if axis == "x"}
    bits = BLOB_BITS
    expected = {(a, b) for a in blob47_masks() for b in blob47_masks()
                if a & bits["E"] and b & bits["W"]
                and bool(a & bits["NE"]) == bool(b & bits["NW"]) == bool(a & bits["N"] and b & bits["N"])
                and bool(a & bits["SE"]) == bool(b & bits["SW"]) == bool(a & bits["S"] and b & bits["S"])}
    expected |= {(a, PLAIN_A) for a in blob47_masks() if not a & bits["E"]}
    expected |= {(PLAIN_A, b) for b in blob47_masks() if not b & bits["W"]} | {(PLAIN_A, PLAIN_A)}
    assert blob == expected
    platformer = orders.touching_keys("platformer")
    assert (124, 124, "x") in platformer and (AIR, 124, "y") in platformer and (124, 255, "y") in platformer
    assert (AIR, AIR, "x") not in platformer and (28, 124, "x") in platformer and (124, 28, "x") not in platformer
