"""The PNG a game loads: indexed when the image has at most 256 colours (palette + tRNS), oxipng-optimised, and
decoding to exactly the RGBA pixels it was given, whatever the colours and alpha."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.image import png
from dgx_pixels.image.png import PALETTE_LIMIT, png_bytes


def _decode(data: bytes) -> tuple[str, np.ndarray]:
    with Image.open(io.BytesIO(data)) as image:
        return image.mode, np.asarray(image.convert("RGBA"))


def _pixels(colours: int, seed: int, size=(37, 23)) -> np.ndarray:
    """An image of ``colours`` distinct RGBA values, partial alpha and fully transparent pixels included."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, size=(colours, 4), dtype=np.uint8)
    palette[0] = (12, 34, 56, 0)  # transparent, with a colour: must come back as it was
    palette[1 % colours] = (255, 255, 255, 128)
    palette = np.unique(palette, axis=0)
    indices = rng.integers(0, len(palette), size=size[::-1])
    indices.flat[:len(palette)] = np.arange(len(palette))  # every colour is used
    return palette[indices]


@pytest.mark.parametrize("colours", [1, 2, 16, 255, PALETTE_LIMIT])
@pytest.mark.parametrize("optimise", [True, False])
def test_at_most_256_colours_is_indexed_and_exact(colours, optimise):
    rgba = _pixels(colours, seed=colours)
    mode, decoded = _decode(png_bytes(rgba, optimise=optimise))
    assert mode in ("P", "L", "LA", "1")  # oxipng may store a grey palette as greyscale
    assert np.array_equal(decoded, rgba)


@pytest.mark.parametrize("palette", [True, False])
def test_more_colours_stay_rgba_and_exact(palette):
    rgba = _pixels(PALETTE_LIMIT + 200, seed=1, size=(64, 64))
    assert len(np.unique(rgba.reshape(-1, 4), axis=0)) > PALETTE_LIMIT
    mode, decoded = _decode(png_bytes(rgba, palette=palette))
    assert mode == "RGBA" and np.array_equal(decoded, rgba)


def test_palette_off_keeps_rgba_and_oxipng_only_shrinks():
    rgba = _pixels(12, seed=3, size=(96, 64))
    plain = png_bytes(rgba, palette=False, optimise=False)
    indexed_only = png_bytes(rgba, optimise=False)
    both = png_bytes(rgba)
    assert _decode(plain)[0] == "RGBA" and _decode(indexed_only)[0] == "P"
    assert len(both) <= len(indexed_only) < len(plain)
    for data in (plain, indexed_only, both):
        assert np.array_equal(_decode(data)[1], rgba)
        assert b"tEXt" not in data and b"zTXt" not in data and b"iTXt" not in data


def test_without_oxipng_the_png_is_still_written(monkeypatch):
    rgba = _pixels(5, seed=4)
    monkeypatch.setattr(png, "oxipng", None)  # a platform without its wheel
    assert np.array_equal(_decode(png_bytes(rgba))[1], rgba)
