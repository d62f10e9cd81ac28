"""Output nodes whose files go back to whoever queued the workflow: the sheet and its metadata, saved in ComfyUI's
output folder and listed in the node's ui, which API clients (dgx-pixels run/generate, the REST and MCP
interfaces) download."""
from __future__ import annotations

import torch

import folder_paths
from comfy_api.latest import io

from ..dgx_pixels.common.files import write_atomic
from ..dgx_pixels.export.paths import check_name
from ..dgx_pixels.image.ops import check_image, check_mask, join_alpha, split_alpha
from ..dgx_pixels.image.png import png_bytes, to_rgba8
from ..dgx_pixels.sheets.metadata import METADATA_SUFFIX, metadata_bytes, sheet_metadata
from .runtime import CATEGORY, node_id, user_errors
from .types import PALETTE, SHEET

OUTPUT_SUBFOLDER = "dgx-pixels"
UI_KEY = "dgx_sheet_files"  # the ui entry listing the saved files (API clients download every file it names)


class SaveSheet(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("SaveSheet"),
            display_name="Save Sheet",
            category=f"{CATEGORY}/export",
            description="Saves the sheet (PNG with alpha, no metadata chunks) and its metadata (<name>.sheet.json: "
                        "layout, animation tags, pivot, tiles, palette) into the output folder, so scripts and "
                        "assistants that queue this workflow get both back and can export them on their machine.",
            is_output_node=True,
            inputs=[
                io.Image.Input("sheet", tooltip="The sheet or tileset image from Assemble Sprite Sheet / Tileset."),
                io.Mask.Input("mask", tooltip="Its transparency (1 = transparent), from the same node."),
                SHEET.Input("layout", tooltip="The SHEET output of the same node: frames, animations, grid."),
                io.String.Input("name", default="hero",
                                tooltip="Asset name: the files are output/dgx-pixels/<name>_00001_.png and "
                                        "<name>_00001_.sheet.json (letters, digits, _ and -)."),
                PALETTE.Input("palette", optional=True, tooltip="The sheet's palette, recorded in the metadata."),
            ],
            outputs=[],
        )

    @classmethod
    def execute(cls, sheet, mask, layout, name, palette=None) -> io.NodeOutput:
        with user_errors("Save Sheet"):
            check_name(name)
            image = check_image(sheet)
            rgb, own = split_alpha(image[:1].float().cpu())
            transparent = torch.maximum(check_mask(mask[:1].float().cpu() if mask is not None else None, rgb), own)
            rgba = to_rgba8(join_alpha(rgb, transparent)[0])
            folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(
                f"{OUTPUT_SUBFOLDER}/{name}", folder_paths.get_output_directory())
            stem = f"{filename}_{counter:05}_"
            colours = (palette.name, palette.hex()) if palette is not None else None
            metadata = sheet_metadata(layout, name, f"{stem}.png", colours)
            write_atomic(f"{folder}/{stem}.png", png_bytes(rgba))
            write_atomic(f"{folder}/{stem}{METADATA_SUFFIX}", metadata_bytes(metadata))
            files = [{"filename": f"{stem}.png", "subfolder": subfolder, "type": "output", "kind": "sheet"},
                     {"filename": f"{stem}{METADATA_SUFFIX}", "subfolder": subfolder, "type": "output",
                      "kind": "metadata"}]
            return io.NodeOutput(ui={UI_KEY: files})


NODES = [SaveSheet]
