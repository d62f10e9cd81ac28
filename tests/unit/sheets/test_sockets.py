"""Sockets and hitboxes on their way from the pose frame to the sheet cell: through a pixel grid's uneven cuts or
by the size ratio, moved by the frame's offset in its cell, as whole pixels; bad marks refused in one line."""
from __future__ import annotations

import pytest
import torch

from dgx_pixels.common.errors import InputError
from dgx_pixels.pixel.grid import GridSet, PixelGrid
from dgx_pixels.sheets.assemble import assemble_sheet
from dgx_pixels.sheets.frames import Frame
from dgx_pixels.sheets.sockets import Hitbox, Socket, coerce_marks, place_marks, through_cuts, to_native

# A drifting grid, as diffusion models draw fake pixel art: cells 3, 5, 4 and 4 input pixels wide.
CUTS = [0, 3, 8, 12, 16]
GRID = PixelGrid(CUTS, CUTS, 0.9, (16, 16))


@pytest.mark.parametrize("value, native", [(0, 0.0), (2.9, 2.9 / 3), (3, 1.0), (7.5, 1.9), (8, 2.0), (16, 4.0),
                                           (-3, -1.0), (20, 5.0)])
def test_through_cuts_follows_each_cell_and_carries_on_past_the_ends(value, native):
    assert through_cuts(value, CUTS) == pytest.approx(native)


def test_to_native_uses_the_grid_of_that_space_else_the_ratio():
    assert to_native(7.5, 12, (16, 16), (4, 4), GRID) == pytest.approx((1.9, 3.0))
    assert to_native(7.5, 12, (16, 16), (4, 4)) == pytest.approx((1.875, 3.0))  # no grid: by the ratio
    assert to_native(7.5, 12, (16, 16), (16, 16), GRID) == (7.5, 12)  # the frame was not downscaled
    other = PixelGrid([0, 8, 16, 24], [0, 8, 16, 24], 0.9, (24, 24))
    assert to_native(8, 8, (16, 16), (4, 4), other) == pytest.approx((2.0, 2.0))  # a grid of another space


def test_place_marks_moves_into_the_cell_as_whole_pixels():
    sockets, boxes = place_marks([Socket("hand_r", 7.5, 12.2)], [Hitbox("body", 2.0, 3.5, 9.0, 10.0)],
                                 (16, 16), (4, 4), (5, 2), GRID)
    assert sockets == (Socket("hand_r", 1 + 5, 3 + 2),)
    # the box touches native columns 0..2 and rows 1..3 (13.5 is in the last row)
    assert boxes == (Hitbox("body", 0 + 5, 1 + 2, 3, 3),)


def test_the_sheet_maps_marks_through_the_grid_it_is_given():
    """x = 3.5 is in the grid's second cell (3..8) but a quarter of 16 is below 1: the grid decides the pixel."""
    frames = [torch.ones(4, 4, 4) for _ in range(2)]
    tags = [Frame("idle", i, sockets=(Socket("hand_r", 3.5, 12.2),), space=(16, 16)) for i in range(2)]
    _, with_grid = assemble_sheet(frames, tags, grids=GridSet([GRID]))
    _, by_ratio = assemble_sheet(frames, tags)
    assert [f.sockets for f in with_grid.frames] == [(Socket("hand_r", 1, 3),)] * 2
    assert [f.sockets for f in by_ratio.frames] == [(Socket("hand_r", 0, 3),)] * 2


def test_marks_read_back_from_json_and_bad_ones_are_refused():
    frame = Frame("walk", 0, sockets=(Socket("hand_r", 1.5, 2.0),), hitboxes=(Hitbox("body", 0, 0, 4, 8),),
                  space=(64, 64))
    assert Frame.from_dict(frame.to_dict()) == frame
    assert "sockets" not in Frame("walk", 0).to_dict()
    with pytest.raises(InputError, match="finite number"):
        coerce_marks([{"name": "hand", "x": float("nan"), "y": 0}], [])
    with pytest.raises(InputError, match="negative size"):
        coerce_marks([], [{"name": "body", "x": 0, "y": 0, "w": -1, "h": 2}])
    with pytest.raises(InputError, match="name must be"):
        coerce_marks([{"name": "", "x": 0, "y": 0}], [])
    with pytest.raises(InputError, match="at most 64"):
        coerce_marks([{"name": f"s{i}", "x": 0, "y": 0} for i in range(65)], [])
    with pytest.raises(InputError, match="marks space"):
        Frame.from_dict({**frame.to_dict(), "space": [64]})
