"""Game Engine Export inside a real ComfyUI: LoadImage frames -> Assemble Sprite Sheet -> Game Engine Export into a
Godot project and a web game folder in the server's output folder, each read back by the engine's own reader."""
from __future__ import annotations

import uuid

import numpy as np
from godot_parser import load as godot_load
from PIL import Image

import web_engines
from dgx_pixels.sheets.assemble import assemble_sheet
from dgx_pixels.sheets.frames import parse_tag_spec
from sheet_prompts import SPEC, assemble_node, load_frames_prompt
from sheet_samples import to_uint8, walk_cycle


def engine_node(source: str, target: str, project: str, **overrides) -> dict:
    inputs = {"sheet": [source, 0], "mask": [source, 1], "layout": [source, 2], "target": target,
              "project": project, "name": "hero", "folder": "auto", "must_be_project": True, "indexed_png": True,
              "optimise_png": True}
    inputs.update(overrides)
    return {"class_type": "DGXPixelsEngineExport", "inputs": inputs}


def test_godot_and_phaser_exports_from_the_node(comfy, tmp_path):
    frames, _ = walk_cycle()
    name = f"game_{uuid.uuid4().hex[:8]}"
    folder = comfy.base_dir / "output" / name
    folder.mkdir()
    (folder / "project.godot").write_text("config_version=5\n")
    prompt, batch = load_frames_prompt(comfy, tmp_path, frames)
    prompt["1"] = assemble_node(batch, trim=True)
    prompt["2"] = engine_node("1", "godot", name)
    prompt["3"] = engine_node("1", "phaser", name)
    outputs = comfy.run(prompt)

    asset = folder / "assets" / "sprites" / "hero"
    expected, layout = assemble_sheet(frames, parse_tag_spec(SPEC), padding=1, trim=True)
    with Image.open(asset / "hero.png") as image:
        assert image.mode == "P" and not image.text
        assert np.array_equal(np.asarray(image.convert("RGBA")), to_uint8(expected))
    sections = godot_load(str(asset / "hero.tres")).get_sections()
    assert [a["name"] for a in sections[-1]["animations"]] == ["idle", "walk_E"]
    assert "res://assets/sprites/hero/hero.tscn" in outputs["2"]["text"][0]
    loaded = web_engines.phaser_load("Phaser 3", asset / "hero.json", layout.size)
    assert [a["key"] for a in loaded["animations"]] == ["idle", "walk_E"]
    assert "this.load.aseprite('hero'" in outputs["3"]["text"][0]


def test_a_folder_that_is_not_the_engines_project_is_refused(comfy, tmp_path):
    frames, _ = walk_cycle()
    name = f"plain_{uuid.uuid4().hex[:8]}"
    (comfy.base_dir / "output" / name).mkdir()
    prompt, batch = load_frames_prompt(comfy, tmp_path, frames[:4])
    prompt["1"] = assemble_node(batch, tags="idle:4")
    prompt["2"] = engine_node("1", "unity", name)
    error = comfy.execution_error(prompt)
    assert error["node_type"] == "DGXPixelsEngineExport"
    assert error["exception_message"].startswith("Game Engine Export: no Unity project at")


def test_a_link_out_of_the_project_is_refused_and_nothing_outside_changes(comfy, tmp_path):
    frames, _ = walk_cycle()
    name = f"godot_{uuid.uuid4().hex[:8]}"
    folder = comfy.base_dir / "output" / name
    folder.mkdir()
    (folder / "project.godot").write_text("config_version=5\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("the user's file")
    (folder / "assets").symlink_to(outside, target_is_directory=True)
    prompt, batch = load_frames_prompt(comfy, tmp_path, frames[:4])
    prompt["1"] = assemble_node(batch, tags="idle:4")
    prompt["2"] = engine_node("1", "godot", name)
    error = comfy.execution_error(prompt)
    assert error["exception_message"].startswith("Game Engine Export: ")
    assert "symbolic link" in error["exception_message"]
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]
    assert (outside / "precious.txt").read_text() == "the user's file"
