"""Sprite sheets: frames and their tags -> one RGBA sheet and its layout; one image of several poses -> frames.

Frames are RGBA tensors ``[H, W, 4]`` (alpha 1 = opaque) on any device; they may differ in size. Every frame is
first placed in a common cell (alignment), then cells go on the sheet in a grid that Bevy's
``TextureAtlasLayout::from_grid(cell, columns, rows, padding, offset)`` reproduces exactly, or, when trimmed, as
tight rectangles on shelves (the layout then lists every rectangle). Rectangles are indexed like Bevy's atlas:
left to right, top to bottom.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .errors import InputError
from .frames import Frame, TagRun, tag_runs
from .imageops import all_finite, check_image, check_mask, split_alpha

LAYOUTS = ("rows", "packed")  # one row per animation, or frames in reading order wrapped at a column count
ALIGNMENTS = ("baseline", "centre", "pivot")
KINDS = ("sprites", "tilesets", "items")
SLICE_MODES = ("grid", "transparency", "background colour")
MAX_SPACING = 256
MAX_EXTRUDE = 64
CONVERGENCE_CHECK_EVERY = 16
POINTER_JUMP_EVERY = 4


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class SheetFrame:
    """One input frame on the sheet: the atlas rectangle holding its pixels and where they sit in the cell."""
    index: int  # into SheetLayout.rects (the Bevy atlas index)
    duration_ms: int
    trim: Rect  # the stored pixels' place inside the cell (the whole cell unless trimmed)
    source: int  # position in the input frames


@dataclass(frozen=True)
class SheetAnimation:
    name: str
    start: int  # first and last position in SheetLayout.frames (inclusive)
    end: int
    loop: str  # forward, reverse, pingpong or once


@dataclass(frozen=True)
class TileInfo:
    index: int
    seam_x: float  # mean difference across the left/right wrap-around edge (0..1)
    seam_y: float  # the same across the top/bottom edge
    neighbour_x: float  # mean difference between side-by-side pixels inside the tile, for scale
    neighbour_y: float  # the same for pixels above one another
    seamless: bool
    mask: int | None = None  # autotile neighbour mask, when the tileset is an autotile set


@dataclass(frozen=True)
class SheetLayout:
    """Everything an exporter needs to describe a sheet (the SHEET type in ComfyUI)."""
    kind: str  # sprites, tilesets or items: the export folder
    size: tuple[int, int]  # the sheet image (width, height)
    cell: tuple[int, int]  # the common frame size (width, height)
    columns: int
    rows: int
    padding: int  # pixels between neighbouring rectangles (from_grid's padding)
    offset: int  # pixels before the first rectangle on both axes (from_grid's offset)
    extrude: int  # edge pixels repeated around each rectangle
    grid: bool  # rects == from_grid(cell, columns, rows, padding, offset)
    trimmed: bool
    pivot: tuple[int, int]  # the anchor point inside the cell (feet for baseline alignment), pixels from top-left
    rects: tuple[Rect, ...]
    frames: tuple[SheetFrame, ...]
    animations: tuple[SheetAnimation, ...] = ()
    tiles: tuple[TileInfo, ...] = ()
    autotile: str = "none"

    def atlas_indices(self, animation: SheetAnimation) -> list[int]:
        return [self.frames[i].index for i in range(animation.start, animation.end + 1)]

    def durations(self, animation: SheetAnimation) -> list[int]:
        return [self.frames[i].duration_ms for i in range(animation.start, animation.end + 1)]

    def play_order(self, animation: SheetAnimation) -> list[int]:
        """Atlas indices in the order they are shown in one loop (pingpong goes back without repeating ends)."""
        indices = self.atlas_indices(animation)
        if animation.loop == "reverse":
            return indices[::-1]
        if animation.loop == "pingpong" and len(indices) > 2:
            return indices + indices[-2:0:-1]
        return indices

    def anchor(self, trim: Rect | None = None) -> tuple[float, float]:
        """Bevy ``Anchor`` (x right, y up, -0.5..0.5 over the shown rectangle) that puts the pivot on the entity."""
        trim = trim or Rect(0, 0, *self.cell)
        px, py = self.pivot
        return (px - trim.x) / trim.w - 0.5, 0.5 - (py - trim.y) / trim.h


# ---------------------------------------------------------------------------------------------------- checks
def frames_from_batches(images: list[torch.Tensor], masks: list[torch.Tensor | None]) -> list[torch.Tensor]:
    """IMAGE batches (C = 3 or 4) with optional MASKs (1 = transparent) -> a flat list of RGBA frames."""
    frames: list[torch.Tensor] = []
    for number, image in enumerate(images):
        what = "frames" if len(images) == 1 else f"frames (list item {number + 1})"
        image = check_image(image, what)
        rgb, own_alpha_mask = split_alpha(image)
        mask = masks[number] if number < len(masks) else None
        mask = torch.maximum(check_mask(mask, rgb, f"mask of {what}"), own_alpha_mask.to(rgb.dtype))
        frames.extend(torch.cat([rgb, 1.0 - mask.unsqueeze(-1)], dim=-1).unbind(0))
    return frames


def _check_frames(frames: list[torch.Tensor]) -> None:
    if not frames:
        raise InputError("no frames to put on a sheet (the batch is empty)")
    for number, frame in enumerate(frames):
        if frame.ndim != 3 or frame.shape[-1] != 4:
            raise InputError(f"frame {number} must be RGBA [height, width, 4], got {list(frame.shape)}")
        if not all_finite(frame):
            raise InputError(f"frame {number} contains NaN or infinite values; check the node that made it")


def _check_spacing(name: str, value: int, limit: int = MAX_SPACING) -> int:
    if not 0 <= int(value) <= limit:
        raise InputError(f"{name} must be between 0 and {limit} pixels, got {value}")
    return int(value)


def _check_cell(cell: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(v) for v in cell)
    if width < 0 or height < 0 or (width == 0) != (height == 0):
        raise InputError(f"cell size {width}x{height}: give both width and height, or 0x0 for automatic")
    return width, height


# ---------------------------------------------------------------------------------------------------- alignment
@dataclass(frozen=True)
class Content:
    """Opaque pixels of one frame: bounding box (x0, y0, x1, y1 exclusive) and horizontal centre of mass."""
    size: tuple[int, int]
    box: tuple[int, int, int, int] | None
    centroid_x: float = 0.0


def measure_content(frames: list[torch.Tensor]) -> list[Content]:
    """Bounding boxes and centroids, batched per frame size (one device transfer per size)."""
    result: list[Content | None] = [None] * len(frames)
    by_shape: dict[tuple, list[int]] = {}
    for number, frame in enumerate(frames):
        by_shape.setdefault(tuple(frame.shape[:2]), []).append(number)
    for (height, width), numbers in by_shape.items():
        opaque = torch.stack([frames[n][..., 3] for n in numbers]) > 0
        rows, cols = opaque.any(dim=2), opaque.any(dim=1)
        xs = torch.arange(width, device=opaque.device, dtype=torch.float64)
        weight = opaque.sum(dim=(1, 2)).clamp(min=1)
        stats = torch.stack([
            cols.to(torch.uint8).argmax(dim=1).double(),
            rows.to(torch.uint8).argmax(dim=1).double(),
            (width - cols.flip(1).to(torch.uint8).argmax(dim=1)).double(),
            (height - rows.flip(1).to(torch.uint8).argmax(dim=1)).double(),
            (opaque.sum(dim=1).double() * xs).sum(dim=1) / weight,
            rows.any(dim=1).double(),
        ], dim=1).tolist()
        for n, (x0, y0, x1, y1, cx, any_opaque) in zip(numbers, stats):
            box = (int(x0), int(y0), int(x1), int(y1)) if any_opaque else None
            result[n] = Content((width, height), box, cx)
    return result


@dataclass(frozen=True)
class Placement:
    cell: tuple[int, int]
    pivot: tuple[int, int]
    offsets: tuple[tuple[int, int], ...]  # where each frame's top-left corner lands in its cell


def place_frames(contents: list[Content], align: str = "baseline", cell: tuple[int, int] = (0, 0),
                 pivot: tuple[float, float] = (0.5, 1.0)) -> Placement:
    """Put every frame in one cell so the frames line up.

    baseline: the lowest opaque row of every frame on one line (feet on the ground), centred by mass across.
    centre: the middle of every frame's opaque box on the cell centre.
    pivot: the point at ``pivot`` (fractions of each frame's width and height; 0.5, 1.0 = bottom centre) on one
    point; same-size frames stay exactly as drawn.
    ``cell`` (0, 0) is automatic: the largest frame, grown only if the alignment needs more room. A fixed cell
    that cannot hold some frame's opaque pixels is an error, never a silent crop.
    """
    if align not in ALIGNMENTS:
        raise InputError(f"alignment must be one of {', '.join(ALIGNMENTS)}, got {align!r}")
    fixed = _check_cell(cell)
    fx, fy = pivot
    if not (0.0 <= fx <= 1.0 and 0.0 <= fy <= 1.0):
        raise InputError(f"pivot ({fx}, {fy}) must be fractions between 0 and 1 of the frame size")
    largest = (max(c.size[0] for c in contents), max(c.size[1] for c in contents))
    width, height = fixed if fixed[0] else largest
    anchors = [_anchor(c, align, fx, fy) for c in contents]

    def offsets_for(w: int, h: int) -> tuple[tuple[int, int], tuple[tuple[int, int], ...]]:
        if align == "pivot":
            point = (round(fx * w), round(fy * h)) if fixed[0] else (
                max(round(a[0]) for a in anchors), max(round(a[1]) for a in anchors))
        elif align == "centre":
            point = (w // 2, h // 2)
        else:
            grounded = [c.box[3] + h - c.size[1] for c in contents if c.box]
            point = (w // 2, min(h, max(grounded, default=h)))
        return point, tuple((_round(point[0] - a[0]), _round(point[1] - a[1])) for a in anchors)

    if not fixed[0]:
        if align == "pivot":
            width = max(round(a[0]) for a in anchors) + max(c.size[0] - round(a[0]) for c, a in zip(contents, anchors))
            height = max(round(a[1]) for a in anchors) + max(c.size[1] - round(a[1]) for c, a in zip(contents, anchors))
        while True:  # grow until every frame's opaque box fits (rare: lopsided frames centred by mass)
            point, offsets = offsets_for(width, height)
            overflow = _overflow(contents, offsets, width, height)
            if not overflow:
                break
            width += overflow[0] > 0
            height += overflow[1] > 0
    else:
        point, offsets = offsets_for(width, height)
        for number, (content, offset) in enumerate(zip(contents, offsets)):
            if _overflow([content], [offset], width, height):
                x0, y0, x1, y1 = content.box
                raise InputError(
                    f"frame {number}'s opaque pixels ({x1 - x0}x{y1 - y0}) do not fit the {width}x{height} cell "
                    f"with {align} alignment; use a larger cell size, or 0x0 for automatic")
    return Placement((width, height), point, offsets)


def _round(value: float) -> int:
    return math.floor(value + 0.5)


def _anchor(content: Content, align: str, fx: float, fy: float) -> tuple[float, float]:
    """The point of a frame that goes on the cell's pivot."""
    width, height = content.size
    if align == "pivot":
        return fx * width, fy * height
    if content.box is None:  # an empty frame: its middle, or its bottom middle on the baseline
        return width / 2, (height / 2 if align == "centre" else height)
    x0, y0, x1, y1 = content.box
    if align == "centre":
        return (x0 + x1) / 2, (y0 + y1) / 2
    return content.centroid_x + 0.5, y1


def _overflow(contents, offsets, width, height) -> tuple[int, int] | None:
    over_x = over_y = 0
    for content, (dx, dy) in zip(contents, offsets):
        if content.box is None:
            continue
        x0, y0, x1, y1 = content.box
        over_x = max(over_x, -(x0 + dx), x1 + dx - width)
        over_y = max(over_y, -(y0 + dy), y1 + dy - height)
    return (over_x, over_y) if over_x > 0 or over_y > 0 else None


def paste_into_cells(frames: list[torch.Tensor], placement: Placement) -> torch.Tensor:
    """``[N, cell_h, cell_w, 4]``: each frame at its offset (transparent elsewhere, RGB zeroed under alpha 0)."""
    width, height = placement.cell
    reference = frames[0]
    cells = torch.zeros((len(frames), height, width, 4), dtype=reference.dtype, device=reference.device)
    for number, (frame, (dx, dy)) in enumerate(zip(frames, placement.offsets)):
        fh, fw = frame.shape[:2]
        sx0, sy0 = max(0, -dx), max(0, -dy)
        sx1, sy1 = min(fw, width - dx), min(fh, height - dy)
        if sx1 > sx0 and sy1 > sy0:
            cells[number, sy0 + dy:sy1 + dy, sx0 + dx:sx1 + dx] = frame[sy0:sy1, sx0:sx1].to(reference.device)
    return cells * (cells[..., 3:] > 0)


def align_frames(frames: list[torch.Tensor], align: str = "baseline", cell: tuple[int, int] = (0, 0),
                 pivot: tuple[float, float] = (0.5, 1.0)) -> tuple[torch.Tensor, Placement]:
    """Frames of any sizes -> ``[N, cell_h, cell_w, 4]`` aligned cells and the placement used."""
    _check_frames(frames)
    placement = place_frames(measure_content(frames), align, cell, pivot)
    return paste_into_cells(frames, placement), placement


# ---------------------------------------------------------------------------------------------------- assembly
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


def grid_rects(cell: tuple[int, int], columns: int, rows: int, padding: int, offset: int) -> list[Rect]:
    """The rectangles ``TextureAtlasLayout::from_grid`` makes (row-major from the top left)."""
    width, height = cell
    return [Rect(offset + column * (width + padding), offset + row * (height + padding), width, height)
            for row in range(rows) for column in range(columns)]


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
) -> tuple[torch.Tensor, SheetLayout]:
    """Frames (+ one Frame tag per frame, in order) -> sheet RGBA ``[H, W, 4]`` and its SheetLayout.

    ``layout`` rows: one row per animation; packed: reading order wrapped at ``columns`` (0: about square).
    ``padding``: transparent pixels between frames; ``extrude``: each frame's edge pixels repeated that far
    outwards (no bleeding when a game filters or scales). ``trim``: store only each frame's opaque box (offsets
    kept in SheetFrame.trim). ``dedupe``: identical frames share one rectangle.
    """
    _check_frames(frames)
    if layout not in LAYOUTS:
        raise InputError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    padding = _check_spacing("padding", padding)
    extrude = _check_spacing("extrude", extrude, MAX_EXTRUDE)
    columns = _check_spacing("columns", columns, 4096)
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

    sheet = torch.zeros((size[1], size[0], 4), dtype=cells.dtype, device=cells.device)
    for position, (_, rect) in stored.items():
        box = boxes[position] if trim else Rect(0, 0, *placement.cell)
        tile = cells[position, box.y:box.bottom, box.x:box.right]
        if extrude:
            tile = F.pad(tile.permute(2, 0, 1).unsqueeze(0), (extrude,) * 4, mode="replicate")[0].permute(1, 2, 0)
        sheet[rect.y - extrude:rect.bottom + extrude, rect.x - extrude:rect.right + extrude] = tile

    durations = [tag.duration_ms for tag in tags] if tags else [Frame.duration_ms] * len(frames)
    sheet_frames = tuple(
        SheetFrame(stored[first[p]][0], int(durations[p]), boxes[first[p]] if trim else Rect(0, 0, *placement.cell), p)
        for p in range(len(frames)))
    animations = tuple(SheetAnimation(run.name, run.start, run.end, run.loop) for run in runs) if tags else ()
    return sheet, SheetLayout(
        kind=kind, size=size, cell=placement.cell, columns=grid_columns, rows=grid_rows, padding=gap, offset=offset,
        extrude=extrude, grid=not trim, trimmed=trim, pivot=placement.pivot, rects=tuple(rects),
        frames=sheet_frames, animations=animations)


# ---------------------------------------------------------------------------------------------------- slicing
def slice_grid(image: torch.Tensor, cell: tuple[int, int] = (0, 0), columns: int = 0, rows: int = 0,
               padding: int = 0, offset: int = 0, skip_empty: bool = True) -> list[tuple[torch.Tensor, Rect]]:
    """Cut an RGBA ``[H, W, 4]`` sheet on a regular grid (the from_grid rules); cell size or column/row count."""
    height, width = image.shape[:2]
    padding, offset = _check_spacing("padding", padding), _check_spacing("offset", offset)
    cell_w, cell_h = _check_cell(cell)
    if not cell_w:
        if columns < 1 or rows < 1:
            raise InputError("grid slicing needs a cell size, or both a column and a row count")
        cell_w, rem_w = divmod(width - 2 * offset - (columns - 1) * padding, columns)
        cell_h, rem_h = divmod(height - 2 * offset - (rows - 1) * padding, rows)
        if rem_w or rem_h or cell_w < 1 or cell_h < 1:
            raise InputError(f"a {width}x{height} image does not split into {columns}x{rows} equal cells with "
                             f"padding {padding} and offset {offset}; give the cell size instead")
    columns = columns or (width - offset + padding) // (cell_w + padding)
    rows = rows or (height - offset + padding) // (cell_h + padding)
    rects = [r for r in grid_rects((cell_w, cell_h), columns, rows, padding, offset)
             if r.right <= width and r.bottom <= height]
    if not rects:
        raise InputError(f"a {cell_w}x{cell_h} cell does not fit in the {width}x{height} image")
    crops = [(image[r.y:r.bottom, r.x:r.right], r) for r in rects]
    if skip_empty:
        crops = [(crop, r) for crop, r in crops if bool((crop[..., 3] > 0).any())]
    if not crops:
        raise InputError("every grid cell is fully transparent; nothing to slice")
    return crops


def label_components(foreground: torch.Tensor) -> torch.Tensor:
    """8-connected labels of a ``[H, W]`` bool mask (0 = background), batched on the device.

    Every pixel starts with its own id and takes the largest id among its neighbours each round; every few rounds
    it also jumps to the label its label's pixel already has (pointer jumping), so a long winding shape converges
    in a few hundred rounds instead of one round per pixel of its length.
    """
    height, width = foreground.shape
    dtype = torch.float32 if height * width < 2 ** 24 else torch.float64
    keep = foreground.view(1, 1, height, width).to(dtype)
    labels = torch.arange(1, height * width + 1, device=foreground.device, dtype=dtype).view(1, 1, height, width)
    labels = labels * keep
    for _ in range(0, height * width, CONVERGENCE_CHECK_EVERY):
        previous = labels
        for step in range(CONVERGENCE_CHECK_EVERY):  # a device sync only now and then
            labels = F.max_pool2d(labels, 3, stride=1, padding=1) * keep
            if step % POINTER_JUMP_EVERY == POINTER_JUMP_EVERY - 1:
                flat = labels.view(-1)
                labels = flat[(flat.long() - 1).clamp(min=0)].view_as(labels) * keep
        if torch.equal(labels, previous):
            break
    return labels.view(height, width).long()


def slice_components(image: torch.Tensor, min_area: int = 4, gap: int = 1) -> list[tuple[torch.Tensor, Rect]]:
    """Split an RGBA ``[H, W, 4]`` image into its separate opaque shapes, in reading order.

    Parts up to ``gap`` pixels apart belong to one pose (a sword held clear of the hand); shapes smaller than
    ``min_area`` pixels are specks and are left out.
    """
    opaque = image[..., 3] > 0
    if not bool(opaque.any()):
        raise InputError("the image has no opaque pixels; nothing to slice (is its background transparent?)")
    grown = opaque
    if gap > 0:
        radius = (int(gap) + 1) // 2
        grown = F.max_pool2d(opaque.float()[None, None], 2 * radius + 1, stride=1, padding=radius)[0, 0] > 0
    labels = label_components(grown) * opaque
    ys, xs = torch.nonzero(opaque, as_tuple=True)
    values, inverse = torch.unique(labels[ys, xs], return_inverse=True)
    count = values.numel()

    def reduce(source, how):
        return torch.full((count,), -1 if how == "amax" else 1 << 30, device=source.device,
                          dtype=source.dtype).scatter_reduce(0, inverse, source, how)

    stats = torch.stack([reduce(xs, "amin"), reduce(ys, "amin"), reduce(xs, "amax") + 1, reduce(ys, "amax") + 1,
                         torch.bincount(inverse, minlength=count), values]).T.tolist()
    shapes = [s for s in stats if s[4] >= min_area]
    if not shapes:
        raise InputError(f"no shape has at least {min_area} opaque pixels; lower the minimum size")
    crops = []
    for x0, y0, x1, y1, _, label in _reading_order(shapes):
        crop = image[y0:y1, x0:x1].clone()
        crop[..., 3] *= (labels[y0:y1, x0:x1] == label).to(crop.dtype)  # neighbours reaching into the box stay out
        crops.append((crop, Rect(x0, y0, x1 - x0, y1 - y0)))
    return crops


def _reading_order(shapes: list[list[int]]) -> list[list[int]]:
    """Rows of shapes that overlap vertically, top to bottom; left to right inside a row."""
    rows: list[list[list[int]]] = []
    bottom = -1
    for shape in sorted(shapes, key=lambda s: (s[1], s[0])):
        if rows and shape[1] < bottom:
            rows[-1].append(shape)
            bottom = max(bottom, shape[3])
        else:
            rows.append([shape])
            bottom = shape[3]
    return [shape for row in rows for shape in sorted(row, key=lambda s: s[0])]
