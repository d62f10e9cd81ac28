"""Character nodes: a character planned as strips (one image per animation and direction, an anchor column kept
beside it), the frames cut out of the drawn strips, and the consistency check that says which strips to draw again."""
from __future__ import annotations

import hashlib
import json
import os

import torch

import folder_paths
from comfy_api.latest import io, ui
from comfy_execution.graph_utils import ExecutionBlocker

from ..dgx_pixels.character.consistency import score_frames
from ..dgx_pixels.character.thresholds import Thresholds
from ..dgx_pixels.character.report import at_frame_scale, picture, with_alpha
from ..dgx_pixels.character.strips import STRIP_LAYOUTS, StripPlan, plan_strips
from ..dgx_pixels.common.errors import InputError
from ..dgx_pixels.image.io import load_rgba_bytes
from ..dgx_pixels.image.ops import check_image, split_alpha
from ..dgx_pixels.poses import prompts
from ..dgx_pixels.poses.library import DEFAULT_ANIMATIONS
from ..dgx_pixels.sheets.assemble import assemble_sheet
from ..dgx_pixels.sheets.frames import coerce_frames
from . import previews
from .poses import NO_CLIP, character_inputs, encode, text_inputs
from .runtime import CATEGORY, check_interrupt, compute_device, node_id, to_compute, to_output, user_errors
from .types import FRAMES, STRIPS

SUBCATEGORY = f"{CATEGORY}/character"
NO_IMAGE = "none"
PREVIEW_WIDTH = 768  # the strips preview is at most this wide
REPORT_PREFIX = "dgx-pixels/consistency"


def input_images() -> list[str]:
    """Images in ComfyUI's input folder (as LoadImage lists them)."""
    folder = folder_paths.get_input_directory()
    files = [name for name in os.listdir(folder) if os.path.isfile(os.path.join(folder, name))]
    return sorted(folder_paths.filter_files_content_types(files, ["image"]))


def image_choice(name: str, tooltip: str) -> io.Combo.Input:
    return io.Combo.Input(name, options=[NO_IMAGE, *input_images()], default=NO_IMAGE,
                          upload=io.UploadType.image, tooltip=tooltip)


def load_choice(name: str) -> torch.Tensor | None:
    """An image chosen from the input folder as RGBA ``[H, W, 4]`` (None for "none")."""
    if name == NO_IMAGE:
        return None
    if not folder_paths.exists_annotated_filepath(name):
        raise InputError(f"image {name!r} is not in ComfyUI's input folder; upload it first")
    return load_rgba_bytes(folder_paths.get_annotated_filepath(name))[0].float() / 255


def choice_fingerprint(name: str) -> str:
    """Changes when the chosen file's content does, so ComfyUI does not reuse a result made from an older file."""
    if name == NO_IMAGE or not folder_paths.exists_annotated_filepath(name):
        return name
    with open(folder_paths.get_annotated_filepath(name), "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def rgba_of(image: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The first image of an IMAGE batch (+ MASK, 1 = transparent) as RGBA ``[H, W, 4]``."""
    return with_alpha(image[:1].float(), None if mask is None else mask[:1].float())[0]


def strips_preview(plan: StripPlan) -> torch.Tensor:
    """Every strip's guide with the anchor in its column, one under another, at most PREVIEW_WIDTH wide."""
    pictures = []
    for strip in plan.strips:
        guide = plan.guide(strip)
        column = plan.anchor_column(strip)
        guide[:, :, :column.shape[2]] = column
        pictures.append(guide)
    width = max(p.shape[2] for p in pictures)
    scale = min(1.0, PREVIEW_WIDTH / width)
    shrunk = [torch.nn.functional.interpolate(p.movedim(-1, 1), scale_factor=scale, mode="area").movedim(1, -1)
              if scale < 1 else p for p in pictures]
    width = max(p.shape[2] for p in shrunk)
    padded = [torch.nn.functional.pad(p, (0, 0, 0, width - p.shape[2])) for p in shrunk]
    return torch.cat(padded, dim=1)


class CharacterStrips(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("CharacterStrips"),
            display_name="Character Strips",
            category=SUBCATEGORY,
            description="A character as strips: each animation in each direction drawn as ONE image holding all its "
                        "frames, with one skeleton guide of the same layout and one identity prompt, so the frames "
                        "show one character. An anchor image (an approved frame or your drawing) can stand on the "
                        "left of every strip and be kept while the strip is drawn.",
            inputs=[
                *character_inputs(DEFAULT_ANIMATIONS, "side"),
                io.Int.Input("width", default=1024, min=64, max=8192, step=8,
                             tooltip="Width of each generated image: a whole strip (per-frame: one frame). About "
                                     "a megapixel suits SDXL."),
                io.Int.Input("height", default=1024, min=64, max=8192, step=8,
                             tooltip="Height of each generated image."),
                io.Int.Input("columns", default=4, min=1, max=16,
                             tooltip="Frames per row of a strip; the cell is width / columns."),
                io.Int.Input("rows", default=2, min=1, max=16,
                             tooltip="Rows of a full strip; the cell is height / rows. Animations with more "
                                     "frames than columns x rows get more rows (a taller image)."),
                io.Combo.Input("layout", options=list(STRIP_LAYOUTS), default=STRIP_LAYOUTS[0],
                               tooltip="strips: an image per animation and direction (frames alike). per-frame: "
                                       "an image per frame with its own prompt (the old way, less consistent)."),
                io.Int.Input("seed", default=0, min=0, max=prompts.MAX_SEED,
                             tooltip="The character's seed, used for every strip unless strip_seeds says "
                                     "otherwise."),
                io.String.Input("strip_seeds", default="",
                                tooltip="Seeds for single strips, e.g. 'walk_E=123, attack_W=7' (draw one again "
                                        "without changing the others)."),
                io.String.Input("strips", default="",
                                tooltip="Draw only these strips, e.g. 'walk_E, attack_W'; empty: all. The plan (and "
                                        "so the skeletons' scale) stays that of the whole character."),
                image_choice("anchor_image", "The character's anchor: an approved frame or your own drawing, "
                                             "in ComfyUI's input folder; drawn beside every strip and kept. "
                                             "none: no anchor (or connect an image to 'anchor')."),
                *text_inputs(prompts.STRIP_TEMPLATE),
                io.Image.Input("anchor", optional=True,
                               tooltip="An anchor image from another node (wins over anchor_image)."),
                io.Mask.Input("anchor_mask", optional=True,
                              tooltip="The anchor's transparency (1 = transparent); without it a plain backdrop "
                                      "is taken away."),
            ],
            outputs=[
                io.String.Output(display_name="prompts", is_output_list=True, tooltip="One prompt per strip."),
                io.Conditioning.Output(display_name="conditioning", is_output_list=True,
                                       tooltip="The prompts encoded, one per strip (needs the clip input)."),
                io.Image.Output(display_name="guides", is_output_list=True,
                                tooltip="One OpenPose guide per strip, the size of its canvas (black under the "
                                        "anchor)."),
                io.Image.Output(display_name="strip_canvas", is_output_list=True,
                                tooltip="The strip's part of each canvas: the plain backdrop to draw on."),
                io.Image.Output(display_name="anchor_column", is_output_list=True,
                                tooltip="The anchor once per row, to stitch on the left of strip_canvas (0 px wide "
                                        "without an anchor)."),
                io.Mask.Output(display_name="masks", is_output_list=True,
                               tooltip="What to draw on each canvas: 1 over the strip, 0 over the anchor (kept)."),
                io.Int.Output(display_name="seeds", is_output_list=True, tooltip="One seed per strip."),
                STRIPS.Output(display_name="strips",
                              tooltip="The plan: layouts, frame tags and the anchor, for Cut Strip Frames and the "
                                      "Consistency Check."),
                io.Int.Output(display_name="count", tooltip="The number of strips."),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, anchor_image=NO_IMAGE, **_) -> str:
        return choice_fingerprint(anchor_image)

    @classmethod
    def execute(cls, character, animations, directions, frames_per_animation, width, height, columns, rows, layout,
                seed, strip_seeds, strips, anchor_image, template, phrases, custom_animations, clip=None,
                anchor=None, anchor_mask=None) -> io.NodeOutput:
        with user_errors("Character Strips"):
            reference = rgba_of(anchor, anchor_mask) if anchor is not None else load_choice(anchor_image)
            plan = plan_strips(character, animations, directions, width, height, columns=columns, rows=rows,
                               layout=layout, frames_per_animation=frames_per_animation,
                               custom_animations=custom_animations, template=template, phrases=phrases, seed=seed,
                               strip_seeds=strip_seeds, select=strips, anchor=reference, device=compute_device())
            texts = [strip.prompt for strip in plan.strips]
            conditioning = encode(clip, texts) if clip is not None else [ExecutionBlocker(NO_CLIP)]
            shown = ui.PreviewImage(to_output(strips_preview(plan)), cls=cls).as_dict()
            listing = [{"strip": s.name, "prompt": s.prompt, "seed": s.seed, "frames": len(s.positions),
                        "grid": [s.columns, s.rows], "canvas": list(plan.canvas_size(s))} for s in plan.strips]
            return io.NodeOutput(
                texts, conditioning, [to_output(plan.guide(s)) for s in plan.strips],
                [to_output(plan.background(s)) for s in plan.strips],
                [to_output(plan.anchor_column(s)) for s in plan.strips],
                [to_output(plan.mask(s)) for s in plan.strips], [s.seed for s in plan.strips], plan,
                len(plan.strips), ui={**shown, "dgx_strips": listing})


class CutStripFrames(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("CutStripFrames"),
            display_name="Cut Strip Frames",
            category=SUBCATEGORY,
            description="Cuts the drawn strips into frames by their known layout (cell by cell, the anchor column "
                        "left out) and gathers them into one batch with their animation tags.",
            is_input_list=True,
            inputs=[
                io.Image.Input("canvases", tooltip="The drawn canvases, one per strip (decoded)."),
                STRIPS.Input("strips", tooltip="The plan from Character Strips."),
            ],
            outputs=[
                io.Image.Output(display_name="frames", tooltip="Every frame of every strip, one batch."),
                FRAMES.Output(display_name="frame_tags", tooltip="Animation, direction, duration per frame."),
                io.Int.Output(display_name="count", tooltip="The number of frames."),
            ],
        )

    @classmethod
    def execute(cls, canvases, strips) -> io.NodeOutput:
        with user_errors("Cut Strip Frames"):
            plan = strips[0]
            if len(canvases) != len(plan.strips):
                raise InputError(f"{len(canvases)} canvases for {len(plan.strips)} strips; connect the decoded "
                                 "canvases of the same Character Strips node")
            frames = []
            for strip, canvas in zip(plan.strips, canvases):
                check_interrupt()
                frames.append(plan.cut(strip, to_compute(canvas)))
            frames = torch.cat(frames)
            tags = plan.frames()
            rgba = torch.cat([frames, torch.ones_like(frames[..., :1])], dim=-1)
            sheet, layout = assemble_sheet(list(rgba), tags, align="pivot")
            return io.NodeOutput(to_output(frames), tags, frames.shape[0],
                                 ui=previews.sheet_player(cls, sheet, layout))


class ConsistencyCheck(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        defaults = Thresholds()
        return io.Schema(
            node_id=node_id("ConsistencyCheck"),
            display_name="Consistency Check",
            category=SUBCATEGORY,
            description="Scores every frame against the anchor after the grid and palette lock: silhouette overlap, "
                        "height and width drift in pixels, palette and detail distance. Reports a table, a picture "
                        "with failing frames framed in red, and which strips to draw again.",
            is_output_node=True,
            inputs=[
                io.Image.Input("frames", tooltip="Native-resolution frames (after Pixel-Perfect Downscale and the "
                                                 "palette)."),
                io.Float.Input("min_silhouette", default=defaults.min_silhouette, min=0.0, max=1.0, step=0.01,
                               tooltip="Least overlap of the frame's shape with the anchor's (1: the same shape)."),
                io.Float.Input("max_height_drift", default=defaults.max_height_drift, min=0.0, max=1024.0, step=1.0,
                               tooltip="Most the frame may be taller or shorter than the anchor, in native pixels."),
                io.Float.Input("max_width_drift", default=defaults.max_width_drift, min=0.0, max=1024.0, step=1.0,
                               tooltip="Most the frame may be wider or narrower than the anchor, in native pixels "
                                       "(poses change it more than height)."),
                io.Float.Input("max_palette_distance", default=defaults.max_palette_distance, min=0.0, max=500.0,
                               step=0.5, tooltip="Most any colour of the frame or anchor may be from the other's "
                                                 "nearest colour (100 x OKLab distance)."),
                io.Float.Input("max_detail_distance", default=defaults.max_detail_distance, min=0.0, max=500.0,
                               step=0.5, tooltip="Most the frame's colour edges (outline, shading, trims) may "
                                                 "differ from the anchor's."),
                image_choice("reference_image", "Compare with this image from the input folder instead (wins over "
                                                "the anchor). none: the anchor, else the first frame."),
                io.Mask.Input("mask", optional=True, tooltip="The frames' transparency (1 = transparent)."),
                FRAMES.Input("frame_tags", optional=True, tooltip="Frame tags: names the frames and strips."),
                STRIPS.Input("strips", optional=True, tooltip="The plan from Character Strips: its anchor and "
                                                              "strips."),
                io.Image.Input("anchor", optional=True, tooltip="An anchor image from another node."),
                io.Mask.Input("anchor_mask", optional=True, tooltip="The anchor's transparency."),
            ],
            outputs=[
                io.Boolean.Output(display_name="passed", tooltip="True when every frame passes."),
                io.String.Output(display_name="report", tooltip="The scores as a table."),
                io.String.Output(display_name="failing_strips",
                                 tooltip="The strips to draw again, e.g. 'walk_E, attack_W' (for the strips input "
                                         "of Character Strips)."),
                io.Image.Output(display_name="marked", tooltip="The frames by strip, failing ones framed in red."),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, reference_image=NO_IMAGE, **_) -> str:
        return choice_fingerprint(reference_image)

    @classmethod
    def execute(cls, frames, min_silhouette, max_height_drift, max_width_drift, max_palette_distance,
                max_detail_distance, reference_image, mask=None, frame_tags=None, strips=None, anchor=None,
                anchor_mask=None) -> io.NodeOutput:
        with user_errors("Consistency Check"):
            # Scored on the CPU: a few small sprites, quicker there than as many small device launches.
            frames = check_image(frames, "frames").float().cpu()
            rgba = with_alpha(frames, None if mask is None else mask.float().cpu())
            tags = coerce_frames(frame_tags) or None
            reference, name = check_reference(rgba, tags, reference_image, strips, anchor, anchor_mask)
            reference = at_frame_scale(with_alpha(reference[None, ..., :3], 1 - reference[None, ..., 3]),
                                       (rgba.shape[2], rgba.shape[1]))
            names = None
            if strips is not None and sum(len(s.positions) for s in strips.strips) == rgba.shape[0]:
                names = [s.name for s in strips.strips for _ in s.positions]
            thresholds = Thresholds(min_silhouette, max_height_drift, max_width_drift, max_palette_distance,
                                    max_detail_distance)
            report = score_frames(rgba, reference, tags, thresholds, name, names)
            marked = picture(rgba, reference, report)
            table = report.table()
            saved = save_report(cls, report.to_dict(), marked, reference[0])
            image, _ = split_alpha(marked[None])
            return io.NodeOutput(report.passed, table, ", ".join(report.failing_strips), to_output(image),
                                 ui={**saved, "text": [table]})


def check_reference(frames: torch.Tensor, tags, reference_image: str, strips: StripPlan | None,
                    anchor: torch.Tensor | None, anchor_mask: torch.Tensor | None) -> tuple[torch.Tensor, str]:
    """What the frames are compared with, RGBA ``[H, W, 4]``, and its name: the chosen reference image, else a
    connected anchor, else the plan's anchor, else the first frame."""
    chosen = load_choice(reference_image)
    if chosen is not None:
        return chosen, f"the reference image {reference_image}"
    if anchor is not None:
        return rgba_of(anchor.cpu(), None if anchor_mask is None else anchor_mask.cpu()), "the anchor"
    if strips is not None and strips.anchor is not None:
        return strips.anchor.cpu(), "the anchor"
    return frames[0], f"the first frame ({tags[0].tag} 1)" if tags else "the first frame"


def save_report(cls, data: dict, marked: torch.Tensor, reference: torch.Tensor) -> dict:
    """The picture, the reference (at the frames' scale) and the scores as files in the output folder, listed in
    the ui so API clients download them."""
    pictures = ui.ImageSaveHelper.save_images(marked[None].float(), filename_prefix=f"{REPORT_PREFIX}_marked",
                                              cls=cls, folder_type=io.FolderType.output)
    references = ui.ImageSaveHelper.save_images(reference[None].float(), filename_prefix=f"{REPORT_PREFIX}_reference",
                                                cls=cls, folder_type=io.FolderType.output)
    folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(
        f"{REPORT_PREFIX}_scores", folder_paths.get_output_directory())
    name = f"{filename}_{counter:05}_.json"
    with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
    return {"images": [dict(p) for p in pictures],
            "dgx_consistency": [{"filename": name, "subfolder": subfolder, "type": "output", "kind": "scores"},
                                {**dict(references[0]), "kind": "reference"}]}


NODES = [CharacterStrips, CutStripFrames, ConsistencyCheck]
