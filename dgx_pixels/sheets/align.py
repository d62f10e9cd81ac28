"""Frames of any size put into one common cell so they line up."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..common.errors import InputError
from ..common.limits import check_batch_pixels

ALIGNMENTS = ("baseline", "centre", "pivot")

MAX_SPACING = 256


def check_frames(frames: list[torch.Tensor]) -> None:
    if not frames:
        raise InputError("no frames to put on a sheet (the batch is empty)")
    for number, frame in enumerate(frames):
        if frame.ndim != 3 or frame.shape[-1] != 4:
            raise InputError(f"frame {number} must be RGBA [height, width, 4], got {list(frame.shape)}")
    # one read back to the host for the whole batch: each frame's verdict stays on its device until all are known
    present = [number for number, frame in enumerate(frames) if frame.numel()]
    if not present:
        return
    device = frames[present[0]].device
    finite = torch.stack([torch.isfinite(torch.stack(torch.aminmax(frames[number]))).all().to(device)
                          for number in present])
    if not bool(finite.all()):
        number = present[int((~finite).nonzero()[0, 0])]
        raise InputError(f"frame {number} contains NaN or infinite values; check the node that made it")


def check_spacing(name: str, value: int, limit: int = MAX_SPACING) -> int:
    if not 0 <= int(value) <= limit:
        raise InputError(f"{name} must be between 0 and {limit} pixels, got {value}")
    return int(value)


def check_cell(cell: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(v) for v in cell)
    if width < 0 or height < 0 or (width == 0) != (height == 0):
        raise InputError(f"cell size {width}x{height}: give both width and height, or 0x0 for automatic")
    return width, height


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
    fixed = check_cell(cell)
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
    check_frames(frames)
    placement = place_frames(measure_content(frames), align, cell, pivot)
    check_batch_pixels(len(frames) * placement.cell[0] * placement.cell[1],
                       f"{len(frames)} cells of {placement.cell[0]}x{placement.cell[1]}")
    return paste_into_cells(frames, placement), placement
