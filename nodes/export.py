"""Export nodes: write a sheet or tileset into a Bevy project, ready to animate."""
from __future__ import annotations

import torch

import folder_paths
from comfy_api.latest import io

from ..dgx_pixels.sheets.layout import ASSET_KINDS
from ..dgx_pixels.export.bevy import export_bevy
from ..dgx_pixels.export.paths import ENV_ROOTS, allowed_roots
from ..dgx_pixels.image.ops import check_image, check_mask, join_alpha, split_alpha
from .runtime import CATEGORY, node_id, user_errors
from . import previews
from .types import SHEET

FOLDERS = ("auto",) + ASSET_KINDS


def export_roots() -> list:
    """ComfyUI's output folder, then the folders listed in DGX_PIXELS_EXPORT_ROOTS."""
    return allowed_roots([folder_paths.get_output_directory()])


class BevyExport(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("BevyExport"),
            display_name="Bevy Export",
            category=f"{CATEGORY}/export",
            description="Writes the sheet into your Bevy game's assets folder (image, atlas, animations, Aseprite "
                        "and Tiled data) and shows the Rust code to use it. Previous versions are kept.",
            is_output_node=True,
            inputs=[
                io.Image.Input("sheet", tooltip="The sheet or tileset image from Assemble Sprite Sheet / Tileset."),
                io.Mask.Input("mask", tooltip="Its transparency (1 = transparent), from the same node."),
                SHEET.Input("layout", tooltip="The SHEET output of the same node: frames, animations, grid."),
                io.String.Input("project", default="bevy_game",
                                tooltip="Your Bevy project folder (where Cargo.toml is). A relative path is inside "
                                        f"ComfyUI's output folder; other folders must be listed in {ENV_ROOTS}."),
                io.String.Input("name", default="hero",
                                tooltip="Asset name: the folder and file names (letters, digits, _ and -)."),
                io.Combo.Input("folder", options=list(FOLDERS), default="auto",
                               tooltip="Where under assets/: sprites, tilesets or items (auto: tilesets for a "
                                       "tileset, else sprites)."),
                io.Boolean.Input("png_meta", default=True,
                                 tooltip="Also write <name>.png.meta so Bevy samples this image with nearest "
                                         "filtering (crisp pixels) even without ImagePlugin::default_nearest()."),
                io.Boolean.Input("must_be_bevy_project", default=True,
                                 tooltip="Refuse folders without a Cargo.toml that depends on bevy. Off: write "
                                         "assets/... into any allowed folder."),
            ],
            outputs=[
                io.String.Output(display_name="rust_snippet"),
                io.String.Output(display_name="files"),
            ],
        )

    @classmethod
    def execute(cls, sheet, mask, layout, project, name, folder, png_meta, must_be_bevy_project) -> io.NodeOutput:
        with user_errors("Bevy Export"):
            image = check_image(sheet)
            rgb, own = split_alpha(image[:1].float().cpu())
            transparent = torch.maximum(check_mask(mask[:1].float().cpu() if mask is not None else None, rgb), own)
            rgba = join_alpha(rgb, transparent)[0]
            result = export_bevy(rgba, layout, project, name, export_roots(),
                                 kind=None if folder == "auto" else folder, png_meta=png_meta,
                                 require_bevy=must_be_bevy_project)
            files = [str(path) for path in result.files]
            summary = [f"Exported {result.asset_path} into {result.project}", *result.write.set_aside]
            if result.write.written:
                summary.append(f"written: {', '.join(p.name for p in result.write.written)}")
            if result.write.unchanged:
                summary.append(f"unchanged: {', '.join(p.name for p in result.write.unchanged)}")
            if result.write.history:
                summary.append(f"previous version kept in {result.write.history}")
            if result.write.recovered:
                summary.append(f"finished an interrupted export: {', '.join(str(p) for p in result.write.recovered)}")
            ui = previews.sheet_player(cls, rgba, layout)
            ui["text"] = ["\n".join(summary) + "\n\n" + result.snippet]
            ui["dgx_export"] = [{"files": files, "history": str(result.write.history or ""),
                                 "snippet": result.snippet, "asset_path": result.asset_path}]
            return io.NodeOutput(result.snippet, "\n".join(files), ui=ui)


NODES = [BevyExport]
