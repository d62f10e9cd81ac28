#!/usr/bin/env python3
"""Connected shapes and the backdrop flood, timed on the two images that decide their cost:

- a 768x768 canvas holding ONE winding shape (a zig-zag path tens of thousands of pixels long), and
- a 2048x2048 sheet of 64 sprites (8x8 cells of 256x256), each a body with a detached weapon 1 px away.

For each: ``slice_components`` (Slice Sprite Sheet by transparency, ``dgx-pixels slice``) and
``background_to_alpha`` in flood mode (Background to Alpha, slicing by background colour). Prints the best of
``--repeats`` runs and a fingerprint of the result, so two checkouts can be compared for the same partition:

    $(python3 -m dgx_pixels host python) bench/bench_components.py                      # this checkout
    $(python3 -m dgx_pixels host python) bench/bench_components.py --checkout OTHER     # another one's code
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def winding_canvas(size: int = 768, pitch: int = 4) -> torch.Tensor:
    """RGBA: one opaque zig-zag, rows ``pitch`` apart joined at alternate ends (one shape, ~size^2/pitch px long)."""
    canvas = torch.zeros(size, size, 4)
    for row in range(0, size - 1, pitch):
        canvas[row, :, :] = 1.0
        end = size - 1 if (row // pitch) % 2 == 0 else 0
        canvas[row:row + pitch, end, :] = 1.0
    return canvas


def sprite_sheet(cells: int = 8, cell: int = 256) -> torch.Tensor:
    """RGBA: ``cells`` x ``cells`` sprites, each an oval body and a sword one pixel clear of it."""
    size = cells * cell
    canvas = torch.zeros(size, size, 4)
    ys, xs = torch.meshgrid(torch.arange(cell, dtype=torch.float32), torch.arange(cell, dtype=torch.float32),
                            indexing="ij")
    for number in range(cells * cells):
        top, left = (number // cells) * cell, (number % cells) * cell
        body = ((xs - cell * 0.45) / (cell * 0.18)) ** 2 + ((ys - cell * 0.55) / (cell * 0.3)) ** 2 <= 1
        sword = (xs >= cell * 0.45 + cell * 0.18 + 2) & (xs < cell * 0.45 + cell * 0.18 + 6) & \
                (ys > cell * 0.2) & (ys < cell * 0.7)
        shape = body | sword
        colour = torch.tensor([0.2 + 0.01 * number % 0.6, 0.5, 0.8, 1.0])
        canvas[top:top + cell, left:left + cell][shape] = colour
    return canvas


def on_backdrop(rgba: torch.Tensor, colour=(0.1, 0.9, 0.2)) -> torch.Tensor:
    """IMAGE ``[1, H, W, 3]``: the shapes painted over a flat backdrop (what a model draws)."""
    backdrop = torch.tensor(colour).expand(rgba.shape[0], rgba.shape[1], 3)
    return torch.where(rgba[..., 3:] > 0, rgba[..., :3], backdrop)[None]


def fingerprint(values) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", type=Path, default=HERE.parent, help="whose dgx_pixels to time")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sys.path[:0] = [str(args.checkout.resolve()), str(HERE)]
    from dgx_pixels.image.background import background_to_alpha
    from dgx_pixels.sheets.slice import slice_components
    from timing import best_of

    torch.set_grad_enabled(False)
    print(f"code: {args.checkout.resolve()}  torch {torch.__version__}  threads {torch.get_num_threads()}")
    for name, rgba in (("768x768, one winding shape", winding_canvas()),
                       ("2048x2048, 64 sprites", sprite_sheet())):
        seconds, pieces = best_of(lambda: slice_components(rgba), args.repeats)
        shapes = [(rect.x, rect.y, rect.w, rect.h, int((crop[..., 3] > 0).sum())) for crop, rect in pieces]
        print(f"slice by transparency  {name:28} {seconds * 1000:9.1f} ms  {len(pieces)} shapes  "
              f"partition {fingerprint(shapes)}")
        image = on_backdrop(rgba)
        seconds, (mask, _) = best_of(lambda: background_to_alpha(image), args.repeats)
        print(f"background flood       {name:28} {seconds * 1000:9.1f} ms  "
              f"{int(mask.sum())} backdrop px  mask {fingerprint(mask.bool().flatten().nonzero().flatten().tolist())}")


if __name__ == "__main__":
    main()
