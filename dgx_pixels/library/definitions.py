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

from ..character.strips import STRIP_LAYOUTS
from .folder import CHECKOUT_WORKFLOWS
from .graph import WorkflowGraph

SDXL_CHECKPOINT = "sd_xl_base_1.0.safetensors"
PIXEL_ART_LORA = "pixel-art-xl.safetensors"
OPENPOSE_CONTROLNET = "xinsir-openpose-sdxl-1.0.safetensors"
NEGATIVE = "blurry, soft, anti-aliased, gradient, photo, 3d render, text, watermark, frame, border"
# Room for the web extension's previews (web/js), which appear on these nodes after a run.
PREVIEW_HEIGHTS = {"DGXPixelsPixelPerfectDownscale": 340, "DGXPixelsDetectPixelGrid": 340,
                   "DGXPixelsAssembleSpriteSheet": 290, "DGXPixelsBevyExport": 290, "DGXPixelsExtractPalette": 130,
                   "DGXPixelsApplyPalette": 130, "DGXPixelsTerrainTransitions": 300, "DGXPixelsTerrainTiles": 260,
                   "DGXPixelsTerrainEdgeCheck": 360, "DGXPixelsTerrainMapPreview": 330}
STAGE_COLOURS = {"model": "#3f5f7f", "generate": "#5f3f7f", "pixels": "#3f7f5f", "palette": "#7f6f3f",
                 "export": "#7f3f3f", "check": "#3f6f7f"}


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


def palette_and_export(g: WorkflowGraph, image, mask, colours: int, kind: str, asset: str, sheet_options: dict,
                       stages: tuple[int, int] = (4, 5), columns: tuple[int, int] | None = None):
    """The palette, sheet and export stages (numbered ``stages`` in the editor; ``columns``: the palette's and the
    sheet's columns, else after their inputs); returns the Apply Palette node."""
    palette_column, sheet_column = columns or (None, None)
    extract = g.node("DGXPixelsExtractPalette", "Palette", column=palette_column, image=image, mask=mask,
                     colours=colours, seed=0, keep="")
    apply = g.node("DGXPixelsApplyPalette", "Apply Palette", column=palette_column, image=image,
                   palette=extract.out(0), mask=mask, dither="none", strength=1.0)
    g.group(f"{stages[0]}. One palette for the whole set", [extract, apply], STAGE_COLOURS["palette"])
    if kind == "tilesets":
        sheet = g.node("DGXPixelsAssembleTileset", "Tileset", tiles=apply.out(0), mask=mask, **sheet_options)
    else:
        sheet = g.node("DGXPixelsAssembleSpriteSheet", "Sprite Sheet", column=sheet_column, frames=apply.out(0),
                       mask=mask, **sheet_options)
    export = g.node("DGXPixelsBevyExport", "Bevy Export", sheet=sheet.out(0), mask=sheet.out(1),
                    layout=sheet.out(2), project="bevy_game", name=asset, folder=kind, png_meta=True,
                    must_be_bevy_project=False)
    # The sheet and its metadata as output files: what API callers get back (and export on their machine).
    files = g.node("DGXPixelsSaveSheet", "Sheet", sheet=sheet.out(0), mask=sheet.out(1), layout=sheet.out(2),
                   name=asset, palette=extract.out(0))
    zoom = g.node("DGXPixelsPixelUpscale", "Preview Zoom", image=sheet.out(0), mask=sheet.out(1), scale=4)
    preview = g.node("PreviewImage", "Preview", images=zoom.out(0))
    g.group(f"{stages[1]}. Sheet and Bevy export", [sheet, export, files, zoom, preview], STAGE_COLOURS["export"])
    g.note("`project` is your Bevy game folder (with Cargo.toml). A relative path lands in ComfyUI's output "
           "folder; other folders must be listed in DGX_PIXELS_EXPORT_ROOTS. Previous versions are kept.", export)
    return apply


def export_parameters(asset: str) -> dict:
    return {
        "asset_name": param("string", ("Bevy Export", "name"), ("Sheet", "name"),
                            help="asset name (file and folder names)", default=asset),
        "project": param("string", ("Bevy Export", "project"),
                         help="Bevy project folder on the server (its Bevy Export node writes there)"),
        "colours": param("int", ("Palette", "colours"), help="palette size (0: automatic)", min=0, max=256,
                         aliases=["colors"]),
    }


def character_sprite_sheet() -> WorkflowGraph:
    g = WorkflowGraph()
    checkpoint, lora = model_stage(g)
    strips = g.node("DGXPixelsCharacterStrips", "Character Strips", column=2,
                    character="a knight in silver armour with a red cape", animations="idle, walk, attack",
                    directions="side", frames_per_animation=0, width=1024, height=1024, columns=4, rows=2,
                    layout="strips", seed=1, strip_seeds="", strips="", anchor_image="none", clip=lora.out(1))
    negative = g.node("CLIPTextEncode", "Negative Prompt", clip=lora.out(1), text=NEGATIVE)
    g.group("2. One image per strip", [strips, negative], STAGE_COLOURS["generate"])
    g.note("Each animation in each direction is drawn as ONE image holding all its frames (a 4x2 grid of cells at "
           "1024x1024) from one prompt, so the frames show one character. anchor_image: an approved frame or your "
           "drawing, drawn on the left of every strip and copied. layout per-frame: one image per frame (less "
           "alike). strips / strip_seeds: draw single strips again.", strips)
    controlnet = g.node("ControlNetLoader", "Pose ControlNet", column=3, control_net_name=OPENPOSE_CONTROLNET)
    guidance = g.node("ControlNetApplyAdvanced", "Pose Guidance", column=3, positive=strips.out(1),
                      negative=negative.out(0), control_net=controlnet.out(0), image=strips.out(2), strength=0.8,
                      start_percent=0.0, end_percent=0.8)
    canvas = g.node("ImageStitch", "Canvas", column=3, image1=strips.out(3), image2=strips.out(4),
                    direction="left", match_image_size=False, spacing_width=0, spacing_color="white")
    keep = g.node("InpaintModelConditioning", "Keep Anchor", column=3, positive=guidance.out(0),
                  negative=guidance.out(1), vae=checkpoint.out(2), pixels=canvas.out(0), mask=strips.out(5),
                  noise_mask=True)
    g.group("3. Poses and anchor canvas", [controlnet, guidance, canvas, keep], STAGE_COLOURS["generate"])
    g.note("Pose Guidance makes each cell follow its skeleton (OpenPose ControlNet: `dgx-pixels models download "
           "openpose-sdxl`). Canvas puts the anchor column left of the strip; Keep Anchor encodes the canvas with "
           "a mask that keeps the anchor as it is while the strip is drawn.", guidance)
    sampler = g.node("KSampler", "Sampler", column=4, model=lora.out(0), positive=keep.out(0),
                     negative=keep.out(1), latent_image=keep.out(2), seed=strips.out(6), steps=25, cfg=6.0,
                     sampler_name="dpmpp_2m", scheduler="karras", denoise=1.0)
    decode = g.node("VAEDecode", "Decode", column=4, samples=sampler.out(0), vae=checkpoint.out(2))
    cut = g.node("DGXPixelsCutStripFrames", "Cut Strip Frames", column=4, canvases=decode.out(0),
                 strips=strips.out(7))
    g.group("4. Draw, cut into frames", [sampler, decode, cut], STAGE_COLOURS["generate"])
    g.note("The sampler runs once per strip; a non-ancestral sampler gives the same strip for the same seed. Cut "
           "Strip Frames cuts each canvas cell by cell by its known layout, leaving the anchor out, into one "
           "tagged batch.", cut)
    background = g.node("DGXPixelsBackgroundToAlpha", "Background to Alpha", column=5, image=cut.out(0),
                        mode="flood from edges", tolerance=0.12, key_colour="", lock_batch=True)
    grid = g.node("DGXPixelsPixelPerfectDownscale", "Pixel Grid", column=5, image=background.out(0),
                  mask=background.out(1), reducer="majority", alpha_threshold=0.5, target_size="", min_cell=4.0,
                  max_cell=128.0, lock=True)
    g.group("5. One grid, one alpha rule", [background, grid], STAGE_COLOURS["pixels"])
    g.note("The plain backdrop becomes clean alpha with one rule for every frame; Pixel Grid finds one grid for "
           "the whole character (lock), so every frame has the same native size. Set target_size to force it.",
           grid)
    palette = palette_and_export(g, grid.out(0), grid.out(1), 16, "sprites", "hero",
                                 dict(tags="", layout="rows", columns=0, cell_width=0, cell_height=0,
                                      align="baseline", pivot_x=0.5, pivot_y=1.0, padding=1, extrude=0, trim=False,
                                      dedupe=False, frame_tags=cut.out(1), grid=grid.out(2)),
                                 stages=(6, 8), columns=(6, 8))
    g.note("One palette for every frame of the character (0 colours: automatic), so no frame drifts in colour.",
           palette)
    check = g.node("DGXPixelsConsistencyCheck", "Consistency Check", column=7, frames=palette.out(0),
                   mask=grid.out(1), frame_tags=cut.out(1), strips=strips.out(7), reference_image="none")
    g.group("7. Consistency check", [check], STAGE_COLOURS["check"])
    g.note("Scores every frame against the anchor (else the first frame): silhouette, height and width drift in "
           "pixels, palette and detail distance. failing_strips names the strips to draw again (strips and "
           "strip_seeds above; `dgx-pixels generate character --reroll N` does it for you). docs/characters.md",
           check)
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


def train_pixel_lora() -> WorkflowGraph:
    g = WorkflowGraph()
    checkpoint = g.node("CheckpointLoaderSimple", "Checkpoint", ckpt_name=SDXL_CHECKPOINT)
    g.group("1. The model to train on", [checkpoint], STAGE_COLOURS["model"])
    training_set = g.node("DGXPixelsPixelArtTrainingSet", "Training Set", column=2, folder="training/mystyle",
                          resolution=1024, trigger="mystyle", sprite_type="pixel art sprite", background="#ffffff",
                          flip=False)
    images = g.node("VAEEncode", "Encode Images", column=2, pixels=training_set.out(0), vae=checkpoint.out(2))
    captions = g.node("DGXPixelsEncodeCaptions", "Encode Captions", column=2, clip=checkpoint.out(1),
                      captions=training_set.out(1))
    g.group("2. Your art as a pixel-true training set", [training_set, images, captions], STAGE_COLOURS["pixels"])
    g.note("Put 20-100 images of your game's art in ComfyUI/input/training/mystyle (or let `dgx-pixels train "
           "FOLDER --name mystyle` upload them). Each goes back to its true pixel grid and is scaled up by a whole "
           "factor; a .txt beside an image is its caption. The node's report says what was dropped and why.",
           training_set)
    train = g.node("DGXPixelsTrainPixelLoRA", "Train LoRA", column=3, model=checkpoint.out(0), latents=images.out(0),
                   positive=captions.out(0), batch_size=1, grad_accumulation_steps=1, steps=3000,
                   learning_rate=0.0001, rank=16, optimizer="AdamW", loss_function="MSE", seed=0,
                   training_dtype="bf16", lora_dtype="bf16", algorithm="LoRA", gradient_checkpointing=True,
                   existing_lora="[None]")
    save = g.node("DGXPixelsSavePixelLoRA", "Save LoRA", column=4, lora=train.out(1), name="mystyle",
                  trigger="mystyle", loss=train.out(2), steps=train.out(3))
    graph = g.node("LossGraphNode", "Loss Graph", column=4, loss=train.out(2), filename_prefix="loss_graph")
    g.group("3. Train (ComfyUI's own trainer)", [train], STAGE_COLOURS["generate"])
    g.note("Train Pixel LoRA runs ComfyUI's own trainer and shows each step and its loss as it trains (on the node, "
           "and in `dgx-pixels train`). Single losses jump with each step's random noise level: watch the trend.",
           train)
    g.group("4. The LoRA, by name, and its loss", [save, graph], STAGE_COLOURS["export"])
    g.note("The LoRA lands in output/loras/<name>.safetensors, which ComfyUI lists among its LoRAs: load it in any "
           "workflow by name (`dgx-pixels generate ... --lora mystyle`) and put the trigger word in the prompt. "
           "docs/training.md has a DGX Spark recipe.", save)
    return g


def terrain_transitions() -> WorkflowGraph:
    g = WorkflowGraph()
    checkpoint, lora = model_stage(g)
    plan = g.node("DGXPixelsTerrainTransitions", "Terrain Transitions", column=2, terrain_a="grass",
                  terrain_b="dirt", order="corner 16", tile_size=32, canvas=1024, variants=2, keep_edge=1, blend=0,
                  seed=1, tile_seeds="")
    tiling = g.node("DGXPixelsSeamlessTiling", "Seamless Tiling", column=2, model=lora.out(0), vae=checkpoint.out(2),
                    axes="both")
    bases = g.node("CLIPTextEncode", "Base Prompts", column=3, clip=lora.out(1), text=plan.out(0))
    negative = g.node("CLIPTextEncode", "Negative Prompt", column=3, clip=lora.out(1), text=NEGATIVE)
    canvas = g.node("EmptyLatentImage", "Base Canvas", column=3, width=plan.out(5), height=plan.out(5), batch_size=1)
    base_sampler = g.node("KSampler", "Base Sampler", column=4, model=tiling.out(0), positive=bases.out(0),
                          negative=negative.out(0), latent_image=canvas.out(0), seed=plan.out(1), steps=25, cfg=6.0,
                          sampler_name="dpmpp_2m", scheduler="karras", denoise=1.0)
    base_decode = g.node("VAEDecode", "Base Decode", column=4, samples=base_sampler.out(0), vae=tiling.out(1))
    g.group("2. Plan the set, draw two seamless base tiles",
            [plan, tiling, bases, negative, canvas, base_sampler, base_decode], STAGE_COLOURS["generate"])
    g.note("Terrain Transitions plans every tile of the order (corner 16, blob 47 or platformer): where each terrain "
           "lies and the band the model draws (preview). The two base tiles are drawn with the model and VAE "
           "wrapped around, so they repeat without seams.", plan)
    canvases = g.node("DGXPixelsTerrainCanvases", "Terrain Canvases", column=5, terrain=plan.out(4),
                      bases=base_decode.out(0), tile_a_image="none", tile_b_image="none")
    prompts = g.node("CLIPTextEncode", "Tile Prompts", column=5, clip=lora.out(1), text=plan.out(2))
    inpaint = g.node("InpaintModelConditioning", "Inpaint", column=6, positive=prompts.out(0),
                     negative=negative.out(0), vae=tiling.out(1), pixels=canvases.out(0), mask=canvases.out(1),
                     noise_mask=True)
    sampler = g.node("KSampler", "Tile Sampler", column=6, model=tiling.out(0), positive=inpaint.out(0),
                     negative=inpaint.out(1), latent_image=inpaint.out(2), seed=plan.out(3), steps=25, cfg=6.0,
                     sampler_name="dpmpp_2m", scheduler="karras", denoise=1.0)
    decode = g.node("VAEDecode", "Tile Decode", column=7, samples=sampler.out(0), vae=tiling.out(1))
    tiles = g.node("DGXPixelsTerrainTiles", "Terrain Tiles", column=7, drawn=decode.out(0),
                   canvases=canvases.out(0), terrain=plan.out(4))
    g.group("3. Each tile drawn by inpainting, edges kept", [canvases, prompts, inpaint, sampler, decode, tiles],
            STAGE_COLOURS["generate"])
    g.note("Each canvas is the two base tiles cut together along the tile's terrains; the sampler redraws only the "
           "band between them (variants: the inside), the outer keep_edge pixels stay, so every edge meets its "
           "neighbours. Your own seamless tiles: choose them in tile_a_image / tile_b_image.", canvases)
    g.note("Terrain Tiles pastes the drawing back where it may change and makes the tiles native on the base "
           "tiles' grid, in tileset order.", tiles)
    palette = palette_and_export(g, tiles.out(0), tiles.out(1), 16, "tilesets", "terrain",
                                 dict(columns=0, spacing=0, margin=0, autotile="none", seam_tolerance=1.5,
                                      terrain=plan.out(4)), columns=(8, 9))
    g.note("One palette for every tile, no dithering: a pixel two tiles share gets the same colour in both.", palette)
    export = g.by_title("Bevy Export")
    check = g.node("DGXPixelsTerrainEdgeCheck", "Edge Check", column=12, tiles=palette.out(0), terrain=plan.out(4),
                   tolerance=1.5, mask=tiles.out(1))
    preview = g.node("DGXPixelsTerrainMapPreview", "Map Preview", column=12, tiles=palette.out(0),
                     terrain=plan.out(4), columns=16, rows=10, seed=0, mask=tiles.out(1), exported=export.out(1))
    g.group("6. Edge check and map preview", [check, preview], STAGE_COLOURS["check"])
    g.note("Every pair of tiles that may touch must continue each other's edges; failing tiles are listed (draw "
           "them again with new tile_seeds, or `dgx-pixels generate terrain --redraw N`). The map, painted by the "
           "autotile rules, is written beside the tileset as <name>.map.png. docs/terrain.md", check)
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

def character_parameters() -> dict:
    """The character workflow's parameters. Names from before strips (prompt, frames, seed, width, ...) keep working;
    width and height are the size of each generated image (a whole strip; per-frame: one frame)."""
    strips, check = "Character Strips", "Consistency Check"
    return {
        "prompt": param("string", (strips, "character"), help="the character's description"),
        "animations": param("string", (strips, "animations"), help="animations, e.g. 'idle, walk:8, attack once'"),
        "directions": param("choice", (strips, "directions"), help="side, right, 4 or 8",
                            choices=["side", "right", "4", "8"]),
        "frames": param("int", (strips, "frames_per_animation"),
                        help="frames per animation (0: each animation's usual count)", min=0, max=64),
        "seed": param("int", (strips, "seed"), help="the character's seed (every strip; see strip_seeds)", min=0,
                      max=2 ** 32 - 1),
        "width": param("int", (strips, "width"), help="width of each generated image: a whole strip (per-frame: one "
                                                      "frame)", min=64, max=8192),
        "height": param("int", (strips, "height"), help="height of each generated image", min=64, max=8192),
        "layout": param("choice", (strips, "layout"), choices=list(STRIP_LAYOUTS),
                        help="strips: one image per animation and direction; per-frame: one image per frame"),
        "columns": param("int", (strips, "columns"), help="frames per row of a strip", min=1, max=16),
        "rows": param("int", (strips, "rows"), help="rows of a full strip (the cell is height / rows)", min=1, max=16),
        "strips": param("string", (strips, "strips"), help="draw only these strips, e.g. 'walk_E, attack_W' (empty: "
                                                           "all)"),
        "strip_seeds": param("string", (strips, "strip_seeds"), help="seeds of single strips, e.g. 'walk_E=123'"),
        "anchor": param("image", (strips, "anchor_image"), help="the character's anchor (an approved frame or your "
                                                                "drawing), drawn beside every strip and kept"),
        "reference": param("image", (check, "reference_image"), help="check the frames against this image instead "
                                                                     "of the anchor"),
        "controlnet": param("string", ("Pose ControlNet", "control_net_name"),
                            help="OpenPose ControlNet file in models/controlnet"),
        "pose_strength": param("float", ("Pose Guidance", "strength"), help="how closely frames follow the skeletons",
                               min=0.0, max=10.0),
        "min_silhouette": param("float", (check, "min_silhouette"), help="least silhouette overlap with the anchor",
                                min=0.0, max=1.0),
        "max_height_drift": param("float", (check, "max_height_drift"), help="most height drift, native pixels",
                                  min=0.0, max=1024.0),
        "max_width_drift": param("float", (check, "max_width_drift"), help="most width drift, native pixels",
                                 min=0.0, max=1024.0),
        "max_palette_distance": param("float", (check, "max_palette_distance"),
                                      help="most distance of any colour from the anchor's", min=0.0, max=500.0),
        "max_detail_distance": param("float", (check, "max_detail_distance"),
                                     help="most difference in colour edges from the anchor", min=0.0, max=500.0),
        "size": param("string", ("Pixel Grid", "target_size"),
                      help="force the sprite's native size, e.g. 48x48 (empty: detect)"),
        **{k: v for k, v in GENERATION_PARAMETERS.items() if k not in ("seed", "width", "height")},
        **export_parameters("hero"),
    }


def terrain_parameters() -> dict:
    plan, map_preview = "Terrain Transitions", "Map Preview"
    return {
        "terrain_a": param("string", (plan, "terrain_a"), help="the first terrain, e.g. grass (a platformer's "
                                                               "surface)"),
        "terrain_b": param("string", (plan, "terrain_b"), help="the second terrain, e.g. dirt (a platformer's "
                                                               "ground)"),
        "order": param("choice", (plan, "order"), help="the tile order", choices=["corner 16", "blob 47",
                                                                                  "platformer"]),
        "tile_size": param("int", (plan, "tile_size"), help="native tile size in pixels", min=4, max=256),
        "canvas": param("int", (plan, "canvas"), help="generation size of each tile (a multiple of tile_size)",
                        min=64, max=4096),
        "variants": param("int", (plan, "variants"), help="extra versions of each full tile", min=0, max=16),
        "keep_edge": param("int", (plan, "keep_edge"), help="native pixels kept along every edge", min=0, max=64),
        "blend": param("int", (plan, "blend"), help="width of the band drawn between terrains (0: automatic)",
                       min=0, max=64),
        "seed": param("seed", (plan, "seed"), help="random seed (drawn and recorded when not given)"),
        "tile_seeds": param("string", (plan, "tile_seeds"), help="seeds of single tiles, e.g. '5=123, a=7'"),
        "template": param("string", (plan, "template"), help="prompt template with {terrain}"),
        "tile_a": param("image", ("Terrain Canvases", "tile_a_image"), help="your own seamless tile for terrain A"),
        "tile_b": param("image", ("Terrain Canvases", "tile_b_image"), help="your own seamless tile for terrain B"),
        "tolerance": param("float", ("Edge Check", "tolerance"), help="edge agreement tolerance", min=0.0,
                           max=100.0),
        "map_columns": param("int", (map_preview, "columns"), help="map preview width in tiles", min=2, max=64),
        "map_rows": param("int", (map_preview, "rows"), help="map preview height in tiles", min=2, max=64),
        "steps": param("int", ("Base Sampler", "steps"), ("Tile Sampler", "steps"), help="sampling steps", min=1,
                       max=150),
        **{k: v for k, v in GENERATION_PARAMETERS.items() if k in ("checkpoint", "lora", "lora_strength")},
        **export_parameters("terrain"),
    }


LIBRARY = (
    ShippedWorkflow("character_sprite_sheet", "DGX-Pixels: character sprite sheet",
             "A description -> each animation and direction drawn as one strip of frames (SDXL + pixel-art LoRA, "
             "OpenPose ControlNet, optional anchor image kept beside every strip) -> frames cut by layout -> clean "
             "alpha -> one locked grid and palette -> consistency check -> tagged sheet -> Bevy export.",
             character_sprite_sheet,
             character_parameters()),
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
    ShippedWorkflow("train_pixel_lora", "DGX-Pixels: train a LoRA on your game's art",
             "A folder of your art -> a pixel-true training set (true grid, whole-factor upscale, captions) -> "
             "ComfyUI's own Train LoRA -> output/loras/<name>.safetensors, loaded by name in the generation "
             "workflows, and the loss graph.", train_pixel_lora,
             {"dataset": param("folder", ("Training Set", "folder"),
                               help="the folder of training images (uploaded into the server's input folder)"),
              "lora_name": param("string", ("Save LoRA", "name"), help="the LoRA's name (<name>.safetensors)"),
              "trigger": param("string", ("Training Set", "trigger"), ("Save LoRA", "trigger"),
                               help="the trigger word, first in every caption"),
              "sprite_type": param("string", ("Training Set", "sprite_type"),
                                   help="added to every caption, e.g. 'character sprite'"),
              "resolution": param("int", ("Training Set", "resolution"), help="training size: 1024 SDXL, 512 SD1.5",
                                  min=16, max=4096),
              "flip": param("bool", ("Training Set", "flip"), help="add mirrored copies"),
              "steps": param("int", ("Train LoRA", "steps"), help="training steps (at least 2: the loss graph "
                             "compares the losses)", min=2, max=100000),
              "rank": param("int", ("Train LoRA", "rank"), help="LoRA rank", min=1, max=128),
              "learning_rate": param("float", ("Train LoRA", "learning_rate"), help="learning rate",
                                     min=0.0000001, max=1.0),
              "batch_size": param("int", ("Train LoRA", "batch_size"), help="images per step", min=1, max=10000),
              "seed": param("int", ("Train LoRA", "seed"), help="training seed", min=0, max=2 ** 32 - 1),
              "precision": param("choice", ("Train LoRA", "training_dtype"), choices=["bf16", "fp32"],
                                 help="training precision (fp32 on machines without bf16)"),
              "checkpoint": param("string", ("Checkpoint", "ckpt_name"),
                                  help="checkpoint file in models/checkpoints")}),
    ShippedWorkflow("item_icons", "DGX-Pixels: item icons",
             "One prompt per line -> icons on a shared palette -> packed item atlas -> Bevy export.", item_icons,
             {"items": param("string", ("Items", "lines"), help="one item per line"),
              "template": param("string", ("Items", "template"), help="prompt template with {line}"),
              "icon_size": param("string", ("Pixel Grid", "target_size"), help="native icon size, e.g. 32x32"),
              **GENERATION_PARAMETERS, **export_parameters("items")}),
    ShippedWorkflow("terrain_transitions", "DGX-Pixels: terrain transitions",
             "Two terrains -> two seamless base tiles -> every tile of an autotile order (corner 16, blob 47, "
             "platformer) drawn by inpainting with the edges kept -> one grid and palette -> edge check and a map "
             "preview -> tileset with Tiled terrain + Bevy export.", terrain_transitions, terrain_parameters()),
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
