"""``dgx-pixels sheet | slice | tileset | export``: sprite sheets, tilesets and the engine exports (Bevy, Godot,
Phaser, PixiJS, Unity, LDtk, Aseprite JSON) from PNG files."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..common.files import write_atomic
from .files import check_output_folder, png_output, refuse_overwriting_inputs
from .options import (ImageInputs, add_image_input_options, fraction, non_negative_float, non_negative_int,
                      positive_int, size)


def _pivot(text: str) -> tuple[float, float]:
    try:
        x, y = (fraction(part) for part in text.split(","))
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a pivot like 0.5,1.0 (fractions from 0 to 1)") from None
    return x, y


# Option values are checked by the core (which needs torch): the parser stays importable without it.
def _sheet_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sheet")
    group.add_argument("--tags", default="", help="animations in frame order, e.g. 'idle:4@120ms, walk_E:8@80ms "
                                                 "pingpong' (default: untagged)")
    group.add_argument("--layout", default="rows", help="rows (one row per animation) or packed")
    group.add_argument("--columns", type=non_negative_int, default=0,
                       help="frames per row when packed (0: about square)")
    group.add_argument("--cell", type=size, default=(0, 0), metavar="WxH", help="cell size (default: automatic)")
    group.add_argument("--align", default="baseline", help="baseline (feet on one line), centre or pivot")
    group.add_argument("--pivot", type=_pivot, default=(0.5, 1.0), metavar="X,Y",
                       help="pivot as fractions of the frame, for --align pivot (default: 0.5,1.0)")
    group.add_argument("--padding", type=non_negative_int, default=0, help="pixels between frames")
    group.add_argument("--extrude", type=non_negative_int, default=0, help="edge pixels repeated around each frame")
    group.add_argument("--trim", action="store_true", help="store frames as tight as their opaque pixels")
    group.add_argument("--dedupe", action="store_true", help="identical frames share one rectangle")


def _tileset_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("tileset")
    group.add_argument("--spacing", type=non_negative_int, default=0, help="pixels between tiles (default: 0)")
    group.add_argument("--margin", type=non_negative_int, default=0, help="pixels around the tileset (default: 0)")
    group.add_argument("--tile-columns", type=non_negative_int, default=0, help="tiles per row (0: about square)")
    group.add_argument("--autotile", default="none", help="none, 'corner 16' or 'blob 47' (tiles in that order)")
    group.add_argument("--seam-tolerance", type=non_negative_float, default=1.5,
                       help="seam check tolerance (default: 1.5)")


# Each export target: its engine and the file that marks its project (None: any folder). The core's TARGETS holds
# the writers; these are the command line's words for them (it stays importable without torch).
ENGINE_TARGETS = {
    "bevy": ("Bevy", "a Cargo.toml that depends on bevy"),
    "godot": ("Godot 4", "project.godot"),
    "phaser": ("Phaser 3/4", None),
    "pixi": ("PixiJS 8", None),
    "unity": ("Unity", "ProjectSettings/ProjectVersion.txt"),
    "ldtk": ("LDtk", None),
    "aseprite": ("Aseprite JSON", None),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    sheet = subparsers.add_parser("sheet", help="assemble PNG frames into a sprite sheet (+ Aseprite JSON)")
    sheet.add_argument("frames", nargs="+", type=Path, action=ImageInputs,
                       help="frame images in order (files, or a folder of them)")
    sheet.add_argument("-o", "--output", type=Path, required=True, help="sheet PNG to write (OUT.json beside it)")
    _sheet_options(sheet)
    add_image_input_options(sheet)
    sheet.set_defaults(func=_sheet)

    tiles = subparsers.add_parser("tileset", help="assemble PNG tiles into a tileset (+ Tiled .tsx and JSON)")
    tiles.add_argument("tiles", nargs="+", type=Path, action=ImageInputs,
                       help="tile images in order, all one size (files, or a folder of them)")
    tiles.add_argument("-o", "--output", type=Path, required=True, help="tileset PNG to write (.tsx beside it)")
    _tileset_options(tiles)
    add_image_input_options(tiles)
    tiles.set_defaults(func=_tileset)

    cut = subparsers.add_parser("slice", help="cut one image of several poses into frame PNGs")
    cut.add_argument("image", type=Path, help="one image holding several poses")
    cut.add_argument("-o", "--output", type=Path, required=True, help="folder for <image>_000.png, ...")
    cut.add_argument("--by", choices=("grid", "transparency", "background"), default="transparency",
                     help="what separates the poses: a grid, transparency, or a flat backdrop colour "
                          "(default: %(default)s)")
    cut.add_argument("--grid-cell", type=size, default=(0, 0), metavar="WxH", help="grid cell size, for --by grid")
    cut.add_argument("--grid", type=size, default=(0, 0), metavar="COLSxROWS", help="grid column and row count")
    cut.add_argument("--min-size", type=positive_int, default=4, help="smallest shape kept, in opaque pixels")
    cut.add_argument("--gap", type=non_negative_int, default=1, help="parts this close belong to one pose")
    cut.add_argument("--key-colour", default="", help="backdrop colour for --by background (default: border)")
    cut.add_argument("--cell", type=size, default=(0, 0), metavar="WxH", help="output frame size (default: auto)")
    add_image_input_options(cut)
    cut.set_defaults(func=_slice)

    export = subparsers.add_parser("export", help="export to a game engine; recover or list previous versions")
    actions = export.add_subparsers(dest="export_command", metavar="ACTION", required=True)
    for target, (engine, marker) in ENGINE_TARGETS.items():
        action = actions.add_parser(target, help=f"assemble frames (or tiles) and export them to {engine}")
        action.add_argument("frames", nargs="+", type=Path, action=ImageInputs,
                            help="frame (or tile) images in order (files, or a folder of them)")
        action.add_argument("--project", required=True, type=Path,
                            help=f"the {engine} project folder (with {marker})" if marker else
                            "the game's folder (assets/ is written in it)")
        action.add_argument("--name", required=True, help="asset name (folder and file names)")
        action.add_argument("--folder", choices=("sprites", "tilesets", "items"), help="asset subfolder")
        action.add_argument("--tileset", action="store_true", help="the images are tiles: make a tileset")
        if marker:
            action.add_argument("--any-folder", action="store_true", help=f"allow a folder without {marker}")
        if target == "bevy":
            action.add_argument("--no-meta", action="store_true", help="do not write <name>.png.meta")
        if target == "aseprite":
            action.add_argument("--form", choices=("array", "hash"), default="array",
                                help="frames as a list (json-array) or keyed by name (json-hash)")
            action.add_argument("--frame-names", choices=("number", "aseprite"), default="number",
                                help="'0', '1'... (what Phaser and PixiJS look up) or Aseprite's 'NAME 0.png'")
        if target == "unity":
            action.add_argument("--pixels-per-unit", type=non_negative_int, default=0,
                                help="sprite pixels per Unity unit (0: one cell height is one unit)")
        action.add_argument("--rgba", action="store_true",
                            help="always write an RGBA PNG (default: indexed when the sheet has <= 256 colours)")
        action.add_argument("--no-optimise", action="store_true", help="skip the lossless oxipng pass (faster)")
        _sheet_options(action)
        _tileset_options(action)
        add_image_input_options(action, overwrites=False)
        action.set_defaults(func=_export, target=target)
    recover = actions.add_parser("recover", help="finish an export that was interrupted (crash, power loss)")
    recover.add_argument("project", type=Path, help="the game project folder")
    recover.set_defaults(func=_recover)
    history = actions.add_parser("history", help="list the kept previous versions of exported files")
    history.add_argument("project", type=Path, help="the game project folder")
    history.set_defaults(func=_history)


# ---------------------------------------------------------------------------------------------------- actions
def _load_frames(paths: list[Path], max_pixels: int | None):
    from ..image.io import load_images
    from ..sheets.assemble import frames_from_batches

    loaded = load_images(paths, "the frames", max_pixels)
    return frames_from_batches([image for image, _ in loaded], [mask for _, mask in loaded])


def _assemble(args: argparse.Namespace) -> int:
    from ..sheets.frames import parse_tag_spec
    from ..sheets.assemble import assemble_sheet

    tags = parse_tag_spec(args.tags) if args.tags.strip() else None
    return assemble_sheet(_load_frames(args.frames, args.max_pixels), tags, layout=args.layout, columns=args.columns,
                          cell=args.cell, align=args.align, pivot=args.pivot, padding=args.padding,
                          extrude=args.extrude, trim=args.trim, dedupe=args.dedupe)


def _assemble_tiles(args: argparse.Namespace, paths):
    from ..sheets.tileset import assemble_tileset

    return assemble_tileset(_load_frames(paths, args.max_pixels), args.tile_columns, args.spacing, args.margin,
                            args.autotile, args.seam_tolerance)


def _sheet(args: argparse.Namespace) -> int:
    from ..export.aseprite import aseprite_array
    from ..image.png import png_bytes, to_rgba8

    _check_outputs(args.frames, [args.output, args.output.with_suffix(".json")], args.force)
    sheet, layout = _assemble(args)
    write_atomic(args.output, png_bytes(to_rgba8(sheet)))
    data = aseprite_array(layout, args.output.name, args.output.stem)
    write_atomic(args.output.with_suffix(".json"), (json.dumps(data, indent=1) + "\n").encode())
    print(f"{args.output}: {layout.size[0]}x{layout.size[1]}, {len(layout.frames)} frames of "
          f"{layout.cell[0]}x{layout.cell[1]}, {len(layout.animations)} animations")
    return 0


def _tileset(args: argparse.Namespace) -> int:
    from ..image.png import png_bytes, to_rgba8
    from ..export.tiled import tileset_json, tileset_tsx

    name = args.output.stem
    _check_outputs(args.tiles, [args.output, args.output.with_suffix(".tsx"),
                                args.output.with_name(f"{name}.tileset.json")], args.force)
    sheet, layout = _assemble_tiles(args, args.tiles)
    write_atomic(args.output, png_bytes(to_rgba8(sheet)))
    write_atomic(args.output.with_suffix(".tsx"), tileset_tsx(layout, name, args.output.name).encode())
    write_atomic(args.output.with_name(f"{name}.tileset.json"),
           (json.dumps(tileset_json(layout, name, args.output.name), indent=1) + "\n").encode())
    seams = [str(tile.index) for tile in layout.tiles if not tile.seamless]
    print(f"{args.output}: {len(layout.tiles)} tiles, {layout.columns} columns; "
          + (f"seams in tiles {', '.join(seams)}" if seams else "every tile seamless"))
    return 0


def _slice(args: argparse.Namespace) -> int:
    from ..image.io import load_image
    from ..image.png import png_bytes, to_rgba8
    from ..sheets.slice import slice_sheet

    check_output_folder(args.output)
    image, mask = load_image(args.image, args.max_pixels)
    separate_by = "background colour" if args.by == "background" else args.by
    cells, placement = slice_sheet(image, mask, separate_by, grid_cell=args.grid_cell, grid_columns=args.grid[0],
                                   grid_rows=args.grid[1], min_size=args.min_size, join_gap=args.gap,
                                   key_colour=args.key_colour, cell=args.cell)
    targets = [args.output / f"{args.image.stem}_{number:03d}.png" for number in range(len(cells))]
    refuse_overwriting_inputs([args.image], targets, args.force)
    for target, cell in zip(targets, cells):
        write_atomic(target, png_bytes(to_rgba8(cell)))
    print(f"{args.output}: {len(cells)} frames of {placement.cell[0]}x{placement.cell[1]}")
    return 0


def _check_outputs(inputs: list[Path], outputs: list[Path], force: bool) -> None:
    """Before any work: the image is a .png, and no output lands on an input (unless --force)."""
    png_output(outputs[0])
    check_output_folder(outputs[0].parent)
    refuse_overwriting_inputs(inputs, outputs, force)


def _project_roots(project: Path) -> list[Path]:
    """The command line writes where its user points: the project folder (plus DGX_PIXELS_EXPORT_ROOTS)."""
    from ..export.paths import project_roots

    return project_roots(project)


def _export(args: argparse.Namespace) -> int:
    from ..export.core import ExportOptions, export_asset
    from ..export.paths import check_name

    roots = _project_roots(args.project)
    check_name(args.name)
    options = ExportOptions(require_project=not getattr(args, "any_folder", False),
                            palette_png=not args.rgba, optimise_png=not args.no_optimise,
                            png_meta=not getattr(args, "no_meta", False),
                            aseprite_form=getattr(args, "form", "array"),
                            frame_names=getattr(args, "frame_names", "number"),
                            pixels_per_unit=getattr(args, "pixels_per_unit", 0))
    sheet, layout = _assemble_tiles(args, args.frames) if args.tileset else _assemble(args)
    result = export_asset(args.target, sheet, layout, str(roots[0]), args.name, roots, kind=args.folder,
                          options=options)
    for message in result.write.set_aside:
        print(f"dgx-pixels export: warning: {message}", file=sys.stderr)
    for path in result.write.recovered:
        print(f"finished an interrupted export: {path}")
    for path in result.files:
        state = "unchanged" if path in result.write.unchanged else "written"
        print(f"{state}: {path}")
    if result.write.history:
        print(f"previous version kept in {result.write.history}")
    print()
    print(result.snippet, end="")
    return 0


def _recover(args: argparse.Namespace) -> int:
    from ..export.safe_write import recover

    roots = _project_roots(args.project)
    recovery = recover(roots[0], roots)
    for message in recovery.set_aside:
        print(f"dgx-pixels export: warning: {message}", file=sys.stderr)
    print("\n".join(f"restored: {path}" for path in recovery.restored) or "nothing to recover")
    return 0


def _history(args: argparse.Namespace) -> int:
    from ..export.journal import history

    roots = _project_roots(args.project)
    listing = history(roots[0].resolve())
    for problem in listing.skipped:
        print(f"dgx-pixels export: warning: {problem}; skipped", file=sys.stderr)
    entries = listing.entries
    for entry in entries:
        files = ", ".join(f"{name} ({info['sha256'][:12]})" for name, info in entry["files"].items())
        print(f"{entry['saved_at']}  {entry['asset']}: {files}\n    {entry['path']}")
    if not entries:
        print("no previous versions kept")
    return 0
