"""What a palette does to an image (validation), and its swatch picture."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .distinct import packed_rgb
from .palette import Palette


@dataclass(frozen=True)
class PaletteReport:
    colour_count: int  # distinct colours among opaque pixels
    off_palette: int  # opaque pixels not exactly on a palette colour
    pixels: int

    def summary(self, palette: Palette) -> str:
        verdict = "all on palette" if self.off_palette == 0 else f"{self.off_palette} off-palette pixel(s)"
        return (f"{self.colour_count} colour(s) used of {len(palette)} in {palette.name}; {verdict} "
                f"({self.pixels} opaque pixels)")


def validate(image: torch.Tensor, palette: Palette, mask: torch.Tensor | None = None) -> PaletteReport:
    codes = packed_rgb(image).reshape(-1)
    if mask is not None:
        codes = codes[mask.reshape(-1) < 0.5]
    allowed = packed_rgb(palette.tensor(device=codes.device))
    return PaletteReport(int(codes.unique().numel()), int((~torch.isin(codes, allowed)).sum()), int(codes.numel()))


def swatches(palette: Palette, cell: int = 16, columns: int = 8) -> torch.Tensor:
    """A swatch image ``[1, H, W, 3]``: one ``cell``-sized square per colour, ``columns`` per row."""
    count = len(palette)
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    grid = torch.zeros(rows * columns, 3)
    grid[:count] = palette.tensor()
    grid = grid.reshape(rows, columns, 3)
    return grid.repeat_interleave(cell, 0).repeat_interleave(cell, 1)[None]
