"""Pose nodes: a character's animations x directions x frames as per-frame prompts, OpenPose skeletons and frame
tags; and a multi-pose guide for models that draw several poses in one image."""
from __future__ import annotations

import torch

from comfy_api.latest import io, ui
from comfy_execution.graph_utils import ExecutionBlocker

from ..dgx_pixels.poses import openpose, prompts
from ..dgx_pixels.poses.batch import build_pose_batch, tag_rows
from ..dgx_pixels.poses.library import BUILTIN_ANIMATIONS, DEFAULT_ANIMATIONS, MAX_FRAMES_PER_ANIMATION
from ..dgx_pixels.poses.plan import plan_frames, render, resolve
from ..dgx_pixels.poses.rig import DIRECTION_SETS, DIRECTION_SET_HELP
from ..dgx_pixels.sheets.frames import tag_spec
from .runtime import CATEGORY, check_interrupt, compute_device, node_id, progress_bar, to_output, user_errors
from .types import FRAMES

SUBCATEGORY = f"{CATEGORY}/poses"
PREVIEW_CELL = 128  # largest preview cell, in pixels
NO_CLIP = "connect a CLIP to the pose node to get conditioning, or encode its prompts with CLIP Text Encode"


def character_inputs(animations_default: str, directions_default: str) -> list:
    return [
        io.String.Input("character", default="a knight in silver armour with a red cape", multiline=True,
                        tooltip="Who the sprite shows; goes into every prompt at {character}."),
        io.String.Input("animations", default=animations_default,
                        tooltip="Animations in order, by name (built in: " + ", ".join(BUILTIN_ANIMATIONS)
                                + "; or your custom ones). Optional per entry: ':frames', '@duration' and a loop "
                                  "mode, e.g. 'idle:4, walk:8@90ms, attack once'."),
        io.Combo.Input("directions", options=list(DIRECTION_SETS), default=directions_default,
                       tooltip=DIRECTION_SET_HELP + ". Side views are seen straight on; top-down sets from "
                                                    "slightly above."),
        io.Int.Input("frames_per_animation", default=0, min=0, max=MAX_FRAMES_PER_ANIMATION,
                     tooltip="Frames for every animation without its own ':frames'; 0 uses each animation's usual "
                             "count (idle 4, walk 8, run 8, attack 6, jump 8, hurt 4, death 8)."),
    ]


def text_inputs(template_default: str) -> list:
    return [
        io.String.Input("template", default=template_default, multiline=True,
                        tooltip="The prompt, with fields in braces: {character}, {direction}, {pose}, {action}, "
                                "{detail}, {animation}, {frame}, {frames}."),
        io.String.Input("phrases", default="", multiline=True,
                        tooltip="Replace the words used for an animation or a direction, one per line: "
                                "'walk: striding', 'E: facing right'."),
        io.String.Input("custom_animations", default="", multiline=True,
                        tooltip="Your own animations as keyframes: a header 'wave: 6 @120ms pingpong \"waving\"', "
                                "then lines 'time parameter=value ...', e.g. '0 r_arm=160 r_elbow=20'. See "
                                "docs/poses.md for the parameters."),
        io.Clip.Input("clip", optional=True,
                      tooltip="Optional: encode the prompts here and output CONDITIONING as well."),
    ]


def encode(clip, texts: list[str]) -> list:
    """CLIP Text Encode for each text (as the core node does it)."""
    progress = progress_bar(len(texts))
    conditionings = []
    for text in texts:
        check_interrupt()
        conditionings.append(clip.encode_from_tokens_scheduled(clip.tokenize(text)))
        progress.update(1)
    return conditionings


def preview(skeletons: torch.Tensor, rows: list[list[int]]) -> torch.Tensor:
    """All skeletons on one image, a row per tag, cells at most PREVIEW_CELL pixels."""
    height, width = skeletons.shape[1:3]
    scale = min(1.0, PREVIEW_CELL / max(height, width))
    if scale < 1.0:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        skeletons = torch.nn.functional.interpolate(skeletons.movedim(-1, 1), size=size, mode="area").movedim(1, -1)
    return openpose.tile_rows(skeletons, rows)


class CharacterPoseBatch(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("CharacterPoseBatch"),
            display_name="Character Pose Batch",
            category=SUBCATEGORY,
            description="Every frame of a character's animations in every direction: a prompt per frame (a list "
                        "the nodes after it run once per item), an OpenPose skeleton per frame for an OpenPose "
                        "ControlNet, seeds, and the frame tags Assemble Sprite Sheet turns into animations.",
            inputs=[
                *character_inputs(DEFAULT_ANIMATIONS, "side"),
                io.Int.Input("width", default=512, min=64, max=4096, step=8,
                             tooltip="Frame width in pixels: generate at this size (the skeletons are drawn to it)."),
                io.Int.Input("height", default=512, min=64, max=4096, step=8,
                             tooltip="Frame height in pixels."),
                io.Int.Input("seed", default=0, min=0, max=prompts.MAX_SEED,
                             tooltip="The character's seed: the same seed for every frame keeps the character "
                                     "most alike."),
                io.Combo.Input("seed_policy", options=list(prompts.SEED_POLICIES), default=prompts.SEED_POLICIES[0],
                               tooltip="Same seed for every frame, or the seed plus the frame's number, or plus "
                                       "the animation's number."),
                *text_inputs(prompts.DEFAULT_TEMPLATE),
            ],
            outputs=[
                io.String.Output(display_name="prompts", is_output_list=True,
                                 tooltip="One prompt per frame (a list: CLIP Text Encode and the sampler run once "
                                         "per frame)."),
                io.Conditioning.Output(display_name="conditioning", is_output_list=True,
                                       tooltip="The prompts encoded, one per frame (needs the clip input)."),
                io.Image.Output(display_name="skeletons",
                                tooltip="All OpenPose skeletons as one batch (previews, one-prompt batch runs)."),
                io.Image.Output(display_name="skeleton_list", is_output_list=True,
                                tooltip="The same skeletons one per list item, to pair with the per-frame prompts "
                                        "in Apply ControlNet."),
                FRAMES.Output(display_name="frame_tags",
                              tooltip="Animation, direction, index, duration and loop mode per frame: connect to "
                                      "Assemble Sprite Sheet."),
                io.Int.Output(display_name="seeds", is_output_list=True, tooltip="One seed per frame (a list)."),
                io.Int.Output(display_name="count", tooltip="The number of frames."),
            ],
        )

    @classmethod
    def execute(cls, character, animations, directions, frames_per_animation, width, height, seed, seed_policy,
                template, phrases, custom_animations, clip=None) -> io.NodeOutput:
        with user_errors("Character Pose Batch"):
            plan = plan_frames(character, animations, directions, width, height,
                               frames_per_animation=frames_per_animation, custom_animations=custom_animations,
                               template=template, phrases=phrases, seed=seed, seed_policy=seed_policy,
                               device=compute_device())
            conditioning = encode(clip, plan.prompts) if clip is not None else [ExecutionBlocker(NO_CLIP)]
            shown = ui.PreviewImage(preview(plan.skeletons, tag_rows(plan.batch.frames))[None], cls=cls).as_dict()
            skeletons = to_output(plan.skeletons)
            return io.NodeOutput(plan.prompts, conditioning, skeletons, list(skeletons.split(1)), plan.batch.frames,
                                 plan.seeds, len(plan.prompts), ui={**shown, "dgx_pose_frames": plan.records()})


class TurnaroundSheetGuide(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("TurnaroundSheetGuide"),
            display_name="Turnaround Sheet Guide",
            category=SUBCATEGORY,
            description="For models that draw several poses in one image: one prompt and one OpenPose guide with "
                        "the skeletons laid out in a grid (a turnaround, or a few animation frames). Cut the result "
                        "with Slice Sprite Sheet (grid) using the cell size, columns, rows and tags from here.",
            inputs=[
                *character_inputs("idle:1", "8"),
                io.Int.Input("cell_width", default=256, min=32, max=2048, step=8,
                             tooltip="Width of each pose's cell in the guide, in pixels."),
                io.Int.Input("cell_height", default=256, min=32, max=2048, step=8,
                             tooltip="Height of each pose's cell."),
                io.Int.Input("columns", default=0, min=0, max=64,
                             tooltip="Cells per row; 0: all in one row up to 8 poses, else about square."),
                *text_inputs(prompts.SHEET_TEMPLATE),
            ],
            outputs=[
                io.String.Output(display_name="prompt", tooltip="One prompt for the whole sheet."),
                io.Conditioning.Output(display_name="conditioning", tooltip="The prompt encoded (needs clip)."),
                io.Image.Output(display_name="guide", tooltip="The skeletons laid out in the grid, for an "
                                                              "OpenPose ControlNet; generate at its size."),
                FRAMES.Output(display_name="frame_tags", tooltip="The cells' tags in reading order."),
                io.String.Output(display_name="tags",
                                 tooltip="The same tags as text, for Slice Sprite Sheet's tags input."),
                io.Int.Output(display_name="cell_width", tooltip="For Slice Sprite Sheet's grid_cell_width."),
                io.Int.Output(display_name="cell_height", tooltip="For Slice Sprite Sheet's grid_cell_height."),
                io.Int.Output(display_name="columns", tooltip="For Slice Sprite Sheet's grid_columns."),
                io.Int.Output(display_name="rows", tooltip="For Slice Sprite Sheet's grid_rows."),
            ],
        )

    @classmethod
    def execute(cls, character, animations, directions, frames_per_animation, cell_width, cell_height, columns,
                template, phrases, custom_animations, clip=None) -> io.NodeOutput:
        with user_errors("Turnaround Sheet Guide"):
            chosen, facing = resolve(animations, custom_animations, directions, frames_per_animation)
            batch = build_pose_batch(chosen, facing, cell_width, cell_height)
            count = len(batch)
            columns, rows = openpose.grid_layout(count, columns or (count if count <= 8 else 0))
            text = prompts.sheet_prompt(character, batch.frames, batch.actions, columns, rows, template,
                                        prompts.parse_phrases(phrases))
            guide = openpose.tile_images(render(batch, compute_device()), columns, rows)[None]
            conditioning = encode(clip, [text])[0] if clip is not None else ExecutionBlocker(NO_CLIP)
            guide = to_output(guide)
            shown = ui.PreviewImage(guide, cls=cls).as_dict()
            return io.NodeOutput(text, conditioning, guide, batch.frames, tag_spec(batch.frames), cell_width,
                                 cell_height, columns, rows,
                                 ui={**shown, "dgx_pose_frames": [f.to_dict() for f in batch.frames]})


NODES = [CharacterPoseBatch, TurnaroundSheetGuide]
