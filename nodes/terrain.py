"""Terrain nodes: a set of transition tiles between two terrains (corner 16, blob 47, platformer) planned tile by
tile, drawn by masked inpainting on canvases cut from two seamless base tiles, made native again, checked edge by
edge, and painted into a map."""
from __future__ import annotations

import json
import os

import torch

import folder_paths
from comfy_api.latest import io, ui

from ..dgx_pixels.common.errors import InputError
from ..dgx_pixels.image.ops import check_image, check_mask, join_alpha, nearest_upscale, split_alpha
from ..dgx_pixels.image.png import to_rgba8
from ..dgx_pixels.poses.prompts import MAX_SEED
from ..dgx_pixels.terrain import edges, maps, orders
from ..dgx_pixels.terrain.plan import DEFAULT_TEMPLATE, MAX_VARIANTS, TerrainPlan, plan_terrain, tile_sheet
from .character import choice_fingerprint, image_choice, load_choice
from .export import export_roots
from .runtime import CATEGORY, check_interrupt, node_id, progress_bar, to_compute, to_output, user_errors
from .types import TERRAIN

SUBCATEGORY = f"{CATEGORY}/tiles"
REPORT_PREFIX = "dgx-pixels/terrain"
PREVIEW_SIDE = 512  # previews are enlarged (nearest) to about this wide
AIR_SHOWN = 0.25  # air in previews without transparency


def shown(rgba: torch.Tensor) -> torch.Tensor:
    """An RGBA picture ``[H, W, 4]`` enlarged by a whole factor for the node preview, as IMAGE ``[1, h, w, 4]``."""
    factor = max(1, PREVIEW_SIDE // max(rgba.shape[:2]))
    return nearest_upscale(rgba[None].float().cpu(), factor)


def _one(value):
    """A widget value under is_input_list arrives as a one-item list."""
    return value[0] if isinstance(value, list) else value


class TerrainTransitions(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("TerrainTransitions"),
            display_name="Terrain Transitions",
            category=SUBCATEGORY,
            description="Plans a tileset a map can be painted with: every tile of an autotile order between two "
                        "terrains (where each lies, which band the model draws), its prompt and seed, and the "
                        "prompts of the two seamless base tiles. The preview shows every tile's terrains.",
            inputs=[
                io.String.Input("terrain_a", default="grass",
                                tooltip="The first terrain (the background of a blob set; the surface on top of the "
                                        "ground of a platformer set)."),
                io.String.Input("terrain_b", default="dirt",
                                tooltip="The second terrain (the blobs of a blob set; the ground of a platformer "
                                        "set)."),
                io.Combo.Input("order", options=list(orders.ORDERS), default="corner 16",
                               tooltip="corner 16: Wang corners, 16 tiles. blob 47: every 8-neighbour case, 47 tiles "
                                       "and the plain first terrain. platformer: side-view ground, 16 tiles (edges, "
                                       "outer and inner corners, a thin platform)."),
                io.Int.Input("tile_size", default=32, min=4, max=256,
                             tooltip="Native tile size in pixels (square)."),
                io.Int.Input("canvas", default=1024, min=64, max=4096, step=8,
                             tooltip="Generation size of each tile; a whole multiple of tile_size (1024 suits "
                                     "SDXL)."),
                io.Int.Input("variants", default=2, min=0, max=MAX_VARIANTS,
                             tooltip="Extra versions of each full tile (inside redrawn, edges kept), so a map "
                                     "repeats less."),
                io.Int.Input("keep_edge", default=1, min=0, max=64,
                             tooltip="Native pixels along every tile edge kept from the base tiles, so edges meet "
                                     "their neighbours exactly. 0: the model draws up to the edge (check it)."),
                io.Int.Input("blend", default=0, min=0, max=64,
                             tooltip="Width in native pixels of the band the model draws along each boundary "
                                     "between terrains; 0: an eighth of the tile."),
                io.Int.Input("seed", default=0, min=0, max=MAX_SEED, tooltip="The seed of every tile."),
                io.String.Input("tile_seeds", default="",
                                tooltip="Seeds of single tiles, e.g. '5=123, 12=7' (draw them again); 'a=..' and "
                                        "'b=..' for the base tiles."),
                io.String.Input("template", default=DEFAULT_TEMPLATE,
                                tooltip="The prompt of every tile; {terrain} becomes a terrain, or both for a "
                                        "transition tile."),
            ],
            outputs=[
                io.String.Output(display_name="base_prompts", is_output_list=True,
                                 tooltip="Prompts of the two base tiles: terrain A, then B."),
                io.Int.Output(display_name="base_seeds", is_output_list=True, tooltip="Their seeds."),
                io.String.Output(display_name="tile_prompts", is_output_list=True, tooltip="One prompt per tile."),
                io.Int.Output(display_name="tile_seeds", is_output_list=True, tooltip="One seed per tile."),
                TERRAIN.Output(display_name="terrain", tooltip="The plan, for the other Terrain nodes and Assemble "
                                                               "Tileset."),
                io.Int.Output(display_name="canvas", tooltip="The generation size (width and height)."),
                io.Int.Output(display_name="count", tooltip="The number of tiles."),
            ],
        )

    @classmethod
    def execute(cls, terrain_a, terrain_b, order, tile_size, canvas, variants, keep_edge, blend, seed, tile_seeds,
                template) -> io.NodeOutput:
        with user_errors("Terrain Transitions"):
            plan = plan_terrain(order, terrain_a, terrain_b, tile_size, canvas, variants, keep_edge, blend, seed,
                                tile_seeds, template)
            picture = plan.picture()
            picture[..., :3] = torch.where(picture[..., 3:] > 0, picture[..., :3], torch.tensor(AIR_SHOWN))
            preview = ui.PreviewImage(shown(picture)[..., :3], cls=cls).as_dict()
            return io.NodeOutput(list(plan.base_prompts), list(plan.base_seeds), [t.prompt for t in plan.tiles],
                                 [t.seed for t in plan.tiles], plan, plan.canvas, len(plan.tiles),
                                 ui={**preview, "dgx_terrain": [plan.describe()]})


class TerrainCanvases(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("TerrainCanvases"),
            display_name="Terrain Canvases",
            category=SUBCATEGORY,
            description="Cuts the two seamless base tiles together along each planned tile's terrains (snapped to the "
                        "native grid), at the generation size, with the mask of what the model draws on each.",
            is_input_list=True,
            inputs=[
                TERRAIN.Input("terrain", tooltip="The plan from Terrain Transitions."),
                io.Image.Input("bases", lazy=True,
                               tooltip="The two seamless base tiles, decoded (terrain A, then B). Not needed when "
                                       "both tiles come from files."),
                image_choice("tile_a_image", "Your own seamless tile for terrain A (native size or a multiple), in "
                                             "ComfyUI's input folder; none: the generated one."),
                image_choice("tile_b_image", "Your own seamless tile for terrain B; none: the generated one."),
            ],
            outputs=[
                io.Image.Output(display_name="canvases", is_output_list=True, tooltip="One canvas per tile."),
                io.Mask.Output(display_name="masks", is_output_list=True,
                               tooltip="Where the model draws on each canvas (for InpaintModelConditioning)."),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, tile_a_image=None, tile_b_image=None, **_) -> str:
        return ":".join(choice_fingerprint(_one(name) or "none") for name in (tile_a_image, tile_b_image))

    @classmethod
    def check_lazy_status(cls, terrain, tile_a_image, tile_b_image, bases=None) -> list[str]:
        own_files = _one(tile_a_image) != "none" and _one(tile_b_image) != "none"
        evaluated = bases is not None and any(image is not None for image in bases)  # a list input: (None,) if not
        return [] if own_files or evaluated else ["bases"]

    @classmethod
    def execute(cls, terrain, tile_a_image, tile_b_image, bases=None) -> io.NodeOutput:
        with user_errors("Terrain Canvases"):
            plan: TerrainPlan = _one(terrain)
            generated = [image for image in (bases or []) if image is not None]
            natives = []
            for number, (choice, what) in enumerate(((_one(tile_a_image), "tile A"), (_one(tile_b_image), "tile B"))):
                own = load_choice(choice)
                if own is not None:
                    natives.append(plan.native(to_compute(own), f"{what} ({choice})"))
                elif len(generated) == 2:
                    natives.append(plan.native(check_image(to_compute(generated[number]), "bases")[0], what))
                else:
                    raise InputError(f"{what}: connect the two decoded base tiles to bases (got {len(generated)}), "
                                     f"or choose a file")
            canvases = plan.canvases(*natives)
            masks = plan.draw_masks(canvases.device)
            return io.NodeOutput([to_output(c[None]) for c in canvases], [to_output(m[None]) for m in masks])


class TerrainTiles(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("TerrainTiles"),
            display_name="Terrain Tiles",
            category=SUBCATEGORY,
            description="Pastes what the model drew over each canvas where it may change, makes the tiles native "
                        "(one colour per grid cell, the base tiles' grid) and gathers them in tileset order with "
                        "their transparency.",
            is_input_list=True,
            inputs=[
                io.Image.Input("drawn", tooltip="The decoded inpainting results, one per canvas."),
                io.Image.Input("canvases", tooltip="The canvases from Terrain Canvases."),
                TERRAIN.Input("terrain", tooltip="The plan from Terrain Transitions."),
            ],
            outputs=[
                io.Image.Output(display_name="tiles", tooltip="Native tiles, one batch in tileset order."),
                io.Mask.Output(display_name="mask", tooltip="Their transparency (air of a platformer set)."),
            ],
        )

    @classmethod
    def execute(cls, drawn, canvases, terrain) -> io.NodeOutput:
        with user_errors("Terrain Tiles"):
            plan: TerrainPlan = _one(terrain)
            if not len(drawn) == len(canvases) == len(plan.tiles):
                raise InputError(f"{len(drawn)} drawn images and {len(canvases)} canvases for {len(plan.tiles)} "
                                 "tiles; connect the decoded samples of this plan's canvases")
            progress = progress_bar(len(plan.tiles))
            tiles = []
            for index, (image, canvas) in enumerate(zip(drawn, canvases)):
                check_interrupt()
                tiles.append(plan.finish(check_image(to_compute(image), "drawn")[:1],
                                         check_image(to_compute(canvas), "canvases")[:1], index))
                progress.update(1)
            tiles = torch.cat(tiles)
            alpha = plan.alpha(tiles.device)
            sheet = tile_sheet(join_alpha(tiles, alpha).cpu(), plan.columns)
            return io.NodeOutput(to_output(tiles), to_output(alpha),
                                 ui=ui.PreviewImage(shown(sheet), cls=cls).as_dict())


def mark_failing(tiles: torch.Tensor, report: edges.EdgeReport) -> torch.Tensor:
    """RGBA tiles with the failing sides of failing tiles drawn in red (two pixels wide)."""
    marked = tiles.clone()
    red = torch.tensor([1.0, 0.1, 0.1, 1.0], dtype=marked.dtype, device=marked.device)
    width = max(1, tiles.shape[1] // 16)
    for verdict in report.tiles:
        for side in verdict.failing_sides:
            rows = {"N": (slice(0, width), slice(None)), "S": (slice(-width, None), slice(None)),
                    "W": (slice(None), slice(0, width)), "E": (slice(None), slice(-width, None))}[side]
            marked[(verdict.index, *rows)] = red
    return marked


def save_json(name: str, data: dict) -> dict:
    """A JSON file in ComfyUI's output folder, as a ui reference API clients download."""
    folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(
        f"{REPORT_PREFIX}_{name}", folder_paths.get_output_directory())
    file_name = f"{filename}_{counter:05}_.json"
    with open(os.path.join(folder, file_name), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
    return {"filename": file_name, "subfolder": subfolder, "type": "output"}


def tiles_rgba(tiles: torch.Tensor, mask: torch.Tensor | None, plan: TerrainPlan) -> torch.Tensor:
    image = check_image(tiles, "tiles").float().cpu()
    rgb, own = split_alpha(image)
    rgba = join_alpha(rgb, torch.maximum(check_mask(None if mask is None else mask.float().cpu(), rgb), own))
    if rgba.shape[0] != len(plan.tiles) or rgba.shape[1:3] != (plan.tile_size, plan.tile_size):
        raise InputError(f"got {rgba.shape[0]} tiles of {rgba.shape[2]}x{rgba.shape[1]} but the terrain set has "
                         f"{len(plan.tiles)} of {plan.tile_size}x{plan.tile_size}; connect its native tiles")
    return rgba


class TerrainEdgeCheck(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("TerrainEdgeCheck"),
            display_name="Terrain Edge Check",
            category=SUBCATEGORY,
            description="Checks every pair of tiles that may touch in a map: the touching edges must continue each "
                        "other (after the palette lock), an edge against air must be clear. Reports the pairs that "
                        "disagree and the tiles to draw again (their sides marked red).",
            is_output_node=True,
            inputs=[
                io.Image.Input("tiles", tooltip="The native tiles after the palette, in tileset order."),
                TERRAIN.Input("terrain", tooltip="The plan from Terrain Transitions: which tiles may touch."),
                io.Float.Input("tolerance", default=1.5, min=0.0, max=100.0, step=0.1,
                               tooltip="A touching edge may differ this many times as much as neighbouring pixels "
                                       "inside the two tiles do."),
                io.Mask.Input("mask", optional=True, tooltip="The tiles' transparency (1 = transparent)."),
            ],
            outputs=[
                io.Boolean.Output(display_name="passed", tooltip="True when every touching pair agrees."),
                io.String.Output(display_name="report", tooltip="The verdict, failing tiles and pairs."),
                io.String.Output(display_name="failing_tiles",
                                 tooltip="Tiles to draw again, e.g. '5, 12' (give them new seeds in tile_seeds)."),
                io.Image.Output(display_name="marked", tooltip="The tiles with failing sides in red."),
            ],
        )

    @classmethod
    def execute(cls, tiles, terrain, tolerance, mask=None) -> io.NodeOutput:
        with user_errors("Terrain Edge Check"):
            rgba = tiles_rgba(tiles, mask, terrain)
            report = edges.check_edges(rgba, terrain.pairs(), [t.name for t in terrain.tiles], tolerance)
            marked = tile_sheet(mark_failing(rgba, report), terrain.columns)
            table = report.table()
            scores = save_json("edges", {**terrain.describe(), **report.to_dict()})
            pictures = ui.ImageSaveHelper.save_images(shown(marked), filename_prefix=f"{REPORT_PREFIX}_marked",
                                                      cls=cls, folder_type=io.FolderType.output)
            image, _ = split_alpha(marked[None])
            return io.NodeOutput(report.passed, table, ", ".join(map(str, report.failing_tiles)), to_output(image),
                                 ui={"images": [dict(p) for p in pictures], "text": [table],
                                     "dgx_terrain_edges": [{**scores, "kind": "edges"}]})


class TerrainMapPreview(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("TerrainMapPreview"),
            display_name="Terrain Map Preview",
            category=SUBCATEGORY,
            description="Paints a random map with the terrain set by its autotile rules (variants picked at random), "
                        "so seams show at a glance; with the export's files connected it is written beside the "
                        "tileset as <name>.map.png.",
            is_output_node=True,
            inputs=[
                io.Image.Input("tiles", tooltip="The native tiles after the palette, in tileset order."),
                TERRAIN.Input("terrain", tooltip="The plan from Terrain Transitions."),
                io.Int.Input("columns", default=16, min=2, max=maps.MAX_CELLS, tooltip="Map width in tiles."),
                io.Int.Input("rows", default=10, min=2, max=maps.MAX_CELLS, tooltip="Map height in tiles."),
                io.Int.Input("seed", default=0, min=0, max=MAX_SEED, tooltip="Another seed, another map."),
                io.Mask.Input("mask", optional=True, tooltip="The tiles' transparency (1 = transparent)."),
                io.String.Input("exported", optional=True, force_input=True,
                                tooltip="The files output of Bevy Export: the map is written beside its tileset."),
            ],
            outputs=[io.Image.Output(display_name="map"), io.Mask.Output(display_name="map_mask")],
        )

    @classmethod
    def execute(cls, tiles, terrain, columns, rows, seed, mask=None, exported=None) -> io.NodeOutput:
        with user_errors("Terrain Map Preview"):
            rgba = tiles_rgba(tiles, mask, terrain)
            picture = maps.paint_map(rgba, maps.random_map(terrain, rows, columns, seed))
            notes = []
            if exported:
                written = maps.save_beside_export(exported, to_rgba8(picture), export_roots())
                notes.append(f"written beside the tileset: {written}")
            saved = ui.ImageSaveHelper.save_images(picture[None], filename_prefix=f"{REPORT_PREFIX}_map", cls=cls,
                                                   folder_type=io.FolderType.output)
            image, alpha = split_alpha(picture[None])
            return io.NodeOutput(to_output(image), to_output(alpha),
                                 ui={"images": [dict(s) for s in saved], "text": notes or ["(not exported)"]})


NODES = [TerrainTransitions, TerrainCanvases, TerrainTiles, TerrainEdgeCheck, TerrainMapPreview]
