"""Sheets, slicing, tilesets and the Bevy export inside a real ComfyUI: LoadImage frames -> Assemble Sprite Sheet
-> Bevy Export into a Bevy project in the server's output folder (always an allowed root), files validated."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from pytiled_parser import parse_tileset

import aseprite_rules
import bevy_oracle
import ron_subset
from dgx_pixels.sheets.align import align_frames
from dgx_pixels.sheets.assemble import assemble_sheet
from dgx_pixels.sheets.frames import parse_tag_spec
from sheet_prompts import assemble_node, bevy_project, export_node, load_frames_prompt
from sheet_samples import figure, save_rgba, to_uint8, walk_cycle


def test_frames_become_a_bevy_sprite_the_game_can_animate(comfy, tmp_path):
    frames, spec = walk_cycle()
    project, folder = bevy_project(comfy)
    prompt, batch = load_frames_prompt(comfy, tmp_path, frames)
    prompt["1"] = assemble_node(batch)
    prompt["2"] = export_node("1", project, "hero")
    outputs = comfy.run(prompt)

    asset = folder / "assets" / "sprites" / "hero"
    expected, layout = assemble_sheet(frames, parse_tag_spec(spec), padding=1)
    with Image.open(asset / "hero.png") as image:
        assert not image.text  # no ComfyUI prompt/workflow chunks
        pixels = np.asarray(image.convert("RGBA"))
    assert np.array_equal(pixels, to_uint8(expected))

    manifest = ron_subset.loads((asset / "hero.sprite.ron").read_text())
    assert (manifest["columns"], manifest["rows"], manifest["tile_size"]) == (6, 2, (24, 24))
    assert manifest["animations"]["walk_E"]["indices"] == [6, 7, 8, 9, 10, 11]
    assert manifest["animations"]["walk_E"]["direction"] == "pingpong"
    atlas = ron_subset.loads((asset / "hero.atlas.ron").read_text())
    _, rects = bevy_oracle.from_grid((24, 24), 6, 2, (1, 1), None)
    assert [(t["min"], t["max"]) for t in atlas["textures"]] == rects
    cells, _ = align_frames(frames, "baseline")
    for position, index in enumerate(manifest["animations"]["idle"]["indices"]):
        assert np.array_equal(bevy_oracle.render_sprite(pixels, rects[index]), to_uint8(cells[position]))
    aseprite_rules.check(json.loads((asset / "hero.json").read_text()))
    (collection,) = ron_subset.loads((asset / "hero.assets.ron").read_text())
    assert collection["hero.image"]["path"] == "sprites/hero/hero.png"
    assert (asset / "hero.png.meta").read_text().count("Nearest") == 3

    ui = outputs["2"]
    grid_call = "TextureAtlasLayout::from_grid(\n        UVec2::new(24, 24), 6, 2, Some(UVec2::splat(1)), None,"
    assert grid_call in ui["text"][0]
    assert sorted(ui["dgx_export"][0]["files"]) == sorted(str(p.resolve()) for p in asset.iterdir())
    player = outputs["1"]["dgx_sheet_player"][0]
    assert [t["name"] for t in player["tags"]] == ["idle", "walk_E"] and len(player["frames"]) == 10
    shown = comfy.fetch(player["image"])
    assert shown.size == layout.size


def test_a_second_export_keeps_the_first_in_history(comfy, tmp_path):
    frames, _ = walk_cycle()
    project, folder = bevy_project(comfy)
    prompt, batch = load_frames_prompt(comfy, tmp_path, frames[:4])
    prompt["1"] = assemble_node(batch, tags="idle:4@120ms")
    prompt["2"] = export_node("1", project, "hero")
    comfy.run(prompt)
    first = (folder / "assets" / "sprites" / "hero" / "hero.sprite.ron").read_bytes()
    prompt["1"] = assemble_node(batch, tags="idle:4@200ms")
    outputs = comfy.run(prompt)
    assert "previous version kept in" in outputs["2"]["text"][0]
    (snapshot,) = (folder / ".dgx-pixels" / "history" / "assets" / "sprites" / "hero").iterdir()
    assert (snapshot / "hero.sprite.ron").read_bytes() == first
    assert "durations_ms: [200, 200, 200, 200]" in (folder / "assets/sprites/hero/hero.sprite.ron").read_text()


def test_a_multi_pose_image_is_sliced_and_exported(comfy, tmp_path):
    canvas = torch.zeros(32, 90, 4)
    for number, x in enumerate((3, 33, 63)):
        canvas[4:28, x:x + 24] = figure(lift=number, step=number % 2)
    save_rgba(canvas, tmp_path / "poses.png")
    project, folder = bevy_project(comfy)
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": comfy.upload_image(tmp_path / "poses.png")}},
        "2": {"class_type": "DGXPixelsSliceSpriteSheet", "inputs": {
            "image": ["1", 0], "mask": ["1", 1], "separate_by": "transparency", "grid_cell_width": 0,
            "grid_cell_height": 0, "grid_columns": 0, "grid_rows": 0, "grid_padding": 0, "grid_offset": 0,
            "min_size": 4, "join_gap": 1, "key_colour": "", "tolerance": 0.12, "cell_width": 0, "cell_height": 0,
            "align": "baseline", "tags": "bounce:3@100ms pingpong"}},
        "3": assemble_node(["2", 0], mask=["2", 1], frame_tags=["2", 2], tags="", padding=0),
        "4": export_node("3", project, "bouncer"),
    }
    outputs = comfy.run(prompt)
    assert len(outputs["2"]["dgx_sheet_player"][0]["frames"]) == 3
    manifest = ron_subset.loads((folder / "assets/sprites/bouncer/bouncer.sprite.ron").read_text())
    assert list(manifest["animations"]) == ["bounce"] and manifest["animations"]["bounce"]["indices"] == [0, 1, 2]
    with Image.open(folder / "assets/sprites/bouncer/bouncer.png") as image:
        alpha = np.asarray(image.convert("RGBA"))[..., 3]
    cell_w, cell_h = manifest["tile_size"]
    feet = {int(np.nonzero(alpha[:, i * cell_w:(i + 1) * cell_w].max(axis=1))[0].max()) for i in range(3)}
    assert len(feet) == 1  # the three poses stand on one baseline


def test_tiles_become_a_tileset_tiled_can_read(comfy, tmp_path):
    tiles = []
    for number in range(4):
        tile = torch.zeros(8, 8, 4)
        tile[..., number % 3] = 0.8
        tile[::2, ::2, 1] = 0.3 * number
        tile[..., 3] = 1.0
        tiles.append(tile)
    project, folder = bevy_project(comfy)
    prompt, batch = load_frames_prompt(comfy, tmp_path, tiles)
    prompt["1"] = {"class_type": "DGXPixelsAssembleTileset", "inputs": {
        "tiles": batch, "columns": 2, "spacing": 1, "margin": 1, "autotile": "none", "seam_tolerance": 1.5}}
    prompt["2"] = export_node("1", project, "floor")
    outputs = comfy.run(prompt)
    assert "4 tiles of 8x8, 2 columns" in outputs["1"]["text"][0]
    parsed = parse_tileset(folder / "assets" / "tilesets" / "floor" / "floor.tsx")
    assert (parsed.tile_count, parsed.columns, parsed.spacing, parsed.margin) == (4, 2, 1, 1)
    with Image.open(folder / "assets/tilesets/floor/floor.png") as image:
        pixels = np.asarray(image.convert("RGBA"))
    for number, tile in enumerate(tiles):
        x, y = 1 + (number % 2) * 9, 1 + (number // 2) * 9
        assert np.array_equal(pixels[y:y + 8, x:x + 8], to_uint8(tile))


@pytest.mark.parametrize("project, message", [
    ("../outside", "contains '..'"),
    ("/", "is outside the allowed export roots"),
    ("no_such_game", "is not a folder"),
])
def test_bevy_export_refuses_paths_outside_the_allowed_roots(comfy, tmp_path, project, message):
    prompt, batch = load_frames_prompt(comfy, tmp_path, walk_cycle()[0][:2])
    prompt["1"] = assemble_node(batch, tags="")
    prompt["2"] = export_node("1", project, "hero")
    error = comfy.execution_error(prompt)
    assert error["node_type"] == "DGXPixelsBevyExport"
    assert error["exception_message"].startswith("Bevy Export: ") and message in error["exception_message"]


def test_bad_tags_are_reported_by_the_assemble_node(comfy, tmp_path):
    prompt, batch = load_frames_prompt(comfy, tmp_path, walk_cycle()[0][:2])
    prompt["1"] = assemble_node(batch, tags="idle:3")
    prompt["2"] = {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}
    error = comfy.execution_error(prompt)
    assert error["node_type"] == "DGXPixelsAssembleSpriteSheet"
    assert "Assemble Sprite Sheet: the frame tags describe 3 frames but there are 2 images" in \
        error["exception_message"]
