"""Sprite sheets: tag specs, alignment, layouts checked rect by rect against Bevy's from_grid, trim, dedupe,
extrusion, and slicing back into frames."""
from __future__ import annotations


import numpy as np
import pytest
import torch

import bevy_oracle
from dgx_pixels.sheets.align import align_frames
from dgx_pixels.sheets.assemble import LAYOUTS, assemble_sheet, frames_from_batches
from dgx_pixels.image.regions import label_array
from dgx_pixels.sheets.slice import slice_components, slice_grid
from dgx_pixels.common.errors import InputError
from dgx_pixels.sheets.frames import Frame, coerce_frames, parse_tag_spec, tag_runs
from sheet_samples import figure, lowest_opaque_row, to_uint8, walk_cycle


# ---------------------------------------------------------------------------------------------------- tag specs
def test_tag_spec_reads_counts_durations_directions_and_loops():
    frames = parse_tag_spec("idle:2@120ms, walk_E:3@12.5fps pingpong; jump:1@0.25s once\nhurt:1")
    assert [f.tag for f in frames] == ["idle", "idle", "walk_E", "walk_E", "walk_E", "jump", "hurt"]
    assert frames[2] == Frame("walk", 0, 80, "E", "pingpong")
    assert frames[5].duration_ms == 250 and frames[5].loop == "once"
    assert frames[6] == Frame("hurt", 0)
    assert [f.index for f in frames[2:5]] == [0, 1, 2]


@pytest.mark.parametrize("spec, message", [
    ("idle", "entry 1 'idle' is not like"),
    ("idle:2, walk:zero", "entry 2 'walk:zero': frame count 'zero'"),
    ("idle:0", "frame count '0'"),
    ("idle:4@0ms", "duration '0ms' is not a time like 80ms"),
    ("idle:4@99999999999ms", "at most 60 s"),  # an engine's duration field never overflows
    ("idle:4@fast", "duration 'fast'"),
    ("idle:4 sideways", "loop mode 'sideways' is not one of forward, reverse, pingpong, once"),
    (" , ;", "the tag spec is empty"),
])
def test_bad_tag_specs_name_the_entry(spec, message):
    with pytest.raises(InputError, match=message):
        parse_tag_spec(spec)


def test_tag_runs_group_consecutive_frames_and_number_repeats():
    frames = parse_tag_spec("walk_E:2, walk_W:2, walk_E:1, walk_E:2")
    runs = tag_runs(frames)
    assert [(r.name, r.start, r.end) for r in runs] == [
        ("walk_E", 0, 1), ("walk_W", 2, 3), ("walk_E_2", 4, 4), ("walk_E_3", 5, 6)]


def test_frames_arrive_as_lists_of_lists_or_dicts():
    frame = Frame("idle", 0, 90)
    assert coerce_frames([[frame, frame.to_dict()], []]) == [frame, frame]
    assert coerce_frames(None) == []
    with pytest.raises(InputError, match="FRAMES list"):
        coerce_frames(3)


# ---------------------------------------------------------------------------------------------------- alignment
def test_baseline_puts_the_feet_of_every_frame_on_one_row():
    frames, _ = walk_cycle()
    cells, placement = align_frames(frames, "baseline")
    feet = {lowest_opaque_row(cell) for cell in cells}
    assert feet == {placement.pivot[1] - 1}
    assert placement.cell == (24, 24)
    for cell in cells:  # centred by mass: the 6-pixel shirt straddles the pivot column, whatever the legs do
        shirt = torch.nonzero(cell[placement.pivot[1] - 8, :, 3])[:, 0].tolist()
        assert shirt == list(range(placement.pivot[0] - 3, placement.pivot[0] + 3))


def test_centre_puts_every_opaque_box_in_the_middle():
    frames = [figure(20, 30, lift=8), figure(24, 24, shift=-5)]
    cells, placement = align_frames(frames, "centre")
    assert placement.cell == (24, 30) and placement.pivot == (12, 15)
    for cell in cells:
        ys, xs = torch.nonzero(cell[..., 3] > 0, as_tuple=True)
        assert abs((int(xs.min()) + int(xs.max()) + 1) / 2 - 12) <= 0.5
        assert abs((int(ys.min()) + int(ys.max()) + 1) / 2 - 15) <= 0.5


def test_pivot_keeps_same_size_frames_exactly_as_drawn():
    frames, _ = walk_cycle()
    cells, placement = align_frames(frames, "pivot", pivot=(0.5, 1.0))
    assert placement.offsets == ((0, 0),) * len(frames) and placement.pivot == (12, 24)
    assert all(torch.equal(cell, frame) for cell, frame in zip(cells, frames))


def test_pivot_lines_up_frames_of_different_sizes_on_their_bottom_centre():
    cells, placement = align_frames([figure(16, 20), figure(24, 30)], "pivot")
    assert placement.cell == (24, 30) and placement.offsets == ((4, 10), (0, 0))


def test_auto_cell_grows_when_a_lopsided_frame_is_centred_by_mass():
    lopsided = torch.zeros(10, 12, 4)
    lopsided[2:10, 0:3] = 1.0  # a heavy post on the left...
    lopsided[9, 3:12] = 1.0  # ...with a long thin tail to the right edge
    cells, placement = align_frames([lopsided], "baseline")
    assert placement.cell[0] > 12
    assert cells[0][..., 3].sum() == lopsided[..., 3].sum()  # nothing cropped


def test_a_fixed_cell_too_small_for_a_frame_is_an_error():
    with pytest.raises(InputError, match=r"frame 1's opaque pixels \(6x16\) do not fit the 8x12 cell"):
        align_frames([figure(8, 12, lift=-10), figure()], "baseline", cell=(8, 12))
    with pytest.raises(InputError, match="give both width and height"):
        align_frames([figure()], cell=(8, 0))


# ---------------------------------------------------------------------------------------------------- assembly
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("padding, extrude", [(0, 0), (2, 0), (0, 1), (3, 2)])
def test_every_rect_is_what_bevy_from_grid_makes_and_shows_its_frame(layout, padding, extrude):
    frames, spec = walk_cycle()
    sheet, result = assemble_sheet(frames, parse_tag_spec(spec), layout=layout, padding=padding,
                                   extrude=extrude, columns=3)
    assert result.grid and result.padding == padding + 2 * extrude and result.offset == extrude
    _, oracle_rects = bevy_oracle.from_grid(result.cell, result.columns, result.rows,
                                            (result.padding,) * 2, (result.offset,) * 2)
    assert [((r.x, r.y), (r.right, r.bottom)) for r in result.rects] == oracle_rects
    assert tuple(sheet.shape[:2]) == (result.size[1], result.size[0])
    cells, _ = align_frames(frames, "baseline")
    image = to_uint8(sheet)
    for frame, cell in zip(result.frames, cells):
        shown = bevy_oracle.render_sprite(image, oracle_rects[frame.index])
        assert np.array_equal(shown, to_uint8(cell)), f"frame {frame.source} shows the wrong pixels"


def test_rows_layout_gives_each_animation_its_own_row_with_contiguous_indices():
    frames, spec = walk_cycle()
    _, layout = assemble_sheet(frames, parse_tag_spec(spec), layout="rows")
    assert (layout.columns, layout.rows) == (6, 2)
    idle, walk = layout.animations
    assert (idle.name, idle.loop, layout.atlas_indices(idle)) == ("idle", "forward", [0, 1, 2, 3])
    assert (walk.name, walk.loop, layout.atlas_indices(walk)) == ("walk_E", "pingpong", [6, 7, 8, 9, 10, 11])
    assert layout.play_order(walk) == [6, 7, 8, 9, 10, 11, 10, 9, 8, 7]
    assert layout.durations(idle) == [120] * 4


def test_packed_layout_wraps_at_the_column_count_or_about_square():
    frames, spec = walk_cycle()
    _, three = assemble_sheet(frames, parse_tag_spec(spec), layout="packed", columns=3)
    assert (three.columns, three.rows) == (3, 4)
    assert [f.index for f in three.frames] == list(range(10))
    _, square = assemble_sheet(frames, None, layout="packed")
    assert (square.columns, square.rows) == (4, 3) and square.animations == ()


def test_extrusion_repeats_edge_pixels_outwards_and_padding_stays_clear():
    tiles = [torch.rand(6, 5, 4) * 0.5 + 0.5 for _ in range(4)]  # opaque, different edges
    sheet, layout = assemble_sheet(tiles, layout="packed", columns=2, padding=1, extrude=2, align="pivot")
    for frame in layout.frames:
        rect = layout.rects[frame.index]
        block = sheet[rect.y - 2:rect.bottom + 2, rect.x - 2:rect.right + 2]
        inner = block[2:-2, 2:-2]
        assert torch.equal(inner, tiles[frame.source])
        assert torch.equal(block[:2, 2:-2], inner[:1].expand(2, -1, -1))  # top edge repeated
        assert torch.equal(block[2:-2, -2:], inner[:, -1:].expand(-1, 2, -1))  # right edge repeated
        assert torch.equal(block[0, 0], inner[0, 0]) and torch.equal(block[-1, -1], inner[-1, -1])
    first, second = layout.rects[0], layout.rects[1]
    gap = sheet[:, first.right + 2:second.x - 2]
    assert gap.shape[1] == 1 and not gap[..., 3].any()


def test_trimmed_frames_rebuild_their_aligned_cells_from_the_kept_offsets():
    frames, spec = walk_cycle()
    sheet, layout = assemble_sheet(frames, parse_tag_spec(spec), trim=True, padding=1)
    cells, _ = align_frames(frames, "baseline")
    assert not layout.grid and layout.trimmed and layout.size[0] * layout.size[1] < 10 * 24 * 24 / 2
    for frame, cell in zip(layout.frames, cells):
        rect, trim = layout.rects[frame.index], frame.trim
        rebuilt = torch.zeros_like(cell)
        rebuilt[trim.y:trim.bottom, trim.x:trim.right] = sheet[rect.y:rect.bottom, rect.x:rect.right]
        assert torch.equal(rebuilt, cell)
        assert (rect.w, rect.h) == (trim.w, trim.h)
    boxes = [(r.x, r.y, r.right, r.bottom) for r in layout.rects]
    for i, a in enumerate(boxes):  # no two rects overlap (padding between them)
        for b in boxes[i + 1:]:
            assert a[2] + 1 <= b[0] or b[2] + 1 <= a[0] or a[3] + 1 <= b[1] or b[3] + 1 <= a[1]


def test_identical_frames_share_one_rect_when_deduplicated():
    frames, spec = walk_cycle()
    _, plain = assemble_sheet(frames, parse_tag_spec(spec))
    sheet, layout = assemble_sheet(frames, parse_tag_spec(spec), dedupe=True)
    idle = layout.atlas_indices(layout.animations[0])
    assert idle[0] == idle[2] and idle[1] == idle[3] and idle[0] != idle[1]  # the bob is aligned away
    assert len({f.index for f in layout.frames}) < len({f.index for f in plain.frames})
    cells, _ = align_frames(frames, "baseline")
    image = to_uint8(sheet)
    for frame, cell in zip(layout.frames, cells):
        rect = layout.rects[frame.index]
        assert np.array_equal(bevy_oracle.render_sprite(image, ((rect.x, rect.y), (rect.right, rect.bottom))),
                              to_uint8(cell))


def test_frames_of_mixed_sizes_share_one_cell():
    frames = [figure(16, 20), figure(24, 30, lift=3), figure(20, 24)]
    sheet, layout = assemble_sheet(frames, layout="packed")
    assert layout.cell == (24, 30) and len(layout.frames) == 3


def test_frames_from_batches_merge_masks_and_rgba_alpha():
    rgba = torch.ones(2, 4, 4, 4)
    rgba[1, 0, 0, 3] = 0.0
    mask = torch.zeros(2, 4, 4)
    mask[0, 1, 1] = 1.0
    rgb = torch.ones(1, 5, 3, 3)
    frames = frames_from_batches([rgba, rgb], [mask, torch.zeros(64, 64)])  # LoadImage's no-alpha mask
    assert len(frames) == 3 and frames[2].shape == (5, 3, 4) and frames[2][..., 3].min() == 1.0
    assert frames[0][1, 1, 3] == 0.0 and frames[1][0, 0, 3] == 0.0 and frames[0][0, 0, 3] == 1.0


@pytest.mark.parametrize("frames, kwargs, message", [
    ([], {}, "no frames"),
    ([figure()], {"tags": parse_tag_spec("idle:2")}, "describe 2 frames but there are 1 images"),
    ([torch.full((4, 4, 4), float("nan"))], {}, "frame 0 contains NaN"),
    ([figure()], {"layout": "spiral"}, "layout must be one of rows, packed"),
    ([figure()], {"align": "left"}, "alignment must be one of"),
    ([figure()], {"padding": -1}, "padding must be between 0 and 256"),
    ([torch.zeros(4, 4, 3)], {}, r"frame 0 must be RGBA"),
])
def test_bad_sheet_inputs_are_explained(frames, kwargs, message):
    with pytest.raises(InputError, match=message):
        assemble_sheet(frames, **kwargs)


# ---------------------------------------------------------------------------------------------------- slicing
def test_grid_slicing_gives_back_the_frames_of_an_assembled_sheet():
    frames, spec = walk_cycle()
    sheet, layout = assemble_sheet(frames, parse_tag_spec(spec), layout="packed", columns=4, padding=2)
    pieces = slice_grid(sheet, layout.cell, padding=2)
    cells, _ = align_frames(frames, "baseline")
    assert len(pieces) == 10
    assert all(torch.equal(crop, cell) for (crop, _), cell in zip(pieces, cells))
    by_count = slice_grid(sheet, columns=4, rows=3, padding=2, skip_empty=False)
    assert len(by_count) == 12 and by_count[5][1] == pieces[5][1]


def test_components_slicing_finds_poses_in_reading_order_and_keeps_held_items():
    canvas = torch.zeros(60, 90, 4)
    poses = [(2, 5, 0), (30, 3, 4), (60, 8, 2), (5, 34, 1)]  # (x, y, lift): three on top, one below
    for x, y, lift in poses:
        canvas[y:y + 24, x:x + 24] += figure(lift=lift)
    canvas[44:47, 21:23] = torch.tensor([0.9, 0.9, 0.9, 1.0])  # a dagger 1 px clear of the bottom figure's side
    canvas[2, 85] = torch.tensor([1.0, 1.0, 1.0, 1.0])  # a speck
    pieces = slice_components(canvas, min_area=4, gap=1)
    assert [r.x // 10 for _, r in pieces] == [1, 3, 6, 1]
    assert pieces[3][1].right == 23  # the dagger joined its figure
    cells, placement = align_frames([crop for crop, _ in pieces], "baseline")
    assert {lowest_opaque_row(cell) for cell in cells} == {placement.pivot[1] - 1}
    assert len(slice_components(canvas, min_area=4, gap=0)) == 5  # without the gap the dagger is apart


def test_components_keep_a_neighbour_reaching_into_the_box_out():
    canvas = torch.zeros(20, 20, 4)
    canvas[2:18, 2:5, 3] = 1.0  # a tall post
    canvas[2:5, 5:18, 3] = 1.0  # ...with an arm over the next shape
    canvas[8:18, 10:14, 3] = 1.0  # a separate block under the arm
    canvas[..., 0] = canvas[..., 3]
    pieces = slice_components(canvas, gap=0)
    assert len(pieces) == 2
    post = pieces[0][0]
    assert post.shape[:2] == (16, 16) and post[..., 3].sum() == 3 * 16 + 13 * 3


def flood_labels(mask: np.ndarray, connectivity: int) -> np.ndarray:
    """An independent labelling: a breadth-first flood from each unlabelled foreground pixel."""
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if connectivity == 8:
        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    labels = np.zeros(mask.shape, int)
    count = 0
    for start in zip(*np.nonzero(mask)):
        if labels[start]:
            continue
        count += 1
        labels[start], queue = count, [start]
        while queue:
            y, x = queue.pop()
            for dy, dx in steps:
                ny, nx = y + dy, x + dx
                if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not labels[ny, nx]:
                    labels[ny, nx] = count
                    queue.append((ny, nx))
    return labels


@pytest.mark.parametrize("connectivity", [4, 8])
def test_labels_give_the_same_partition_as_a_flood_fill(connectivity):
    generator = torch.Generator().manual_seed(5)
    mask = torch.rand(64, 64, generator=generator) > 0.6
    labels, _ = label_array(mask.numpy(), connectivity)
    expected = flood_labels(mask.numpy(), connectivity)
    assert ((labels > 0) == mask.numpy()).all()
    pairs = set(zip(labels[labels > 0].tolist(), expected[labels > 0].tolist()))
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs}) == expected.max()


def test_a_long_winding_shape_is_one_component():
    snake = torch.zeros(128, 128, dtype=torch.bool)
    for row in range(0, 128, 4):  # a zig-zag path about 4,000 pixels long
        snake[row, :] = True
        snake[row:row + 4, 127 if (row // 4) % 2 == 0 else 0] = True
    labels, count = label_array(snake.numpy())
    assert count == 1 and (labels > 0).sum() == snake.sum()


def test_slicing_errors_say_what_to_change():
    with pytest.raises(InputError, match="no opaque pixels"):
        slice_components(torch.zeros(8, 8, 4))
    with pytest.raises(InputError, match="does not split into 3x1 equal cells"):
        slice_grid(torch.ones(8, 10, 4), columns=3, rows=1)
    with pytest.raises(InputError, match="every grid cell is fully transparent"):
        slice_grid(torch.zeros(8, 8, 4), (4, 4))
