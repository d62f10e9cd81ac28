"""Frames and their tags -> one RGBA sprite sheet and its layout."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..common.errors import InputError
from ..common.limits import check_batch_pixels
from ..image.ops import check_image, check_mask, join_alpha, split_alpha
from .align import align_frames, check_frames, check_spacing, measure_content
from .frames import Frame, TagRun, tag_runs
from .layout import ASSET_KINDS, Rect, SheetAnimation, SheetFrame, SheetLayout, grid_rects
from .sockets import place_marks

LAYOUTS = ("rows", "packed")  # one row per animation, or frames in reading order wrapped at a column count

MAX_EXTRUDE = 64


def frames_from_batches(images: list[torch.Tensor], masks: list[torch.Tensor | None]) -> list[torch.Tensor]:
    """IMAGE batches (C = 3 or 4) with optional MASKs (1 = transparent) -> a flat list of RGBA frames."""
    frames: list[torch.Tensor] = []
    for number, image in enumerate(images):
        what = "frames" if len(images) == 1 else f"frames (list item {number + 1})"
        image = check_image(image, what)
        rgb, own_alpha_mask = split_alpha(image)
        mask = masks[number] if number < len(masks) else None
        mask = torch.maximum(check_mask(mask, rgb, f"mask of {what}"), own_alpha_mask.to(rgb.dtype))
        frames.extend(join_alpha(rgb, mask).unbind(0))
    return frames


def unique_frames(cells: torch.Tensor) -> list[int]:
    """For each cell, the position of the first identical cell (itself when new); compares 8-bit pixels."""
    quantised = (cells.clamp(0, 1) * 255).round().to(torch.uint8).reshape(cells.shape[0], -1)
    _, inverse = torch.unique(quantised, dim=0, return_inverse=True)
    first_of: dict[int, int] = {}
    return [first_of.setdefault(group, position) for position, group in enumerate(inverse.tolist())]


def _cell_boxes(cells: torch.Tensor) -> list[Rect]:
    """Tight opaque rectangle of each cell (a 1x1 corner for an empty cell)."""
    contents = measure_content(list(cells))
    return [Rect(b[0], b[1], b[2] - b[0], b[3] - b[1]) if b else Rect(0, 0, 1, 1)
            for b in (c.box for c in contents)]


def _marks(tags: list[Frame], position: int, frame: torch.Tensor, offset: tuple[int, int], grids) -> tuple:
    """The tag's sockets and hitboxes in the frame's cell (none without tags or marks)."""
    tag = tags[position] if tags else None
    if tag is None or not (tag.sockets or tag.hitboxes):
        return (), ()
    grid = grids.for_image(position) if grids is not None and (grids.locked or position < len(grids.grids)) else None
    return place_marks(tag.sockets, tag.hitboxes, tag.space, (frame.shape[1], frame.shape[0]), offset, grid)


def _slot_rows(runs: list[TagRun], first: list[int], layout: str, columns: int) -> list[list[int]]:
    """Distinct frames (by input position) grouped into sheet rows."""
    distinct = [position for position, original in enumerate(first) if original == position]
    if layout == "rows":
        rows = [[p for p in distinct if run.start <= p <= run.end] for run in runs]
        return [row for row in rows if row]
    per_row = columns or max(1, math.ceil(math.sqrt(len(distinct))))
    return [distinct[i:i + per_row] for i in range(0, len(distinct), per_row)]


def assemble_sheet(
    frames: list[torch.Tensor],
    tags: list[Frame] | None = None,
    *,
    layout: str = "rows",
    columns: int = 0,
    cell: tuple[int, int] = (0, 0),
    align: str = "baseline",
    pivot: tuple[float, float] = (0.5, 1.0),
    padding: int = 0,
    extrude: int = 0,
    trim: bool = False,
    dedupe: bool = False,
    kind: str = "sprites",
    grids=None,
) -> tuple[torch.Tensor, SheetLayout]:
    """Frames (+ one Frame tag per frame, in order) -> sheet RGBA ``[H, W, 4]`` and its SheetLayout.

    ``layout`` rows: one row per animation; packed: reading order wrapped at ``columns`` (0: about square).
    ``padding``: transparent pixels between frames; ``extrude``: each frame's edge pixels repeated that far
    outwards (no bleeding when a game filters or scales). ``trim``: store only each frame's opaque box (offsets
    kept in SheetFrame.trim). ``dedupe``: identical frames share one rectangle. The tags' sockets and hitboxes
    land in each frame's cell (through ``grids``, the GridSet the frames were downscaled with, when given).
    """
    check_frames(frames)
    if layout not in LAYOUTS:
        raise InputError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if kind not in ASSET_KINDS:
        raise InputError(f"kind must be one of {', '.join(ASSET_KINDS)}, got {kind!r}")
    padding = check_spacing("padding", padding)
    extrude = check_spacing("extrude", extrude, MAX_EXTRUDE)
    columns = check_spacing("columns", columns, 4096)
    tags = list(tags or [])
    if tags and len(tags) != len(frames):
        raise InputError(f"the frame tags describe {len(tags)} frames but there are {len(frames)} images; "
                         "make the tag counts add up to the number of frames")
    runs = tag_runs(tags) if tags else [TagRun("all", 0, len(frames) - 1, "forward")]

    cells, placement = align_frames(frames, align, cell, pivot)
    first = unique_frames(cells) if dedupe else list(range(len(frames)))
    rows = _slot_rows(runs, first, layout, columns)
    gap, offset = padding + 2 * extrude, extrude
    boxes = _cell_boxes(cells) if trim else None

    stored: dict[int, tuple[int, Rect]] = {}  # distinct frame -> (atlas index, rectangle on the sheet)
    if trim:  # one shelf per row, each frame as tight as its opaque box
        rects: list[Rect] = []
        y = offset
        for row in rows:
            x = offset
            for position in row:
                box = boxes[position]
                stored[position] = (len(rects), Rect(x, y, box.w, box.h))
                rects.append(stored[position][1])
                x += box.w + gap
            y += max(boxes[p].h for p in row) + gap
        size = (max(r.right for r in rects) + offset, max(r.bottom for r in rects) + offset)
        grid_columns = grid_rows = 0
    else:
        grid_columns, grid_rows = max(len(row) for row in rows), len(rows)
        rects = grid_rects(placement.cell, grid_columns, grid_rows, gap, offset)
        for row_number, row in enumerate(rows):
            for column, position in enumerate(row):
                index = row_number * grid_columns + column
                stored[position] = (index, rects[index])
        size = (2 * offset + grid_columns * placement.cell[0] + (grid_columns - 1) * gap,
                2 * offset + grid_rows * placement.cell[1] + (grid_rows - 1) * gap)

    check_batch_pixels(size[0] * size[1], f"the sheet is {size[0]}x{size[1]}")
    sheet = torch.zeros((size[1], size[0], 4), dtype=cells.dtype, device=cells.device)
    for position, (_, rect) in stored.items():
        box = boxes[position] if trim else Rect(0, 0, *placement.cell)
        tile = cells[position, box.y:box.bottom, box.x:box.right]
        if extrude:
            tile = F.pad(tile.permute(2, 0, 1).unsqueeze(0), (extrude,) * 4, mode="replicate")[0].permute(1, 2, 0)
        sheet[rect.y - extrude:rect.bottom + extrude, rect.x - extrude:rect.right + extrude] = tile

    durations = [tag.duration_ms for tag in tags] if tags else [Frame.duration_ms] * len(frames)
    sheet_frames = tuple(
        SheetFrame(stored[first[p]][0], int(durations[p]), boxes[first[p]] if trim else Rect(0, 0, *placement.cell), p,
                   *_marks(tags, p, frames[p], placement.offsets[p], grids))
        for p in range(len(frames)))
    animations = tuple(SheetAnimation(run.name, run.start, run.end, run.loop) for run in runs) if tags else ()
    return sheet, SheetLayout(
        kind=kind, size=size, cell=placement.cell, columns=grid_columns, rows=grid_rows, padding=gap, offset=offset,
        extrude=extrude, grid=not trim, trimmed=trim, pivot=placement.pivot, rects=tuple(rects),
        frames=sheet_frames, animations=animations)
