"""Pose nodes in a real ComfyUI: per-frame prompts through the tiny model, tags onto a sprite sheet, the
multi-pose guide through Slice Sprite Sheet, and errors that name the node."""
from __future__ import annotations

import numpy as np
import pytest

from tiny_checkpoint import CHECKPOINT_NAME as TINY_CHECKPOINT_NAME
from dgx_pixels.poses import openpose


POSE_BATCH = "DGXPixelsCharacterPoseBatch"


def pose_batch(**overrides) -> dict:
    inputs = {"character": "a tiny knight", "animations": "idle:2, walk:3", "directions": "side",
              "frames_per_animation": 0, "width": 64, "height": 64, "seed": 11,
              "seed_policy": "new seed per frame", "template": "{character}, {direction} view, {pose}",
              "phrases": "", "custom_animations": ""}
    return {"class_type": POSE_BATCH, "inputs": {**inputs, **overrides}}


def test_pose_nodes_are_registered_with_list_outputs(comfy):
    info = comfy.object_info(POSE_BATCH)[POSE_BATCH]
    assert info["display_name"] == "Character Pose Batch"
    assert info["output"] == ["STRING", "CONDITIONING", "IMAGE", "IMAGE", "DGXPIXELS_FRAMES", "INT", "INT"]
    assert info["output_is_list"] == [True, True, False, True, False, True, False]
    assert "DGXPixelsTurnaroundSheetGuide" in comfy.object_info()


def test_pose_batch_through_the_tiny_model_onto_a_tagged_sheet(comfy):
    """Pose batch -> CLIP Text Encode and KSampler once per frame -> VAE Decode -> Assemble Sprite Sheet."""
    prompt = {
        "1": pose_batch(),
        "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": TINY_CHECKPOINT_NAME}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": ["1", 0]}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "blurry"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "KSampler", "inputs": {
            "model": ["2", 0], "positive": ["3", 0], "negative": ["4", 0], "latent_image": ["5", 0],
            "seed": ["1", 5], "steps": 2, "cfg": 5.0, "sampler_name": "euler", "scheduler": "normal",
            "denoise": 1.0}},
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["2", 2]}},
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "poses"}},
        "9": {"class_type": "DGXPixelsAssembleSpriteSheet", "inputs": {
            "frames": ["7", 0], "tags": "", "layout": "rows", "columns": 0, "cell_width": 0, "cell_height": 0,
            "align": "pivot", "pivot_x": 0.5, "pivot_y": 1.0, "padding": 0, "extrude": 0, "trim": False,
            "dedupe": False, "frame_tags": ["1", 4]}},
        "10": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": "pose_sheet"}},
        "11": {"class_type": "PreviewImage", "inputs": {"images": ["1", 2]}},
    }
    outputs = comfy.run(prompt, timeout=600)

    frames = outputs["1"]["dgx_pose_frames"]
    assert [f["tag"] for f in frames] == ["idle_E"] * 2 + ["idle_W"] * 2 + ["walk_E"] * 3 + ["walk_W"] * 3
    assert [f["seed"] for f in frames] == list(range(11, 21))
    assert frames[0]["prompt"] == "a tiny knight, right side view, standing idle, relaxed, breathing out"
    assert frames[7]["prompt"].startswith("a tiny knight, left side view, walking, ")

    images = [np.asarray(comfy.fetch(item), dtype=np.float32) for item in outputs["8"]["images"]]
    assert len(images) == 10 and all(image.shape == (64, 64, 3) for image in images)
    assert all(image.std() > 5.0 for image in images)
    assert np.abs(images[0] - images[1]).mean() > 1.0, "each frame got its own prompt and seed"

    player = outputs["9"]["dgx_sheet_player"][0]
    tags = [(tag["name"], tag["from"], tag["to"]) for tag in player["tags"]]
    assert tags == [("idle_E", 0, 1), ("idle_W", 2, 3), ("walk_E", 4, 6), ("walk_W", 7, 9)]
    assert [tag["direction"] for tag in player["tags"]] == ["forward"] * 4
    assert [frame["duration"] for frame in player["frames"]] == [150] * 4 + [100] * 6
    sheet = comfy.fetch(outputs["10"]["images"][0])
    assert sheet.size == (3 * 64, 4 * 64)

    skeletons = [np.asarray(comfy.fetch(item).convert("RGB")) for item in outputs["11"]["images"]]
    assert len(skeletons) == 10
    assert all(image.max() == 255 for image in skeletons), "joints are drawn in full colour"


@pytest.fixture(scope="module")
def tiny_controlnet(comfy, host, tiny_checkpoint_path) -> str:
    """A random-weight ControlNet for the tiny checkpoint, built once beside it and put in the server's models."""
    import shutil
    import subprocess

    import tiny_controlnet as builder

    path = tiny_checkpoint_path.parent / f"dgx_pixels_tiny_controlnet_v{builder.FORMAT_VERSION}.safetensors"
    if not path.exists():
        subprocess.run([host.python, builder.__file__, "--comfyui", host.comfyui, "--out", str(path)], check=True)
    folder = comfy.base_dir / "models" / "controlnet"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / path.name).exists():
        shutil.copy2(path, folder / path.name)
    return path.name


def test_each_frame_is_drawn_with_its_own_skeleton_through_an_openpose_controlnet(comfy, tiny_controlnet):
    """The per-frame wiring: prompts -> CLIP Text Encode -> Apply ControlNet (with skeleton_list) -> KSampler ->
    VAE Decode, once per frame; then Rebatch Images turns the list back into one batch. The prompts and seeds are
    all the same here, so any difference between frames comes from their skeletons."""
    def graph(strength: float) -> dict:
        return {
            "1": pose_batch(animations="walk:2", template="{character}", seed_policy="same seed for every frame"),
            "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": TINY_CHECKPOINT_NAME}},
            "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": ["1", 0]}},
            "4": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "blurry"}},
            "5": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": tiny_controlnet}},
            "6": {"class_type": "ControlNetApplyAdvanced", "inputs": {
                "positive": ["3", 0], "negative": ["4", 0], "control_net": ["5", 0], "image": ["1", 3],
                "strength": strength, "start_percent": 0.0, "end_percent": 1.0}},
            "7": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
            "8": {"class_type": "KSampler", "inputs": {
                "model": ["2", 0], "positive": ["6", 0], "negative": ["6", 1], "latent_image": ["7", 0],
                "seed": ["1", 5], "steps": 2, "cfg": 5.0, "sampler_name": "euler", "scheduler": "normal",
                "denoise": 1.0}},
            "9": {"class_type": "VAEDecode", "inputs": {"samples": ["8", 0], "vae": ["2", 2]}},
            "10": {"class_type": "RebatchImages", "inputs": {"images": ["9", 0], "batch_size": 64}},
            "11": {"class_type": "SaveImage", "inputs": {"images": ["10", 0], "filename_prefix": f"cn{strength}"}},
        }

    def frames(strength: float) -> list[np.ndarray]:
        saved = comfy.run(graph(strength), timeout=600)["11"]["images"]
        return [np.asarray(comfy.fetch(item), dtype=np.float32) for item in saved]

    guided, unguided = frames(1.0), frames(0.0)
    assert len(guided) == len(unguided) == 4
    assert all(np.abs(frame - unguided[0]).max() == 0 for frame in unguided), "no skeleton: identical frames"
    differences = [np.abs(guided[0] - frame).mean() for frame in guided[1:]]
    assert min(differences) > 1.0, "each frame follows its own skeleton"
    assert "missing controlnet keys" not in comfy.log()


def test_clip_input_gives_per_frame_conditioning(comfy):
    prompt = {
        "1": pose_batch(animations="hurt:2", directions="right", seed_policy="same seed for every frame"),
        "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": TINY_CHECKPOINT_NAME}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "KSampler", "inputs": {
            "model": ["2", 0], "positive": ["1", 1], "negative": ["1", 1], "latent_image": ["5", 0],
            "seed": ["1", 5], "steps": 1, "cfg": 1.0, "sampler_name": "euler", "scheduler": "normal",
            "denoise": 1.0}},
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["2", 2]}},
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "pose_cond"}},
    }
    prompt["1"]["inputs"]["clip"] = ["2", 1]
    outputs = comfy.run(prompt, timeout=300)
    assert len(outputs["8"]["images"]) == 2
    assert {f["seed"] for f in outputs["1"]["dgx_pose_frames"]} == {11}


def test_conditioning_without_clip_blocks_with_a_clear_message(comfy):
    prompt = {
        "1": pose_batch(animations="idle:1", directions="right"),
        "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": TINY_CHECKPOINT_NAME}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "KSampler", "inputs": {
            "model": ["2", 0], "positive": ["1", 1], "negative": ["1", 1], "latent_image": ["5", 0],
            "seed": 1, "steps": 1, "cfg": 1.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["2", 2]}},
        "8": {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}},
    }
    error = comfy.execution_error(prompt)
    assert "connect a CLIP" in error["exception_message"]


def test_turnaround_guide_slices_back_into_tagged_frames(comfy):
    prompt = {
        "1": {"class_type": "DGXPixelsTurnaroundSheetGuide", "inputs": {
            "character": "a tiny knight", "animations": "idle:1", "directions": "4", "frames_per_animation": 0,
            "cell_width": 96, "cell_height": 128, "columns": 0, "template": "{character}, {count} poses: {poses}",
            "phrases": "", "custom_animations": ""}},
        "2": {"class_type": "DGXPixelsSliceSpriteSheet", "inputs": {
            "image": ["1", 2], "separate_by": "grid", "grid_cell_width": ["1", 5], "grid_cell_height": ["1", 6],
            "grid_columns": ["1", 7], "grid_rows": ["1", 8], "grid_padding": 0, "grid_offset": 0, "min_size": 4,
            "join_gap": 1, "key_colour": "", "tolerance": 0.12, "cell_width": 0, "cell_height": 0,
            "align": "pivot", "tags": ["1", 4]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "turnaround"}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["1", 2], "filename_prefix": "guide"}},
    }
    outputs = comfy.run(prompt)
    guide = np.asarray(comfy.fetch(outputs["4"]["images"][0]).convert("RGB"))
    assert guide.shape == (128, 4 * 96, 3)
    cells = [np.asarray(comfy.fetch(item).convert("RGB")) for item in outputs["3"]["images"]]
    assert len(cells) == 4 and all(cell.shape == (128, 96, 3) for cell in cells)
    for number, cell in enumerate(cells):
        assert (cell == guide[:, number * 96:(number + 1) * 96]).all()
    # The S cell shows the nose (red joint); the N cell does not: it is seen from behind.
    nose = np.array(openpose.COLOURS[0])
    assert (cells[0] == nose).all(-1).any() and not (cells[2] == nose).all(-1).any()
    player = outputs["2"]["dgx_sheet_player"][0]
    assert [tag["name"] for tag in player["tags"]] == ["idle_S", "idle_E", "idle_N", "idle_W"]


def test_bad_animation_name_is_reported_by_the_node(comfy):
    prompt = {"1": pose_batch(animations="idle, wlak"),
              "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 2]}}}
    error = comfy.execution_error(prompt)
    assert "Character Pose Batch" in error["exception_message"]
    assert "did you mean walk" in error["exception_message"]
