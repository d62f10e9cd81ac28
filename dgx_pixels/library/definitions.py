"""The shipped workflow library, defined once: each definition gives the graph (written as the editor format in
``workflows/<name>.json`` and its API twin in ``workflows/api/<name>.json``) and the parameter map that binds
names to node inputs (``workflows/api/<name>.params.json``).

Regenerate the files with ``make workflows`` (it needs a running ComfyUI for the node definitions); a test fails
when the files and these definitions drift apart.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .folder import CHECKOUT_WORKFLOWS
from .graph import WorkflowGraph

SDXL_CHECKPOINT = "sd_xl_base_1.0.safetensors"
PIXEL_ART_LORA = "pixel-art-xl.safetensors"
OPENPOSE_CONTROLNET = "xinsir-openpose-sdxl-1.0.safetensors"
NEGATIVE = "blurry, soft, anti-aliased, gradient, photo, 3d render, text, watermark, frame, border"
# Room for the web extension's previews (web/js), which appear on these nodes after a run.
PREVIEW_HEIGHTS = {"DGXPixelsPixelPerfectDownscale": 340, "DGXPixelsDetectPixelGrid": 340,
                   "DGXPixelsAssembleSpriteSheet": 290, "DGXPixelsBevyExport": 290, "DGXPixelsExtractPalette": 130,
                   "DGXPixelsApplyPalette": 130}
STAGE_COLOURS = {"model": "#3f5f7f", "generate": "#5f3f7f", "pixels": "#3f7f5f", "palette": "#7f6f3f",
                 "export": "#7f3f3f"}


@dataclass(frozen=True)
class ShippedWorkflow:
    name: str
    title: str
    description: str
    build: Callable[[], WorkflowGraph]
    parameters: dict


def param(kind: str, *targets: tuple[str, str], help: str, **extra) -> dict:
    return {"type": kind, "help": help, "targets": [{"node": n, "input": i} for n, i in targets], **extra}


def model_stage(g: WorkflowGraph):
    checkpoint = g.node("CheckpointLoaderSimple", "Checkpoint", ckpt_name=SDXL_CHECKPOINT)
    lora = g.node("LoraLoader", "Pixel Art LoRA", model=checkpoint.out(0), clip=checkpoint.out(1),
                  lora_name=PIXEL_ART_LORA, strength_model=1.0, strength_clip=1.0)
    g.group("1. Model: SDXL + pixel-art LoRA", [checkpoint, lora], STAGE_COLOURS["model"])
    g.note("Needs sd_xl_base_1.0 in models/checkpoints and pixel-art-xl in models/loras: "
           "`dgx-pixels models download sdxl-base pixel-art-xl`. Lower the LoRA strength for a softer style.", lora)
    return checkpoint, lora


def palette_and_export(g: WorkflowGraph, image, mask, colours: int, kind: str, asset: str, sheet_options: dict):
    extract = g.node("DGXPixelsExtractPalette", "Palette", image=image, mask=mask, colours=colours, seed=0,
                     keep="")
    apply = g.node("DGXPixelsApplyPalette", "Apply Palette", image=image, palette=extract.out(0), mask=mask,
                   dither="none", strength=1.0)
    g.group("4. One palette for the whole set", [extract, apply], STAGE_COLOURS["palette"])
    if kind == "tilesets":
        sheet = g.node("DGXPixelsAssembleTileset", "Tileset", tiles=apply.out(0), mask=mask, **sheet_options)
    else:
        sheet = g.node("DGXPixelsAssembleSpriteSheet", "Sprite Sheet", frames=apply.out(0), mask=mask,
                       **sheet_options)
    export = g.node("DGXPixelsBevyExport", "Bevy Export", sheet=sheet.out(0), mask=sheet.out(1),
                    layout=sheet.out(2), project="bevy_game", name=asset, folder=kind, png_meta=True,
                    must_be_bevy_project=False)
    zoom = g.node("DGXPixelsPixelUpscale", "Preview Zoom", image=sheet.out(0), mask=sheet.out(1), scale=4)
    preview = g.node("PreviewImage", "Preview", images=zoom.out(0))
    g.group("5. Sheet and Bevy export", [sheet, export, zoom, preview], STAGE_COLOURS["export"])
    g.note("`project` is your Bevy game folder (with Cargo.toml). A relative path lands in ComfyUI's output "
           "folder; other folders must be listed in DGX_PIXELS_EXPORT_ROOTS. Previous versions are kept.", export)
    return sheet, export


def export_parameters(asset: str) -> dict:
    return {
        "asset_name": param("string", ("Bevy Export", "name"), help="asset name (file and folder names)",
                            default=asset),
        "project": param("string", ("Bevy Export", "project"), help="Bevy project folder"),
        "colours": param("int", ("Palette", "colours"), help="palette size (0: automatic)", min=0, max=256,
                         aliases=["colors"]),
    }


def character_sprite_sheet() -> WorkflowGraph:
    g = WorkflowGraph()
    checkpoint, lora = model_stage(g)
    poses = g.node("DGXPixelsCharacterPoseBatch", "Pose Batch", column=2,
                   character="a knight in silver armour with a red cape", animations="idle, walk, attack",
                   directions="side", frames_per_animation=0, width=1024, height=1024, seed=1, clip=lora.out(1))
    negative = g.node("CLIPTextEncode", "Negative Prompt", clip=lora.out(1), text=NEGATIVE)
    controlnet = g.node("ControlNetLoader", "Pose ControlNet", column=2, control_net_name=OPENPOSE_CONTROLNET)
    guidance = g.node("ControlNetApplyAdvanced", "Pose Guidance", bypass={0: "positive", 1: "negative"},
                      positive=poses.out(1), negative=negative.out(0), control_net=controlnet.out(0),
                      image=poses.out(3), strength=0.8, start_percent=0.0, end_percent=0.8)
    canvas = g.node("EmptyLatentImage", "Canvas", column=3, width=1024, height=1024, batch_size=1)
    sampler = g.node("KSampler", "Sampler", model=lora.out(0), positive=guidance.out(0), negative=guidance.out(1),
                     latent_image=canvas.out(0), seed=poses.out(5), steps=25, cfg=6.0,
                     sampler_name="euler_ancestral", scheduler="normal", denoise=1.0)
    decode = g.node("VAEDecode", "Decode", samples=sampler.out(0), vae=checkpoint.out(2))
    collect = g.node("RebatchImages", "Collect Frames", images=decode.out(0), batch_size=1024)
    g.group("2. Every frame of every animation", [poses, negative, controlnet, guidance, canvas, sampler, decode,
                                                  collect], STAGE_COLOURS["generate"])
    g.note("One prompt, seed and skeleton per frame; the sampler runs once per frame. Pose Guidance ships "
           "switched off: select it and press Ctrl+B to follow the skeletons with the OpenPose ControlNet "
           "(`dgx-pixels models download openpose-sdxl`).", poses)
    background = g.node("DGXPixelsBackgroundToAlpha", "Background to Alpha", image=collect.out(0),
                        mode="flood from edges", tolerance=0.12, key_colour="", lock_batch=True)
    grid = g.node("DGXPixelsPixelPerfectDownscale", "Pixel Grid", image=background.out(0), mask=background.out(1),
                  reducer="majority", alpha_threshold=0.5, target_size="", min_cell=4.0, max_cell=128.0, lock=True)
    g.group("3. One grid and one alpha rule for the whole character", [background, grid], STAGE_COLOURS["pixels"])
    palette_and_export(g, grid.out(0), grid.out(1), 16, "sprites", "hero",
                       dict(tags="", layout="rows", columns=0, cell_width=0, cell_height=0, align="baseline",
                            pivot_x=0.5, pivot_y=1.0, padding=1, extrude=0, trim=False, dedupe=False,
                            frame_tags=poses.out(4)))
    return g


def cleanup_existing_art() -> WorkflowGraph:
    g = WorkflowGraph()
    art = g.node("LoadImage", "Artwork", image="your_sprite.png")
    background = g.node("DGXPixelsBackgroundToAlpha", "Background to Alpha", image=art.out(0), mask=art.out(1),
                        mode="flood from edges", tolerance=0.12, key_colour="", lock_batch=True)
    grid = g.node("DGXPixelsPixelPerfectDownscale", "Pixel Grid", image=background.out(0), mask=background.out(1),
                  reducer="majority", alpha_threshold=0.5, target_size="", min_cell=4.0, max_cell=128.0, lock=True)
    g.group("1. Your art: AI output, an upscaled sprite or a screenshot", [art], STAGE_COLOURS["generate"])
    g.group("2-3. Clean alpha, then the true pixel grid", [background, grid], STAGE_COLOURS["pixels"])
    g.note("Detects the real pixel size even when cells are uneven. Set target_size (e.g. 64x64) to force a "
           "size; the preview on the node shows the grid it found.", grid)
    palette_and_export(g, grid.out(0), grid.out(1), 16, "sprites", "cleaned",
                       dict(tags="idle:1@100ms", layout="rows", columns=0, cell_width=0, cell_height=0,
                            align="baseline", pivot_x=0.5, pivot_y=1.0, padding=0, extrude=0, trim=False,
                            dedupe=False))
    return g


def tileset_seamless() -> WorkflowGraph:
    g = WorkflowGraph()
    checkpoint, lora = model_stage(g)
    tiling = g.node("DGXPixelsSeamlessTiling", "Seamless Tiling", model=lora.out(0), vae=checkpoint.out(2),
                    axes="both")
    positive = g.node("CLIPTextEncode", "Positive Prompt", clip=lora.out(1),
                      text="pixel art, seamless tileable texture, grassy ground with small stones, top-down view, "
                           "16-bit game tile")
    negative = g.node("CLIPTextEncode", "Negative Prompt", clip=lora.out(1), text=NEGATIVE)
    canvas = g.node("EmptyLatentImage", "Canvas", column=2, width=1024, height=1024, batch_size=4)
    sampler = g.node("KSampler", "Sampler", model=tiling.out(0), positive=positive.out(0),
                     negative=negative.out(0), latent_image=canvas.out(0), seed=1, steps=25, cfg=6.0,
                     sampler_name="euler_ancestral", scheduler="normal", denoise=1.0)
    decode = g.node("VAEDecode", "Decode", samples=sampler.out(0), vae=tiling.out(1))
    g.group("2. Generate tiles that wrap around", [tiling, positive, negative, canvas, sampler, decode],
            STAGE_COLOURS["generate"])
    g.note("Seamless Tiling wraps the model and VAE so each tile continues across its own edges; the Tileset "
           "node reports any seam it still finds.", tiling)
    grid = g.node("DGXPixelsPixelPerfectDownscale", "Pixel Grid", image=decode.out(0), reducer="majority",
                  alpha_threshold=0.5, target_size="32x32", min_cell=4.0, max_cell=128.0, lock=False)
    g.group("3. Native 32x32 tiles", [grid], STAGE_COLOURS["pixels"])
    palette_and_export(g, grid.out(0), grid.out(1), 16, "tilesets", "ground",
                       dict(columns=0, spacing=0, margin=0, autotile="none", seam_tolerance=1.5))
    return g


def item_icons() -> WorkflowGraph:
    g = WorkflowGraph()
    checkpoint, lora = model_stage(g)
    lines = g.node("DGXPixelsPromptLines", "Items", column=2,
                   lines="iron sword\nhealth potion\nwooden shield\ngold coin\nmagic scroll\nleather boots",
                   template="{line}, pixel art game item icon, centered, plain white background")
    positive = g.node("CLIPTextEncode", "Item Prompt", clip=lora.out(1), text=lines.out(0))
    negative = g.node("CLIPTextEncode", "Negative Prompt", clip=lora.out(1), text=NEGATIVE)
    canvas = g.node("EmptyLatentImage", "Canvas", column=3, width=1024, height=1024, batch_size=1)
    sampler = g.node("KSampler", "Sampler", model=lora.out(0), positive=positive.out(0), negative=negative.out(0),
                     latent_image=canvas.out(0), seed=7, steps=25, cfg=6.0, sampler_name="euler_ancestral",
                     scheduler="normal", denoise=1.0)
    decode = g.node("VAEDecode", "Decode", samples=sampler.out(0), vae=checkpoint.out(2))
    collect = g.node("RebatchImages", "Collect Icons", images=decode.out(0), batch_size=256)
    g.group("2. One icon per line", [lines, positive, negative, canvas, sampler, decode, collect],
            STAGE_COLOURS["generate"])
    g.note("Each line of Items is sampled on its own; Collect Icons gathers them into one batch so they share "
           "one grid size and one palette.", lines)
    background = g.node("DGXPixelsBackgroundToAlpha", "Background to Alpha", image=collect.out(0),
                        mode="flood from edges", tolerance=0.12, key_colour="", lock_batch=True)
    grid = g.node("DGXPixelsPixelPerfectDownscale", "Pixel Grid", image=background.out(0), mask=background.out(1),
                  reducer="majority", alpha_threshold=0.5, target_size="32x32", min_cell=4.0, max_cell=128.0,
                  lock=False)
    g.group("3. Clean alpha, native 32x32 icons", [background, grid], STAGE_COLOURS["pixels"])
    palette_and_export(g, grid.out(0), grid.out(1), 24, "items", "items",
                       dict(tags="", layout="packed", columns=0, cell_width=0, cell_height=0, align="centre",
                            pivot_x=0.5, pivot_y=0.5, padding=1, extrude=0, trim=False, dedupe=False))
    return g


GENERATION_PARAMETERS = {
    "seed": param("seed", ("Sampler", "seed"), help="random seed (drawn and recorded when not given)"),
    "steps": param("int", ("Sampler", "steps"), help="sampling steps", min=1, max=150),
    "width": param("int", ("Canvas", "width"), help="generation width in pixels", min=64, max=4096),
    "height": param("int", ("Canvas", "height"), help="generation height in pixels", min=64, max=4096),
    "checkpoint": param("string", ("Checkpoint", "ckpt_name"), help="checkpoint file in models/checkpoints"),
    "lora": param("string", ("Pixel Art LoRA", "lora_name"), help="LoRA file in models/loras"),
    "lora_strength": param("float", ("Pixel Art LoRA", "strength_model"), ("Pixel Art LoRA", "strength_clip"),
                           help="LoRA strength", min=-4.0, max=4.0),
}

LIBRARY = (
    ShippedWorkflow("character_sprite_sheet", "DGX-Pixels: character sprite sheet",
             "A description -> every animation frame in every direction (SDXL + pixel-art LoRA, optional OpenPose "
             "ControlNet) -> clean alpha -> one locked grid and palette -> tagged sheet -> Bevy export.",
             character_sprite_sheet,
             {"prompt": param("string", ("Pose Batch", "character"), help="the character's description"),
              "animations": param("string", ("Pose Batch", "animations"),
                                  help="animations, e.g. 'idle, walk:8, attack once'"),
              "directions": param("choice", ("Pose Batch", "directions"), help="side, right, 4 or 8",
                                  choices=["side", "right", "4", "8"]),
              "frames": param("int", ("Pose Batch", "frames_per_animation"),
                              help="frames per animation (0: each animation's usual count)", min=0, max=64),
              "seed": param("int", ("Pose Batch", "seed"), help="the character's seed", min=0, max=2 ** 32 - 1),
              "width": param("int", ("Pose Batch", "width"), ("Canvas", "width"), help="frame width in pixels",
                             min=64, max=4096),
              "height": param("int", ("Pose Batch", "height"), ("Canvas", "height"),
                              help="frame height in pixels", min=64, max=4096),
              "size": param("string", ("Pixel Grid", "target_size"),
                            help="force the sprite's native size, e.g. 48x48 (empty: detect)"),
              **{k: v for k, v in GENERATION_PARAMETERS.items() if k not in ("seed", "width", "height")},
              **export_parameters("hero")}),
    ShippedWorkflow("cleanup_existing_art", "DGX-Pixels: clean up existing art",
             "Any image (AI output, an upscaled sprite) -> true pixel art on a palette -> sheet + Bevy export. "
             "No model needed.", cleanup_existing_art,
             {"image": param("image", ("Artwork", "image"), help="the picture to clean up"),
              "size": param("string", ("Pixel Grid", "target_size"),
                            help="force the native size, e.g. 64x64 (empty: detect)"),
              **export_parameters("cleaned")}),
    ShippedWorkflow("tileset_seamless", "DGX-Pixels: seamless tileset",
             "SDXL + pixel-art LoRA drawing tiles that wrap -> native 32x32 tiles on one palette -> seam check -> "
             "tileset + Tiled/Bevy export.", tileset_seamless,
             {"prompt": param("string", ("Positive Prompt", "text"), help="what the tiles show"),
              "tiles": param("int", ("Canvas", "batch_size"), help="how many tiles", min=1, max=64),
              "tile_size": param("string", ("Pixel Grid", "target_size"), help="native tile size, e.g. 32x32"),
              "axes": param("choice", ("Seamless Tiling", "axes"), help="wrap both ways, or x / y only",
                            choices=["both", "x", "y"]),
              **GENERATION_PARAMETERS, **export_parameters("ground")}),
    ShippedWorkflow("item_icons", "DGX-Pixels: item icons",
             "One prompt per line -> icons on a shared palette -> packed item atlas -> Bevy export.", item_icons,
             {"items": param("string", ("Items", "lines"), help="one item per line"),
              "template": param("string", ("Items", "template"), help="prompt template with {line}"),
              "icon_size": param("string", ("Pixel Grid", "target_size"), help="native icon size, e.g. 32x32"),
              **GENERATION_PARAMETERS, **export_parameters("items")}),
)


def write_library(object_info: dict, folder: Path = CHECKOUT_WORKFLOWS) -> list[Path]:
    """Write every workflow's editor format, API twin and parameter map; returns the files written."""
    written = []
    for workflow in LIBRARY:
        graph = workflow.build()
        for path, data in rendered_files(workflow, graph, object_info, folder).items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data)
            written.append(path)
    return written


def rendered_files(workflow: ShippedWorkflow, graph: WorkflowGraph, object_info: dict,
                   folder: Path = CHECKOUT_WORKFLOWS) -> dict[Path, str]:
    """The three files of one workflow, as text (stable: sorted keys where order does not matter)."""
    ui = graph.to_ui(object_info, PREVIEW_HEIGHTS)
    ui["extra"]["dgx_pixels"] = {"title": workflow.title, "description": workflow.description}
    params = {"description": workflow.description, "parameters": workflow.parameters}
    return {
        folder / f"{workflow.name}.json": json.dumps(ui, indent=1) + "\n",
        folder / "api" / f"{workflow.name}.json": json.dumps(graph.to_api(object_info), indent=1) + "\n",
        folder / "api" / f"{workflow.name}.params.json": json.dumps(params, indent=1) + "\n",
    }
