"""The grid nodes inside ComfyUI: LoadImage fixtures -> Detect Pixel Grid / Pixel-Perfect Downscale -> outputs."""
from __future__ import annotations

import numpy as np
import torch

from dgx_pixels.image import io as imageio
from pixel_art import blow_up, drifting_cuts, true_sprite, uniform_cuts



def upload_fake(comfy, tmp_path, name: str, seed: int, cuts_x, cuts_y, size=(16, 12)):
    rgb, mask = true_sprite(*size, seed=seed)
    image, big_mask = blow_up(rgb, mask, cuts_x, cuts_y, noise=0.01, seed=seed)
    imageio.save_png(tmp_path / name, image[0], big_mask[0])
    return comfy.upload_image(tmp_path / name), rgb, mask


def downscale_prompt(image_name: str, **options) -> dict:
    inputs = {"image": ["1", 0], "mask": ["1", 1], "reducer": "majority", "alpha_threshold": 0.5,
              "target_size": "", "min_cell": 4.0, "max_cell": 128.0, "lock": True, **options}
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": image_name}},
        "2": {"class_type": "DGXPixelsPixelPerfectDownscale", "inputs": inputs},
        "3": {"class_type": "JoinImageWithAlpha", "inputs": {"image": ["2", 0], "alpha": ["2", 1]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "native"}},
    }


def test_downscale_recovers_a_drifting_sprite_with_alpha(comfy, tmp_path):
    name, rgb, mask = upload_fake(comfy, tmp_path, "drift.png", 3, drifting_cuts(16, 15.0, 0.1, seed=1),
                                  drifting_cuts(12, 15.0, 0.1, seed=2))
    outputs = comfy.run(downscale_prompt(name))
    native = np.asarray(comfy.fetch(outputs["4"]["images"][0]))
    assert native.shape == (12, 16, 4)
    assert np.array_equal(native[..., 3] == 0, mask == 1)
    opaque = mask == 0
    assert np.abs(native[..., :3][opaque].astype(int) - rgb[opaque]).max() <= 8
    preview = outputs["2"]["dgx_pixel_preview"][0]
    assert preview["grid"]["native"] == [16, 12] and preview["grid"]["confidence"] > 0.5
    assert comfy.fetch(preview["after"]).size == (16, 12)


def test_detect_grid_feeds_downscale_and_reports_confidence(comfy, tmp_path):
    name, rgb, _ = upload_fake(comfy, tmp_path, "even.png", 4, uniform_cuts(16, 10.0), uniform_cuts(12, 10.0))
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "DGXPixelsDetectPixelGrid", "inputs": {
            "image": ["1", 0], "mask": ["1", 1], "target_size": "", "min_cell": 4.0, "max_cell": 128.0,
            "lock": True}},
        "3": {"class_type": "DGXPixelsPixelPerfectDownscale", "inputs": {
            "image": ["1", 0], "mask": ["1", 1], "grid": ["2", 0], "reducer": "median", "alpha_threshold": 0.5,
            "target_size": "", "min_cell": 4.0, "max_cell": 128.0, "lock": True}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "native"}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["2", 1], "filename_prefix": "overlay"}},
    }
    outputs = comfy.run(prompt)
    assert comfy.fetch(outputs["4"]["images"][0]).size == (16, 12)
    assert comfy.fetch(outputs["5"]["images"][0]).size == (160, 120)
    grid = outputs["2"]["dgx_pixel_preview"][0]["grid"]
    assert grid["cuts_x"][:3] == [0, 10, 20] and grid["warning"] == ""


def test_no_grid_passes_through_with_a_warning(comfy, tmp_path):
    noise = torch.rand(1, 64, 80, 3, generator=torch.Generator().manual_seed(1))
    imageio.save_png(tmp_path / "noise.png", noise[0])
    outputs = comfy.run(downscale_prompt(comfy.upload_image(tmp_path / "noise.png")))
    assert comfy.fetch(outputs["4"]["images"][0]).size == (80, 64)
    grid = outputs["2"]["dgx_pixel_preview"][0]["grid"]
    assert grid["confidence"] == 0 and "no pixel grid found" in grid["warning"]


def test_bad_target_size_names_the_node(comfy, tmp_path):
    name, _, _ = upload_fake(comfy, tmp_path, "small.png", 5, uniform_cuts(16, 6.0), uniform_cuts(12, 6.0))
    error = comfy.execution_error(downscale_prompt(name, target_size="sixty-four"))
    assert error["node_type"] == "DGXPixelsPixelPerfectDownscale"
    assert "Pixel-Perfect Downscale: target size 'sixty-four' is not a size like 64x64" in error["exception_message"]
