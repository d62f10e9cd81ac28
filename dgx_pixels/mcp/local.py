"""Tools that need no ComfyUI server: clean up an image into true pixel art, the palettes and their application,
and the assets a Bevy project already holds. The image work runs in a worker thread (torch is imported then)."""
from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import Field

from ..common.errors import InputError
from ..common.files import read_limited
from ..sheets.layout import ASSET_KINDS
from .server import Studio, tool_errors

PREVIEW_LIMIT = 1 << 20  # bytes: a result image up to this size is also shown inline
MAX_ASSETS = 500  # asset folders listed per project
Dither = Literal["none", "bayer 2", "bayer 4", "bayer 8", "floyd-steinberg", "atkinson"]
ImagePath = Annotated[str, Field(min_length=1, max_length=4096, description="An image file (PNG, JPEG, WebP...) "
                                                                            "inside the allowed folders.")]
OutputPath = Annotated[str, Field(min_length=1, max_length=4096, description="The PNG to write, inside the allowed "
                                                                             "folders (folders are created).")]
PaletteName = Annotated[str | None, Field(max_length=4096, description="A built-in palette name (list_palettes) "
                                                                       "or a palette file (.hex .gpl .pal .txt "
                                                                       ".png) inside the allowed folders.")]


def image_result(path: Path, summary: dict) -> CallToolResult:
    """A written image: its facts, and the image itself when small (so the assistant can look at it)."""
    content: list = [TextContent(type="text", text=json.dumps(summary))]
    data = read_limited(path, 1 << 30, "output image")
    if len(data) <= PREVIEW_LIMIT:
        content.append(ImageContent(type="image", data=base64.b64encode(data).decode(), mime_type="image/png"))
    return CallToolResult(content=content, structured_content=summary)


def palette_of(studio: Studio, name: str):
    from ..palette.builtin import BUILTIN_NAMES, builtin_palette
    from ..palette.files import read_palette

    if name in BUILTIN_NAMES:
        return builtin_palette(name)
    path = studio.path(name, "palette")
    if not path.is_file():
        raise InputError(f"no built-in palette {name[:100]!r} and no palette file there; built-in: "
                         f"{', '.join(BUILTIN_NAMES)}")
    return read_palette(path)


def output_png(studio: Studio, value: str) -> Path:
    path = studio.path(value, "output")
    if path.suffix.lower() != ".png":
        raise InputError(f"output {value[:200]!r} must be a .png file (exact colours and alpha)")
    if path.is_dir():
        raise InputError(f"output {value[:200]!r} is a folder; give the PNG file to write")
    return path


def cleanup(studio: Studio, image: str, output: str, size: str, colours: int | None, palette: str | None,
            dither: str) -> dict:
    """Detect the pixel grid, downscale to one colour per cell with binary alpha, then put it on a palette."""
    import torch

    from ..image.io import load_image, save_png
    from ..palette.apply import quantize_batch
    from ..pixel.downscale import downscale

    source, target = studio.path(image, "image"), output_png(studio, output)
    with torch.no_grad():
        rgb, mask = load_image(source)
        native, native_mask, grids = downscale(rgb, mask, target_size=size)
        chosen = palette_of(studio, palette) if palette else None
        if chosen is not None or colours is not None:
            native, chosen = quantize_batch(native, native_mask, colours=None if chosen else colours,
                                            palette=chosen, dither=dither)
        save_png(target, native[0], native_mask[0])
    grid = grids.for_image(0)
    return {"output": str(target), "input_size": list(grid.input_size), "native_size": list(grid.native_size),
            "cell_size": round(grid.cell_size, 3), "grid_confidence": round(grid.confidence, 4),
            "grid_found": grid.found, "palette": chosen.hex() if chosen is not None else None}


def recolour(studio: Studio, image: str, output: str, palette: str, dither: str, strength: float) -> dict:
    import torch

    from ..image.io import load_image, save_png
    from ..palette.apply import apply_palette

    source, target = studio.path(image, "image"), output_png(studio, output)
    chosen = palette_of(studio, palette)
    with torch.no_grad():
        rgb, mask = load_image(source)
        save_png(target, apply_palette(rgb, chosen, mask, dither, strength)[0], mask[0])
    return {"output": str(target), "palette": chosen.name, "colours": chosen.hex(), "dither": dither}


def project_assets(studio: Studio, project: str) -> dict:
    """The asset folders of a project (``assets/<kind>/<name>/``) with their files; links are not followed."""
    root = studio.path(project, "project")
    assets, truncated = [], False
    for kind in ASSET_KINDS:
        for folder in _plain_entries(root / "assets" / kind, directories=True):
            if len(assets) >= MAX_ASSETS:
                truncated = True
                break
            files = sorted(entry.name for entry in _plain_entries(folder, directories=False))
            entry = {"kind": kind, "name": folder.name, "folder": str(folder), "files": files}
            entry.update(_sheet_facts(folder, files))
            assets.append(entry)
    return {"project": str(root), "assets": assets, "truncated": truncated,
            "bevy_project": (root / "Cargo.toml").is_file()}


def _plain_entries(folder: Path, directories: bool) -> list[Path]:
    """The plain folders (or files) in ``folder``, never through a link; nothing when it is not a plain folder."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return []
        names = sorted(os.listdir(folder))[:10_000]
    except OSError:
        return []
    found = []
    for name in names:
        try:
            mode = os.lstat(folder / name).st_mode
        except OSError:
            continue
        if (stat.S_ISDIR(mode) if directories else stat.S_ISREG(mode)):
            found.append(folder / name)
    return found


def _sheet_facts(folder: Path, files: list[str]) -> dict:
    """Image size, frame count and animations from the exported Aseprite JSON, when there is one."""
    name = f"{folder.name}.json"
    if name not in files:
        return {}
    try:
        data = json.loads(read_limited(folder / name, 16 << 20, "sheet JSON", follow_links=False))
        size = data["meta"]["size"]
        return {"image": f"{folder.parent.name}/{folder.name}/{folder.name}.png", "size": [size["w"], size["h"]],
                "frames": len(data["frames"]), "animations": [tag["name"] for tag in data["meta"]["frameTags"]]}
    except (InputError, ValueError, KeyError, TypeError, RecursionError):
        return {"note": f"{name} is not an Aseprite sheet JSON"}


def register(server, studio: Studio) -> None:
    @server.tool(description="Turn an existing picture (AI output, an upscaled or blurry sprite, a screenshot) into "
                             "true pixel art without a server: finds the real pixel grid, keeps one colour per "
                             "cell with binary alpha, then puts it on a palette (a named one, or `colours` colours "
                             "fitted to it). Writes a PNG at native size and returns it with the grid found.")
    async def cleanup_image(
            image: ImagePath, output: OutputPath,
            colours: Annotated[int | None, Field(ge=0, le=256, description="Fit a palette of this many colours "
                                                                           "(0: automatic). Ignored with palette.")]
            = None,
            palette: PaletteName = None,
            size: Annotated[str, Field(pattern=r"^(\d{1,4}x\d{1,4})?$", description="Force the native size, WxH "
                                                                                     "(empty: detect).")] = "",
            dither: Dither = "none") -> CallToolResult:
        with tool_errors():
            summary = await anyio.to_thread.run_sync(lambda: cleanup(studio, image, output, size, colours, palette,
                                                                     dither))
            return image_result(Path(summary["output"]), summary)

    @server.tool(structured_output=True,
                 description="The built-in palettes (PICO-8, NES, Game Boy, Endesga, DawnBringer, AAP-64...) with "
                             "their colours as #rrggbb.")
    async def list_palettes() -> dict[str, Any]:
        def listing() -> dict:
            from ..palette.builtin import BUILTIN_NAMES, builtin_palette

            return {"palettes": [{"name": name, "colours": builtin_palette(name).hex()} for name in BUILTIN_NAMES]}

        with tool_errors():
            return await anyio.to_thread.run_sync(listing)

    @server.tool(description="Recolour an image to a palette: every pixel becomes its nearest palette colour "
                             "(perceptual), optionally dithered; alpha is kept. Writes a PNG.")
    async def apply_palette(
            image: ImagePath, output: OutputPath,
            palette: Annotated[str, Field(min_length=1, max_length=4096, description="A built-in palette name "
                                          "(list_palettes) or a palette file inside the allowed folders.")],
            dither: Dither = "none",
            strength: Annotated[float, Field(ge=0, le=1, description="Dithering strength, 0 to 1.")] = 1.0
            ) -> CallToolResult:
        with tool_errors():
            summary = await anyio.to_thread.run_sync(lambda: recolour(studio, image, output, palette, dither,
                                                                      strength))
            return image_result(Path(summary["output"]), summary)

    @server.tool(structured_output=True,
                 description="The assets a game project already holds under assets/sprites, assets/tilesets and "
                             "assets/items: each asset folder with its files and, for exported sheets, the image "
                             "size, frame count and animation names. The project must be inside the allowed "
                             "folders.")
    async def list_project_assets(project: Annotated[str, Field(min_length=1, max_length=4096)]) -> dict[str, Any]:
        with tool_errors():
            return await anyio.to_thread.run_sync(lambda: project_assets(studio, project))
