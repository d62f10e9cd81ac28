"""PNG size and encode time of what the workflows write: sprite sheets from the sheet core and native pixel art (the
real art in the shared benchmark folder, as the clean-up workflow leaves it), each encoded every way, all lossless:

- rgba: Pillow RGBA with optimize=True (what DGX-Pixels wrote before indexed PNGs and oxipng)
- peers: Pillow's default save of the RGBA image (how unfake 1.0.7 and proper-pixel-art 2.0.0 write their PNGs)
- indexed: palette + tRNS when <= 256 colours, Pillow optimize=True, no oxipng
- rgba+oxipng: oxipng alone on the RGBA PNG
- ours: indexed + oxipng (png_bytes' defaults)

Every encoding is decoded and compared with the RGBA pixels it was given. Times are the best of --repeats runs
(steady state, one image); start-up is the first call of png_bytes in this process (import and first encode).

    python bench/png_bench.py [--art ../shared/bench/public_art] [--repeats 5]
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from sheet_samples import figure  # noqa: E402
from timing import best_of  # noqa: E402

DEFAULT_ART = ROOT.parent / "shared" / "bench" / "public_art"


def _pillow(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def encoders():
    from dgx_pixels.image.png import indexed, optimised, png_bytes
    return {
        "rgba": lambda rgba: _pillow(Image.fromarray(rgba, "RGBA"), optimize=True),
        "peers": lambda rgba: _pillow(Image.fromarray(rgba, "RGBA")),
        "indexed": lambda rgba: png_bytes(rgba, optimise=False),
        "rgba+oxipng": lambda rgba: optimised(_pillow(Image.fromarray(rgba, "RGBA"), compress_level=1)),
        "ours": png_bytes,
    }, indexed


def sheets() -> dict[str, np.ndarray]:
    """Sheets as the sheet core assembles them: a character's 8 animations of 8 frames at 64x64 (rows, padded),
    the same trimmed and packed, and a 47-tile blob tileset of 16x16 tiles."""
    from dgx_pixels.image.png import to_rgba8
    from dgx_pixels.sheets.assemble import assemble_sheet
    from dgx_pixels.sheets.frames import parse_tag_spec
    from dgx_pixels.sheets.tileset import assemble_tileset

    shirts = [(0.8, 0.2, 0.2), (0.2, 0.6, 0.3), (0.9, 0.7, 0.1), (0.3, 0.3, 0.8)]
    frames = [torch.nn.functional.interpolate(
        figure(step=i % 3 - 1, lift=i % 4, shirt=shirts[i // 16]).permute(2, 0, 1)[None], size=(64, 64),
        mode="nearest")[0].permute(1, 2, 0) for i in range(64)]
    tags = parse_tag_spec("idle:8@120ms, walk_S:8, walk_E:8, walk_N:8, walk_W:8, run_E:8@60ms, attack:8 once, hurt:8")
    rows, _ = assemble_sheet(frames, tags, padding=1)
    packed, _ = assemble_sheet(frames, tags, padding=1, trim=True, dedupe=True, layout="packed")
    generator = torch.Generator().manual_seed(11)
    palette = torch.rand(6, 4, generator=generator)
    palette[:, 3] = 1.0
    tiles = [palette[torch.randint(0, 6, (16, 16), generator=generator)] for _ in range(47)]
    tileset, _ = assemble_tileset(tiles, spacing=1, margin=1, autotile="blob 47")
    return {"character sheet 64x64x64 rows": to_rgba8(rows), "character sheet trimmed packed": to_rgba8(packed),
            "blob-47 tileset 16px": to_rgba8(tileset)}


def art(folder: Path) -> dict[str, np.ndarray]:
    found = {}
    for path in sorted(folder.glob("*.png")):
        with Image.open(path) as image:
            found[f"art {path.name}"] = np.ascontiguousarray(np.asarray(image.convert("RGBA")))
    return found


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--art", type=Path, default=DEFAULT_ART, help="folder of real pixel art PNGs")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    made, indexed = encoders()
    first = made["ours"](np.zeros((16, 16, 4), np.uint8))
    startup = time.perf_counter() - start
    assert decode(first).shape == (16, 16, 4)

    images = {**sheets(), **(art(args.art) if args.art.is_dir() else {})}
    names = list(made)
    print(f"start-up (import + first encode): {startup * 1000:.0f} ms; best of {args.repeats} runs per encode\n")
    print(f"| image | size | colours | {' | '.join(f'{n} bytes' for n in names)} | ours / rgba | ours / peers "
          f"| {' | '.join(f'{n} ms' for n in names)} |")
    print("|---|---|---|" + "---|" * (2 * len(names) + 2))
    totals = dict.fromkeys(names, 0)
    for label, rgba in images.items():
        colours = len(np.unique(rgba.reshape(-1, 4), axis=0))
        sizes, times = {}, {}
        for name, encode in made.items():
            seconds, data = best_of(lambda: encode(rgba), args.repeats)
            assert np.array_equal(decode(data), rgba), f"{name} changed pixels of {label}"
            sizes[name], times[name] = len(data), seconds
            totals[name] += len(data)
        print(f"| {label} | {rgba.shape[1]}x{rgba.shape[0]} | {colours}{'' if indexed(rgba) else ' (RGBA)'} | "
              + " | ".join(str(sizes[n]) for n in names)
              + f" | {sizes['ours'] / sizes['rgba']:.2f} | {sizes['ours'] / sizes['peers']:.2f} | "
              + " | ".join(f"{times[n] * 1000:.1f}" for n in names) + " |")
    print(f"| all {len(images)} | | | " + " | ".join(str(totals[n]) for n in names)
          + f" | {totals['ours'] / totals['rgba']:.2f} | {totals['ours'] / totals['peers']:.2f} |"
          + " |" * len(names))
    print(f"\nours saves {1 - totals['ours'] / totals['rgba']:.0%} over rgba (before), "
          f"{1 - totals['ours'] / totals['peers']:.0%} over the peers' save, "
          f"{1 - totals['ours'] / totals['indexed']:.0%} of it from oxipng over indexed alone")


if __name__ == "__main__":
    main()
