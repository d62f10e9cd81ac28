"""Pixel-grid nodes: upscale for previews and export."""
from __future__ import annotations

from comfy_api.latest import io

from ..dgx_pixels import imageops
from .runtime import CATEGORY, node_id, to_compute, to_output, user_errors


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
            image = imageops.check_image(to_compute(image))
            mask = imageops.check_mask(to_compute(mask), image)
            return io.NodeOutput(
                to_output(imageops.nearest_upscale(image, scale)), to_output(imageops.nearest_upscale(mask, scale))
            )


NODES = [PixelUpscale]
