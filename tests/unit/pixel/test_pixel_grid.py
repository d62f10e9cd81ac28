"""Grid recovery and pixel-perfect downscale on synthetic fake pixel art with known truth."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dgx_pixels.pixel import downscale as pixel_downscale, grid as pixel_grid, spacing
from dgx_pixels.common.errors import InputError
from pixel_art import blow_up, drifting_cuts, true_sprite, uniform_cuts


def recovered(image, mask, **options):
    native, native_mask, grids = pixel_downscale.downscale(image, mask, **options)
    return (native[0].numpy() * 255).round().astype(int), native_mask[0].numpy(), grids


@pytest.mark.parametrize("cell", [4.0, 8.0, 13.0])
def test_integer_grids_are_recovered_exactly(cell):
    rgb, mask = true_sprite(16, 12)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(16, cell), uniform_cuts(12, cell))
    native, native_mask, grids = recovered(image, big_mask)
    assert native.shape[:2] == (12, 16)
    assert np.array_equal(native, rgb)
    assert np.array_equal(native_mask, mask)
    assert grids.confidence > 0.9


@pytest.mark.parametrize("cell", [5.37, 9.5, 17.8])
def test_fractional_grids_with_noise_are_recovered(cell):
    rgb, mask = true_sprite(20, 15, seed=1)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(20, cell), uniform_cuts(15, cell), noise=0.02)
    native, native_mask, grids = recovered(image, big_mask)
    assert native.shape[:2] == (15, 20)
    assert np.abs(native - rgb.astype(int)).max() <= 12
    assert np.array_equal(native_mask, mask)


def test_drifting_grids_are_recovered_cut_by_cut():
    rgb, mask = true_sprite(24, 18, seed=2)
    cuts_x, cuts_y = drifting_cuts(24, 14.0, 0.12, seed=3), drifting_cuts(18, 14.0, 0.12, seed=4)
    image, big_mask = blow_up(rgb, mask, cuts_x, cuts_y, noise=0.01)
    native, native_mask, grids = recovered(image, big_mask)
    assert native.shape[:2] == (18, 24)
    assert np.abs(native - rgb.astype(int)).max() <= 10
    grid = grids.for_image(0)
    assert np.abs(np.array(grid.cuts_x) - cuts_x).max() <= 1
    assert np.abs(np.array(grid.cuts_y) - cuts_y).max() <= 1


def test_target_size_snaps_to_exactly_that_many_pixels():
    rgb, mask = true_sprite(16, 16, seed=5)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(16, 10.0), uniform_cuts(16, 10.0))
    native, _, grids = recovered(image, big_mask, target_size="16x16")
    assert native.shape[:2] == (16, 16) and np.array_equal(native, rgb)
    native, _, _ = recovered(image, big_mask, target_size="8")  # a width alone keeps the aspect
    assert native.shape[:2] == (8, 8)


def test_locked_batch_shares_one_grid_and_one_size():
    frames, masks = [], []
    for seed in range(3):
        rgb, mask = true_sprite(12, 12, seed=10 + seed)
        image, big_mask = blow_up(rgb, mask, uniform_cuts(12, 7.5), uniform_cuts(12, 7.5))
        frames.append(image)
        masks.append(big_mask)
    native, native_mask, grids = pixel_downscale.downscale(torch.cat(frames), torch.cat(masks), lock=True)
    assert grids.locked and native.shape == (3, 12, 12, 3)
    unlocked = pixel_grid.detect_grid(torch.cat(frames), torch.cat(masks), lock=False)
    assert len(unlocked.grids) == 3 and {g.native_size for g in unlocked.grids} == {(12, 12)}


def test_a_grid_from_another_image_size_is_refused():
    rgb, mask = true_sprite(8, 8)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(8, 6.0), uniform_cuts(8, 6.0))
    grids = pixel_grid.detect_grid(image, big_mask)
    with pytest.raises(InputError, match="detect the grid on the same images"):
        pixel_downscale.downscale(image[:, :40, :40], big_mask[:, :40, :40], grids)


def test_noise_and_photos_have_no_grid_and_pass_through():
    noise = torch.rand(1, 96, 128, 3, generator=torch.Generator().manual_seed(0))
    native, native_mask, grids = pixel_downscale.downscale(noise)
    assert grids.confidence == 0
    assert native.shape == noise.shape and torch.allclose(native, noise)
    smooth = torch.linspace(0, 1, 128).view(1, 1, 128, 1).expand(1, 96, 128, 3)
    assert pixel_grid.detect_grid(smooth).confidence == 0


@pytest.mark.parametrize("size", [(1, 1), (1, 5), (3, 2)])
def test_tiny_images_pass_through(size):
    image = torch.rand(1, size[0], size[1], 3)
    native, _, grids = pixel_downscale.downscale(image)
    assert native.shape == image.shape and grids.confidence == 0


def test_huge_images_finish_with_a_grid():
    rgb, mask = true_sprite(64, 64, seed=7)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(64, 64.0), uniform_cuts(64, 64.0))
    assert image.shape[1:3] == (4096, 4096)
    native, _, _ = recovered(image, big_mask)
    assert np.array_equal(native, rgb)


def test_nan_and_empty_inputs_are_clear_errors():
    with pytest.raises(InputError, match="NaN"):
        pixel_downscale.downscale(torch.full((1, 8, 8, 3), float("nan")))
    with pytest.raises(InputError, match="empty batch"):
        pixel_grid.detect_grid(torch.zeros(0, 8, 8, 3))
    with pytest.raises(InputError, match="64x64 or 64"):
        pixel_grid.detect_grid(torch.zeros(1, 8, 8, 3), target_size="big")
    with pytest.raises(InputError, match="reducer"):
        pixel_downscale.downscale(torch.zeros(1, 8, 8, 3), reducer="mean")


@pytest.mark.parametrize("reducer", pixel_downscale.REDUCERS)
def test_every_reducer_recovers_clean_cells(reducer):
    rgb, mask = true_sprite(10, 10, seed=9)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(10, 9.0), uniform_cuts(10, 9.0))
    native, _, _ = recovered(image, big_mask, reducer=reducer)
    assert np.array_equal(native, rgb)


def test_majority_ignores_a_minority_of_stray_colours():
    samples = torch.tensor([[0.2, 0.2, 0.2]] * 20 + [[0.9, 0.1, 0.1]] * 5)
    assert torch.allclose(pixel_downscale.reduce_cells(samples, "majority"), torch.tensor([0.2, 0.2, 0.2]))
    assert torch.allclose(pixel_downscale.reduce_cells(samples, "k-centroid"), torch.tensor([0.2, 0.2, 0.2]))


def test_overlay_draws_the_cuts():
    rgb, mask = true_sprite(8, 8)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(8, 8.0), uniform_cuts(8, 8.0))
    grids = pixel_grid.detect_grid(image, big_mask)
    overlay = pixel_grid.draw_grid(image, grids)
    assert not torch.equal(overlay[0, :, 8], image[0, :, 8]) and torch.equal(overlay[0, 3, 3], image[0, 3, 3])


def test_small_cell_ranges_on_native_art_end():
    """Walking cuts over 1x art with only 2-4 pixel cells allowed used to stand still on one cut for ever."""
    rgb, mask = true_sprite(16, 12)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(16, 1), uniform_cuts(12, 1))
    grids = pixel_grid.detect_grid(image, big_mask, min_cell=2.0, max_cell=3.999)
    assert grids.for_image(0).input_size == (16, 12)


def test_each_cut_explains_only_the_strongest_peak_of_its_window():
    rng = np.random.default_rng(5)
    for _ in range(300):
        length = int(rng.integers(8, 900))
        peaks = np.zeros(length + 1)
        where = rng.choice(length + 1, int(rng.integers(0, min(length, 120))), replace=False)
        peaks[where] = rng.random(len(where))
        counts = np.arange(2, length // 2 + 1)
        cell = length / counts
        first, after_last = windows = spacing._windows(rng.random(len(counts)) * cell, cell, int(counts.max()),
                                                       length)
        # each window on its own: the largest peak inside it, or nothing
        expected = np.array([sum(peaks[start:end].max() for start, end in zip(starts, ends) if end > start)
                             for starts, ends in zip(first, after_last)]) / max(peaks.sum(), 1e-12)
        assert np.allclose(spacing.one_edge_per_cut(peaks, windows), expected, rtol=1e-12, atol=1e-12)
