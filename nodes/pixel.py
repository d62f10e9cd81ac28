"""Pixel-grid nodes: find the true pixel grid of AI pixel art, downscale to it, and upscale for previews."""
from __future__ import annotations

import logging

from comfy_api.latest import io

from ..dgx_pixels.image import ops as imageops
from ..dgx_pixels.pixel import downscale as pixel_downscale, grid as pixel_grid
from . import previews
from .runtime import CATEGORY, check_interrupt, image_and_mask, node_id, to_compute, to_output, user_errors
from .types import GRID

NO_GRID_WARNING = "no pixel grid found: the image was passed through unchanged (set a target size to force one)"


def grid_inputs() -> list:
    return [
        io.String.Input("target_size", default="",
                        tooltip="Snap to exactly this many pixels: 64x64, or 64 for a width alone. Empty: detect."),
        io.Float.Input("min_cell", default=4.0, min=1.0, max=512.0, step=0.5,
                       tooltip="Smallest cell (fake-pixel) size to consider, in input pixels."),
        io.Float.Input("max_cell", default=128.0, min=1.0, max=1024.0, step=0.5,
                       tooltip="Largest cell size to consider, in input pixels."),
        io.Boolean.Input("lock", default=True,
                         tooltip="One grid for the whole batch, so every frame of a character shares it. Off: "
                                 "each frame fits its own cuts (same native size)."),
    ]


def warn_if_missing(node_name: str, grids: pixel_grid.GridSet) -> str:
    if grids.confidence > 0:
        return ""
    logging.warning("%s: %s", node_name, NO_GRID_WARNING)
    return NO_GRID_WARNING


class DetectPixelGrid(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("DetectPixelGrid"),
            display_name="Detect Pixel Grid",
            category=CATEGORY,
            description="Finds the true pixel grid of AI pixel art (uneven, drifting cells included) and shows it "
                        "over the image. Feed the GRID to Pixel-Perfect Downscale.",
            inputs=[
                io.Image.Input("image", tooltip="AI pixel art at full size (one image or a batch of frames)."),
                io.Mask.Input("mask", optional=True, tooltip="Transparency (1 = transparent); its edges count too."),
                *grid_inputs(),
            ],
            outputs=[
                GRID.Output(display_name="grid", tooltip="Cut positions per axis, native size and confidence."),
                io.Image.Output(display_name="overlay", tooltip="The grid drawn over the input."),
                io.Float.Output(display_name="confidence", tooltip="0: no grid found; 1: every edge on a cut."),
            ],
        )

    @classmethod
    def execute(cls, image, target_size, min_cell, max_cell, lock, mask=None) -> io.NodeOutput:
        with user_errors("Detect Pixel Grid"):
            image = to_compute(image)
            grids = pixel_grid.detect_grid(image, to_compute(mask), target_size, min_cell, max_cell, lock)
            overlay = pixel_grid.draw_grid(image, grids)
            grid = grids.for_image(0).to_dict()
            grid["warning"] = warn_if_missing("Detect Pixel Grid", grids)
            return io.NodeOutput(grids, to_output(overlay), grids.confidence,
                                 ui=previews.pixel_preview(cls, image, None, grid))


class PixelPerfectDownscale(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("PixelPerfectDownscale"),
            display_name="Pixel-Perfect Downscale",
            category=CATEGORY,
            description="Turns AI pixel art into true pixel art at its native size: one colour per cell, clean "
                        "binary alpha. Detects the grid itself unless you connect one.",
            inputs=[
                io.Image.Input("image", tooltip="AI pixel art at full size (one image or a batch of frames)."),
                io.Combo.Input("reducer", options=list(pixel_downscale.REDUCERS), default="majority",
                               tooltip="How a cell's colour is chosen. majority: its dominant colour (best for "
                                       "noisy AI output). median: per channel. k-centroid: the larger of two "
                                       "colour clusters (keeps thin outlines). centre: the middle pixel."),
                io.Float.Input("alpha_threshold", default=0.5, min=0.0, max=1.0, step=0.05,
                               tooltip="A cell becomes transparent when more than this share of it is."),
                io.Mask.Input("mask", optional=True, tooltip="Transparency (1 = transparent)."),
                GRID.Input("grid", optional=True, tooltip="A grid from Detect Pixel Grid; detected when absent."),
                *grid_inputs(),
            ],
            outputs=[
                io.Image.Output(display_name="image", tooltip="Native-resolution pixel art."),
                io.Mask.Output(display_name="mask", tooltip="Binary transparency (1 = transparent)."),
                GRID.Output(display_name="grid", tooltip="The grid used (to reuse on other images of the set)."),
            ],
        )

    @classmethod
    def execute(cls, image, reducer, alpha_threshold, target_size, min_cell, max_cell, lock, mask=None,
                grid=None) -> io.NodeOutput:
        with user_errors("Pixel-Perfect Downscale"):
            image, mask = image_and_mask(image, mask)
            check_interrupt()
            native, native_mask, grids = pixel_downscale.downscale(
                image, mask, grid, reducer, alpha_threshold,
                target_size=target_size, min_cell=min_cell, max_cell=max_cell, lock=lock)
            summary = grids.for_image(0).to_dict()
            summary["warning"] = warn_if_missing("Pixel-Perfect Downscale", grids)
            ui = previews.pixel_preview(cls, image, native, summary, mask, native_mask)
            return io.NodeOutput(to_output(native), to_output(native_mask), grids, ui=ui)


class PixelUpscale(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("PixelUpscale"),
            display_name="Pixel Upscale (nearest)",
            category=CATEGORY,
            description="Blows each pixel up to a crisp square block: for previews and for exporting at 2x, 4x...",
            inputs=[
                io.Image.Input("image", tooltip="Native-resolution pixel art."),
                io.Int.Input(
                    "scale", default=4, min=1, max=64, tooltip="Whole-number zoom: every pixel becomes scale x scale."
                ),
                io.Mask.Input(
                    "mask", optional=True, tooltip="Transparency (1 = transparent), scaled the same way."
                ),
            ],
            outputs=[
                io.Image.Output(display_name="image"),
                io.Mask.Output(display_name="mask"),
            ],
        )

    @classmethod
    def execute(cls, image, scale, mask=None) -> io.NodeOutput:
        with user_errors("Pixel Upscale"):
            image, mask = image_and_mask(image, mask)
            return io.NodeOutput(
                to_output(imageops.nearest_upscale(image, scale)), to_output(imageops.nearest_upscale(mask, scale))
            )


NODES = [DetectPixelGrid, PixelPerfectDownscale, PixelUpscale]
