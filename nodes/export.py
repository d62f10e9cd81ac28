"""Export nodes: write a sheet or tileset into a game engine's project (Bevy, Godot, Phaser, PixiJS, Unity, LDtk,
Aseprite JSON), ready to animate."""
from __future__ import annotations

import torch

import folder_paths
from comfy_api.latest import io

from ..dgx_pixels.sheets.layout import ASSET_KINDS
from ..dgx_pixels.export.core import TARGETS, ExportOptions, ExportResult, export_asset, export_bevy
from ..dgx_pixels.export.aseprite import FORMS, FRAME_NAMES
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
            rgba = _sheet_rgba(sheet, mask)
            result = export_bevy(rgba, layout, project, name, export_roots(),
                                 kind=None if folder == "auto" else folder, png_meta=png_meta,
                                 require_bevy=must_be_bevy_project)
            return _exported(cls, rgba, layout, result)


class EngineExport(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("EngineExport"),
            display_name="Game Engine Export",
            category=f"{CATEGORY}/export",
            description="Writes the sheet into a game project for the engine you pick (Godot 4, Phaser 3/4, PixiJS 8, "
                        "Unity, LDtk, Aseprite JSON or Bevy) with its animations, pivots, sockets and hitboxes, and "
                        "shows how to play it there. Previous versions are kept.",
            is_output_node=True,
            inputs=[
                io.Image.Input("sheet", tooltip="The sheet or tileset image from Assemble Sprite Sheet / Tileset."),
                io.Mask.Input("mask", tooltip="Its transparency (1 = transparent), from the same node."),
                SHEET.Input("layout", tooltip="The SHEET output of the same node: frames, animations, grid."),
                io.Combo.Input("target", options=list(TARGETS), default="godot",
                               tooltip="godot: SpriteFrames/TileSet .tres + scene; phaser: Aseprite JSON for "
                                       "load.aseprite; pixi: spritesheet JSON with animations; unity: the "
                                       "texture's .meta (sprites, pivots, point filter); ldtk: a .ldtk project "
                                       "with the tileset; aseprite: Aseprite's JSON; bevy: as Bevy Export."),
                io.String.Input("project", default="game",
                                tooltip="Your game's folder (Godot: with project.godot; Unity: with ProjectSettings/; "
                                        "Bevy: with Cargo.toml). A relative path is inside ComfyUI's output folder; "
                                        f"other folders must be listed in {ENV_ROOTS}."),
                io.String.Input("name", default="hero",
                                tooltip="Asset name: the folder and file names (letters, digits, _ and -)."),
                io.Combo.Input("folder", options=list(FOLDERS), default="auto",
                               tooltip="Where under assets/ (Unity: Assets/): sprites, tilesets or items (auto: "
                                       "tilesets for a tileset, else sprites)."),
                io.Boolean.Input("must_be_project", default=True,
                                 tooltip="Godot, Unity and Bevy: refuse a folder that is not that engine's project. "
                                         "Off: write into any allowed folder."),
                io.Boolean.Input("indexed_png", default=True,
                                 tooltip="Write the PNG with a palette when the sheet has at most 256 colours (the "
                                         "same pixels, a smaller file). Off: always RGBA."),
                io.Boolean.Input("optimise_png", default=True,
                                 tooltip="Shrink the PNG losslessly with oxipng (off: faster, larger)."),
                io.Combo.Input("aseprite_form", options=list(FORMS), default="array", optional=True,
                               tooltip="aseprite target: frames as a list (json-array) or keyed by name (json-hash)."),
                io.Combo.Input("frame_names", options=list(FRAME_NAMES), default="number", optional=True,
                               tooltip="aseprite target: frames named 0, 1... (what Phaser and PixiJS look up) or "
                                       "Aseprite's own 'hero 0.png'."),
                io.Int.Input("pixels_per_unit", default=0, min=0, max=100_000, optional=True,
                             tooltip="unity target: sprite pixels per Unity unit (0: one cell's height is one unit)."),
            ],
            outputs=[
                io.String.Output(display_name="snippet"),
                io.String.Output(display_name="files"),
            ],
        )

    @classmethod
    def execute(cls, sheet, mask, layout, target, project, name, folder, must_be_project, indexed_png, optimise_png,
                aseprite_form="array", frame_names="number", pixels_per_unit=0) -> io.NodeOutput:
        with user_errors("Game Engine Export"):
            rgba = _sheet_rgba(sheet, mask)
            options = ExportOptions(require_project=must_be_project, palette_png=indexed_png,
                                    optimise_png=optimise_png, aseprite_form=aseprite_form, frame_names=frame_names,
                                    pixels_per_unit=pixels_per_unit)
            result = export_asset(target, rgba, layout, project, name, export_roots(),
                                  kind=None if folder == "auto" else folder, options=options)
            return _exported(cls, rgba, layout, result)


def _sheet_rgba(sheet, mask) -> torch.Tensor:
    """The first image of ``sheet`` as RGBA, transparent where its own alpha or ``mask`` says."""
    image = check_image(sheet)
    rgb, own = split_alpha(image[:1].float().cpu())
    transparent = torch.maximum(check_mask(mask[:1].float().cpu() if mask is not None else None, rgb), own)
    return join_alpha(rgb, transparent)[0]


def _exported(cls, rgba, layout, result: ExportResult) -> io.NodeOutput:
    """The node's outputs and its panel: what was written, kept or recovered, the sheet playing, the snippet."""
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


NODES = [BevyExport, EngineExport]
