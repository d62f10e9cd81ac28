"""One image of several poses -> frames: by a grid, or by its separate shapes (after a transparent backdrop, or one
made transparent by its colour); the frames come out aligned in one cell."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from scipy import ndimage

from ..common.errors import InputError
from ..image.background import background_to_alpha
from ..image.regions import label_array
from ..image.ops import check_image, check_mask, join_alpha, split_alpha
from .align import Placement, align_frames, check_cell, check_spacing
from .layout import Rect, grid_rects

SLICE_MODES = ("grid", "transparency", "background colour")



def slice_grid(image: torch.Tensor, cell: tuple[int, int] = (0, 0), columns: int = 0, rows: int = 0,
               padding: int = 0, offset: int = 0, skip_empty: bool = True) -> list[tuple[torch.Tensor, Rect]]:
    """Cut an RGBA ``[H, W, 4]`` sheet on a regular grid (the from_grid rules); cell size or column/row count."""
    height, width = image.shape[:2]
    padding, offset = check_spacing("padding", padding), check_spacing("offset", offset)
    cell_w, cell_h = check_cell(cell)
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


def slice_components(image: torch.Tensor, min_area: int = 4, gap: int = 1) -> list[tuple[torch.Tensor, Rect]]:
    """Split an RGBA ``[H, W, 4]`` image into its separate opaque shapes, in reading order.

    Parts up to ``gap`` pixels apart belong to one pose (a sword held clear of the hand); shapes smaller than
    ``min_area`` pixels are specks and are left out.
    """
    opaque = (image[..., 3] > 0).cpu().numpy()
    if not opaque.any():
        raise InputError("the image has no opaque pixels; nothing to slice (is its background transparent?)")
    grown = opaque
    if gap > 0:
        reach = (int(gap) + 1) // 2
        grown = ndimage.binary_dilation(opaque, np.ones((2 * reach + 1, 2 * reach + 1), bool))
    labels, count = label_array(grown)
    labels[~opaque] = 0  # the grown margin joins parts; only their own pixels belong to them
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    shapes = [[box[1].start, box[0].start, box[1].stop, box[0].stop, int(areas[label]), label]
              for label, box in enumerate(ndimage.find_objects(labels), start=1)
              if box is not None and areas[label] >= min_area]
    if not shapes:
        raise InputError(f"no shape has at least {min_area} opaque pixels; lower the minimum size")
    labels = torch.from_numpy(labels).to(image.device)
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


def slice_sheet(image: torch.Tensor, mask: torch.Tensor | None = None, separate_by: str = "transparency", *,
                grid_cell: tuple[int, int] = (0, 0), grid_columns: int = 0, grid_rows: int = 0, grid_padding: int = 0,
                grid_offset: int = 0, min_size: int = 4, join_gap: int = 1, key_colour: str = "",
                tolerance: float = 0.12, cell: tuple[int, int] = (0, 0), align: str = "baseline",
                before_each: Callable[[], None] = lambda: None) -> tuple[torch.Tensor, Placement]:
    """IMAGE ``[B, H, W, C]`` (+ MASK, 1 = transparent) of several poses -> aligned RGBA cells ``[N, h, w, 4]`` and
    their placement, every image of the batch cut the same way. ``before_each`` runs before each image (a place
    to stop when the user cancels)."""
    if separate_by not in SLICE_MODES:
        raise InputError(f"separate_by must be one of {', '.join(SLICE_MODES)}, got {separate_by!r}")
    image = check_image(image, min_size=2)
    rgb, own = split_alpha(image)
    alpha_mask = torch.maximum(check_mask(mask, rgb), own)
    if separate_by == "background colour":
        alpha_mask, _ = background_to_alpha(rgb, alpha_mask, "flood from edges", tolerance, key_colour)
    pieces = []
    for rgba in join_alpha(rgb, alpha_mask):
        before_each()
        if separate_by == "grid":
            pieces += slice_grid(rgba, grid_cell, grid_columns, grid_rows, grid_padding, grid_offset)
        else:
            pieces += slice_components(rgba, min_size, join_gap)
    return align_frames([crop for crop, _ in pieces], align, cell)
