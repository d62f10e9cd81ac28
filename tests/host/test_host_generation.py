"""The foundation end to end: our pack loads in a real ComfyUI, and the tiny checkpoint generates offline."""
from __future__ import annotations

import numpy as np
import pytest

from tiny_checkpoint import CHECKPOINT_NAME as TINY_CHECKPOINT_NAME



def test_pack_nodes_are_listed_without_import_failures(comfy):
    info = comfy.object_info()
    ours = sorted(name for name in info if name.startswith("DGXPixels"))
    assert "DGXPixelsPixelUpscale" in ours
    assert info["DGXPixelsPixelUpscale"]["category"] == "DGX-Pixels"
    assert comfy.pack_import_failures() == ""


def test_tiny_checkpoint_generates_a_real_image(comfy):
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": TINY_CHECKPOINT_NAME}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "pixel art knight, sprite"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "blurry"}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "5": {"class_type": "KSampler", "inputs": {
            "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0],
            "seed": 7, "steps": 4, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "DGXPixelsPixelUpscale", "inputs": {"image": ["6", 0], "scale": 2}},
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "tiny"}},
    }
    outputs = comfy.run(prompt)
    image = np.asarray(comfy.fetch(outputs["8"]["images"][0]).convert("RGB"), dtype=np.float32)
    assert image.shape == (128, 128, 3)
    assert np.isfinite(image).all()
    assert image.std() > 5.0, "the generated image is flat (NaN weights decode to black)"
    # Pixel Upscale made crisp 2x2 blocks.
    assert (image[0::2, 0::2] == image[1::2, 1::2]).all()


def test_rejected_prompt_reports_node_errors(comfy):
    from comfy_server import ComfyError

    prompt = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
        "2": {"class_type": "DGXPixelsPixelUpscale", "inputs": {"image": ["1", 0], "scale": 999}},
        "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
    }
    with pytest.raises(ComfyError, match="value_bigger_than_max"):
        comfy.queue(prompt)


def test_pack_loads_as_a_registry_install(host, tmp_path):
    """A registry / `comfy node install` copy: the git-tracked files in a plain folder with another name."""
    from comfy_server import ComfyServer, copy_tracked_files

    copy = copy_tracked_files(tmp_path / "pack" / "dgx_pixels_registry")
    server = ComfyServer(host, tmp_path / "base", pack_dir=copy)
    try:
        server.start()
        assert "DGXPixelsPixelUpscale" in server.object_info()
        assert "/extensions/dgx_pixels_registry/dgx_pixels.js" in server.get_json("/extensions")
    finally:
        server.stop()


def test_tiny_lora_changes_the_image(comfy):
    from tiny_checkpoint import LORA_NAME as TINY_LORA_NAME

    def graph(strength: float) -> dict:
        return {
            "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": TINY_CHECKPOINT_NAME}},
            "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1],
                                                         "lora_name": TINY_LORA_NAME, "strength_model": strength,
                                                         "strength_clip": strength}},
            "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "pixel art"}},
            "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
            "5": {"class_type": "KSampler", "inputs": {
                "model": ["2", 0], "positive": ["3", 0], "negative": ["3", 0], "latent_image": ["4", 0],
                "seed": 5, "steps": 2, "cfg": 1.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
            "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
            "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": f"lora{strength}"}},
        }

    images = [np.asarray(comfy.fetch(comfy.run(graph(s))["7"]["images"][0]), dtype=np.float32) for s in (0.0, 1.0)]
    assert np.abs(images[0] - images[1]).mean() > 1.0
    assert "lora key not loaded" not in comfy.log()


def test_every_input_of_our_nodes_has_a_tooltip_and_our_category(comfy):
    missing = []
    for name, info in comfy.object_info().items():
        if not name.startswith("DGXPixels"):
            continue
        assert info["category"].startswith("DGX-Pixels"), name
        assert info["display_name"] and info["description"], name
        for section in ("required", "optional"):
            for input_name, spec in info["input"].get(section, {}).items():
                if len(spec) < 2 or not spec[1].get("tooltip"):
                    missing.append(f"{name}.{input_name}")
    assert missing == [], f"inputs without a tooltip: {missing}"
