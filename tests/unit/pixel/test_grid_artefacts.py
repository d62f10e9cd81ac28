"""Grid recovery under each artefact of diffusion output, one at a time, on made images with known truth."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from dgx_pixels.pixel import downscale as pixel_downscale
from pixel_art import blow_up, true_sprite, uniform_cuts

TOLERANCE = 24


def as_uint8(image: torch.Tensor) -> np.ndarray:
    return (image[0].numpy() * 255).round().astype(np.uint8)


def from_uint8(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array.astype(np.float32) / 255).unsqueeze(0)


def non_square(rgb, mask, rng):
    return blow_up(rgb, mask, uniform_cuts(rgb.shape[1], 9.0), uniform_cuts(rgb.shape[0], 10.2))[0]


def textured(rgb, mask, rng):
    image = blow_up(rgb, mask, uniform_cuts(rgb.shape[1], 11.0), uniform_cuts(rgb.shape[0], 11.0))[0]
    small = torch.rand(1, 1, image.shape[1] // 4, image.shape[2] // 4, generator=torch.Generator().manual_seed(1))
    texture = torch.nn.functional.interpolate(small, size=image.shape[1:3], mode="bicubic")[0, 0, ..., None]
    return (image + (texture - 0.5) * 0.08).clamp(0, 1)


def stray_details(rgb, mask, rng):
    cell = 12.0
    big = as_uint8(blow_up(rgb, mask, uniform_cuts(rgb.shape[1], cell), uniform_cuts(rgb.shape[0], cell))[0])
    for _ in range(max(1, rgb.shape[0] * rgb.shape[1] // 30)):  # about 3% of cells hold a detail a third of a cell
        y, x = int(rng.integers(rgb.shape[0])) * 12 + 2, int(rng.integers(rgb.shape[1])) * 12 + 2
        big[y:y + 4, x:x + 4] = rgb[int(rng.integers(rgb.shape[0])), int(rng.integers(rgb.shape[1]))]
    return from_uint8(big)


def jpeg(rgb, mask, rng):
    big = as_uint8(blow_up(rgb, mask, uniform_cuts(rgb.shape[1], 10.6), uniform_cuts(rgb.shape[0], 10.6),
                           noise=0.01)[0])
    buffer = io.BytesIO()
    Image.fromarray(big).save(buffer, "JPEG", quality=70)  # 8x8 blocks, cells of 10.6 px: blocks are no grid
    return from_uint8(np.asarray(Image.open(buffer).convert("RGB")))


def soft_boundaries(rgb, mask, rng):
    big = as_uint8(blow_up(rgb, mask, uniform_cuts(rgb.shape[1], 14.0), uniform_cuts(rgb.shape[0], 14.0))[0])
    return from_uint8(np.asarray(Image.fromarray(big).filter(ImageFilter.GaussianBlur(14.0 / 8))))


@pytest.mark.parametrize("artefact", [non_square, textured, stray_details, jpeg, soft_boundaries],
                         ids=lambda f: f.__name__)
def test_each_artefact_leaves_the_true_sprite(artefact):
    rgb, mask = true_sprite(20, 16, seed=3, alpha=False)
    image = artefact(rgb, mask, np.random.default_rng(0))
    native, _, grids = pixel_downscale.downscale(image)
    assert native.shape[1:3] == (16, 20)
    within = (np.abs(as_uint8(native).astype(int) - rgb.astype(int)).max(-1) <= TOLERANCE).mean()
    assert within >= 0.99
    assert grids.confidence > 0.5
