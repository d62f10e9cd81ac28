"""OpenPose skeleton images (COCO-18 body keypoints) drawn the way the OpenPose ControlNet was trained to read them.

The drawing follows the OpenPose annotator that ControlNet ships (``draw_bodypose``): black background; 17 limbs,
each a filled ellipse along the limb in the limb's colour at 60 % strength, later limbs over earlier ones; then the
18 joints as full-colour filled circles. Stroke sizes are the annotator's (limb half-width 4 px, joint radius 4 px
at 512 px) scaled to the frame. Everything is batched torch on the requested device.
"""
from __future__ import annotations

import math

import torch

from ..common.errors import InputError
from ..image.ops import all_finite
from .rig import JOINTS

# COCO-18 keypoint order (OpenPose "BODY_18"); R/L are the person's own right and left.

# The drawn limbs as (from, to) keypoint indices; limb i has colour COLOURS[i].
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))

# One colour per keypoint (joint i) and per limb (limb i), RGB 0..255.
COLOURS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
           (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
           (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
LIMB_STRENGTH = 0.6

REFERENCE_SIZE = 512  # the annotator's detection resolution, where its strokes are 4 px
REFERENCE_STICK = 4.0
REFERENCE_RADIUS = 4.0
EDGE = 0.5  # pixels whose square the outline touches are filled, as polygon and circle fills do
MAX_PIXELS_PER_PASS = 1 << 24  # frames are drawn in chunks of at most this many pixels


def limb_colour(limb: int) -> tuple[int, int, int]:
    """A limb's drawn colour (0..255), as the annotator stores it: its colour at 60 %, rounded down."""
    return tuple(int(channel * LIMB_STRENGTH) for channel in COLOURS[limb])


def stroke_sizes(width: int, height: int) -> tuple[float, float]:
    """Limb half-width and joint radius in pixels for a frame: the annotator's 4 px at 512, scaled, at least 1."""
    scale = min(width, height) / REFERENCE_SIZE
    return max(1.0, REFERENCE_STICK * scale), max(1.0, REFERENCE_RADIUS * scale)


def _check(keypoints: torch.Tensor, visible: torch.Tensor, width: int, height: int) -> None:
    if keypoints.ndim != 3 or keypoints.shape[1:] != (len(JOINTS), 2):
        raise InputError(f"skeleton keypoints must be [frames, 18, 2], got {list(keypoints.shape)}")
    if visible.shape != keypoints.shape[:2]:
        raise InputError(f"keypoint visibility must be [frames, 18], got {list(visible.shape)}")
    if width < 8 or height < 8:
        raise InputError(f"a skeleton frame of {width}x{height} is too small to draw; use at least 8x8")
    if not all_finite(keypoints):
        raise InputError("skeleton keypoints contain NaN or infinite values")


def render_skeletons(keypoints: torch.Tensor, visible: torch.Tensor, width: int, height: int,
                     device: torch.device | str | None = None) -> torch.Tensor:
    """Draw skeletons: ``keypoints`` ``[B, 18, 2]`` in pixels (x right, y down; pixel centres at whole numbers),
    ``visible`` ``[B, 18]`` -> IMAGE ``[B, height, width, 3]`` float 0..1 on ``device``.

    A limb is drawn when both of its joints are visible; hidden joints are left out, as the annotator leaves out
    keypoints it did not detect.
    """
    _check(keypoints, visible, width, height)
    device = torch.device(device) if device is not None else keypoints.device
    points = keypoints.to(device=device, dtype=torch.float32)
    shown = visible.to(device=device, dtype=torch.bool)
    stick, radius = stroke_sizes(width, height)
    frames_per_pass = max(1, MAX_PIXELS_PER_PASS // (width * height))
    parts = [_draw(points[start:start + frames_per_pass], shown[start:start + frames_per_pass], width, height,
                   stick, radius)
             for start in range(0, points.shape[0], frames_per_pass)]
    if not parts:
        return torch.zeros(0, height, width, 3, device=device)
    return torch.cat(parts)


def _windows(points: torch.Tensor, shown: torch.Tensor, pad: float, width: int,
             height: int) -> list[tuple[int, int, int, int] | None]:
    """Per shape (limbs, then joints), the pixel window ``(x0, y0, x1, y1)`` that holds it in every frame of the
    chunk, or None when it is hidden in all of them. One transfer for all shapes."""
    pairs = list(LIMBS) + [(joint, joint) for joint in range(len(JOINTS))]
    starts, ends = torch.tensor([a for a, _ in pairs]), torch.tensor([b for _, b in pairs])
    both = (shown[:, starts] & shown[:, ends]).unsqueeze(-1)  # [B, shapes, 1]
    ends_xy = torch.stack([points[:, starts], points[:, ends]])  # [2, B, shapes, 2]
    low = torch.where(both, ends_xy.amin(0), torch.inf).amin(0) - pad
    high = torch.where(both, ends_xy.amax(0), -torch.inf).amax(0) + pad
    windows = []
    for (x0, y0), (x1, y1) in zip(low.tolist(), high.tolist()):
        if not math.isfinite(x0):
            windows.append(None)
            continue
        x0, y0 = max(0, math.floor(x0)), max(0, math.floor(y0))
        x1, y1 = min(width, math.ceil(x1) + 1), min(height, math.ceil(y1) + 1)
        windows.append((x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None)
    return windows


def _draw(points: torch.Tensor, shown: torch.Tensor, width: int, height: int, stick: float,
          radius: float) -> torch.Tensor:
    """Paint a chunk: an index map (0 black, then limbs, then joints; later ones over earlier ones), then colours.
    Each shape is measured only inside the window that holds it across the chunk; there its distance is a sum of a
    per-column and a per-row term, so it costs a few operations on that window."""
    device = points.device
    far = torch.full_like(points[:, 0], -1e6)  # hidden in a frame: moved far outside it
    xs = torch.arange(width, device=device, dtype=torch.float32).view(1, 1, width)
    ys = torch.arange(height, device=device, dtype=torch.float32).view(1, height, 1)
    index = torch.zeros(points.shape[0], height, width, dtype=torch.uint8, device=device)
    windows = _windows(points, shown, max(stick, radius) + EDGE + 1, width, height)
    for limb, (start, end) in enumerate(LIMBS):
        if windows[limb] is None:
            continue
        x0, y0, x1, y1 = windows[limb]
        a, b = points[:, start], points[:, end]
        centre = torch.where((shown[:, start] & shown[:, end]).unsqueeze(-1), (a + b) / 2, far)
        along = b - a
        length = along.norm(dim=-1, keepdim=True)
        # A limb seen end-on has no direction of its own: draw it as a round dot.
        unit = torch.where(length > 1e-6, along / length.clamp(min=1e-6), torch.tensor([1.0, 0.0], device=device))
        along_scale = (unit / (length / 2 + EDGE)).view(-1, 1, 1, 2)
        across_scale = (torch.stack([-unit[:, 1], unit[:, 0]], dim=-1) / (stick + EDGE)).view(-1, 1, 1, 2)
        dx = xs[..., x0:x1] - centre[:, 0].view(-1, 1, 1)
        dy = ys[:, y0:y1] - centre[:, 1].view(-1, 1, 1)
        u = dx * along_scale[..., 0] + dy * along_scale[..., 1]
        v = dx * across_scale[..., 0] + dy * across_scale[..., 1]
        index[:, y0:y1, x0:x1].masked_fill_(u.square_().add_(v.square_()) <= 1.0, limb + 1)
    for joint in range(len(JOINTS)):
        if windows[len(LIMBS) + joint] is None:
            continue
        x0, y0, x1, y1 = windows[len(LIMBS) + joint]
        centre = torch.where(shown[:, joint].unsqueeze(-1), points[:, joint], far)
        dx2 = (xs[..., x0:x1] - centre[:, 0].view(-1, 1, 1)).square_()
        dy2 = (ys[:, y0:y1] - centre[:, 1].view(-1, 1, 1)).square_()
        index[:, y0:y1, x0:x1].masked_fill_(dx2 + dy2 <= (radius + EDGE) ** 2, len(LIMBS) + 1 + joint)
    palette = torch.tensor([(0, 0, 0), *(limb_colour(i) for i in range(len(LIMBS))), *COLOURS],
                           dtype=torch.float32, device=device) / 255.0
    return palette[index.long()]


def grid_layout(count: int, columns: int = 0) -> tuple[int, int]:
    """Columns and rows for ``count`` cells: ``columns`` (0: about square)."""
    if count < 1:
        raise InputError("there are no poses to lay out")
    columns = columns if columns > 0 else math.ceil(math.sqrt(count))
    columns = min(columns, count)
    return columns, math.ceil(count / columns)


def tile_images(images: torch.Tensor, columns: int, rows: int) -> torch.Tensor:
    """``[N, H, W, C]`` -> one image ``[rows*H, columns*W, C]`` in reading order; empty cells stay black."""
    count, height, width, channels = images.shape
    if count > columns * rows:
        raise InputError(f"{count} images do not fit a {columns}x{rows} grid")
    padded = torch.zeros(columns * rows, height, width, channels, device=images.device, dtype=images.dtype)
    padded[:count] = images
    return padded.view(rows, columns, height, width, channels).permute(0, 2, 1, 3, 4).reshape(
        rows * height, columns * width, channels)


def tile_rows(images: torch.Tensor, rows: list[list[int]]) -> torch.Tensor:
    """``[N, H, W, C]`` -> one image with one row per list of positions (e.g. one row per animation tag), rows as
    wide as the longest; empty cells stay black."""
    count, height, width, channels = images.shape
    columns = max((len(row) for row in rows), default=0)
    if columns == 0:
        raise InputError("there are no images to lay out")
    order = torch.full((len(rows) * columns,), count, dtype=torch.long)
    for number, row in enumerate(rows):
        order[number * columns:number * columns + len(row)] = torch.tensor(row, dtype=torch.long)
    padded = torch.cat([images, images.new_zeros(1, height, width, channels)])
    return tile_images(padded[order.to(images.device)], columns, len(rows))
