"""Consistent characters on tiny models with the real SDXL layout: ComfyUI loads them as SDXL; the shipped character
workflow draws strips (ControlNet on, frames cut by layout with their tags) and keeps an anchor beside them, from the
workflow file and from `dgx-pixels generate character`; re-rolls queue only the failing strips and the manifest
lists every try."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file

from characters import knight
from comfy_server import ComfyServer
from dgx_pixels.character.reroll import TRY_PROJECT
from dgx_pixels.character.strips import plan_strips
from dgx_pixels.image.io import load_image
from dgx_pixels.image.ops import join_alpha
from paths import REPO
from tiny_sdxl import CHECKPOINT_NAME, CONTROLNET_NAME, LORA_NAME
from workflow_runs import check_export, library_prompt

MODELS = {"checkpoint": CHECKPOINT_NAME, "lora": LORA_NAME, "controlnet": CONTROLNET_NAME}
# Cells of 32x64 (a 128x128 strip of 4x2 cells), drawn in two steps, reduced to 16x32 native pixels.
TINY = {**MODELS, "width": 128, "height": 128, "steps": 2, "size": "16x32", "colours": 8, "seed": 3}
WORKFLOW = "character_sprite_sheet"


@pytest.fixture(scope="module")
def sdxl(host, tiny_sdxl_models, tmp_path_factory) -> ComfyServer:
    server = ComfyServer(host, tmp_path_factory.mktemp("sdxl-base"),
                         models={folder: [path] for folder, path in tiny_sdxl_models.items()})
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hero(tmp_path_factory) -> str:
    """An anchor as a user draws it: the knight enlarged 4x on a white picture (no transparency)."""
    sprite = (knight().numpy() * 255).astype(np.uint8)
    picture = Image.new("RGBA", (140, 200), (255, 255, 255, 255))
    picture.alpha_composite(Image.fromarray(sprite, "RGBA").resize((112, 176), Image.NEAREST), (14, 12))
    path = tmp_path_factory.mktemp("anchor") / "hero.png"
    picture.convert("RGB").save(path)
    return str(path)


PROBE = """
import json, sys
from comfy.cli_args import args
args.cpu = True
import comfy.controlnet, comfy.sd, comfy.utils
checkpoint, controlnet, lora = sys.argv[1:4]
model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoint)
net = comfy.controlnet.load_controlnet(controlnet)
patched_model, patched_clip = comfy.sd.load_lora_for_models(model, clip, comfy.utils.load_torch_file(lora), 1, 1)
encoders = {name: type(getattr(clip.cond_stage_model, name)).__name__ for name in ("clip_l", "clip_g")}
cross_attention = net.control_model.input_blocks[4][1].transformer_blocks[0].attn2
print(json.dumps({"model": type(model.model).__name__, "config": type(model.model.model_config).__name__,
                  "model_type": model.model.model_type.name, "adm": model.model.adm_channels,
                  "latent": type(model.model.latent_format).__name__, "encoders": encoders,
                  "clip": type(clip.cond_stage_model).__name__,
                  "control_adm": net.control_model.label_emb[0][0].weight.shape[1],
                  "control_context": cross_attention.to_k.weight.shape[1],
                  "lora_unet": len(patched_model.patches),
                  "lora_clip": sorted({key.split(".")[0] for key in patched_clip.patcher.patches})}))
"""


def test_the_tiny_models_load_as_sdxl(host, tiny_sdxl_models):
    """ComfyUI's own loaders: the checkpoint is detected as SDXL (both text encoders, ADM size conditioning, the
    SDXL latent format), the ControlNet takes SDXL's conditioning, the LoRA patches the UNet and both encoders."""
    assert sum(path.stat().st_size for path in tiny_sdxl_models.values()) < 10_000_000
    paths = [str(tiny_sdxl_models[folder]) for folder in ("checkpoints", "controlnet", "loras")]
    result = subprocess.run([host.python, "-c", PROBE, *paths], cwd=host.comfyui, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"model": "SDXL", "config": "SDXL", "model_type": "EPS", "adm": 2816, "latent": "SDXL",
                     "encoders": {"clip_l": "SDClipModel", "clip_g": "SDXLClipG"}, "clip": "SDXLClipModel",
                     "control_adm": 2816, "control_context": 2048, "lora_unet": 32, "lora_clip": ["clip_g", "clip_l"]}
    assert "clip missing" not in result.stderr and "lora key not loaded" not in result.stderr


def test_strip_mode_end_to_end_from_the_shipped_workflow(sdxl):
    outputs = sdxl.run(library_prompt(sdxl, WORKFLOW, {**TINY, "animations": "idle:2, walk:3",
                                                       "directions": "right"})[1], timeout=600)
    workflow = library_prompt(sdxl, WORKFLOW, TINY)[0]
    strips = outputs[workflow.node_id("Character Strips")]["dgx_strips"]
    assert [(s["strip"], s["frames"], s["grid"], s["canvas"]) for s in strips] == [
        ("idle_E", 2, [2, 1], [64, 64]), ("walk_E", 3, [3, 1], [96, 64])]
    assert strips[1]["prompt"].startswith("a knight in silver armour with a red cape, right side view, walking, "
                                          "sprite sheet of 3 animation frames")
    log = sdxl.log()
    assert "Requested to load SDXL" in log and "Requested to load ControlNet" in log, "SDXL, ControlNet on"
    assert "missing controlnet keys" not in log and "clip missing" not in log
    player = outputs[workflow.node_id("Cut Strip Frames")]["dgx_sheet_player"][0]
    assert [(t["name"], t["from"], t["to"]) for t in player["tags"]] == [("idle_E", 0, 1), ("walk_E", 2, 4)]
    assert {(f["w"], f["h"]) for f in player["frames"]} == {(32, 64)}, "frames cut by the cell layout"
    grid = outputs[workflow.node_id("Pixel Grid")]["dgx_pixel_preview"][0]["grid"]
    assert grid["native"] == [16, 32] and grid["input_size"] == [32, 64]
    assets, _ = check_export(sdxl, outputs, "sprites", "hero", None, 8)
    atlas = json.loads((assets / "hero.json").read_text())
    assert [(t["name"], t["from"], t["to"]) for t in atlas["meta"]["frameTags"]] == [("idle_E", 0, 1),
                                                                                     ("walk_E", 2, 4)]
    # The pose batch's hands reach the sheet through the pixel grid: a key per frame, inside the native cell.
    hand = next(s for s in atlas["meta"]["slices"] if s["name"] == "socket_hand_r")
    assert [key["frame"] for key in hand["keys"]] == [0, 1, 2, 3, 4]
    assert all(0 <= key["bounds"]["x"] < 16 and 0 <= key["bounds"]["y"] < 32 for key in hand["keys"])
    check = outputs[workflow.node_id("Consistency Check")]
    assert check["text"][0].startswith("compared with the first frame (idle_E 1)")
    scores = next(item for item in check["dgx_consistency"] if item["kind"] == "scores")
    report = json.loads((sdxl.base_dir / "output" / scores["subfolder"] / scores["filename"]).read_text())
    assert [f["label"] for f in report["frames"]] == ["idle_E 1", "idle_E 2", "walk_E 1", "walk_E 2", "walk_E 3"]
    assert report["frames"][0]["silhouette"] == 1.0 and set(report["strips"]) == {"idle_E", "walk_E"}


def test_the_per_frame_layout_still_draws_each_frame_alone(sdxl):
    workflow, prompt = library_prompt(sdxl, WORKFLOW, {**TINY, "layout": "per-frame", "width": 64, "height": 64,
                                                       "size": "16x16", "animations": "idle:2", "directions": "right"})
    outputs = sdxl.run(prompt, timeout=600)
    strips = outputs[workflow.node_id("Character Strips")]["dgx_strips"]
    assert [(s["strip"], s["canvas"]) for s in strips] == [("idle_E-1", [64, 64]), ("idle_E-2", [64, 64])]
    assert strips[0]["prompt"] != strips[1]["prompt"], "each frame has its own key pose"
    player = outputs[workflow.node_id("Cut Strip Frames")]["dgx_sheet_player"][0]
    assert [(t["name"], t["from"], t["to"]) for t in player["tags"]] == [("idle_E", 0, 1)]


def test_bad_input_is_reported_by_the_node(sdxl):
    strips = {"class_type": "DGXPixelsCharacterStrips", "inputs": {
        "character": "a knight", "animations": "idle:2", "directions": "right", "frames_per_animation": 0,
        "width": 128, "height": 128, "columns": 4, "rows": 2, "layout": "strips", "seed": 1, "strip_seeds": "",
        "strips": "idle_W", "anchor_image": "none", "template": "{character}, {pose}", "phrases": "",
        "custom_animations": ""}}
    error = sdxl.execution_error({"1": strips, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 2]}}})
    assert error["exception_message"].startswith("Character Strips: strips: no strip called 'idle_W'")
    info = sdxl.object_info("DGXPixelsCharacterStrips")["DGXPixelsCharacterStrips"]
    assert info["output_is_list"] == [True] * 7 + [False, False]
    assert info["input"]["required"]["anchor_image"][1]["image_upload"] is True


def test_anchor_mode_keeps_the_anchor_while_the_strip_is_drawn(sdxl, hero):
    workflow, prompt = library_prompt(sdxl, WORKFLOW, {**TINY, "animations": "walk:3", "directions": "right",
                                                       "steps": 3}, {"anchor": hero})
    keep, sampler, canvas = (workflow.node_id(title) for title in ("Keep Anchor", "Sampler", "Canvas"))
    prompt["900"] = {"class_type": "SaveLatent", "inputs": {"samples": [keep, 2], "filename_prefix": "anchor/in"}}
    prompt["901"] = {"class_type": "SaveLatent", "inputs": {"samples": [sampler, 0], "filename_prefix": "anchor/out"}}
    prompt["902"] = {"class_type": "SaveImage", "inputs": {"images": [canvas, 0], "filename_prefix": "anchor/canvas"}}
    outputs = sdxl.run(prompt, timeout=600)

    # The canvas holds the anchor, fitted into the first cell column, as it is.
    image, mask = load_image(hero)
    plan = plan_strips("a knight", "walk:3", "right", 128, 128, anchor=join_alpha(image, mask)[0])
    (strip,) = plan.strips
    expected = (plan.anchor_column(strip)[0].numpy() * 255).clip(0, 255).astype(np.uint8)  # as SaveImage writes
    drawn = np.asarray(sdxl.fetch(outputs["902"]["images"][0]).convert("RGB"))
    assert drawn.shape == (64, 32 + 96, 3)
    assert np.array_equal(drawn[:, :32], expected)
    assert "the same character as the reference on the left" in outputs[workflow.node_id("Character Strips")][
        "dgx_strips"][0]["prompt"]

    # Sampling keeps the anchor's latent (the first 32 px = 4 latent columns) and draws the strip.
    latents = {name: load_file(next((sdxl.base_dir / "output" / "anchor").glob(f"{name}_*.latent")))["latent_tensor"]
               for name in ("in", "out")}
    assert latents["in"].shape == (1, 4, 8, 16)
    assert (latents["out"][..., :4] - latents["in"][..., :4]).abs().max() < 1e-3
    assert (latents["out"][..., 4:] - latents["in"][..., 4:]).abs().max() > 1.0

    player = outputs[workflow.node_id("Cut Strip Frames")]["dgx_sheet_player"][0]
    assert len(player["frames"]) == 3, "the anchor column is not a frame"
    check = outputs[workflow.node_id("Consistency Check")]
    assert check["text"][0].startswith("compared with the anchor\n")


def generate(server, out, *options: str, timeout: int = 900) -> subprocess.CompletedProcess:
    sets = [item for key in ("width", "height", "checkpoint", "lora") for item in ("--set", f"{key}={TINY[key]}")]
    return subprocess.run([sys.executable, "-m", "dgx_pixels", "generate", "character", "a knight",
                           "--directions", "right", "--size", "16x32", "--steps", "2", "--colours", "8", "--seed", "3",
                           "--controlnet", CONTROLNET_NAME, "--server", server.url, "-o", str(out), "-q", *sets,
                           *options], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_generate_character_with_an_anchor(sdxl, hero, tmp_path):
    result = generate(sdxl, tmp_path / "run", "--animations", "idle:2", "--anchor", hero, "--name", "anchored")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    (job,) = manifest["jobs"]
    assert job["state"] == "done" and job["params"]["anchor"] == hero
    scores = next(f for f in job["files"] if f["node"] == "Consistency Check" and f["path"].endswith(".json"))
    report = json.loads((tmp_path / "run" / scores["path"]).read_text())
    assert report["anchor"] == "the anchor" and [f["label"] for f in report["frames"]] == ["idle_E 1", "idle_E 2"]
    sheet = sdxl.base_dir / "output" / "bevy_game" / "assets" / "sprites" / "anchored" / "anchored.json"
    assert [t["name"] for t in json.loads(sheet.read_text())["meta"]["frameTags"]] == ["idle_E"]


def test_reroll_queues_only_the_failing_strips_and_lists_every_try(sdxl, tmp_path):
    """A strict threshold makes walk_E fail; idle_E is one frame, the reference itself, so it passes. Only walk_E
    is drawn again; then the whole character once more with each strip's best seed."""
    result = generate(sdxl, tmp_path / "run", "--animations", "idle:1, walk:2", "--reroll", "1",
                      "--set", "min_silhouette=0.99", "--name", "rerolled")
    assert result.returncode == 1, result.stderr  # walk_E cannot pass so strict a check
    assert "walk_E: still failing (try 1 of 2" in result.stdout and "idle_E: passed (try 1 of 1" in result.stdout
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    jobs = {job["name"]: job for job in manifest["jobs"]}
    assert list(jobs) == ["try1", "walk_E-try2", "final"]
    assert all(job["state"] == "done" for job in jobs.values())
    retry = jobs["walk_E-try2"]["params"]
    assert retry["strips"] == "walk_E" and retry["project"] == TRY_PROJECT
    assert retry["strip_seeds"].startswith("walk_E=") and retry["strip_seeds"] != "walk_E=3"
    assert retry["reference"].endswith(".png"), "checked against the first try's reference frame"
    assert jobs["final"]["params"]["strips"] == "" and jobs["final"]["params"]["project"] == "bevy_game"

    def scores(job: str) -> dict:
        # each job also downloads its sheet's atlas (sheet.json); files are listed in the order they arrived
        path = next(f["path"] for f in jobs[job]["files"] if f["path"].endswith("consistency-check.json"))
        return json.loads((tmp_path / "run" / path).read_text())

    assert scores("try1")["failing_strips"] == ["walk_E"]
    assert list(scores("walk_E-try2")["strips"]) == ["walk_E"], "only the failing strip was drawn again"
    assert set(scores("final")["strips"]) == {"idle_E", "walk_E"}
    summary = json.loads((tmp_path / "run" / "consistency.json").read_text())
    assert [t["job"] for t in summary["strips"]["walk_E"]["tries"]] == ["try1", "walk_E-try2"]
    assert [t["job"] for t in summary["strips"]["idle_E"]["tries"]] == ["try1"]
    assert summary["final"]["passed"] is False
