"""Training nodes: a pixel-true training set from a folder of game art, its captions encoded for the core Train LoRA
node, and the trained LoRA saved under a name the generation workflows load."""
from __future__ import annotations

import os

import folder_paths
from comfy_api.latest import io

from ..dgx_pixels import __version__
from ..dgx_pixels.common.errors import InputError
from ..dgx_pixels.training import dataset, lora as lora_files
from .poses import encode
from .runtime import CATEGORY, check_interrupt, node_id, to_output, user_errors

SUBCATEGORY = f"{CATEGORY}/training"
LORA_SUBFOLDER = "loras"  # in the output folder, which ComfyUI lists among the LoRA folders


def input_folder(name: str) -> str:
    """A folder inside ComfyUI's input folder (uploads land there); never one outside it."""
    base = os.path.realpath(folder_paths.get_input_directory())
    if not name.strip():
        raise InputError("give the folder of training images (inside ComfyUI's input folder)")
    path = os.path.realpath(os.path.join(base, name.strip()))
    if os.path.commonpath((base, path)) != base:
        raise InputError(f"folder {name!r} is outside ComfyUI's input folder")
    return path


class PixelArtTrainingSet(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("PixelArtTrainingSet"),
            display_name="Pixel Art Training Set",
            category=SUBCATEGORY,
            description="A folder of your game's art (true pixel art, upscaled sprites, AI output) as a LoRA "
                        "training set: each image back to its true pixel grid, then scaled up by one whole factor "
                        "(nearest neighbour) into one training bucket on a flat background, with captions. Feed the "
                        "images to VAE Encode and the captions to Encode Captions, then to Train LoRA.",
            inputs=[
                io.String.Input("folder", default="training/mystyle",
                                tooltip="The folder of images inside ComfyUI's input folder (`dgx-pixels train` "
                                        "uploads one). A .txt beside an image is its caption."),
                io.Int.Input("resolution", default=1024, min=16, max=4096, step=8,
                             tooltip="The model's training size: 1024 for SDXL, 512 for SD1.5. The set shares "
                                     "one bucket of about this area, shaped like most of its images."),
                io.String.Input("trigger", default="",
                                tooltip="A word that calls the style up in prompts (first in every caption)."),
                io.String.Input("sprite_type", default="pixel art sprite",
                                tooltip="Added to every caption, e.g. 'character sprite', 'tile', 'item icon'."),
                io.String.Input("background", default="#ffffff",
                                tooltip="The flat colour behind transparent pixels (the model sees RGB)."),
                io.Boolean.Input("flip", default=False,
                                 tooltip="Add a mirrored copy of each image (not for art that must face one way)."),
            ],
            outputs=[
                io.Image.Output(display_name="images", tooltip="The training images, all the bucket's size."),
                io.String.Output(display_name="captions", tooltip="One caption per image, one per line."),
                io.String.Output(display_name="report", tooltip="What was kept and why anything was dropped."),
                io.Int.Output(display_name="count", tooltip="The number of training images."),
            ],
        )

    @classmethod
    def execute(cls, folder, resolution, trigger, sprite_type, background, flip) -> io.NodeOutput:
        with user_errors("Pixel Art Training Set"):
            prepared = dataset.prepare(input_folder(folder), resolution, trigger, sprite_type, background, flip,
                                       check_interrupt=check_interrupt)
            summary = prepared.summary()
            return io.NodeOutput(to_output(prepared.images), "\n".join(prepared.captions), summary,
                                 len(prepared.captions),
                                 ui={"text": [summary], "dgx_training_set": [prepared.report()]})


class EncodeCaptions(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("EncodeCaptions"),
            display_name="Encode Captions",
            category=SUBCATEGORY,
            description="Encodes one caption per line (as CLIP Text Encode does each) into the conditioning list "
                        "Train LoRA takes: one entry per training image, in order.",
            inputs=[
                io.Clip.Input("clip", tooltip="The text encoder of the model being trained."),
                io.String.Input("captions", multiline=True, default="",
                                tooltip="One caption per training image, one per line."),
            ],
            outputs=[io.Conditioning.Output(display_name="conditioning", tooltip="One entry per caption.")],
        )

    @classmethod
    def execute(cls, clip, captions) -> io.NodeOutput:
        with user_errors("Encode Captions"):
            texts = [line.strip() for line in captions.splitlines() if line.strip()]
            if not texts:
                raise InputError("no captions: give one per line")
            return io.NodeOutput([entry for conditioning in encode(clip, texts) for entry in conditioning])


class SavePixelLoRA(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("SavePixelLoRA"),
            display_name="Save Pixel LoRA",
            category=SUBCATEGORY,
            description="Saves the trained LoRA as output/loras/<name>.safetensors (replacing an older one of that "
                        "name, in one step), where the generation workflows find it by name, with the trigger word "
                        "and loss figures in its metadata.",
            is_output_node=True,
            inputs=[
                io.LoraModel.Input("lora", tooltip="The LoRA from Train LoRA (not the model with it)."),
                io.String.Input("name", default="mystyle",
                                tooltip="The LoRA's name: letters, digits, - and _ (the file is <name>.safetensors)."),
                io.String.Input("trigger", default="", tooltip="The trigger word it was trained with (recorded)."),
                io.LossMap.Input("loss", optional=True, tooltip="The loss map from Train LoRA (recorded)."),
                io.Int.Input("steps", optional=True, force_input=True,
                             tooltip="The steps it was trained for (recorded)."),
            ],
            outputs=[io.String.Output(display_name="lora_name", tooltip="The file name LoRA loaders take.")],
        )

    @classmethod
    def execute(cls, lora, name, trigger, loss=None, steps=None) -> io.NodeOutput:
        with user_errors("Save Pixel LoRA"):
            figures = lora_files.loss_figures(list(loss["loss"])) if loss else {}
            metadata = {"dgx_pixels.version": __version__, "dgx_pixels.trigger": trigger.strip(),
                        "dgx_pixels.loss": figures, "dgx_pixels.steps": str(steps or figures.get("steps", ""))}
            folder = os.path.join(folder_paths.get_output_directory(), LORA_SUBFOLDER)
            path = lora_files.save_lora(folder, name, lora, metadata)
            text = f"saved {LORA_SUBFOLDER}/{path.name}" + (
                f"; loss {figures['first_tenth_median']:.4f} -> {figures['last_tenth_median']:.4f} (median of the "
                f"first and last tenth of {figures['steps']} steps)" if figures else "")
            ui = {"loras": [{"filename": path.name, "subfolder": LORA_SUBFOLDER, "type": "output"}],
                  "text": [text], "dgx_loss": [{**figures, "values": list(loss["loss"]) if loss else []}]}
            return io.NodeOutput(path.name, ui=ui)


NODES = [PixelArtTrainingSet, EncodeCaptions, SavePixelLoRA]
