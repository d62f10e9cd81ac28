"""Seamless tiling: convolutions that wrap around the image edges, so a model draws textures that tile.

Works on any ``torch.nn.Conv2d`` (ComfyUI's cast-weight subclasses included, which all end in ``_conv_forward``).
The wrapped layers are shallow copies sharing the original weights, so the original model is never changed.
"""
from __future__ import annotations

import copy
import types

import torch
import torch.nn.functional as F

from ..common.errors import InputError

AXES = ("both", "x", "y")


def _wrapping_conv_forward(self, input, weight, bias):
    pad_y, pad_x = self.seamless_padding
    wrap_x, wrap_y = self.seamless_wrap
    input = F.pad(input, (pad_x, pad_x, 0, 0), mode="circular" if wrap_x else "constant")
    input = F.pad(input, (0, 0, pad_y, pad_y), mode="circular" if wrap_y else "constant")
    return F.conv2d(input, weight, bias, self.stride, 0, self.dilation, self.groups)


def wrapping_conv(conv: torch.nn.Conv2d, axes: str) -> torch.nn.Conv2d:
    """A copy of ``conv`` whose padding wraps around on ``axes`` ("both", "x" or "y") and stays zero elsewhere."""
    if axes not in AXES:
        raise InputError(f"tiling axes must be one of {', '.join(AXES)}, got {axes!r}")
    if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise InputError(f"cannot wrap a convolution with padding {conv.padding!r} ({conv.padding_mode})")
    wrapped = copy.copy(conv)
    wrapped.seamless_padding = tuple(conv.padding)
    wrapped.seamless_wrap = (axes in ("both", "x"), axes in ("both", "y"))
    wrapped._conv_forward = types.MethodType(_wrapping_conv_forward, wrapped)
    return wrapped


def padded_convolutions(module: torch.nn.Module) -> list[tuple[str, torch.nn.Conv2d]]:
    """Every Conv2d inside ``module`` that pads its input (the layers that see across the image edge)."""
    return [(name, child) for name, child in module.named_modules()
            if isinstance(child, torch.nn.Conv2d) and not isinstance(child.padding, str) and any(child.padding)]


def wrap_difference(image: torch.Tensor, axes: str = "both") -> torch.Tensor:
    """Per-image seam score: mean |difference| across the wrap-around edges (0 = tiles perfectly).

    ``image`` is ``[B, H, W, C]``; the score is comparable to the mean difference between neighbouring pixels.
    """
    scores = []
    if axes in ("both", "x"):
        scores.append((image[:, :, 0] - image[:, :, -1]).abs().mean(dim=(1, 2)))
    if axes in ("both", "y"):
        scores.append((image[:, 0] - image[:, -1]).abs().mean(dim=(1, 2)))
    return torch.stack(scores).mean(dim=0)
