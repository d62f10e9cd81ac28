"""Training nodes: a pixel-true training set from a folder of game art, its captions encoded for the trainer,
ComfyUI's own LoRA trainer reporting each step's loss live, and the trained LoRA saved under a name the generation
workflows load."""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Callable

import folder_paths
from comfy_api.latest import io
from comfy_extras import nodes_train
from comfy.weight_adapter import adapter_maps
from server import PromptServer

from ..dgx_pixels import __version__
from ..dgx_pixels.common.errors import InputError
from ..dgx_pixels.training import dataset, lora as lora_files
from ..dgx_pixels.training.progress import training_step
from .poses import encode
from .runtime import CATEGORY, check_interrupt, node_id, progress_bar, to_output, user_errors

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


@contextlib.contextmanager
def reporting_each_step(report: Callable[[int, float], None]):
    """While it is open, ComfyUI's trainer also hands each step's loss to ``report(step, loss)`` (steps from 1).

    The core trainer reports the loss only to its console bar, through its sampler's loss callback: the sampler
    class is swapped for one whose callback also reports, and put back afterwards (ComfyUI runs one prompt at a
    time). A ComfyUI without that class trains without the live report."""
    core_sampler = getattr(nodes_train, "TrainSampler", None)
    if not isinstance(core_sampler, type):
        logging.warning("Train Pixel LoRA: this ComfyUI's trainer has no TrainSampler; training without the live "
                        "step and loss report")
        yield
        return

    class ReportingTrainSampler(core_sampler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            keep_loss, steps = getattr(self, "loss_callback", None), 0

            def loss_callback(loss):
                nonlocal steps
                if keep_loss:
                    keep_loss(loss)
                steps += 1
                report(steps, loss)

            self.loss_callback = loss_callback

    nodes_train.TrainSampler = ReportingTrainSampler
    try:
        yield
    finally:
        nodes_train.TrainSampler = core_sampler


class TrainPixelLoRA(io.ComfyNode):
    """ComfyUI's Train LoRA (the same inputs and outputs; its own training loop runs), reporting every step live."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        algorithms = list(adapter_maps)
        return io.Schema(
            node_id=node_id("TrainPixelLoRA"),
            display_name="Train Pixel LoRA",
            category=SUBCATEGORY,
            description="ComfyUI's own LoRA trainer (Train LoRA: the same inputs and outputs), showing every step "
                        "and its loss as it trains: on the node, in the queue's progress, and to `dgx-pixels "
                        "train`.",
            inputs=[
                io.Model.Input("model", tooltip="The model to train the LoRA on."),
                io.Latent.Input("latents", tooltip="The training images, VAE-encoded: the data set."),
                io.Conditioning.Input("positive", tooltip="One caption's conditioning per image (Encode Captions), "
                                                          "or one for all."),
                io.Int.Input("batch_size", default=1, min=1, max=10000, tooltip="Images per step."),
                io.Int.Input("grad_accumulation_steps", default=1, min=1, max=1024,
                             tooltip="Steps whose gradients add up before the weights change (each is reported)."),
                io.Int.Input("steps", default=16, min=1, max=100000, tooltip="How many steps to train for."),
                io.Float.Input("learning_rate", default=0.0005, min=0.0000001, max=1.0, step=0.000001,
                               tooltip="The learning rate."),
                io.Int.Input("rank", default=8, min=1, max=128, tooltip="The rank of the LoRA layers."),
                io.Combo.Input("optimizer", options=["AdamW", "Adam", "SGD", "RMSprop"], default="AdamW",
                               tooltip="The optimizer."),
                io.Combo.Input("loss_function", options=["MSE", "L1", "Huber", "SmoothL1"], default="MSE",
                               tooltip="The loss function."),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF,
                             tooltip="Seeds the LoRA's first weights and each step's noise."),
                io.Combo.Input("training_dtype", options=["bf16", "fp32"], default="bf16",
                               tooltip="The precision the model computes in while training."),
                io.Combo.Input("lora_dtype", options=["bf16", "fp32"], default="bf16",
                               tooltip="The precision of the LoRA's weights."),
                io.Combo.Input("algorithm", options=algorithms, default=algorithms[0],
                               tooltip="The kind of adapter to train."),
                io.Boolean.Input("gradient_checkpointing", default=True,
                                 tooltip="Recompute activations instead of keeping them: much less memory, slower."),
                io.Combo.Input("existing_lora", options=folder_paths.get_filename_list("loras") + ["[None]"],
                               default="[None]",
                               tooltip="A LoRA to go on training ([None]: a new one). Its name must hold its steps, "
                                       "as the names Save LoRA Weights gives do (..._10_steps_...)."),
            ],
            outputs=[
                io.Model.Output(display_name="model_with_lora", tooltip="The model with the trained LoRA applied."),
                io.LoraModel.Output(display_name="lora", tooltip="The trained LoRA (for Save Pixel LoRA)."),
                io.LossMap.Output(display_name="loss", tooltip="Every step's loss."),
                io.Int.Output(display_name="steps", tooltip="The steps trained, an existing LoRA's included."),
            ],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    def execute(cls, **inputs) -> io.NodeOutput:
        total = inputs["steps"] * inputs["grad_accumulation_steps"]  # the trainer's loss reports
        bar, node = progress_bar(total), cls.hidden.unique_id
        server = PromptServer.instance

        def report(step: int, loss: float) -> None:
            check_interrupt()
            # The text first: the client shows it with the progress report that follows.
            server.send_progress_text(training_step(step, total, loss).text(), node, server.client_id)
            bar.update_absolute(step, total)

        with user_errors("Train Pixel LoRA"):
            check_existing_lora(inputs["existing_lora"])
            with reporting_each_step(report):
                try:
                    return io.NodeOutput(*nodes_train.TrainLoraNode().train(**inputs))
                except ValueError as err:  # the trainer's own checks (captions and images not one to one)
                    raise ValueError(f"Train Pixel LoRA: {err}") from err


def check_existing_lora(name: str) -> None:
    """ComfyUI's trainer reads an existing LoRA's steps from its name (``trained_lora_10_steps_...``)."""
    steps = name.split("_steps_")[0].rsplit("_", 1)[-1]
    if name != "[None]" and ("_steps_" not in name or not steps.isdigit()):
        raise InputError(f"existing_lora {name!r}: the trainer reads the steps a LoRA has had from its name "
                         "(<prefix>_<steps>_steps_<counter>_.safetensors, as ComfyUI's Save LoRA Weights names "
                         "it); choose [None] to start a new one")


NODES = [PixelArtTrainingSet, EncodeCaptions, TrainPixelLoRA, SavePixelLoRA]
