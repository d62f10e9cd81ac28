"""Background to alpha: border colour vote, edge flood fill, key colour, batch lock, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dgx_pixels.image import background
from dgx_pixels.common.errors import InputError

GREEN = torch.tensor([0.1, 0.8, 0.2])
RED = torch.tensor([0.9, 0.1, 0.1])


def sprite_on_backdrop(size: int = 16, noise: float = 0.0) -> torch.Tensor:
    """A red ring (with a backdrop-coloured hole in the middle) on green."""
    image = GREEN.expand(1, size, size, 3).clone()
    image[:, 4:12, 4:12] = RED
    image[:, 7:9, 7:9] = GREEN
    return (image + noise * torch.randn(image.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)


def test_flood_keeps_enclosed_backdrop_coloured_pixels():
    mask, keys = background.background_to_alpha(sprite_on_backdrop(noise=0.03))
    assert torch.allclose(keys[0], GREEN, atol=0.05)
    expected = torch.ones(16, 16)
    expected[4:12, 4:12] = 0
    assert torch.equal(mask[0], expected)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}


def test_key_colour_everywhere_opens_holes():
    mask, _ = background.background_to_alpha(sprite_on_backdrop(), mode="key colour everywhere",
                                             key_colour="#1acc33")
    assert mask[0, 7, 7] == 1 and mask[0, 5, 5] == 0


def test_snake_shaped_backdrop_is_filled_to_the_end():
    """A long winding corridor of backdrop needs many growth steps; it must still be filled completely."""
    image = RED.expand(1, 33, 33, 3).clone()
    image[:, 0, :] = GREEN
    image[:, 0:3, 1] = GREEN
    for k, row in enumerate(range(2, 31, 4)):
        image[:, row, 1:32] = GREEN
        image[:, row:row + 5, 31 if k % 2 == 0 else 1] = GREEN
    mask, _ = background.background_to_alpha(image, tolerance=0.05, key_colour="#1acc33")
    assert torch.equal(mask[0].bool(), (image[0] - GREEN).abs().sum(-1) < 1e-6)


def test_locked_batch_uses_one_key_and_keeps_an_input_mask():
    frames = torch.cat([sprite_on_backdrop(), sprite_on_backdrop()])
    frames[1, 0, :5] = RED  # a frame whose border is partly covered
    given = torch.zeros(2, 16, 16)
    given[:, 5, 5] = 1
    mask, keys = background.background_to_alpha(frames, given)
    assert torch.equal(keys[0], keys[1])
    assert mask[:, 5, 5].eq(1).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"key_colour": "green"}, "not a hex colour"),
    ({"tolerance": 2.0}, "tolerance"),
    ({"mode": "magic"}, "mode must be one of"),
])
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(InputError, match=message):
        background.background_to_alpha(sprite_on_backdrop(), **kwargs)


def test_one_pixel_images_are_refused():
    with pytest.raises(InputError, match="at least 2x2"):
        background.background_to_alpha(torch.zeros(1, 1, 1, 3))


def test_flood_reaches_exactly_the_backdrop_connected_to_the_border():
    from dgx_pixels.image.background import flood_from_edges

    generator = torch.Generator().manual_seed(11)
    candidate = torch.rand(3, 40, 50, generator=generator) > 0.45
    flooded = flood_from_edges(candidate)
    for frame, result in zip(candidate.numpy(), flooded.numpy()):
        reached = np.zeros_like(frame)
        queue = [(y, x) for y in range(frame.shape[0]) for x in range(frame.shape[1])
                 if frame[y, x] and (y in (0, frame.shape[0] - 1) or x in (0, frame.shape[1] - 1))]
        for y, x in queue:
            reached[y, x] = True
        while queue:  # a breadth-first flood over 4-neighbours, pixel by pixel
            y, x = queue.pop()
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < frame.shape[0] and 0 <= nx < frame.shape[1] and frame[ny, nx] and not reached[ny, nx]:
                    reached[ny, nx] = True
                    queue.append((ny, nx))
        assert (result == reached).all()
