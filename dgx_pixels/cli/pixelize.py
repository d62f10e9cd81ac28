"""``dgx-pixels pixelize``: AI pixel art files -> true pixel art at native size, with no ComfyUI server."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..common.errors import InputError
from .files import output_paths
from .options import (ImageInputs, add_image_input_options, check_colours, fraction, non_negative_int, positive_float,
                      size_or_width)
from .progress import Progress, run_per_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pixelize", help="recover the true pixel grid of AI pixel art and save it at its native size",
        description="OUT is a file when there is one input and OUT has an image suffix; otherwise a folder that "
                    "receives each result under its input's name (as .png).")
    parser.add_argument("inputs", nargs="+", type=Path, metavar="IN", action=ImageInputs,
                        help="AI pixel art or upscaled sprites (files, or a folder of them)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                        help="a .png for one input, else a folder (each result named for its input)")
    parser.add_argument("--size", default="", type=size_or_width, metavar="WxH",
                        help="snap to exactly this size (or a width alone)")
    parser.add_argument("--lock", action="store_true",
                        help="one grid for all inputs (frames of one character; they must share a size)")
    parser.add_argument("--reducer", default="majority",
                        help="how a cell's colour is chosen: majority (default), median, k-centroid or centre")
    parser.add_argument("--min-cell", type=positive_float, default=4.0, help="smallest cell size in input pixels")
    parser.add_argument("--max-cell", type=positive_float, default=256.0, help="largest cell size in input pixels")
    parser.add_argument("--alpha-threshold", type=fraction, default=0.5,
                        help="a cell is transparent when more than this share of it is")
    colours = parser.add_mutually_exclusive_group()
    colours.add_argument("--colours", "--colors", type=non_negative_int, metavar="N",
                         help="reduce to N colours (0: automatic), one palette for every input (extracted once "
                              "from all of them)")
    colours.add_argument("--palette", metavar="NAME|FILE",
                         help="repaint every input with a built-in palette or a palette file")
    parser.add_argument("--snap-palette", action="store_true",
                        help="with --colours 0: when the recovered colours are those of a built-in palette (each "
                             "within a few levels of one of its colours, e.g. PICO-8), take that palette's exact "
                             "colours")
    add_image_input_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..image import io as imageio
    from ..pixel.downscale import REDUCERS, downscale

    torch.set_grad_enabled(False)
    if args.reducer not in REDUCERS:
        raise InputError(f"--reducer must be one of {', '.join(REDUCERS)}, got {args.reducer!r}")
    if args.min_cell > args.max_cell:
        raise InputError(f"--min-cell {args.min_cell:g} is above --max-cell {args.max_cell:g}")
    check_colours(args.colours)
    if args.snap_palette and args.colours != 0:
        raise InputError("--snap-palette works with --colours 0 (the recovered palette is what it matches)")
    targets = output_paths(args.inputs, args.output, args.force)
    options = dict(reducer=args.reducer, alpha_threshold=args.alpha_threshold, target_size=args.size,
                   min_cell=args.min_cell, max_cell=args.max_cell)
    if args.lock:
        frames = imageio.load_images(args.inputs, "the inputs of --lock", args.max_pixels)
        sizes = {tuple(image.shape[1:3]) for image, _ in frames}
        if len(sizes) > 1:
            raise InputError("--lock needs inputs of one size; got " +
                             ", ".join(f"{w}x{h}" for h, w in sorted(sizes)))
        image = torch.cat([image for image, _ in frames])
        mask = torch.cat([mask for _, mask in frames])
        native, native_mask, grids = downscale(image, mask, lock=True, **options)
        # the intended palette is found on the recovered cells (each has voted), a given size on the inputs
        palette = (_matched_builtin(args, _locked_palette(args, native, native_mask)) if args.colours == 0
                   else _locked_palette(args, image, mask))
        _report_grid(grids, "all inputs")
        native = _recolour(native, native_mask, palette)
        progress = Progress(len(targets), "pixelize")
        for index, target in enumerate(targets):
            imageio.save_png(target, native[index], native_mask[index])
            progress.advance(target.name)
        return 0

    if args.colours == 0:
        return _pixelize_with_intended_palette(args, targets, options)
    palette = _locked_palette(args)

    def pixelize_file(source: Path, target: Path) -> None:
        image, mask = imageio.load_image(source, args.max_pixels)
        native, native_mask, grids = downscale(image, mask, **options)
        _report_grid(grids, str(source))
        imageio.save_png(target, _recolour(native, native_mask, palette)[0], native_mask[0])

    return run_per_file(pixelize_file, args.inputs, targets, "pixelize")


def _pixelize_with_intended_palette(args: argparse.Namespace, targets: list[Path], options: dict) -> int:
    """--colours 0: every input recovered first, then one intended palette found on all the recovered art
    together (each cell has voted, so noise inside cells never becomes a colour), then each result written."""
    import torch

    from ..image import io as imageio
    from ..palette.apply import quantize_batch
    from ..pixel.downscale import downscale

    results, failed = [], False
    for source, target in zip(args.inputs, targets):
        try:
            image, mask = imageio.load_image(source)
            native, native_mask, grids = downscale(image, mask, **options)
        except InputError as err:
            print(f"dgx-pixels pixelize: {source}: {err}", file=sys.stderr)
            failed = True
            continue
        _report_grid(grids, str(source))
        results.append((target, native, native_mask))
    if not results:
        return 1
    pixels = torch.cat([native.reshape(1, -1, 1, 3) for _, native, _ in results], dim=1)
    masks = torch.cat([native_mask.reshape(1, -1, 1) for _, _, native_mask in results], dim=1)
    _, palette = quantize_batch(pixels, masks, colours=0)
    palette = _matched_builtin(args, palette)
    print(f"dgx-pixels pixelize: intended palette: {len(palette)} colours: {' '.join(palette.hex())}",
          file=sys.stderr)
    for target, native, native_mask in results:
        imageio.save_png(target, _recolour(native, native_mask, palette)[0], native_mask[0])
    return 1 if failed else 0


def _matched_builtin(args: argparse.Namespace, palette):
    """The recovered palette, or with --snap-palette the built-in palette it matches; either way says which
    built-in palette it looks like, if any."""
    from ..palette.intended import matching_builtin

    builtin = matching_builtin(palette)
    if builtin is None:
        return palette
    if not args.snap_palette:
        print(f"dgx-pixels pixelize: the recovered colours look like {builtin.name}: --snap-palette takes its exact "
              "colours", file=sys.stderr)
        return palette
    print(f"dgx-pixels pixelize: the recovered colours are {builtin.name}: snapped to its exact colours",
          file=sys.stderr)
    return builtin


def _locked_palette(args: argparse.Namespace, image=None, mask=None):
    """The one palette every output ends on: given (--palette), or extracted once from the opaque pixels of all
    inputs together (--colours), so that the frames of a character share their colours; None without either.
    ``image`` and ``mask``: the inputs already loaded as one batch (else the files are read for their colours)."""
    from ..palette import files as palette_files
    from ..palette.distinct import distinct_colours_of_files
    from ..palette.extract import extract_palette

    if args.palette:
        return palette_files.palette_from_argument(args.palette)
    if args.colours is None:
        return None
    if image is None:
        return extract_palette(None, None, args.colours,
                               distinct=distinct_colours_of_files(args.inputs, args.max_pixels))
    return extract_palette(image, mask, args.colours)


def _recolour(native, native_mask, palette):
    from ..palette.apply import quantize_batch

    return native if palette is None else quantize_batch(native, native_mask, palette=palette)[0]


def _report_grid(grids, what: str) -> None:
    if grids.confidence <= 0:
        print(f"dgx-pixels pixelize: warning: {what}: no pixel grid found, passed through at full size",
              file=sys.stderr)
