"""``dgx-pixels palette``: list, extract, apply and convert palettes without a ComfyUI server."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..common.errors import InputError
from .options import ImageInputs, add_image_input_options, check_colours, fraction, non_negative_int
from .progress import about, run_per_file

DITHER_HELP = "none (default), 'bayer 2', 'bayer 4', 'bayer 8', floyd-steinberg or atkinson"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("palette", help="list, extract, apply and convert palettes")
    actions = parser.add_subparsers(dest="palette_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="the built-in palettes (and palette files in a folder)")
    listing.add_argument("--dir", type=Path, help="also list palette files in this folder")
    listing.set_defaults(func=_list)

    extract = actions.add_parser("extract", help="one palette for all inputs, saved as .hex/.gpl/.pal/.txt")
    extract.add_argument("inputs", nargs="+", type=Path, metavar="IN", action=ImageInputs,
                         help="images (files, or a folder of them); one palette for all")
    extract.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                         help="palette file to write: .hex, .gpl, .pal or .txt")
    extract.add_argument("--colours", "--colors", type=non_negative_int, default=16,
                         help="colour count; 0 = automatic")
    extract.add_argument("--seed", type=non_negative_int, default=0, help="seed of the colour fit (default: 0)")
    extract.add_argument("--keep", nargs="*", default=[], metavar="HEX", help="colours that must be in it")
    add_image_input_options(extract, overwrites=False)
    extract.set_defaults(func=_extract)

    apply = actions.add_parser("apply", help="repaint images with a palette (given, or extracted per image)")
    apply.add_argument("inputs", nargs="+", type=Path, metavar="IN", action=ImageInputs,
                       help="images (files, or a folder of them)")
    apply.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                       help="a file for one input, else a folder (results keep their input's name, as .png)")
    source = apply.add_mutually_exclusive_group(required=True)
    source.add_argument("--colours", "--colors", type=non_negative_int,
                        help="extract this many colours (per image, or for all with --lock)")
    source.add_argument("--palette", help="a built-in palette name or a palette file")
    apply.add_argument("--lock", action="store_true", help="with --colours: one palette for all inputs")
    apply.add_argument("--seed", type=non_negative_int, default=0, help="seed of the colour fit (default: 0)")
    apply.add_argument("--dither", default="none", help=DITHER_HELP)
    apply.add_argument("--strength", type=fraction, default=1.0, help="dithering strength, 0 to 1 (default: 1)")
    add_image_input_options(apply)
    apply.set_defaults(func=_apply)

    convert = actions.add_parser("convert", help="convert a palette file (or a built-in) to another format")
    convert.add_argument("source", help="palette file or built-in name")
    convert.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                         help="palette file to write: .hex, .gpl, .pal or .txt")
    convert.add_argument("--force", action="store_true", help="allow the output to replace the source file")
    convert.set_defaults(func=_convert)


def _list(args: argparse.Namespace) -> int:
    from ..palette.builtin import BUILTIN_NAMES, builtin_palette

    for name in BUILTIN_NAMES:
        print(f"{name:16} {len(builtin_palette(name)):3} colours")
    if args.dir:
        from ..palette.files import READ_SUFFIXES, read_palette

        for path in sorted(p for p in args.dir.iterdir() if p.suffix.lower() in READ_SUFFIXES):
            try:
                print(f"{path.name:16} {len(read_palette(path)):3} colours")
            except InputError as err:
                print(f"dgx-pixels palette: {about(path, str(err))}", file=sys.stderr)
    return 0


def _extract(args: argparse.Namespace) -> int:
    import torch

    from ..palette import files as palette_files
    from ..palette.distinct import distinct_colours_of_files
    from ..palette.extract import extract_palette
    from ..palette.palette import Palette

    torch.set_grad_enabled(False)
    check_colours(args.colours)
    palette_files.check_palette_output(args.output)
    keep = Palette.from_hex("kept", args.keep) if args.keep else None
    palette = extract_palette(None, None, args.colours, args.seed, keep, name=args.output.stem,
                              distinct=distinct_colours_of_files(args.inputs, args.max_pixels))
    palette_files.write_palette(palette, args.output)
    print(f"{args.output}: {len(palette)} colours: {' '.join(palette.hex())}")
    return 0


def _apply(args: argparse.Namespace) -> int:
    import torch

    from ..image import io as imageio
    from ..palette import files as palette_files
    from ..palette.apply import nearest_for_distinct, palette_indices
    from ..palette.distinct import distinct_colours_of_files, distinct_from_packed, packed_from_bytes
    from ..palette.dither import DITHERS
    from ..palette.extract import extract_palette
    from .files import output_paths

    torch.set_grad_enabled(False)
    if args.dither not in DITHERS:
        raise InputError(f"--dither must be one of {', '.join(DITHERS)}, got {args.dither!r}")
    check_colours(args.colours)
    targets = output_paths(args.inputs, args.output, args.force)
    fixed = palette_files.palette_from_argument(args.palette) if args.palette else None
    if args.colours is not None and args.lock:
        fixed = extract_palette(None, None, args.colours, args.seed,
                                distinct=distinct_colours_of_files(args.inputs, args.max_pixels))

    def recolour(source: Path, target: Path) -> None:
        rgba = imageio.load_rgba_bytes(source, args.max_pixels)
        transparent = rgba[..., 3] < 128
        mask = transparent.to(torch.float32) if bool(transparent.any()) else None
        # Undithered, each distinct colour is decided once: the pixels' bytes are all that is needed.
        distinct = distinct_from_packed(packed_from_bytes(rgba), mask)
        palette = fixed or extract_palette(None, None, args.colours, args.seed, distinct=distinct)
        if args.dither == "none":
            index = nearest_for_distinct(distinct, palette)
        else:
            index = palette_indices(rgba[..., :3] / 255.0, palette, args.dither, args.strength)
        if len(palette) < 256:
            imageio.save_indexed_png(target, index[0], list(palette.colours), None if mask is None else mask[0])
        else:
            imageio.save_png(target, palette.tensor()[index[0]], None if mask is None else mask[0])

    return run_per_file(recolour, args.inputs, targets, "palette")


def _convert(args: argparse.Namespace) -> int:
    from ..palette import files as palette_files

    from .files import refuse_overwriting_inputs

    palette_files.check_palette_output(args.output)
    refuse_overwriting_inputs([Path(args.source).expanduser()], [args.output], args.force)
    palette = palette_files.palette_from_argument(args.source)
    palette_files.write_palette(palette, args.output)
    print(f"{args.output}: {len(palette)} colours")
    return 0
