"""Bounded work on every input: grid recovery finishes in bounded time and memory on thousands of made images,
and the drift-following walk never stalls or multiplies its cuts."""
from __future__ import annotations

import math
import resource
import time

import numpy as np
import pytest
import torch

from dgx_pixels.pixel import downscale as pixel_downscale
from dgx_pixels.pixel.cuts import WALK_REACH, walk_cuts

SECONDS_PER_IMAGE = 2.0  # generous on a shared 2-core machine; a stalled walk takes minutes
MEMORY_GROWTH_MIB = 200
IMAGES_PER_KIND = 125  # 1000 images in all


def made_image(kind: str, rng: np.random.Generator) -> np.ndarray:
    """A small RGB image ``[H, W, 3]`` in 0..1 of one of the shapes that once troubled grid searches."""
    height, width = (int(v) for v in rng.integers(2, 65, 2))
    if kind == "flat":
        return np.broadcast_to(rng.random(3), (height, width, 3)).copy()
    if kind == "noise":
        return rng.random((height, width, 3))
    if kind == "one edge":
        image = np.zeros((height, width, 3))
        image[:, int(rng.integers(0, width)):] = rng.random(3)
        return image
    if kind == "stripes":
        period = int(rng.integers(1, 9))
        stripes = (np.arange(width) // period) % 2
        return np.broadcast_to(stripes[None, :, None] * rng.random(3), (height, width, 3)).copy()
    cell = {"tiny cells": rng.uniform(1, 3), "huge cells": rng.uniform(20, 200)}.get(kind, rng.uniform(3, 12))
    cells_x, cells_y = max(1, round(width / cell)), max(1, round(height / cell))
    art = rng.random((cells_y, cells_x, 3))
    rows = np.minimum((np.arange(height) / cell).astype(int), cells_y - 1)
    columns = np.minimum((np.arange(width) / cell).astype(int), cells_x - 1)
    return art[rows][:, columns] + rng.normal(0, 0.03, (height, width, 3)) * (kind == "noisy cells")


KINDS = ("flat", "noise", "one edge", "stripes", "tiny cells", "huge cells", "cells", "noisy cells")


@pytest.mark.parametrize("kind", KINDS)
def test_grid_recovery_is_bounded_on_made_images(kind):
    rng = np.random.default_rng(KINDS.index(kind))
    torch.set_grad_enabled(False)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    slowest = 0.0
    for _ in range(IMAGES_PER_KIND):
        image = torch.from_numpy(np.clip(made_image(kind, rng), 0, 1)).float()[None]
        started = time.perf_counter()
        native, native_mask, grids = pixel_downscale.downscale(image)
        slowest = max(slowest, time.perf_counter() - started)
        grid = grids.for_image(0)
        height, width = image.shape[1:3]
        assert grid.cuts_x[0] == 0 and grid.cuts_x[-1] == width and grid.cuts_y[-1] == height
        assert all(b > a for a, b in zip(grid.cuts_x, grid.cuts_x[1:]))
        assert all(b > a for a, b in zip(grid.cuts_y, grid.cuts_y[1:]))
        assert native.shape[1:3] == (len(grid.cuts_y) - 1, len(grid.cuts_x) - 1)
    assert slowest < SECONDS_PER_IMAGE
    growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert growth_mib < MEMORY_GROWTH_MIB


def test_the_walk_advances_on_every_profile():
    """Profiles with equal cuts, a lone spike, all zeros, all equal and random spikes: the walk takes at most
    L / advance steps, its cuts strictly increase and it ends on the axis end."""
    rng = np.random.default_rng(0)
    for trial in range(2000):
        length = int(rng.integers(2, 400))
        profile = np.zeros(length + 1)
        shape = trial % 4
        if shape == 0:  # edges a few pixels apart: three equal cuts once made the local cell 0
            profile[:: int(rng.integers(1, 4))] = 1.0
        elif shape == 1:
            profile[int(rng.integers(0, length + 1))] = 1.0
        elif shape == 2:
            profile[:] = 1.0
        else:
            profile = rng.random(length + 1) ** 8
        cell = float(rng.uniform(0.5, length))
        min_cell = float(rng.uniform(1, 8))
        cuts = walk_cuts(torch.from_numpy(profile), cell, float(rng.uniform(0, length)), min_cell)
        advance = max(1, int(WALK_REACH[0] * max(min_cell, 0.5 * cell)))
        assert cuts[0] == 0 and cuts[-1] == length
        assert all(b > a for a, b in zip(cuts, cuts[1:])), cuts
        assert len(cuts) <= math.ceil(length / advance) + 3
