"""Intended palette: the artist's colours back from noisy art at its own size, small details kept."""
from __future__ import annotations

import numpy as np
import torch

from dgx_pixels.palette.extract import extract_palette
from dgx_pixels.palette.intended import matching_builtin
from dgx_pixels.palette.palette import Palette

COLOURS = np.array([[20, 20, 30], [200, 60, 50], [60, 160, 70], [230, 220, 180], [90, 90, 200]])
EYE = np.array([255, 255, 40])


def noisy_art(seed: int = 0, noise: float = 3.0) -> tuple[torch.Tensor, np.ndarray]:
    """A 24x20 image of five colours in blobs plus a one-pixel eye of its own colour, with per-pixel noise
    (about what is left after each cell has voted)."""
    rng = np.random.default_rng(seed)
    index = np.repeat(np.repeat(rng.integers(0, len(COLOURS), (5, 6)), 4, axis=0), 4, axis=1)
    truth = COLOURS[index]
    truth[7, 9] = EYE
    noisy = np.clip(truth + rng.normal(0, noise, truth.shape), 0, 255)
    return torch.from_numpy(noisy / 255).float()[None], truth


def test_noise_merges_into_the_intended_colours_and_the_eye_stays():
    image, truth = noisy_art()
    assert len(np.unique((image[0].numpy() * 255).round().reshape(-1, 3), axis=0)) > 100
    palette = np.array(extract_palette(image, colours=0).colours)
    assert len(palette) == len(COLOURS) + 1
    nearest = np.abs(truth[:, :, None] - palette[None, None]).max(-1).min(-1)
    assert nearest.max() <= 8  # every intended colour is found within a few levels


def test_transparent_pixels_bring_no_colour():
    image, _ = noisy_art(seed=1)
    mask = torch.zeros(image.shape[:3])
    mask[:, :, :12] = 1
    image[:, :, :12] = torch.tensor([1.0, 0.0, 1.0])
    palette = extract_palette(image, mask, colours=0)
    assert (255, 0, 255) not in palette.colours


def test_the_intended_palette_is_deterministic_and_bounded():
    image, _ = noisy_art(seed=2, noise=40.0)  # so noisy that nothing merges: the entry cap bounds the work
    first = extract_palette(image, colours=0)
    assert first == extract_palette(image, colours=0)
    assert len(first) <= 256


PICO_8_SUBSET = np.array([[0, 0, 0], [29, 43, 83], [255, 0, 77], [255, 163, 0], [255, 241, 232], [0, 228, 54]])


def test_a_recovered_palette_of_built_in_colours_names_and_snaps_to_that_palette():
    rng = np.random.default_rng(3)
    recovered = np.clip(PICO_8_SUBSET + rng.integers(-6, 7, PICO_8_SUBSET.shape), 0, 255)
    match = matching_builtin(Palette("recovered", tuple(map(tuple, recovered.tolist()))))
    assert match is not None and match.name == "PICO-8 (6 of 16)"
    assert match.colours == tuple(map(tuple, PICO_8_SUBSET.tolist()))  # exact, in the recovered order


def test_no_built_in_palette_claims_colours_it_does_not_hold():
    off = PICO_8_SUBSET.copy()
    off[2] = [128, 128, 10]  # a colour far from every PICO-8 one
    assert matching_builtin(Palette("recovered", tuple(map(tuple, off.tolist())))) is None
    # two shades of one built-in colour are two intended colours: the palette is not that one
    twins = np.concatenate([PICO_8_SUBSET, [[6, 6, 6]]])
    assert matching_builtin(Palette("recovered", tuple(map(tuple, twins.tolist())))) is None
    # black and white alone are in most palettes: too few colours to tell which
    assert matching_builtin(Palette("recovered", ((0, 0, 0), (255, 255, 255)))) is None
