"""Small workflow graphs the tests build."""
from __future__ import annotations

from dgx_pixels.library.graph import WorkflowGraph
from tiny_checkpoint import CHECKPOINT_NAME


def tiny_generation_graph() -> WorkflowGraph:
    g = WorkflowGraph()
    ckpt = g.node("CheckpointLoaderSimple", "Checkpoint", ckpt_name=CHECKPOINT_NAME)
    pos = g.node("CLIPTextEncode", "Positive prompt", clip=ckpt.out(1), text="pixel art knight")
    neg = g.node("CLIPTextEncode", "Negative prompt", clip=ckpt.out(1), text="blurry")
    latent = g.node("EmptyLatentImage", "Canvas", width=64, height=64, batch_size=1)
    sampler = g.node("KSampler", "Sampler", model=ckpt.out(0), positive=pos.out(0), negative=neg.out(0),
                     latent_image=latent.out(0), seed=3, steps=2, cfg=7.0, sampler_name="euler",
                     scheduler="normal", denoise=1.0)
    decode = g.node("VAEDecode", "Decode", samples=sampler.out(0), vae=ckpt.out(2))
    invert = g.node("ImageInvert", "Optional invert", bypass={0: "image"}, image=decode.out(0))
    up = g.node("DGXPixelsPixelUpscale", "Upscale", image=invert.out(0), scale=2)
    g.node("SaveImage", "Save", images=up.out(0), filename_prefix="graph")
    g.group("Model", [ckpt, pos, neg])
    g.note("Type what to draw in the positive prompt.", pos)
    return g
