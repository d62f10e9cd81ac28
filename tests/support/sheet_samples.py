"""Small hand-drawn test sprites (RGBA tensors): a walker whose legs move and whose body bobs, and helpers."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

SKIN = (1.0, 0.8, 0.6)
TROUSERS = (0.2, 0.2, 0.6)


def figure(width: int = 24, height: int = 24, step: int = 0, shirt=(0.8, 0.2, 0.2), lift: int = 0,
           shift: int = 0) -> torch.Tensor:
    """A 6-pixel-wide person standing ``lift`` pixels above the frame bottom (minus 2), legs apart by ``step``."""
    frame = torch.zeros(height, width, 4)
    cx = width // 2 + shift
    bottom = height - 2 - lift
    frame[bottom - 16:bottom - 12, cx - 2:cx + 2, :3] = torch.tensor(SKIN)
    frame[bottom - 12:bottom - 4, cx - 3:cx + 3, :3] = torch.tensor(shirt)
    frame[bottom - 4:bottom, cx - 3 + step:cx - 1 + step, :3] = torch.tensor(TROUSERS)
    frame[bottom - 4:bottom, cx + 1 - step:cx + 3 - step, :3] = torch.tensor(TROUSERS)
    frame[..., 3] = (frame[..., :3].sum(-1) > 0).float()
    return frame


def walk_cycle() -> tuple[list[torch.Tensor], str]:
    """10 frames (idle 4, walk 6) that bob up and down, and their tag spec."""
    frames = [figure(step=s % 2, lift=s % 3) for s in range(4)]
    frames += [figure(step=s % 3 - 1, shirt=(0.2, 0.7, 0.2), lift=(s * 2) % 3, shift=s % 2) for s in range(6)]
    return frames, "idle:4@120ms, walk_E:6@80ms pingpong"


def lowest_opaque_row(cell: torch.Tensor) -> int:
    rows = torch.nonzero(cell[..., 3].amax(dim=1) > 0)
    return int(rows.max()) if len(rows) else -1


def save_rgba(frame: torch.Tensor, path) -> None:
    Image.fromarray((frame.clamp(0, 1).numpy() * 255).round().astype(np.uint8), "RGBA").save(path)


def to_uint8(frame: torch.Tensor) -> np.ndarray:
    return (frame.clamp(0, 1).numpy() * 255).round().astype(np.uint8)
