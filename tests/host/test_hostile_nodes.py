"""Hostile folders and inputs for our nodes inside a real ComfyUI: each attack ends the prompt with an error naming
the node and the reason (or, for a planted journal, a note in the export's summary), the server's output folder
changes only where the export writes, the folder outside is untouched, and the server still answers afterwards."""
from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from hostile import changes, tree
from sheet_samples import walk_cycle
from sheet_prompts import assemble_node, bevy_project, export_node, load_frames_prompt

MAIN_RS = "fn main() {}\n"


@pytest.fixture
def game(comfy, tmp_path):
    """A Bevy project in the server's output folder (with src/main.rs), a folder outside every export root, and the
    frames of a walk cycle loaded in a prompt."""
    name, folder = bevy_project(comfy)
    (folder / "src").mkdir()
    (folder / "src" / "main.rs").write_text(MAIN_RS)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("the user's file")
    prompt, batch = load_frames_prompt(comfy, tmp_path, walk_cycle()[0])
    prompt["1"] = assemble_node(batch)
    return name, folder, outside, prompt


def still_up(comfy) -> None:
    assert comfy.process.poll() is None and "system" in comfy.get_json("/system_stats")


def export_prompt(prompt: dict, project: str, name: str = "hero", **overrides) -> dict:
    return {**prompt, "2": export_node("1", project, name, **overrides)}


def test_export_node_sets_aside_a_planted_journal_and_says_so(comfy, game):
    project, folder, outside, prompt = game
    pending = folder / ".dgx-pixels" / "pending" / "assets" / "sprites" / "hero"
    (pending / "files").mkdir(parents=True)
    (pending / "files" / "pwned.txt").write_text("owned")
    (pending / "journal.json").write_text(json.dumps({
        "asset": "assets/sprites/hero", "history": None,
        "files": {"../../../../pwned.txt": {"sha256": hashlib.sha256(b"owned").hexdigest(), "bytes": 5}}}))
    before = tree(comfy.base_dir / "output")
    outputs = comfy.run(export_prompt(prompt, project))
    summary = outputs["2"]["text"][0]
    assert "set aside a pending export of assets/sprites/hero" in summary and "pwned.txt" in summary
    changed = changes(before, tree(comfy.base_dir / "output"))
    assert changed.outside(f"{project}/assets", f"{project}/.dgx-pixels") == set()
    planted = list((comfy.base_dir / "output").rglob("pwned.txt"))
    assert [path.parent.parent.parent.name for path in planted] == ["rejected"]  # only the planted copy, set aside
    still_up(comfy)


def test_export_node_refuses_a_state_folder_linked_out_of_the_root(comfy, game):
    project, folder, outside, prompt = game
    (folder / ".dgx-pixels").symlink_to(outside, target_is_directory=True)
    before, outside_before = tree(comfy.base_dir / "output"), tree(outside)
    error = comfy.execution_error(export_prompt(prompt, project))
    assert error["exception_message"].startswith("Bevy Export: ")
    assert ".dgx-pixels' is a symbolic link" in error["exception_message"]
    assert tree(outside) == outside_before and tree(comfy.base_dir / "output") == before
    still_up(comfy)


def test_export_node_never_writes_through_an_asset_linked_into_src(comfy, game):
    project, folder, outside, prompt = game
    comfy.run(export_prompt(prompt, project))
    target = folder / "assets" / "sprites" / "hero" / "hero.sprite.ron"
    target.unlink()
    target.symlink_to("../../../src/main.rs")
    changed_prompt = export_prompt(prompt, project)
    changed_prompt["1"] = assemble_node(prompt["1"]["inputs"]["frames"], tags="idle:4@150ms, walk_E:6")
    error = comfy.execution_error(changed_prompt)
    assert "hero.sprite.ron' is a symbolic link (to '../../../src/main.rs')" in error["exception_message"]
    assert (folder / "src" / "main.rs").read_text() == MAIN_RS
    still_up(comfy)


@pytest.mark.parametrize("name", ["CON", "hero\n"])
def test_export_node_refuses_names_that_are_not_portable(comfy, game, name):
    project, folder, _, prompt = game
    error = comfy.execution_error(export_prompt(prompt, project, name))
    assert "asset name" in error["exception_message"] and not (folder / "assets").exists()
    still_up(comfy)


def test_load_palette_refuses_a_huge_palette_file_by_its_size(comfy):
    folder = comfy.base_dir / "models" / "palettes"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"huge_{uuid.uuid4().hex[:6]}.hex"
    with open(folder / name, "wb") as handle:
        handle.truncate(63 << 20)
    prompt = {"1": {"class_type": "DGXPixelsLoadPalette", "inputs": {"palette": name}},
              "2": {"class_type": "DGXPixelsSavePalette", "inputs": {"palette": ["1", 0], "filename": "p",
                                                                     "format": ".hex"}}}
    error = comfy.execution_error(prompt)
    assert "is 66,060,288 bytes; a palette file may be at most 1,048,576" in error["exception_message"]
    (folder / name).write_text("GGFF0000\n")
    error = comfy.execution_error(prompt)
    assert "'GGFF0000' is not a hex colour" in error["exception_message"]
    still_up(comfy)


def test_pose_batch_over_the_pixel_budget_is_refused_before_drawing(comfy):
    prompt = {"1": {"class_type": "DGXPixelsCharacterPoseBatch", "inputs": {
        "character": "a knight", "animations": "idle:8, walk:8, attack:8", "directions": "8",
        "frames_per_animation": 0, "width": 4096, "height": 4096, "seed": 1, "seed_policy": "new seed per frame",
        "template": "{character}, {direction} view, {pose}", "phrases": "", "custom_animations": ""}},
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 2]}}}
    error = comfy.execution_error(prompt)
    assert error["exception_message"].startswith("Character Pose Batch: ")
    assert "frames of 4096x4096" in error["exception_message"] and "over the limit" in error["exception_message"]
    still_up(comfy)


def test_pixel_upscale_over_the_pixel_budget_is_refused_before_allocating(comfy):
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {"width": 2048, "height": 2048, "batch_size": 1,
                                                           "color": 0}},
              "2": {"class_type": "DGXPixelsPixelUpscale", "inputs": {"image": ["1", 0], "scale": 64}},
              "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}}
    error = comfy.execution_error(prompt)
    assert "Pixel Upscale: 1 image(s) of 2048x2048 scaled 64x" in error["exception_message"]
    still_up(comfy)


def test_sheet_cells_over_the_pixel_budget_are_refused_before_allocating(comfy):
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 64,
                                                           "color": 255}},
              "2": assemble_node(["1", 0], tags="", cell_width=8192, cell_height=8192)}
    prompt["3"] = {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}
    error = comfy.execution_error(prompt)
    assert "64 cells of 8192x8192" in error["exception_message"]
    still_up(comfy)
