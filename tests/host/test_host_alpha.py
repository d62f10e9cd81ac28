"""Background to Alpha in ComfyUI: a sprite uploaded on a green backdrop comes back with clean alpha."""
from __future__ import annotations

import numpy as np
from PIL import Image



def test_backdrop_becomes_transparent_through_the_api(comfy, tmp_path):
    pixels = np.zeros((24, 24, 3), np.uint8)
    pixels[:] = (30, 200, 60)
    pixels[6:18, 8:16] = (200, 40, 40)
    Image.fromarray(pixels).resize((96, 96), Image.NEAREST).save(tmp_path / "knight_on_green.png")
    name = comfy.upload_image(tmp_path / "knight_on_green.png")
    outputs = comfy.run({
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "DGXPixelsBackgroundToAlpha", "inputs": {
            "image": ["1", 0], "mode": "flood from edges", "tolerance": 0.1, "key_colour": "", "lock_batch": True}},
        "3": {"class_type": "JoinImageWithAlpha", "inputs": {"image": ["2", 0], "alpha": ["2", 1]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "alpha"}},
    })
    rgba = np.asarray(comfy.fetch(outputs["4"]["images"][0]))
    assert rgba.shape == (96, 96, 4)
    expected = np.zeros((96, 96), np.uint8)
    expected[24:72, 32:64] = 255
    assert np.array_equal(rgba[..., 3], expected)


def test_bad_key_colour_is_reported_by_the_node(comfy):
    error = comfy.execution_error({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
        "2": {"class_type": "DGXPixelsBackgroundToAlpha", "inputs": {
            "image": ["1", 0], "mode": "flood from edges", "tolerance": 0.1, "key_colour": "grass",
            "lock_batch": True}},
        "3": {"class_type": "MaskPreview", "inputs": {"mask": ["2", 1]}},
    })
    assert error["node_type"] == "DGXPixelsBackgroundToAlpha"
    assert "Background to Alpha: key colour 'grass' is not a hex colour" in error["exception_message"]
