"""Background to alpha: find the flat backdrop a model paints behind a sprite and make it transparent.

Diffusion models draw sprites on a plain background ("plain background" in the prompt). The backdrop colour is the
dominant colour of the image border; pixels close to it that connect to the border become transparent (a flood
fill, so an eye of the same colour inside the sprite stays), or every pixel close to it (key-colour mode).
The result is a binary MASK (1 = transparent): no halos of half-transparent pixels.
"""
from __future__ import annotations

import numpy as np
import torch

from ..common.errors import InputError
from .ops import check_image, check_mask
from .regions import label_array

MODES = ("flood from edges", "key colour everywhere")
BORDER_BINS = 32  # per channel, for the border colour vote


def parse_hex_colour(text: str) -> torch.Tensor:
    value = text.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    if len(value) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in value):
        raise InputError(f"key colour {text!r} is not a hex colour like #00ff00")
    return torch.tensor([int(value[i:i + 2], 16) / 255.0 for i in (0, 2, 4)])


def border_pixels(image: torch.Tensor) -> torch.Tensor:
    """``[B, N, 3]``: the one-pixel frame around each image."""
    return torch.cat([image[:, 0], image[:, -1], image[:, :, 0], image[:, :, -1]], dim=1)


def dominant_colour(pixels: torch.Tensor) -> torch.Tensor:
    """``[B, N, 3]`` -> ``[B, 3]``: the mean of each row's most common colour (coarsely binned, so noise and JPEG
    ringing vote together)."""
    bins = (pixels * (BORDER_BINS - 1)).round().long().clamp(0, BORDER_BINS - 1)
    codes = (bins[..., 0] * BORDER_BINS + bins[..., 1]) * BORDER_BINS + bins[..., 2]
    counts = torch.zeros(pixels.shape[0], BORDER_BINS ** 3, device=pixels.device)
    counts.scatter_add_(1, codes, torch.ones_like(codes, dtype=counts.dtype))
    members = (codes == counts.argmax(dim=1, keepdim=True)).unsqueeze(-1).to(pixels.dtype)
    return (pixels * members).sum(dim=1) / members.sum(dim=1)


def flood_from_edges(candidate: torch.Tensor) -> torch.Tensor:
    """``[B, H, W]`` bool: the parts of ``candidate`` 4-connected to the image border."""
    masks = candidate.cpu().numpy()
    flooded = np.empty_like(masks)
    for number, frame in enumerate(masks):
        labels, _ = label_array(frame, connectivity=4)
        border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        flooded[number] = np.isin(labels, border[border > 0])
    return torch.from_numpy(flooded).to(candidate.device)


def background_to_alpha(
    image: torch.Tensor,
    mask: torch.Tensor | None = None,
    mode: str = MODES[0],
    tolerance: float = 0.12,
    key_colour: str = "",
    lock_batch: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (MASK with the background made transparent, the key colours used ``[B, 3]``).

    ``tolerance``: largest RGB distance (0..1, Euclidean over the three channels / sqrt(3)) still counted as the
    backdrop. ``key_colour``: a hex colour, or empty to read it off the border. ``lock_batch``: one key colour for
    the whole batch (the most common border colour over all frames), so every frame of an animation is cut alike.
    An input ``mask`` stays transparent where it was.
    """
    image = check_image(image, min_size=2)[..., :3]
    mask = check_mask(mask, image)
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not 0.0 <= tolerance <= 1.0:
        raise InputError(f"tolerance must be between 0 and 1, got {tolerance}")
    if key_colour.strip():
        keys = parse_hex_colour(key_colour).to(image).expand(image.shape[0], 3)
    else:
        border = border_pixels(image)
        if lock_batch:
            keys = dominant_colour(border.reshape(1, -1, 3)).expand(image.shape[0], 3)
        else:
            keys = dominant_colour(border)
    distance = (image - keys[:, None, None, :]).norm(dim=-1) / 3 ** 0.5
    candidate = distance <= tolerance
    if mode == MODES[0]:
        candidate = flood_from_edges(candidate)
    return torch.maximum(mask, candidate.to(mask.dtype)), keys
