"""Sprite-sheet and tileset nodes: assemble frames into a tagged sheet, slice a multi-pose image into frames, and
lay tiles out as a tileset with a seam check."""
from __future__ import annotations

import torch

from comfy_api.latest import io

from ..dgx_pixels.image.ops import split_alpha
from ..dgx_pixels.sheets import tileset
from ..dgx_pixels.sheets.align import ALIGNMENTS, MAX_SPACING
from ..dgx_pixels.sheets.assemble import LAYOUTS, MAX_EXTRUDE, assemble_sheet, frames_from_batches
from ..dgx_pixels.sheets.layout import SheetLayout
from ..dgx_pixels.sheets.slice import SLICE_MODES, slice_sheet
from ..dgx_pixels.sheets.frames import Frame, coerce_frames, parse_tag_spec
from . import previews
from .runtime import CATEGORY, check_interrupt, node_id, to_compute, to_output, user_errors
from .types import FRAMES, GRID, SHEET, TERRAIN

SUBCATEGORY = f"{CATEGORY}/sheets"


def _first(value, default=None):
    """A widget value under is_input_list arrives as a one-item list."""
    if isinstance(value, list):
        return value[0] if value else default
    return value


def _split(rgba: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``[..., H, W, 4]`` RGBA -> IMAGE and MASK (1 = transparent) on the intermediate device."""
    image, mask = split_alpha(rgba)
    return to_output(image.contiguous()), to_output(mask.contiguous())


def _tags(spec: str, frame_tags) -> list[Frame]:
    """The typed tag spec wins over connected FRAMES; neither gives untagged frames."""
    return parse_tag_spec(spec) if spec and spec.strip() else coerce_frames(frame_tags)


class AssembleSpriteSheet(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("AssembleSpriteSheet"),
            display_name="Assemble Sprite Sheet",
            category=SUBCATEGORY,
            description="Lays animation frames out on one sprite sheet, lined up (feet on one line), with the "
                        "animation tags a game needs. Frames may be one batch, or a list of different sizes.",
            is_input_list=True,
            inputs=[
                io.Image.Input("frames", tooltip="The animation frames, in order (a batch, or a list when sizes "
                                                 "differ). RGBA images keep their alpha."),
                io.String.Input("tags", default="", multiline=True,
                                tooltip="Animations in frame order, e.g. 'idle:4@120ms, walk_E:8@80ms pingpong, "
                                        "attack:5@12fps once'. Overrides connected frame tags; empty: use them."),
                io.Combo.Input("layout", options=list(LAYOUTS), default="rows",
                               tooltip="rows: one row per animation (easy to read and to index). packed: frames in "
                                       "reading order, wrapped at 'columns'."),
                io.Int.Input("columns", default=0, min=0, max=4096,
                             tooltip="Frames per row for the packed layout; 0 makes the sheet about square."),
                io.Int.Input("cell_width", default=0, min=0, max=8192,
                             tooltip="Width of every frame's cell; 0 = automatic (the largest frame)."),
                io.Int.Input("cell_height", default=0, min=0, max=8192,
                             tooltip="Height of every frame's cell; 0 = automatic (the largest frame)."),
                io.Combo.Input("align", options=list(ALIGNMENTS), default="baseline",
                               tooltip="baseline: the lowest opaque row of every frame on one line (no bobbing "
                                       "feet), centred by mass. centre: the middle of each sprite on the cell "
                                       "centre. pivot: the pivot point of every frame on one spot (same-size "
                                       "frames stay as drawn)."),
                io.Float.Input("pivot_x", default=0.5, min=0.0, max=1.0, step=0.01,
                               tooltip="Pivot alignment: the pivot across each frame (0 left, 0.5 middle, 1 right)."),
                io.Float.Input("pivot_y", default=1.0, min=0.0, max=1.0, step=0.01,
                               tooltip="Pivot alignment: the pivot down each frame (0 top, 1 bottom = feet)."),
                io.Int.Input("padding", default=0, min=0, max=MAX_SPACING,
                             tooltip="Transparent pixels between frames."),
                io.Int.Input("extrude", default=0, min=0, max=MAX_EXTRUDE,
                             tooltip="Repeat each frame's edge pixels this far outwards, so a game that filters "
                                     "or scales never bleeds a neighbour's pixels in. 0 for pure pixel art."),
                io.Boolean.Input("trim", default=False,
                                 tooltip="Store each frame as tight as its opaque pixels (smaller sheet); the "
                                         "offsets are kept so frames still line up. Not a plain grid then."),
                io.Boolean.Input("dedupe", default=False,
                                 tooltip="Identical frames share one spot on the sheet (animations point to it)."),
                io.Mask.Input("mask", optional=True, tooltip="Transparency of the frames (1 = transparent)."),
                FRAMES.Input("frame_tags", optional=True,
                             tooltip="Frame tags from a pose batch (animation, direction, duration, loop mode)."),
                GRID.Input("grid", optional=True,
                           tooltip="The GRID the frames were downscaled with (Detect Pixel Grid): the pose batch's "
                                   "sockets and hitboxes follow the frames' pixels through it exactly. Without it "
                                   "they are scaled by the size ratio."),
            ],
            outputs=[
                io.Image.Output(display_name="sheet"),
                io.Mask.Output(display_name="mask"),
                SHEET.Output(display_name="SHEET"),
            ],
        )

    @classmethod
    def execute(cls, frames, tags, layout, columns, cell_width, cell_height, align, pivot_x, pivot_y, padding,
                extrude, trim, dedupe, mask=None, frame_tags=None, grid=None) -> io.NodeOutput:
        with user_errors("Assemble Sprite Sheet"):
            masks = [to_compute(m) for m in (mask or [])]
            rgba_frames = frames_from_batches([to_compute(image) for image in frames], masks)
            check_interrupt()
            sheet, sheet_layout = assemble_sheet(
                rgba_frames, _tags(_first(tags, ""), frame_tags), layout=_first(layout), columns=_first(columns),
                cell=(_first(cell_width), _first(cell_height)), align=_first(align),
                pivot=(_first(pivot_x), _first(pivot_y)), padding=_first(padding), extrude=_first(extrude),
                trim=_first(trim), dedupe=_first(dedupe), grids=_first(grid))
            image, alpha = _split(sheet[None])
            return io.NodeOutput(image, alpha, sheet_layout, ui=previews.sheet_player(cls, sheet, sheet_layout))


class SliceSpriteSheet(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("SliceSpriteSheet"),
            display_name="Slice Sprite Sheet",
            category=SUBCATEGORY,
            description="Cuts one image with several poses into separate frames (by a grid, or by finding each "
                        "separate sprite), all the same size and standing on one baseline.",
            inputs=[
                io.Image.Input("image", tooltip="A sheet or a generated image with several poses."),
                io.Combo.Input("separate_by", options=list(SLICE_MODES), default="transparency",
                               tooltip="grid: equal cells. transparency: each separate opaque shape is a pose. "
                                       "background colour: the plain backdrop colour separates the poses."),
                io.Int.Input("grid_cell_width", default=0, min=0, max=8192,
                             tooltip="Grid: cell width in pixels (0: from the column count)."),
                io.Int.Input("grid_cell_height", default=0, min=0, max=8192,
                             tooltip="Grid: cell height in pixels (0: from the row count)."),
                io.Int.Input("grid_columns", default=0, min=0, max=4096,
                             tooltip="Grid: number of columns (0: as many cells as fit)."),
                io.Int.Input("grid_rows", default=0, min=0, max=4096,
                             tooltip="Grid: number of rows (0: as many cells as fit)."),
                io.Int.Input("grid_padding", default=0, min=0, max=MAX_SPACING,
                             tooltip="Grid: pixels between cells."),
                io.Int.Input("grid_offset", default=0, min=0, max=MAX_SPACING,
                             tooltip="Grid: pixels before the first cell (top and left)."),
                io.Int.Input("min_size", default=4, min=1, max=1_000_000,
                             tooltip="Shapes with fewer opaque pixels than this are specks, not poses."),
                io.Int.Input("join_gap", default=1, min=0, max=64,
                             tooltip="Parts up to this many pixels apart belong to one pose (a sword held clear "
                                     "of the hand)."),
                io.String.Input("key_colour", default="",
                                tooltip="Background colour mode: the backdrop as hex (#00ff00); empty reads it "
                                        "from the image border."),
                io.Float.Input("tolerance", default=0.12, min=0.0, max=1.0, step=0.01,
                               tooltip="Background colour mode: how far a colour may be from the backdrop."),
                io.Int.Input("cell_width", default=0, min=0, max=8192,
                             tooltip="Width of the output frames; 0 = automatic (the largest pose)."),
                io.Int.Input("cell_height", default=0, min=0, max=8192,
                             tooltip="Height of the output frames; 0 = automatic (the largest pose)."),
                io.Combo.Input("align", options=list(ALIGNMENTS), default="baseline",
                               tooltip="baseline: feet on one line. centre: sprites centred. pivot: cells kept as "
                                       "cut (grid)."),
                io.String.Input("tags", default="", multiline=True,
                                tooltip="Optional animations for the frames, e.g. 'idle:2, walk:6@80ms pingpong'."),
                io.Mask.Input("mask", optional=True, tooltip="Transparency of the image (1 = transparent)."),
            ],
            outputs=[
                io.Image.Output(display_name="frames"),
                io.Mask.Output(display_name="mask"),
                FRAMES.Output(display_name="frame_tags"),
                io.Int.Output(display_name="count"),
            ],
        )

    @classmethod
    def execute(cls, image, separate_by, grid_cell_width, grid_cell_height, grid_columns, grid_rows, grid_padding,
                grid_offset, min_size, join_gap, key_colour, tolerance, cell_width, cell_height, align, tags,
                mask=None) -> io.NodeOutput:
        with user_errors("Slice Sprite Sheet"):
            cells, _ = slice_sheet(to_compute(image), to_compute(mask), separate_by,
                                   grid_cell=(grid_cell_width, grid_cell_height), grid_columns=grid_columns,
                                   grid_rows=grid_rows, grid_padding=grid_padding, grid_offset=grid_offset,
                                   min_size=min_size, join_gap=join_gap, key_colour=key_colour, tolerance=tolerance,
                                   cell=(cell_width, cell_height), align=align, before_each=check_interrupt)
            frame_tags = parse_tag_spec(tags) if tags.strip() else [Frame("all", i) for i in range(len(cells))]
            preview, preview_layout = assemble_sheet(list(cells), frame_tags, align="pivot")
            frames_image, frames_mask = _split(cells)
            return io.NodeOutput(frames_image, frames_mask, frame_tags, len(cells),
                                 ui=previews.sheet_player(cls, preview, preview_layout))


class AssembleTileset(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("AssembleTileset"),
            display_name="Assemble Tileset",
            category=SUBCATEGORY,
            description="Lays same-size tiles out as a tileset image (Tiled's margin and spacing), records the tile "
                        "order and checks each tile for seams when it repeats.",
            inputs=[
                io.Image.Input("tiles", tooltip="The tiles, in order (tile 0 first), all the same size."),
                io.Int.Input("columns", default=0, min=0, max=4096,
                             tooltip="Tiles per row; 0 = about square (4 for a corner 16 or platformer set, 8 for "
                                     "blob 47)."),
                io.Int.Input("spacing", default=0, min=0, max=MAX_SPACING,
                             tooltip="Pixels between tiles (Tiled's spacing; Bevy's padding). 0 is the safe default."),
                io.Int.Input("margin", default=0, min=0, max=MAX_SPACING,
                             tooltip="Pixels around the whole tileset (Tiled's margin; Bevy's offset)."),
                io.Combo.Input("autotile", options=list(tileset.AUTOTILE_SETS), default="none",
                               tooltip="The tiles form an autotile set in the standard order: corner 16 (tile i has "
                                       "corner mask i), blob 47 or platformer (side view). Writes Tiled terrain "
                                       "(wang) data on export."),
                io.Float.Input("seam_tolerance", default=1.5, min=0.0, max=100.0, step=0.1,
                               tooltip="A tile counts as seamless when its wrap-around edges differ no more than "
                                       "this many times its own neighbouring pixels do."),
                io.Mask.Input("mask", optional=True, tooltip="Transparency of the tiles (1 = transparent)."),
                TERRAIN.Input("terrain", optional=True,
                              tooltip="A terrain set from Terrain Transitions: its order, each tile's mask "
                                      "(variants included) and its two terrains (Tiled colours) replace "
                                      "autotile."),
            ],
            outputs=[
                io.Image.Output(display_name="tileset"),
                io.Mask.Output(display_name="mask"),
                SHEET.Output(display_name="SHEET"),
                io.String.Output(display_name="seam_report"),
            ],
        )

    @classmethod
    def execute(cls, tiles, columns, spacing, margin, autotile, seam_tolerance, mask=None,
                terrain=None) -> io.NodeOutput:
        with user_errors("Assemble Tileset"):
            rgba_tiles = frames_from_batches([to_compute(tiles)], [to_compute(mask)])
            masks, terrains = None, ()
            if terrain is not None:
                autotile, masks, terrains = terrain.order, terrain.masks, terrain.map_terrains
            sheet, layout = tileset.assemble_tileset(rgba_tiles, columns, spacing, margin, autotile, seam_tolerance,
                                                     masks, terrains)
            report = tileset_report(layout)
            image, alpha = _split(sheet[None])
            return io.NodeOutput(image, alpha, layout, report, ui={"text": [report]})


def tileset_report(layout: SheetLayout) -> str:
    seamless = sum(tile.seamless for tile in layout.tiles)
    lines = [f"{len(layout.tiles)} tiles of {layout.cell[0]}x{layout.cell[1]}, {layout.columns} columns; "
             f"{seamless} seamless"]
    for tile in layout.tiles:
        mask = f", mask {tile.mask}" if tile.mask is not None else ""
        verdict = "seamless" if tile.seamless else "SEAM"
        lines.append(f"tile {tile.index}: {verdict} (wrap-around edges x {tile.seam_x:.3f}, y {tile.seam_y:.3f}; "
                     f"inside x {tile.neighbour_x:.3f}, y {tile.neighbour_y:.3f}){mask}")
    return "\n".join(lines)


NODES = [AssembleSpriteSheet, SliceSpriteSheet, AssembleTileset]
