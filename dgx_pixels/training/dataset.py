"""A pixel-true training set from a folder of game art, for LoRA training.

Every image (true pixel art at 1x, an upscaled sprite, AI output on an uneven grid) goes back to its native size
through the grid detector, then up again by one whole factor with nearest neighbour, so each model pixel block is one
art pixel: the model learns crisp cells, never resampling blur. The core trainer takes one latent batch, so the
whole set shares one bucket (width x height near the model's training area, multiples of the latent cell): the
aspect most of the set has; each image is scaled by the largest whole factor that fits it and centred on a flat
background colour (the VAE sees RGB: transparency becomes that colour, never a checkerboard).

Captions: the trigger word, the image's own caption (``<stem>.txt`` beside it, else its file name in words) and the
sprite type. Images with the same native pixels are kept once. Nothing is dropped silently: the report says why
(unreadable, too small, too large, no pixel grid, duplicate).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..common.errors import InputError
from ..common.files import read_limited
from ..common.limits import check_batch_pixels
from ..image.background import parse_hex_colour
from ..image.decode import decode_rgba8
from ..image.ops import nearest_upscale
from ..pixel import downscale as pixel_downscale

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
CAPTION_SUFFIX = ".txt"
CAPTION_LIMIT = 64 << 10  # bytes of one caption file
MAX_FILES = 10000
MIN_NATIVE = 4  # a sprite smaller than this on a side teaches nothing (a 1x1 is a colour, not art)
MAX_PLAIN = 512  # an image with no pixel grid larger than this is not pixel art at its native size
MAX_BUCKET_ASPECT = 2.5
# Cells of 4 pixels and up are looked for first (allowing tiny cells lets a drifting AI grid fit its noise); then
# cells of 2 to 4 pixels, for clean 2x and 3x upscales. A grid leaving fewer than MIN_NATIVE cells a side is taken for
# a pattern of the art, not its grid.
GRID_PASSES = ((4.0, 256.0), (2.0, 3.999))
CLEAN_TOLERANCE = 2 / 255
DUPLICATE_TOLERANCE = 12 / 255  # art pixels this close in every channel are the same art (AI noise left over)
ALPHA_THRESHOLD = 0.5


@dataclass(frozen=True)
class Kept:
    file: str
    caption: str
    native: tuple[int, int]  # (width, height) after grid recovery
    cell: float  # input pixels per art pixel (1.0: already native)
    factor: int = 0  # the whole upscale into the bucket (set once the bucket is known)
    flipped: bool = False

    def to_dict(self) -> dict:
        return {"file": self.file, "caption": self.caption, "native": list(self.native), "cell": round(self.cell, 3),
                "factor": self.factor, "flipped": self.flipped}


@dataclass
class TrainingSet:
    images: torch.Tensor  # IMAGE [B, H, W, 3]: every kept image (and its mirror) in the shared bucket
    captions: list[str]
    bucket: tuple[int, int]
    kept: list[Kept] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def report(self) -> dict:
        return {"bucket": list(self.bucket), "images": len(self.captions), "kept": [k.to_dict() for k in self.kept],
                "dropped": [{"file": name, "reason": why} for name, why in self.dropped]}

    def summary(self) -> str:
        """What a user reads: one line for the set, one per dropped file."""
        lines = [f"{len(self.kept)} image(s) kept, {len(self.dropped)} dropped; {len(self.captions)} training "
                 f"image(s) at {self.bucket[0]}x{self.bucket[1]}"]
        lines += [f"dropped {name}: {why}" for name, why in self.dropped]
        return "\n".join(lines)


def buckets(resolution: int) -> list[tuple[int, int]]:
    """Width x height pairs with about ``resolution``^2 pixels and sides a multiple of the latent-friendly step
    (64 at 1024, 32 at 512), from 2.5:1 to 1:2.5; the square first."""
    if resolution < 16 or resolution % 8:
        raise InputError(f"training resolution must be a multiple of 8 and at least 16, got {resolution}")
    step = max(8, resolution // 16)
    area = resolution * resolution
    found = {(resolution, resolution)}
    for width in range(step, int(resolution * MAX_BUCKET_ASPECT) + 1, step):
        height = area // width // step * step
        if height >= step and max(width, height) / min(width, height) <= MAX_BUCKET_ASPECT:
            found.add((width, height))
    return sorted(found, key=lambda size: (size != (resolution, resolution), abs(np.log(size[0] / size[1]))))


def nearest_bucket(size: tuple[int, int], choices: list[tuple[int, int]]) -> tuple[int, int]:
    aspect = np.log(size[0] / size[1])
    return min(choices, key=lambda bucket: abs(np.log(bucket[0] / bucket[1]) - aspect))


def whole_factor(native: tuple[int, int], bucket: tuple[int, int]) -> int:
    return min(bucket[0] // native[0], bucket[1] // native[1])


def caption_for(path: Path, trigger: str, sprite_type: str) -> str:
    """Trigger, the image's caption (``<stem>.txt`` beside it, else the file name in words), sprite type."""
    text_path = path.with_suffix(CAPTION_SUFFIX)
    if text_path.is_file():
        try:
            own = read_limited(text_path, CAPTION_LIMIT, "caption file").decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{text_path}: not a UTF-8 text file (a caption is plain text)") from None
    else:
        own = re.sub(r"[_\-.]+", " ", re.sub(r"\d+$", "", path.stem))
    parts = [" ".join(part.split()) for part in (trigger, own, sprite_type)]
    return ", ".join(part for part in parts if part)


def list_images(folder: str | Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The image files of ``folder`` (sorted) and the other files it holds (reported, never read as images)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder of training images")
    entries = sorted(entry for entry in folder.iterdir() if not entry.name.startswith("."))
    if len(entries) > MAX_FILES:
        raise InputError(f"{folder} holds {len(entries)} files; a training set may have at most {MAX_FILES}")
    images = [entry for entry in entries if entry.suffix.lower() in IMAGE_SUFFIXES and entry.is_file()]
    others = [(entry.name, "not an image file") for entry in entries
              if entry not in images and not (entry.suffix.lower() == CAPTION_SUFFIX
                                               and any(image.stem == entry.stem for image in images))]
    return images, others


def recover_native(rgba: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, float]:
    """``[H, W, 4]`` uint8 -> native IMAGE ``[h, w, 3]``, binary MASK ``[h, w]`` (1 = transparent) and the cell size
    found (1.0 when no grid: the image is taken as native)."""
    pixels = torch.from_numpy(rgba).to(torch.float32) / 255.0
    image, mask = pixels[None, ..., :3], 1.0 - pixels[None, ..., 3]
    for (min_cell, max_cell), clean_only in zip(GRID_PASSES, (False, True)):
        native, native_mask, grids = pixel_downscale.downscale(image, mask, alpha_threshold=ALPHA_THRESHOLD,
                                                               min_cell=min_cell, max_cell=max_cell)
        grid = grids.for_image(0)
        if not grid.found or min(grid.native_size) < MIN_NATIVE:
            continue
        if clean_only and not _reproduces(image[0], native[0], grid):
            continue  # small cells found on 1x art: a pattern of the art, not an upscale
        return native[0], native_mask[0], grid.cell_size
    return image[0], (mask[0] > ALPHA_THRESHOLD).to(image.dtype), 1.0


def _reproduces(image: torch.Tensor, native: torch.Tensor, grid) -> bool:
    """Whether painting each native pixel over its cell gives the image back (what a clean upscale is)."""
    columns = torch.bucketize(torch.arange(image.shape[1]), torch.tensor(grid.cuts_x[1:-1]), right=True)
    rows = torch.bucketize(torch.arange(image.shape[0]), torch.tensor(grid.cuts_y[1:-1]), right=True)
    return float((native[rows][:, columns] - image).abs().max()) <= CLEAN_TOLERANCE


def prepare(folder: str | Path, resolution: int = 1024, trigger: str = "", sprite_type: str = "pixel art sprite",
            background: str = "#ffffff", flip: bool = False, max_pixels: int | None = None,
            check_interrupt=lambda: None) -> TrainingSet:
    """The training set of ``folder``: see the module's docstring. Raises InputError when no image is usable,
    naming why each was dropped."""
    colour = parse_hex_colour(background)
    choices = buckets(resolution)
    files, dropped = list_images(folder)
    if not files:
        raise InputError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder"
                         + (f"; it holds {', '.join(name for name, _ in dropped[:5])}" if dropped else ""))
    natives, seen = [], {}
    for path in files:
        check_interrupt()
        try:
            rgba = decode_rgba8(path, path.name, max_pixels)
        except InputError as err:
            dropped.append((path.name, str(err)))
            continue
        native, mask, cell = recover_native(rgba)
        height, width = mask.shape
        if cell == 1.0 and max(width, height) > MAX_PLAIN:
            dropped.append((path.name, f"no pixel grid found in {width}x{height} (not pixel art at its native "
                                       "size; give the sprite at 1x or a clean upscale)"))
            continue
        if min(width, height) < MIN_NATIVE:
            dropped.append((path.name, f"too small: {width}x{height} art pixels (at least {MIN_NATIVE} a side)"))
            continue
        if whole_factor((width, height), nearest_bucket((width, height), choices)) < 1:
            dropped.append((path.name, f"too large: {width}x{height} art pixels do not fit the {resolution} "
                                       "training size even at 1x"))
            continue
        flat = torch.from_numpy(_flatten(native, mask, colour))
        same = next((name for name, other in seen.get((width, height), [])
                     if float((other - flat).abs().max()) <= DUPLICATE_TOLERANCE), None)
        if same:
            dropped.append((path.name, f"duplicate of {same} (the same art pixels)"))
            continue
        seen.setdefault((width, height), []).append((path.name, flat))
        natives.append((path, flat, mask, cell))
    if not natives:
        raise InputError(f"{folder}: no usable training image; " + "; ".join(f"{n}: {why}" for n, why in dropped))
    bucket = Counter(nearest_bucket((m.shape[1], m.shape[0]), choices) for _, _, m, _ in natives).most_common(1)[0][0]
    if any(whole_factor((m.shape[1], m.shape[0]), bucket) < 1 for _, _, m, _ in natives):
        # a tall sprite among wide ones: fall back to the square, where every kept image fits
        bucket = (resolution, resolution)
    copies = 2 if flip else 1
    check_batch_pixels(len(natives) * copies * bucket[0] * bucket[1],
                       f"{len(natives) * copies} training images of {bucket[0]}x{bucket[1]}", max_pixels)
    images, captions, kept = [], [], []
    for path, flat, mask, cell in natives:
        check_interrupt()
        height, width = mask.shape
        factor = whole_factor((width, height), bucket)
        if factor < 1:
            dropped.append((path.name, f"too large: {width}x{height} art pixels do not fit {bucket[0]}x{bucket[1]}"))
            continue
        caption = caption_for(path, trigger, sprite_type)
        placed = place(nearest_upscale(flat[None], factor)[0], bucket, colour)
        for flipped in (False, True)[:copies]:
            images.append(placed.flip(1) if flipped else placed)
            captions.append(caption)
            kept.append(Kept(path.name, caption, (width, height), cell, factor, flipped))
    return TrainingSet(torch.stack(images), captions, bucket, kept, dropped)


def _flatten(native: torch.Tensor, mask: torch.Tensor, colour: torch.Tensor) -> np.ndarray:
    """The art over the flat background colour, as float32 ``[h, w, 3]``."""
    return torch.where(mask[..., None] > ALPHA_THRESHOLD, colour.to(native.dtype), native).numpy()


def place(image: torch.Tensor, bucket: tuple[int, int], colour: torch.Tensor) -> torch.Tensor:
    """``image`` ``[h, w, 3]`` centred on a ``bucket`` canvas of ``colour``."""
    width, height = bucket
    canvas = colour.to(image.dtype).expand(height, width, 3).clone()
    top, left = (height - image.shape[0]) // 2, (width - image.shape[1]) // 2
    canvas[top:top + image.shape[0], left:left + image.shape[1]] = image
    return canvas
