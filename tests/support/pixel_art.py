"""Synthetic "fake" pixel art for tests: a true sprite blown up on an integer, fractional or drifting grid."""
from __future__ import annotations

import numpy as np
import torch


def true_sprite(width: int = 16, height: int = 12, colours: int = 5, seed: int = 0, alpha: bool = True):
    """RGB ``[h, w, 3]`` uint8 with neighbouring cells of distinct colours, and a transparency mask ``[h, w]``."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (colours, 3))
    palette[1:] = np.clip(palette[1:], 40, 255)
    index = rng.integers(0, colours, (height, width))
    rgb = palette[index].astype(np.uint8)
    mask = np.zeros((height, width), np.float32)
    if alpha:
        mask[:2, :] = 1
        mask[:, :1] = 1
    return rgb, mask


def blow_up(rgb: np.ndarray, mask: np.ndarray, cuts_x: np.ndarray, cuts_y: np.ndarray, noise: float = 0.0,
            seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Paint each true pixel over its cell between the given cuts; returns IMAGE ``[1,H,W,3]`` and MASK."""
    cols = np.searchsorted(cuts_x, np.arange(cuts_x[-1]), side="right") - 1
    rows = np.searchsorted(cuts_y, np.arange(cuts_y[-1]), side="right") - 1
    big = rgb[rows][:, cols].astype(np.float32) / 255
    big_mask = mask[rows][:, cols]
    if noise:
        big = big + np.random.default_rng(seed).normal(0, noise, big.shape)
    return (torch.from_numpy(np.clip(big, 0, 1)).float().unsqueeze(0),
            torch.from_numpy(big_mask).float().unsqueeze(0))


def uniform_cuts(cells: int, cell_size: float) -> np.ndarray:
    return np.round(np.arange(cells + 1) * cell_size).astype(int)


def drifting_cuts(cells: int, cell_size: float, drift: float, seed: int = 0) -> np.ndarray:
    """Cell sizes wander (a slow sine plus jitter) but always stay within ``drift`` of ``cell_size``."""
    rng = np.random.default_rng(seed)
    sizes = cell_size * (1 + drift * np.sin(np.linspace(0, 3 * np.pi, cells)) + rng.uniform(-0.05, 0.05, cells))
    return np.concatenate([[0], np.round(np.cumsum(sizes))]).astype(int)
