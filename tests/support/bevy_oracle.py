"""What Bevy 0.19 does with a texture atlas, ported to Python as the test oracle (no Bevy needed).

- ``from_grid``: ``TextureAtlasLayout::from_grid`` (crates/bevy_image/src/texture_atlas.rs, v0.19.1), line for line,
  including its quirk that ``size`` leaves out the offset.
- ``uv_offset_scale``: the per-sprite UV transform of bevy_sprite_render (render/mod.rs,
  prepare_sprite_image_bind_groups): computed against the real image size, y flipped; the vertex shader
  (sprite.wgsl) maps the unit quad's ``vertex_position.xy`` to ``uv = xy * scale + offset``.
- ``render_sprite``: the pixels a sprite shows with nearest sampling, sampling each displayed pixel's centre.
- ``quad_origin``: where the quad's bottom-left corner lands for an ``Anchor`` (``(quad_size) * (-anchor - 0.5)``).
"""
from __future__ import annotations

import math

import numpy as np


def from_grid(tile, columns, rows, padding=None, offset=None):
    tile_w, tile_h = tile
    pad_x, pad_y = padding or (0, 0)
    off_x, off_y = offset or (0, 0)
    rects = []
    current_x = current_y = 0
    for y in range(rows):
        if y > 0:
            current_y = pad_y
        for x in range(columns):
            if x > 0:
                current_x = pad_x
            min_x = (tile_w + current_x) * x + off_x
            min_y = (tile_h + current_y) * y + off_y
            rects.append(((min_x, min_y), (min_x + tile_w, min_y + tile_h)))
    size = ((tile_w + current_x) * columns - current_x, (tile_h + current_y) * rows - current_y)
    return size, rects


def uv_offset_scale(rect, image_size):
    (x0, y0), (x1, y1) = rect
    width, height = image_size
    return x0 / width, y1 / height, (x1 - x0) / width, -(y1 - y0) / height


def render_sprite(image: np.ndarray, rect) -> np.ndarray:
    """``image`` ``[H, W, C]``; the ``[h, w, C]`` block a sprite with atlas ``rect`` shows (top row first)."""
    height, width = image.shape[:2]
    (x0, y0), (x1, y1) = rect
    quad_w, quad_h = x1 - x0, y1 - y0
    off_x, off_y, scale_x, scale_y = uv_offset_scale(rect, (width, height))
    out = np.zeros((quad_h, quad_w) + image.shape[2:], image.dtype)
    for row in range(quad_h):  # row 0 is the top of the quad: vertex y = 1 - (row + 0.5) / h
        v = (1.0 - (row + 0.5) / quad_h) * scale_y + off_y
        for column in range(quad_w):
            u = ((column + 0.5) / quad_w) * scale_x + off_x
            out[row, column] = image[min(height - 1, math.floor(v * height)), min(width - 1, math.floor(u * width))]
    return out


def quad_origin(quad_size, anchor):
    """Bottom-left corner of the sprite quad relative to the entity (world units, y up)."""
    return tuple(size * (-a - 0.5) for size, a in zip(quad_size, anchor))


def pixel_world_position(quad_size, anchor, pixel):
    """Where the top-left corner of texture pixel (x, y) of the shown rect lands, relative to the entity."""
    origin_x, origin_y = quad_origin(quad_size, anchor)
    return origin_x + pixel[0], origin_y + quad_size[1] - pixel[1]
