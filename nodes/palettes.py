"""Palette nodes: load (built-in or file), extract, apply with dithering, swap, save and validate.

Palette files live in ComfyUI's ``models/palettes`` folder (.hex, .gpl, .pal, .txt, .png swatches).
"""
from __future__ import annotations

import os

import folder_paths
from comfy_api.latest import io

from ..dgx_pixels.palette import files as palette_files
from ..dgx_pixels.palette.apply import apply_palette, swap_palette
from ..dgx_pixels.palette.dither import DITHERS
from ..dgx_pixels.palette.extract import extract_palette
from ..dgx_pixels.palette.intended import matching_builtin
from ..dgx_pixels.palette.palette import Palette
from ..dgx_pixels.palette.report import swatches, validate
from ..dgx_pixels.common.errors import InputError
from ..dgx_pixels.palette.builtin import BUILTIN_NAMES, builtin_palette
from . import previews
from .runtime import CATEGORY, check_interrupt, image_and_mask, node_id, to_output, user_errors
from .types import PALETTE

SUBCATEGORY = f"{CATEGORY}/palette"

folder_paths.folder_names_and_paths.setdefault(
    "palettes", ([os.path.join(folder_paths.models_dir, "palettes")], set(palette_files.READ_SUFFIXES)))


def palette_choices() -> list[str]:
    return list(BUILTIN_NAMES) + folder_paths.get_filename_list("palettes")


def resolve_palette(name: str) -> Palette:
    if name in BUILTIN_NAMES:
        return builtin_palette(name)
    path = folder_paths.get_full_path("palettes", name)
    if path is None:
        raise InputError(f"palette {name!r} is neither built in nor a file in models/palettes")
    return palette_files.read_palette(path)


def palette_outputs() -> list:
    return [PALETTE.Output(display_name="palette"),
            io.Image.Output(display_name="swatches", tooltip="The colours as a swatch image.")]


def palette_result(palette: Palette, note: str = "") -> io.NodeOutput:
    return io.NodeOutput(palette, to_output(swatches(palette)),
                         ui=previews.palette_swatches(palette.name, palette.hex(), note))


def parse_keep(text: str) -> Palette | None:
    codes = [code for code in text.replace(",", " ").split() if code]
    return Palette.from_hex("kept colours", codes) if codes else None


class LoadPalette(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("LoadPalette"),
            display_name="Load Palette",
            category=SUBCATEGORY,
            description="A famous palette (PICO-8, Endesga 32, Game Boy...) or your own file from models/palettes "
                        "(.hex, .gpl, .pal, .txt or a .png swatch strip, e.g. from Lospec).",
            inputs=[io.Combo.Input("palette", options=palette_choices(), default="PICO-8",
                                   tooltip="Built-in palettes first, then files in ComfyUI/models/palettes.")],
            outputs=palette_outputs(),
        )

    @classmethod
    def execute(cls, palette) -> io.NodeOutput:
        with user_errors("Load Palette"):
            return palette_result(resolve_palette(palette))


class ExtractPalette(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("ExtractPalette"),
            display_name="Extract Palette",
            category=SUBCATEGORY,
            description="Finds the best few colours for a whole batch (every frame of a character shares them). "
                        "Perceptual (OKLab) k-means, same result every run for the same seed.",
            inputs=[
                io.Image.Input("image", tooltip="One image or every frame of the set."),
                io.Int.Input("colours", default=16, min=0, max=256,
                             tooltip="How many colours. 0: automatic, the artist's intended palette (the fewest "
                                     "colours that explain every pixel within the noise; run it on art at its own "
                                     "size, after Pixelize)."),
                io.Int.Input("seed", default=0, min=0, max=2 ** 31 - 1, tooltip="Same seed, same palette."),
                io.String.Input("keep", default="",
                                tooltip="Colours that must be in the palette, as hex (e.g. #000000 #f2c29b for an "
                                        "outline black and a skin tone)."),
                io.Mask.Input("mask", optional=True, tooltip="Transparent pixels (1) are left out."),
                io.Boolean.Input("snap_to_builtin", default=False, optional=True,
                                 tooltip="With colours 0: when the recovered colours are those of a built-in "
                                         "palette (each within a few levels of one of its colours, e.g. PICO-8), "
                                         "use that palette's exact colours."),
            ],
            outputs=palette_outputs(),
        )

    @classmethod
    def execute(cls, image, colours, seed, keep, mask=None, snap_to_builtin=False) -> io.NodeOutput:
        with user_errors("Extract Palette"):
            image, mask = image_and_mask(image, mask)
            palette = extract_palette(image, mask, colours, seed, parse_keep(keep))
            note = f"from {image.shape[0]} image(s)"
            builtin = matching_builtin(palette) if colours == 0 else None
            if builtin is not None and snap_to_builtin:
                palette, note = builtin, f"{note}; snapped to {builtin.name}"
            elif builtin is not None:
                note = f"{note}; looks like {builtin.name} (snap_to_builtin takes its exact colours)"
            return palette_result(palette, note)


class ApplyPalette(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("ApplyPalette"),
            display_name="Apply Palette",
            category=SUBCATEGORY,
            description="Repaints every pixel with the nearest palette colour (perceptual), optionally dithered. "
                        "One palette for the whole batch.",
            inputs=[
                io.Image.Input("image", tooltip="Images to repaint (native-size pixel art works best)."),
                PALETTE.Input("palette", tooltip="From Load Palette or Extract Palette."),
                io.Combo.Input("dither", options=list(DITHERS), default="none",
                               tooltip="none: flat areas (cleanest sprites). bayer: a regular pattern. "
                                       "floyd-steinberg / atkinson: error diffusion (Atkinson keeps more contrast)."),
                io.Float.Input("strength", default=1.0, min=0.0, max=1.0, step=0.05,
                               tooltip="How strongly to dither."),
                io.Mask.Input("mask", optional=True, tooltip="Transparent pixels (1) are left as they are."),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(cls, image, palette, dither, strength, mask=None) -> io.NodeOutput:
        with user_errors("Apply Palette"):
            image, mask = image_and_mask(image, mask)
            check_interrupt()
            return io.NodeOutput(to_output(apply_palette(image, palette, mask, dither, strength)),
                                 ui=previews.palette_swatches(palette.name, palette.hex()))


class PaletteSwap(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("PaletteSwap"),
            display_name="Palette Swap",
            category=SUBCATEGORY,
            description="Recolours by palette index: colour 1 of the source becomes colour 1 of the target... "
                        "Team colours and variants of one sprite.",
            inputs=[
                io.Image.Input("image", tooltip="Images painted with the source palette."),
                PALETTE.Input("source", tooltip="The palette the images use now."),
                PALETTE.Input("target", tooltip="The palette to swap to (at least as many colours)."),
                io.Mask.Input("mask", optional=True, tooltip="Transparent pixels (1) are left as they are."),
            ],
            outputs=[io.Image.Output(display_name="image")],
        )

    @classmethod
    def execute(cls, image, source, target, mask=None) -> io.NodeOutput:
        with user_errors("Palette Swap"):
            image, mask = image_and_mask(image, mask)
            return io.NodeOutput(to_output(swap_palette(image, source, target, mask)),
                                 ui=previews.palette_swatches(target.name, target.hex()))


class SavePalette(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("SavePalette"),
            display_name="Save Palette",
            category=SUBCATEGORY,
            description="Writes the palette to ComfyUI's output folder as .hex (Lospec) or .gpl (GIMP, Aseprite).",
            is_output_node=True,
            inputs=[
                PALETTE.Input("palette", tooltip="The palette to save."),
                io.String.Input("filename", default="palette", tooltip="File name without extension."),
                io.Combo.Input("format", options=[".hex", ".gpl"], default=".hex",
                               tooltip=".hex: one colour per line (Lospec). .gpl: GIMP, Aseprite and Krita."),
            ],
            outputs=[io.String.Output(display_name="path")],
        )

    @classmethod
    def execute(cls, palette, filename, format) -> io.NodeOutput:
        with user_errors("Save Palette"):
            stem = "".join(ch for ch in filename if ch.isalnum() or ch in "-_ ").strip()
            if not stem:
                raise InputError(f"file name {filename!r} has no usable characters (letters, digits, - and _)")
            path = palette_files.write_palette(palette, os.path.join(folder_paths.get_output_directory(),
                                                                     stem + format))
            ui = previews.palette_swatches(palette.name, palette.hex(), f"saved {os.path.basename(path)}")
            return io.NodeOutput(str(path), ui=ui)


class ValidatePalette(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("ValidatePalette"),
            display_name="Validate Palette",
            category=SUBCATEGORY,
            description="Counts the colours used and the pixels off the palette; can stop the run when any are.",
            inputs=[
                io.Image.Input("image", tooltip="Images to check."),
                PALETTE.Input("palette", tooltip="The palette they must use."),
                io.Boolean.Input("fail_on_off_palette", default=False,
                                 tooltip="Stop with an error when a pixel is not exactly a palette colour."),
                io.Mask.Input("mask", optional=True, tooltip="Transparent pixels (1) are not checked."),
            ],
            outputs=[io.Image.Output(display_name="image"), io.String.Output(display_name="report"),
                     io.Int.Output(display_name="off_palette")],
        )

    @classmethod
    def execute(cls, image, palette, fail_on_off_palette, mask=None) -> io.NodeOutput:
        with user_errors("Validate Palette"):
            image, mask = image_and_mask(image, mask)
            report = validate(image, palette, mask)
            summary = report.summary(palette)
            if fail_on_off_palette and report.off_palette:
                raise InputError(summary)
            return io.NodeOutput(to_output(image), summary, report.off_palette,
                                 ui=previews.palette_swatches(palette.name, palette.hex(), summary))


NODES = [LoadPalette, ExtractPalette, ApplyPalette, PaletteSwap, SavePalette, ValidatePalette]
