"""Seams of terrain sets: how well the tiles of a set meet where a map puts them side by side, for the way the
Terrain Transitions workflow draws them and for the two ways a set is otherwise made, in one run.

- dgx-pixels: each tile cut from the two seamless base tiles along its terrains, the band between them redrawn
  (inpainting), the outer ``keep_edge`` native pixels kept, one palette for the set (the shipped workflow);
  ``keep_edge 0`` lets the drawing reach the tile's edge.
- each tile drawn alone: every tile of the order drawn from its own prompt, its terrains where the mask says but
  its own texture (what prompting a generator tile by tile gives; no tool makes a blob-47 set).
- cut, not drawn: the two base tiles cut along the masks with nothing drawn (autotile templates over two
  textures): the edges agree by construction, the transitions are hard cuts.

No diffusion model runs here (a CPU machine): the model is stood in for by what it is asked to do, the tile's
terrains in a texture of its own seed over the canvas, a little noise on top. So the figures measure what the
set's construction guarantees, not the model's drawing.

Figures per order, ``--sets`` sets each (seeds 0..n-1): share of the touching pairs that pass the edge check
(tolerance 1.5), the median worst pair ratio (difference / allowed; above 1 fails), and the seam ratio of a random
24x16 map painted by the autotile rules: mean colour step across tile borders / mean step between neighbouring
pixels inside tiles (1.0: a border is as visible as any pixel step). Timings: the set's CPU work (plan, canvases,
finish, palette, check, map; not the stand-in's drawing), the first set (which finds the order's touching pairs
once) and the median of the others.

    python bench/bench_terrain.py [--sets 5] [--tile-size 32] [--cell 4] [--pictures DIR]
    (the host venv's Python, from the repository root)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from dgx_pixels.image.png import png_bytes, to_rgba8  # noqa: E402
from dgx_pixels.palette.apply import quantize_batch  # noqa: E402
from dgx_pixels.terrain import edges, maps, shapes  # noqa: E402
from dgx_pixels.terrain.plan import plan_terrain  # noqa: E402
from terrain_samples import DIRT, GRASS, seamless_texture  # noqa: E402

METHODS = ("dgx-pixels", "dgx-pixels keep_edge 0", "each tile drawn alone", "cut, not drawn")
MAP_SIZE = (16, 24)  # rows, columns
COLOURS = 16


def stand_in_drawing(plan, index: int, seed: int) -> torch.Tensor:
    """What the model is asked to draw on a tile's canvas: its terrains where the plan puts them, in textures of
    the tile's own seed, with a little noise. ``[C, C, 3]``."""
    own_a = seamless_texture(plan.canvas, GRASS, 1000 * seed + 2 * index + 11)
    own_b = seamless_texture(plan.canvas, DIRT, 1000 * seed + 2 * index + 12)
    regions = torch.from_numpy(plan.regions[index]).long()
    regions = regions.repeat_interleave(plan.cell, 0).repeat_interleave(plan.cell, 1)[..., None]
    drawn = torch.where(regions == shapes.A, own_a, own_b)
    noise = torch.randn(drawn.shape, generator=torch.Generator().manual_seed(seed * 7919 + index)) * 0.03
    return (drawn + noise).clamp(0, 1)


def make_set(method: str, order: str, seed: int, tile_size: int, cell: int) -> tuple:
    """(the plan, the native RGBA tiles ``[N, S, S, 4]`` after the palette lock, seconds the stand-in drew)."""
    keep_edge = 0 if method == "dgx-pixels keep_edge 0" else 1
    plan = plan_terrain(order, "grass", "dirt", tile_size, tile_size * cell, variants=1, keep_edge=keep_edge,
                        seed=seed)
    base_a = plan.native(seamless_texture(plan.canvas, GRASS, 2 * seed + 1), "a")
    base_b = plan.native(seamless_texture(plan.canvas, DIRT, 2 * seed + 2), "b")
    canvases = plan.canvases(base_a, base_b)
    drawing = 0.0
    if method == "cut, not drawn":
        tiles = canvases[:, ::cell, ::cell]
    else:
        drawing = time.process_time()
        drawn = torch.stack([stand_in_drawing(plan, index, seed) for index in range(len(plan.tiles))])
        drawing = time.process_time() - drawing
        if method == "each tile drawn alone":
            tiles = torch.cat([plan.native(image, "drawn")[None] for image in drawn])
        else:
            tiles = plan.finish(drawn, canvases)
    alpha = plan.alpha()
    locked, _ = quantize_batch(tiles, alpha, colours=COLOURS, seed=0)
    return plan, torch.cat([locked, 1 - alpha[..., None]], dim=-1), drawing


def seam_ratio(picture: torch.Tensor, size: int) -> float:
    """Mean colour step across tile borders / mean step between neighbouring pixels inside tiles (opaque pairs
    only)."""
    rgb, opaque = picture[..., :3], picture[..., 3] > 0.5
    across, inside = [], []
    for axis in (0, 1):
        step = (rgb.narrow(axis, 1, rgb.shape[axis] - 1) - rgb.narrow(axis, 0, rgb.shape[axis] - 1)).abs().mean(-1)
        both = opaque.narrow(axis, 1, opaque.shape[axis] - 1) & opaque.narrow(axis, 0, opaque.shape[axis] - 1)
        border = torch.zeros(rgb.shape[axis] - 1, dtype=torch.bool)
        border[size - 1::size] = True
        border = border[:, None] if axis == 0 else border[None, :]
        across.append(step[both & border])
        inside.append(step[both & ~border])
    return float(torch.cat(across).mean() / torch.cat(inside).mean())


def measure(method: str, order: str, seed: int, tile_size: int, cell: int, pictures: Path | None) -> dict:
    start = time.process_time()
    plan, tiles, drawing = make_set(method, order, seed, tile_size, cell)
    report = edges.check_edges(tiles, plan.pairs(), tolerance=1.5)
    picture = maps.paint_map(tiles, maps.random_map(plan, *MAP_SIZE, seed))
    seconds = time.process_time() - start - drawing  # the stand-in's drawing is the model's time, not ours
    if pictures and seed == 0:
        pictures.mkdir(parents=True, exist_ok=True)
        name = f"{order}-{method}".replace(" ", "-").replace(",", "")
        enlarged = picture.repeat_interleave(2, 0).repeat_interleave(2, 1)
        (pictures / f"{name}.png").write_bytes(png_bytes(to_rgba8(enlarged)))
    agreeing = sum(pair.agrees for pair in report.pairs)
    return {"pass": agreeing / len(report.pairs), "worst": report.to_dict()["worst_ratio"],
            "seam": seam_ratio(picture, tile_size), "seconds": seconds, "tiles": len(plan.tiles)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=int, default=5, help="sets per order and method (seeds 0..n-1)")
    parser.add_argument("--tile-size", type=int, default=32)
    parser.add_argument("--cell", type=int, default=4, help="generation pixels per native pixel")
    parser.add_argument("--orders", default="corner 16,blob 47,platformer")
    parser.add_argument("--pictures", type=Path, help="write each method's seed-0 map here as PNG")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{args.sets} sets per row, {args.tile_size}px tiles drawn at {args.tile_size * args.cell}px, "
          f"{COLOURS} colours, map {MAP_SIZE[1]}x{MAP_SIZE[0]}, one CPU thread")
    print("| order | method | tiles | pairs passing | median worst ratio | map seam ratio | first set s | "
          "steady s/set |")
    print("|---|---|---|---|---|---|---|---|")
    for order in args.orders.split(","):
        for method in METHODS:
            runs = [measure(method, order, seed, args.tile_size, args.cell, args.pictures) for seed in range(args.sets)]
            steady = statistics.median(r["seconds"] for r in runs[1:]) if len(runs) > 1 else float("nan")
            print(f"| {order} | {method} | {runs[0]['tiles']} | {np.mean([r['pass'] for r in runs]):.3f} | "
                  f"{statistics.median(r['worst'] for r in runs):.2f} | "
                  f"{np.mean([r['seam'] for r in runs]):.2f} | {runs[0]['seconds']:.2f} | {steady:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
