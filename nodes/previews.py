"""ui payloads for the web extension's widgets (web/js): pixel preview, sheet player and palette swatches.

Images go to ComfyUI's temp folder (cleared at start-up) and reach the browser through /view.
"""
from __future__ import annotations

import torch

from comfy_api.latest import io, ui

from ..dgx_pixels.image.ops import join_alpha, split_alpha
from ..dgx_pixels.sheets.layout import SheetLayout


def _save_temp(image: torch.Tensor, mask: torch.Tensor | None, cls) -> dict:
    """Save the first image of a batch (RGBA when a mask is given) and return its /view reference."""
    frame = image[:1, ..., :3].float().cpu()
    if mask is not None:
        frame = join_alpha(frame, mask[:1].float().cpu())
    saved = ui.ImageSaveHelper.save_images(frame, filename_prefix="dgx_pixels_preview", cls=cls,
                                           folder_type=io.FolderType.temp, compress_level=1)
    return dict(saved[0])


def pixel_preview(cls, before: torch.Tensor, after: torch.Tensor | None, grid: dict | None,
                  before_mask: torch.Tensor | None = None, after_mask: torch.Tensor | None = None) -> dict:
    """``grid``: {cuts_x, cuts_y, input_size [w, h], native [w, h], cell_size, confidence}."""
    entry = {"before": _save_temp(before, before_mask, cls), "grid": grid}
    if after is not None:
        entry["after"] = _save_temp(after, after_mask, cls)
    return {"dgx_pixel_preview": [entry]}


def sheet_player(cls, sheet: torch.Tensor, layout: SheetLayout) -> dict:
    """The sheet player's payload for an RGBA sheet ``[H, W, 4]`` and its layout: frames as
    {x, y, w, h, duration} in sheet pixels, tags as {name, from, to, direction}."""
    frames = [{"x": layout.rects[f.index].x, "y": layout.rects[f.index].y, "w": layout.rects[f.index].w,
               "h": layout.rects[f.index].h, "duration": f.duration_ms} for f in layout.frames]
    tags = [{"name": a.name, "from": a.start, "to": a.end, "direction": a.loop} for a in layout.animations]
    image, mask = split_alpha(sheet[None])
    return {"dgx_sheet_player": [{"image": _save_temp(image, mask, cls), "frames": frames, "tags": tags}]}


def palette_swatches(name: str, colours_hex: list[str], note: str = "") -> dict:
    return {"dgx_palette": [{"name": name, "colours": colours_hex, "note": note}]}
