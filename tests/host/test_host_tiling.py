"""Seamless Tiling inside ComfyUI with the tiny checkpoint: tiles wrap, and the original model is unchanged."""
from __future__ import annotations

import numpy as np

from tiny_checkpoint import CHECKPOINT_NAME as TINY_CHECKPOINT_NAME



def generation(model, vae, prefix: str, start: int) -> dict:
    n = {str(start + i): None for i in range(5)}
    ids = list(n)
    return {
        ids[0]: {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "stone floor tile"}},
        ids[1]: {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        ids[2]: {"class_type": "KSampler", "inputs": {
            "model": model, "positive": [ids[0], 0], "negative": [ids[0], 0], "latent_image": [ids[1], 0],
            "seed": 11, "steps": 3, "cfg": 1.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
        ids[3]: {"class_type": "VAEDecode", "inputs": {"samples": [ids[2], 0], "vae": vae}},
        ids[4]: {"class_type": "SaveImage", "inputs": {"images": [ids[3], 0], "filename_prefix": prefix}},
    }


def seam_ratio(image: np.ndarray) -> float:
    """Difference across the wrap-around edge over the mean difference between neighbouring columns/rows."""
    seam = (np.abs(image[:, 0] - image[:, -1]).mean() + np.abs(image[0] - image[-1]).mean()) / 2
    inner = (np.abs(np.diff(image, axis=1)).mean() + np.abs(np.diff(image, axis=0)).mean()) / 2
    return float(seam / inner)


def test_tiles_wrap_and_the_plain_branch_is_unchanged(comfy):
    base = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": TINY_CHECKPOINT_NAME}},
        "2": {"class_type": "DGXPixelsSeamlessTiling", "inputs": {"model": ["1", 0], "vae": ["1", 2],
                                                                    "axes": "both"}},
    }
    # ComfyUI keeps only the last prompt's outputs, so the third prompt recomputes the plain branch after the
    # wrapped model has been loaded and unloaded.
    plain_first = comfy.run({**base, **generation(["1", 0], ["1", 2], "plain_first", 10)})
    tiled_run = comfy.run({**base, **generation(["2", 0], ["2", 1], "tiled", 20)})
    plain_again = comfy.run({**base, **generation(["1", 0], ["1", 2], "plain_again", 10)})
    assert "12" not in comfy.cached_nodes(), "the plain sampler must run again after the wrapped one"

    def load(outputs, node):
        return np.asarray(comfy.fetch(outputs[node]["images"][0]).convert("RGB"), dtype=np.float32)

    plain, tiled, plain_after = load(plain_first, "14"), load(tiled_run, "24"), load(plain_again, "14")
    assert np.array_equal(plain, plain_after), "the seamless branch changed the original model"
    assert seam_ratio(tiled) < 1.5
    assert seam_ratio(plain) > 1.5 * seam_ratio(tiled)
