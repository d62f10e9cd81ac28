"""Seamless tiling: make a model and its VAE draw textures that wrap around, for tilesets."""
from __future__ import annotations

import copy

from comfy_api.latest import io

from ..dgx_pixels.image import seamless
from .runtime import CATEGORY, node_id, user_errors


def wrapped_model(model, axes: str):
    """A clone of a ComfyUI MODEL whose padded convolutions wrap around (object patches: the original is untouched)."""
    patched = model.clone()
    for name, conv in seamless.padded_convolutions(patched.get_model_object("diffusion_model")):
        patched.add_object_patch(f"diffusion_model.{name}", seamless.wrapping_conv(conv, axes))
    return patched


def wrapped_vae(vae, axes: str):
    """A copy of a ComfyUI VAE whose decoder and encoder convolutions wrap around."""
    patched = copy.copy(vae)
    patched.patcher = vae.patcher.clone()
    for name, conv in seamless.padded_convolutions(vae.first_stage_model):
        patched.patcher.add_object_patch(name, seamless.wrapping_conv(conv, axes))
    return patched


class SeamlessTiling(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("SeamlessTiling"),
            display_name="Seamless Tiling (model + VAE)",
            category=f"{CATEGORY}/tiles",
            description="Makes the model and VAE wrap around the image edges, so generated tiles repeat without "
                        "seams. Your original model stays as it was for other branches of the graph.",
            inputs=[
                io.Model.Input("model", tooltip="The diffusion model to draw tiles with."),
                io.Vae.Input("vae", tooltip="The VAE that decodes the tiles (wrapped too, or seams come back)."),
                io.Combo.Input("axes", options=list(seamless.AXES), default="both",
                               tooltip="both: tiles in every direction (ground, walls). x: side-scrolling strips. "
                                       "y: vertical strips."),
            ],
            outputs=[io.Model.Output(display_name="model"), io.Vae.Output(display_name="vae")],
        )

    @classmethod
    def execute(cls, model, vae, axes) -> io.NodeOutput:
        with user_errors("Seamless Tiling"):
            return io.NodeOutput(wrapped_model(model, axes), wrapped_vae(vae, axes))


NODES = [SeamlessTiling]
