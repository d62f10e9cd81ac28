"""Unit tests for the shared tensor checks, nearest upscale and PNG I/O."""
from __future__ import annotations

import pytest
import torch

from dgx_pixels.image import io as imageio, ops as imageops
from dgx_pixels.common.errors import InputError


def test_nearest_upscale_makes_exact_blocks():
    image = torch.rand(2, 3, 5, 3)
    up = imageops.nearest_upscale(image, 4)
    assert up.shape == (2, 12, 20, 3)
    assert torch.equal(up[:, ::4, ::4], image)
    assert torch.equal(up[:, 3::4, 3::4], image)


def test_nearest_upscale_handles_masks_and_one_pixel_images():
    mask = torch.tensor([[[1.0]]])
    assert torch.equal(imageops.nearest_upscale(mask, 3), torch.ones(1, 3, 3))


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (torch.zeros(0, 8, 8, 3), "empty batch"),
        (torch.zeros(8, 8, 3), "shape"),
        (torch.zeros(1, 8, 8, 2), "channels"),
        (torch.full((1, 4, 4, 3), float("nan")), "NaN"),
    ],
)
def test_bad_images_are_refused_with_a_clear_message(image, message):
    with pytest.raises(InputError, match=message):
        imageops.check_image(image)


def test_too_small_images_name_their_size():
    with pytest.raises(InputError, match="1x1"):
        imageops.check_image(torch.zeros(1, 1, 1, 3), min_size=2)


def test_masks_are_matched_to_the_batch():
    image = torch.zeros(3, 4, 5, 3)
    assert imageops.check_mask(None, image).shape == (3, 4, 5)
    assert imageops.check_mask(torch.ones(4, 5), image).shape == (3, 4, 5)
    # LoadImage's placeholder for images without alpha: 64x64 zeros means fully opaque.
    assert not imageops.check_mask(torch.zeros(1, 64, 64), image).any()
    with pytest.raises(InputError, match="5x4"):
        imageops.check_mask(torch.ones(1, 64, 64), image)
    with pytest.raises(InputError, match="2 masks for 3 images"):
        imageops.check_mask(torch.zeros(2, 4, 5), image)


def test_alpha_split_and_join_round_trip():
    rgba = torch.rand(1, 3, 3, 4)
    rgb, mask = imageops.split_alpha(rgba)
    assert torch.allclose(imageops.join_alpha(rgb, mask), rgba)


def test_png_round_trip_keeps_colours_and_alpha(tmp_path):
    image = torch.randint(0, 256, (1, 6, 7, 3)).float() / 255
    mask = (torch.rand(1, 6, 7) > 0.5).float()
    path = imageio.save_png(tmp_path / "sprite.png", image[0], mask[0])
    loaded, loaded_mask = imageio.load_image(path)
    assert torch.equal(loaded_mask, mask)
    opaque = mask[0] == 0
    assert torch.allclose(loaded[0][opaque], image[0][opaque])
    assert [p.name for p in tmp_path.iterdir()] == ["sprite.png"]


def test_unreadable_files_name_the_path(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    with pytest.raises(InputError, match="bad.png"):
        imageio.load_image(bad)
    with pytest.raises(InputError, match="no such image file"):
        imageio.load_image(tmp_path / "missing.png")
