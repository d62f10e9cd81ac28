"""Transparency nodes: turn the flat backdrop a model paints into clean, binary alpha."""
from __future__ import annotations

from comfy_api.latest import io

from ..dgx_pixels.image import background
from .runtime import CATEGORY, node_id, to_compute, to_output, user_errors


class BackgroundToAlpha(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("BackgroundToAlpha"),
            display_name="Background to Alpha",
            category=f"{CATEGORY}/alpha",
            description="Makes the plain backdrop behind a generated sprite transparent, with hard edges (no "
                        "halo). Prompt for a plain background, then run this before grid recovery.",
            inputs=[
                io.Image.Input("image", tooltip="Generated sprites on a plain background."),
                io.Combo.Input("mode", options=list(background.MODES), default=background.MODES[0],
                               tooltip="flood from edges: only backdrop connected to the border (keeps same-coloured "
                                       "details inside the sprite). key colour everywhere: every pixel near the "
                                       "key colour, holes included."),
                io.Float.Input("tolerance", default=0.12, min=0.0, max=1.0, step=0.01,
                               tooltip="How far a colour may be from the backdrop and still count as backdrop. "
                                       "Raise it for noisy or gradient backgrounds."),
                io.String.Input("key_colour", default="",
                                tooltip="Backdrop colour as hex (#00ff00). Empty: read it from the image border."),
                io.Boolean.Input("lock_batch", default=True,
                                 tooltip="One backdrop colour for the whole batch, so every frame is cut alike."),
                io.Mask.Input("mask", optional=True, tooltip="Existing transparency to keep (1 = transparent)."),
            ],
            outputs=[
                io.Image.Output(display_name="image"),
                io.Mask.Output(display_name="mask"),
            ],
        )

    @classmethod
    def execute(cls, image, mode, tolerance, key_colour, lock_batch, mask=None) -> io.NodeOutput:
        with user_errors("Background to Alpha"):
            image = to_compute(image)
            alpha, _ = background.background_to_alpha(image, to_compute(mask), mode, tolerance, key_colour,
                                                      lock_batch)
            return io.NodeOutput(to_output(image), to_output(alpha))


NODES = [BackgroundToAlpha]
