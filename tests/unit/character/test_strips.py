"""Strips: one image per animation and direction at one cell size, one identity prompt, a guide of the same layout,
frames cut back by the layout, and an anchor fitted into a cell and kept by the mask."""
from __future__ import annotations

import pytest
import torch

from characters import knight
from dgx_pixels.character.strips import BACKGROUND, cell_size, fit_anchor, plan_strips
from dgx_pixels.common.errors import InputError
from dgx_pixels.poses.batch import BODY_HEIGHT, GROUND_LINE
from dgx_pixels.poses.openpose import tile_images


def test_every_animation_and_direction_is_one_strip_on_one_cell_size():
    plan = plan_strips("a knight", "idle, walk, attack", "side", 1024, 1024)
    assert plan.cell == (256, 512)  # a full 4x2 strip is the 1024x1024 generation size
    layout = {s.name: (len(s.positions), s.columns, s.rows, plan.canvas_size(s)) for s in plan.strips}
    assert layout == {"idle_E": (4, 4, 1, (1024, 512)), "idle_W": (4, 4, 1, (1024, 512)),
                      "walk_E": (8, 4, 2, (1024, 1024)), "walk_W": (8, 4, 2, (1024, 1024)),
                      "attack_E": (6, 4, 2, (1024, 1024)), "attack_W": (6, 4, 2, (1024, 1024))}
    assert plan.skeletons.shape[1:] == (512, 256, 3)
    assert [f.tag for f in plan.frames()] == [f.tag for f in plan.batch.frames]


def test_a_strip_has_one_identity_prompt_and_one_seed():
    plan = plan_strips("a knight", "walk:8", "right", 1024, 1024, seed=7)
    (strip,) = plan.strips
    assert strip.prompt == ("a knight, right side view, walking, sprite sheet of 8 animation frames in a grid of 4 "
                            "columns and 2 rows, pixel art, plain white background")
    assert strip.seed == 7


def test_per_frame_layout_draws_each_frame_alone_with_its_key_pose():
    plan = plan_strips("a knight", "walk:4", "right", 512, 768, layout="per-frame")
    assert plan.cell == (512, 768)
    assert [(s.name, s.positions, s.columns, s.rows) for s in plan.strips] == [
        (f"walk_E-{n}", (n - 1,), 1, 1) for n in range(1, 5)]
    assert plan.strips[0].prompt.startswith("a knight, right side view, walking, contact pose")
    assert not any("sprite sheet" in s.prompt for s in plan.strips)
    assert len({s.prompt for s in plan.strips}) > 1, "each frame names its own key pose"


def test_the_guide_holds_each_cells_skeleton_in_the_strip_layout():
    plan = plan_strips("a knight", "attack:6", "right", 256, 256)
    (strip,) = plan.strips
    guide = plan.guide(strip)[0]
    assert guide.shape == (256, 256, 3)  # 4x2 cells of 64x128, the last two empty
    assert torch.equal(guide, tile_images(plan.skeletons, 4, 2))
    assert guide[128:, 128:].max() == 0


def test_cut_gives_back_the_cells_in_order_without_the_anchor_column():
    plan = plan_strips("a knight", "walk:5", "right", 128, 128, anchor=knight())
    (strip,) = plan.strips
    width, height = plan.canvas_size(strip)
    assert (width, height) == (32 + 4 * 32, 128) and plan.anchor_width == 32
    canvas = torch.zeros(1, height, width, 3)
    for number in range(8):  # every cell filled with its own colour
        row, column = divmod(number, 4)
        canvas[0, row * 64:(row + 1) * 64, 32 + column * 32:32 + (column + 1) * 32] = number / 10
    frames = plan.cut(strip, canvas)
    assert frames.shape == (5, 64, 32, 3)
    assert [round(float(f.mean()) * 10) for f in frames] == [0, 1, 2, 3, 4]
    with pytest.raises(InputError, match="canvas is 160x128"):
        plan.cut(strip, canvas[:, :, :100])


def test_the_mask_keeps_the_anchor_and_draws_the_strip():
    plan = plan_strips("a knight", "idle:2", "right", 128, 128, anchor=knight())
    (strip,) = plan.strips
    mask = plan.mask(strip)[0]
    assert mask.shape == (64, 32 + 64)
    assert mask[:, :32].max() == 0 and mask[:, 32:].min() == 1
    column = plan.anchor_column(strip)[0]
    assert column.shape == (64, 32, 3)
    stitched = torch.cat([column, plan.background(strip)[0]], dim=1)
    assert stitched.shape == (*mask.shape, 3)
    assert "the same character as the reference on the left" in strip.prompt


def test_without_an_anchor_the_column_is_empty_and_nothing_is_kept():
    plan = plan_strips("a knight", "idle:2", "right", 128, 128)
    (strip,) = plan.strips
    assert plan.anchor_column(strip).shape == (1, 64, 0, 3)
    assert plan.mask(strip).min() == 1
    assert torch.equal(plan.background(strip)[0, 0, 0], torch.tensor(BACKGROUND))
    assert "reference" not in strip.prompt


def test_the_anchor_stands_on_the_ground_line_at_the_body_size():
    cell = (64, 128)
    fitted = fit_anchor(knight(), cell, BODY_HEIGHT * 128, GROUND_LINE["side"] * 128)
    opaque = fitted[..., 3] > 0
    rows, columns = opaque.any(1).nonzero()[:, 0], opaque.any(0).nonzero()[:, 0]
    height = int(rows[-1] - rows[0] + 1)
    assert abs(height - BODY_HEIGHT * 128) <= 1
    assert int(rows[-1]) + 1 == round(GROUND_LINE["side"] * 128)
    assert abs((int(columns[0]) + int(columns[-1])) / 2 - 31.5) <= 1
    # Enlarged with hard edges: every colour is one of the sprite's own.
    own = {tuple(c) for c in (knight()[..., :3] * 255).round().int().reshape(-1, 3).tolist()}
    assert {tuple(c) for c in (fitted[opaque][:, :3] * 255).round().int().tolist()} <= own


def test_an_opaque_drawing_on_white_loses_its_backdrop():
    sprite = knight()
    picture = torch.ones(60, 40, 4)
    alpha = sprite[..., 3:]
    picture[8:52, 6:34, :3] = sprite[..., :3] * alpha + (1 - alpha)
    fitted = fit_anchor(picture, (64, 128), 80, 110)
    assert fitted[0, 0, 3] == 0 and fitted[..., 3].max() == 1
    with pytest.raises(InputError, match="no visible pixels"):
        fit_anchor(torch.zeros(10, 10, 4), (64, 128), 80, 110)


def test_single_strips_are_chosen_and_seeded_by_name():
    plan = plan_strips("a knight", "idle:2, walk:2", "side", 128, 128, seed=5, select="walk_W, idle_E",
                       strip_seeds="walk_W=99")
    assert [(s.name, s.seed) for s in plan.strips] == [("idle_E", 5), ("walk_W", 99)]
    assert [f.tag for f in plan.frames()] == ["idle_E"] * 2 + ["walk_W"] * 2
    whole = plan_strips("a knight", "idle:2, walk:2", "side", 128, 128)
    assert torch.equal(plan.skeletons, whole.skeletons), "drawing a few strips keeps the character's scale"


@pytest.mark.parametrize("options, message", [
    ({"select": "wlak_E"}, "no strip called 'wlak_E' \\(did you mean walk_E\\?\\)"),
    ({"strip_seeds": "walk_E:4"}, "not like 'walk_E=123'"),
    ({"strip_seeds": "run_E=4"}, "strip seeds: no strip called 'run_E'"),
    ({"columns": 0}, "at least one column"),
    ({"layout": "tiles"}, "layout must be one of strips, per-frame"),
])
def test_bad_strip_options_are_named(options, message):
    with pytest.raises(InputError, match=message):
        plan_strips("a knight", "walk:2", "side", 128, 128, **options)


def test_cells_too_small_for_a_skeleton_are_refused():
    assert cell_size(64, 64, 4, 2, "strips") == (16, 32)
    with pytest.raises(InputError, match="at least 16x16"):
        cell_size(64, 64, 8, 2, "strips")
