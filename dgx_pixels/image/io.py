"""PNG files <-> ComfyUI-style tensors for the command line and tests (IMAGE ``[B,H,W,3]`` + MASK ``[B,H,W]``)."""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from ..common.errors import InputError
from ..common.files import atomic_path
from .decode import check_files_together, decode_rgba8
from .ops import join_alpha
from .png import to_rgba8, to_uint8

SMALL_IMAGE_PIXELS = 256 * 256


def load_rgba_bytes(path: str | Path, max_pixels: int | None = None) -> torch.Tensor:
    """Read an image file as uint8 RGBA ``[1,H,W,4]`` (what palette work needs: 8 bits per channel), through the
    image gate (decode.py): within the pixel limit, any mode converted correctly, animations refused."""
    return torch.from_numpy(decode_rgba8(path, str(path), max_pixels)).unsqueeze(0)


def load_image(path: str | Path, max_pixels: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Read an image file as IMAGE ``[1,H,W,3]`` and MASK ``[1,H,W]`` (1 = transparent)."""
    pixels = torch.from_numpy(decode_rgba8(path, str(path), max_pixels, keep_rgb=True)).unsqueeze(0)
    # each channel converted once from its bytes (converting all four then copying out three costs twice as much)
    image = pixels[..., :3].to(torch.float32).div_(255.0)
    if pixels.shape[-1] == 3:
        return image, image.new_zeros(image.shape[:3])
    return image, pixels[..., 3].to(torch.float32).div_(255.0).neg_().add_(1.0)


def check_png_name(path: str | Path) -> Path:
    """Images are written as PNG only, so a file's suffix never lies about its bytes (and pixel art keeps its exact
    colours and alpha, which JPEG would not)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"{path}: images are written as PNG (exact colours and alpha); name the file .png")
    return path


def load_images(paths: list, what: str, max_pixels: int | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Several files kept in memory together (a locked batch, a sheet's frames): their total is checked against the
    batch limit before any is decoded."""
    check_files_together(paths, what, max_pixels)
    return [load_image(path, max_pixels) for path in paths]


def to_pil(image: torch.Tensor, mask: torch.Tensor | None = None) -> Image.Image:
    """One image ``[H,W,3]`` (+ mask ``[H,W]``) -> an RGB or RGBA Pillow image (RGBA when any pixel is see-through)."""
    image = image[..., :3].detach().float().cpu()
    if mask is None or not bool((mask > 0).any()):
        return Image.fromarray(to_uint8(image), "RGB")
    return Image.fromarray(to_rgba8(join_alpha(image, mask.detach().float().cpu())), "RGBA")


def save_png(path: str | Path, image: torch.Tensor, mask: torch.Tensor | None = None) -> Path:
    """Write one image as PNG, atomically: a crash never leaves a half-written file under ``path``."""
    check_png_name(path)
    picture = to_pil(image, mask)
    # Sprites get the smallest file; big images a fast compression (optimising them takes seconds).
    small = picture.width * picture.height <= SMALL_IMAGE_PIXELS
    with atomic_path(path) as temporary:
        picture.save(temporary, format="PNG", optimize=small, compress_level=9 if small else 1)
    return Path(path)


def save_indexed_png(path: str | Path, indices: torch.Tensor, colours: list[tuple[int, int, int]],
                     mask: torch.Tensor | None = None) -> Path:
    """Write a palette-mode PNG (one byte a pixel: small and fast) of ``indices`` ``[H, W]`` into ``colours``;
    transparent pixels (mask >= 0.5) get an extra fully transparent entry. Atomic like save_png."""
    path = check_png_name(path)
    index = indices.to(torch.uint8)
    entries = [channel for rgb in colours for channel in rgb]
    transparent = mask is not None and bool((mask >= 0.5).any())
    if transparent:
        index = torch.where(mask >= 0.5, torch.tensor(len(colours), dtype=torch.uint8), index)
        entries += [0, 0, 0]
    picture = Image.fromarray(index.cpu().numpy(), "P")
    picture.putpalette(entries)
    options = {"transparency": len(colours)} if transparent else {}
    with atomic_path(path) as temporary:
        picture.save(temporary, format="PNG", compress_level=1, **options)
    return path
