"""Timings of the sheet core on this machine's CPU: assemble 64 frames of 64x64 (each layout option), slice 16 poses
out of a 1024x256 image, label a long zig-zag, and render + write a Bevy export.

    python bench/sheet_bench.py        (with the host venv's Python, from the repository root)
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from dgx_pixels.export.core import export_bevy  # noqa: E402
from dgx_pixels.sheets.assemble import assemble_sheet  # noqa: E402
from dgx_pixels.sheets.frames import parse_tag_spec  # noqa: E402
from dgx_pixels.image.regions import label_array  # noqa: E402
from dgx_pixels.sheets.slice import slice_components  # noqa: E402
from sheet_samples import figure  # noqa: E402
from timing import best_of  # noqa: E402


def main() -> None:
    frames = [torch.nn.functional.interpolate(figure(step=i % 3 - 1, lift=i % 4).permute(2, 0, 1)[None],
                                              size=(64, 64), mode="nearest")[0].permute(1, 2, 0) for i in range(64)]
    tags = parse_tag_spec("idle:8@120ms, walk_S:8, walk_E:8, walk_N:8, walk_W:8, run_E:8@60ms, attack:8 once, hurt:8")
    for options in ({}, {"layout": "packed"}, {"trim": True}, {"dedupe": True, "padding": 1, "extrude": 1}):
        seconds, (_, layout) = best_of(lambda: assemble_sheet(frames, tags, **options))
        print(f"assemble 64 frames of 64x64 {options or '(rows)'}: {seconds * 1000:.0f} ms -> "
              f"{layout.size[0]}x{layout.size[1]}")
    canvas = torch.zeros(256, 1024, 4)
    for i in range(16):
        y, x = (i // 8) * 128 + 20, (i % 8) * 128 + 10
        canvas[y:y + 64, x:x + 64] = frames[i]
    seconds, pieces = best_of(lambda: slice_components(canvas))
    print(f"slice 16 poses out of 1024x256 by transparency: {seconds * 1000:.0f} ms -> {len(pieces)} frames")
    snake = torch.zeros(256, 256, dtype=torch.bool)
    for row in range(0, 256, 4):
        snake[row, :] = True
        snake[row:row + 4, 255 if (row // 4) % 2 == 0 else 0] = True
    seconds, _ = best_of(lambda: label_array(snake.numpy()))
    print(f"label a 256x256 zig-zag (~16,000 pixels long): {seconds * 1000:.0f} ms")
    sheet, layout = assemble_sheet(frames, tags)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "game").mkdir()
        (root / "game" / "Cargo.toml").write_text('[dependencies]\nbevy = "0.19"\n')
        seconds, result = best_of(lambda: export_bevy(sheet, layout, "game", "hero", [root]), 1)
        size = sum(path.stat().st_size for path in result.files)
        print(f"Bevy export of the {layout.size[0]}x{layout.size[1]} sheet (render + safe write): "
              f"{seconds * 1000:.0f} ms, {len(result.files)} files, {size} bytes")


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
