"""Palettes applied to images: nearest colour (optionally dithered), batch locking and index swaps."""
from __future__ import annotations

import math

import torch

from ..common.errors import InputError
from .distinct import DistinctColours, distinct_colours
from .dither import DITHERS, bayer_matrix, error_diffusion, ordered_dither
from .extract import extract_palette
from .palette import Palette
from .space import nearest_index, perceptual


def palette_indices(image: torch.Tensor, palette: Palette, dither: str = "none", strength: float = 1.0,
                    distinct: DistinctColours | None = None) -> torch.Tensor:
    """``[B, H, W]``: for every pixel, the index of its palette colour (nearest in the perceptual space),
    optionally dithered. ``strength`` scales the dither (0..1). ``distinct``: the image's distinct colours, when
    already found (the undithered mapping decides once per distinct colour)."""
    if dither not in DITHERS:
        raise InputError(f"dither must be one of {', '.join(DITHERS)}, got {dither!r}")
    if not 0.0 <= strength <= 1.0:
        raise InputError(f"dither strength must be between 0 and 1, got {strength}")
    palette_points = perceptual(palette.tensor(device=image.device))
    if dither.startswith("bayer") and strength > 0 and len(palette) > 1:
        size = int(dither.split()[1])
        height, width = image.shape[1:3]
        thresholds = bayer_matrix(size).to(image.device)
        thresholds = thresholds.repeat(math.ceil(height / size), math.ceil(width / size))[:height, :width]
        return ordered_dither(perceptual(image[..., :3].float()), palette_points, thresholds, strength)
    if dither in ("floyd-steinberg", "atkinson") and strength > 0:
        return error_diffusion(perceptual(image[..., :3].float()), palette_points, dither, strength)
    return nearest_for_distinct(distinct or distinct_colours(image), palette)


def nearest_for_distinct(distinct: DistinctColours, palette: Palette) -> torch.Tensor:
    """``[B, H, W]`` palette indices, undithered: decided once per distinct colour, then spread to the pixels."""
    palette_points = perceptual(palette.tensor(device=distinct.rgb.device))
    return distinct.spread(nearest_index(perceptual(distinct.rgb), palette_points))


def painted(image: torch.Tensor, palette: Palette, index: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Palette colour ``index`` ``[B, H, W]`` for every pixel; transparent pixels (mask >= 0.5) keep theirs."""
    mapped = palette.tensor(device=image.device)[index].to(image.dtype)
    if mask is not None:
        mapped = torch.where(mask[..., None] >= 0.5, image[..., :3], mapped)
    return mapped


def apply_palette(image: torch.Tensor, palette: Palette, mask: torch.Tensor | None = None, dither: str = "none",
                  strength: float = 1.0) -> torch.Tensor:
    """Every pixel -> its palette colour; one palette for the whole batch; transparent pixels unchanged."""
    return painted(image, palette, palette_indices(image, palette, dither, strength), mask)


def quantize_batch(image: torch.Tensor, mask: torch.Tensor | None = None, colours: int | None = None,
                   palette: Palette | None = None, dither: str = "none", strength: float = 1.0, seed: int = 0,
                   keep: Palette | None = None) -> tuple[torch.Tensor, Palette]:
    """Lock a whole batch to one palette: ``palette`` as given, or ``colours`` colours (0: automatic) extracted
    from every opaque pixel of the batch. Returns (the repainted batch, the palette); transparent pixels keep
    their colour."""
    if (colours is None) == (palette is None):
        raise InputError("give either a colour count or a palette")
    distinct = None
    if palette is None:
        distinct = distinct_colours(image, mask)
        palette = extract_palette(image, mask, colours, seed, keep, distinct=distinct)
    return painted(image, palette, palette_indices(image, palette, dither, strength, distinct), mask), palette


def swap_palette(image: torch.Tensor, source: Palette, target: Palette, mask: torch.Tensor | None = None
                 ) -> torch.Tensor:
    """Recolour by index: every pixel takes the target colour at the index of its nearest source colour."""
    if len(target) < len(source):
        raise InputError(f"the target palette {target.name!r} has {len(target)} colours but the source "
                         f"{source.name!r} has {len(source)}; a swap maps colour i to colour i")
    return painted(image, target, palette_indices(image, source), mask)
