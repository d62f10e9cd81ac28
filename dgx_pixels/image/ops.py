"""Image tensor checks and resampling shared by every node and the command line.

Conventions (ComfyUI's): IMAGE is ``[B, H, W, C]`` float in 0..1; MASK is ``[B, H, W]`` with 1 = transparent.
Every function works on the tensors' own device and never loops over pixels in Python.
"""
from __future__ import annotations

import torch

from ..common.errors import InputError
from ..common.limits import check_batch_pixels


def all_finite(tensor: torch.Tensor) -> bool:
    """No NaN or infinity anywhere: min and max propagate NaN, so two reductions decide (isfinite over every
    element costs about 8x as much on a CPU)."""
    if tensor.numel() == 0:
        return True
    low, high = torch.aminmax(tensor)
    return bool(torch.isfinite(low) & torch.isfinite(high))


def check_image(image: torch.Tensor, what: str = "image", min_size: int = 1) -> torch.Tensor:
    """Return ``image`` if it is a usable IMAGE batch, else raise InputError saying what is wrong."""
    if not isinstance(image, torch.Tensor):
        raise InputError(f"{what} must be an image tensor, got {type(image).__name__}")
    if image.ndim != 4:
        raise InputError(f"{what} must have shape [batch, height, width, channels], got {list(image.shape)}")
    batch, height, width, channels = image.shape
    if batch == 0:
        raise InputError(f"{what} is an empty batch (0 images)")
    if height < min_size or width < min_size:
        raise InputError(f"{what} is {width}x{height}; it must be at least {min_size}x{min_size} pixels")
    if channels not in (1, 3, 4):
        raise InputError(f"{what} has {channels} channels; expected 1, 3 (RGB) or 4 (RGBA)")
    if image.is_floating_point() and not all_finite(image):
        raise InputError(f"{what} contains NaN or infinite values; check the node that made it")
    return image


def check_mask(mask: torch.Tensor | None, image: torch.Tensor, what: str = "mask") -> torch.Tensor:
    """Return a ``[B, H, W]`` mask matching ``image`` (all opaque when absent).

    A single mask is shared across the batch. ComfyUI's LoadImage gives a 64x64 zero mask for images without
    alpha; a mask of another size that is all zeros is read the same way (fully opaque).
    """
    batch, height, width, _ = image.shape
    if mask is None:
        return torch.zeros((batch, height, width), dtype=image.dtype, device=image.device)
    if mask.ndim == 2:
        mask = mask.unsqueeze(0)
    if mask.ndim != 3:
        raise InputError(f"{what} must have shape [batch, height, width], got {list(mask.shape)}")
    mask = mask.to(device=image.device, dtype=image.dtype)
    if mask.shape[1:] != (height, width):
        if not mask.any():
            return torch.zeros((batch, height, width), dtype=image.dtype, device=image.device)
        raise InputError(
            f"{what} is {mask.shape[2]}x{mask.shape[1]} but the image is {width}x{height}; they must match"
        )
    if not all_finite(mask):
        raise InputError(f"{what} contains NaN or infinite values")
    if mask.shape[0] == 1 and batch > 1:
        mask = mask.expand(batch, -1, -1)
    elif mask.shape[0] != batch:
        raise InputError(f"{what} has {mask.shape[0]} masks for {batch} images; give one mask or one per image")
    return mask


def nearest_upscale(image: torch.Tensor, factor: int) -> torch.Tensor:
    """Blow every pixel up to a ``factor`` x ``factor`` block (``[B, H, W, C]`` or ``[B, H, W]``)."""
    if factor < 1:
        raise InputError(f"scale factor must be at least 1, got {factor}")
    if factor == 1:
        return image
    check_batch_pixels(image.shape[0] * image.shape[1] * image.shape[2] * factor * factor,
                       f"{image.shape[0]} image(s) of {image.shape[2]}x{image.shape[1]} scaled {factor}x")
    return image.repeat_interleave(factor, dim=1).repeat_interleave(factor, dim=2)


def split_alpha(rgba: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``[B, H, W, 4]`` -> RGB IMAGE and MASK (1 = transparent); RGB passes through with an opaque mask."""
    if rgba.shape[-1] == 4:
        return rgba[..., :3], 1.0 - rgba[..., 3]
    rgb = rgba if rgba.shape[-1] == 3 else rgba.expand(-1, -1, -1, 3)
    return rgb, torch.zeros(rgb.shape[:3], dtype=rgb.dtype, device=rgb.device)


def join_alpha(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """RGB IMAGE + MASK (1 = transparent) -> ``[B, H, W, 4]`` RGBA."""
    return torch.cat([image[..., :3], (1.0 - mask).unsqueeze(-1)], dim=-1)
