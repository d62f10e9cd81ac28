"""The one gate every image file passes (command line inputs, palette images, the client's uploads and downloads):
decoded only within the pixel limit, every mode converted to 8-bit RGBA correctly, animations refused, and bytes
checked against the format their suffix names. Needs Pillow and numpy (the client has no torch), and pyspng (libspng)
when it is there: an 8-bit RGB or RGBA PNG, the common input, decodes about twice as fast through it, to exactly
Pillow's pixels; every other file, and any file libspng will not read, goes through Pillow as before, so its
messages and limits stay.

Animated files (GIF, APNG, WebP, multi-page TIFF) are refused rather than read frame by frame: every command maps one
file to one picture, and an animation's frames would need their own names, durations and disposal. Saving the
frames as PNG files (or a sheet) says which frames are meant; an MPO (a camera's JPEG with extra pictures) is read
as its main picture.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from ..common.errors import InputError
from ..common.files import open_regular
from ..common.limits import check_batch_pixels, check_image_size

try:
    import pyspng
except ImportError:  # Pillow alone reads every file, only slower
    pyspng = None

# What a damaged or hostile file can make a Pillow decoder raise.
# (Fuzzing every format Pillow writes with random byte changes found NotImplementedError too, from its DDS reader.)
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, KeyError, TypeError,
                 ZeroDivisionError, NotImplementedError, Image.DecompressionBombError)
SIXTEEN_BIT_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I")
# A fast-path file is read whole into memory: at most its pixels' raw bytes plus this, for the chunks besides them
# (an ICC profile, text) and deflate's own overhead; a bigger file (padded with junk, say) goes to Pillow's stream.
FAST_PATH_FILE_MARGIN = 1 << 20
FORMAT_OF_SUFFIX = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".gif": "GIF", ".bmp": "BMP",
                    ".tif": "TIFF", ".tiff": "TIFF"}


def decode_rgba8(source: str | Path | bytes, name: str, max_pixels: int | None = None,
                 keep_rgb: bool = False) -> np.ndarray:
    """``source`` (a path or the file's bytes; ``name`` says which in messages) as ``[H, W, 4]`` uint8 RGBA;
    ``keep_rgb``: an RGB file (no alpha to read) comes as ``[H, W, 3]``, sparing a conversion of every pixel."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else open_regular(source, "image file")
    try:
        with handle, Image.open(handle) as image:
            _check_single(image, name, max_pixels)
            pixels = _libspng_pixels(source, handle, image, keep_rgb)
            if pixels is not None:
                return pixels
            if keep_rgb and image.mode == "RGB" and "transparency" not in image.info:  # (a tRNS key is alpha)
                return np.array(image)
            return _rgba8(image, name)
    except InputError:
        raise
    except Image.DecompressionBombError as err:
        raise InputError(f"{name}: too large to decode safely ({err})") from None
    except MemoryError:
        raise InputError(f"{name}: not enough memory to decode it; lower the image size") from None
    except DECODE_ERRORS as err:
        raise InputError(f"{name}: not a readable image ({_short(err)})") from None


def libspng_format(image: Image.Image, file_size: int, keep_rgb: bool) -> str | None:
    """The pyspng output format that decodes ``image`` (opened by Pillow: only its header is read) to the array
    Pillow would give, or None when Pillow must decode it: pyspng missing, not a still 8-bit RGB or RGBA PNG, a tRNS
    colour key (which Pillow turns into alpha) or a file of ``file_size`` bytes over its pixels' raw size plus
    FAST_PATH_FILE_MARGIN."""
    if pyspng is None or image.format != "PNG" or image.get_format_mimetype() != "image/png":  # APNG is image/apng
        return None
    if image.mode not in ("RGB", "RGBA") or "transparency" in image.info or len(image.tile) != 1:
        return None
    if image.tile[0][3] != image.mode:  # 16-bit samples have raw modes such as "RGB;16B"
        return None
    width, height = image.size
    if file_size > height * (1 + width * len(image.mode)) + FAST_PATH_FILE_MARGIN:
        return None
    return "RGB" if keep_rgb and image.mode == "RGB" else "RGBA"


def check_files_together(paths: list, what: str, max_pixels: int | None = None) -> None:
    """Refuse files that together hold more pixels than a batch may (read from their headers: nothing is decoded
    yet), for work that keeps them all in memory at once (one locked grid, one palette, one sheet)."""
    total = 0
    for path in paths:
        try:
            with open_regular(path, "image file") as handle, Image.open(handle) as image:
                check_image_size(*image.size, str(path), max_pixels)
                total += image.size[0] * image.size[1]
        except InputError:
            raise
        except DECODE_ERRORS as err:
            raise InputError(f"{path}: not a readable image ({_short(err)})") from None
    check_batch_pixels(total, f"{what} ({len(paths)} files) hold together", max_pixels)


def check_image_bytes(data: bytes, name: str, suffix: str | None = None, max_pixels: int | None = None) -> None:
    """Refuse ``data`` unless it is an image within the pixel limit (read from its header: nothing is decoded), in
    the format ``suffix`` names (any format when None)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            found = image.format
            check_image_size(*image.size, name, max_pixels)
    except InputError:
        raise
    except Image.DecompressionBombError as err:
        raise InputError(f"{name}: too large to decode safely ({err})") from None
    except DECODE_ERRORS:
        found = None
    expected = FORMAT_OF_SUFFIX.get(suffix.lower()) if suffix else None
    if found is None or (expected is not None and found != expected):
        raise InputError(f"{name}{f' is named {suffix} but its bytes are' if suffix else ' is'} "
                         f"{_kind_of(data, found)}{f', not {expected}' if expected else ''}")


def _kind_of(data: bytes, found: str | None) -> str:
    if found:
        return f"a {found} image"
    start = data[:16]
    return f"not an image (they start with {start!r})" if start else "empty"


def _libspng_pixels(source: str | Path | bytes, handle: BinaryIO, image: Image.Image,
                    keep_rgb: bool) -> np.ndarray | None:
    """``image`` decoded by libspng when libspng_format allows it and libspng reads it whole; None otherwise (Pillow
    then decodes it, and words any error)."""
    file_size = len(source) if isinstance(source, bytes) else os.fstat(handle.fileno()).st_size
    output_format = libspng_format(image, file_size, keep_rgb)
    if output_format is None:
        return None
    if isinstance(source, bytes):
        data = source
    else:
        handle.seek(0)
        data = handle.read(file_size + 1)  # the file may have grown since
    if len(data) != file_size or not _intact_image_data(data, image.tile[0][2]):
        return None
    try:
        pixels = pyspng.load(data, format=output_format)
    except Exception:  # libspng's refusals come as RuntimeError, but nothing it raises may escape the gate
        return None
    expected = (image.size[1], image.size[0], len(output_format))
    return pixels if pixels.shape == expected and pixels.dtype == np.uint8 else None


def _intact_image_data(data: bytes, offset: int) -> bool:
    """Whether the IDAT chunks starting at ``offset`` (the first one's data) have their CRCs right and are followed
    by IEND. pyspng has libspng skip every checksum, the zlib stream's Adler-32 too, which Pillow checks: the CRCs
    catch the same damage (only a stream written with a wrong Adler-32 under right CRCs decodes where Pillow refused
    it; checking it would mean inflating the data twice). And Pillow reads the chunks after the image data, refusing
    some (a text bomb, a cut chunk) that libspng never looks at."""
    view = memoryview(data)
    position = offset - 8
    while data[position + 4:position + 8] == b"IDAT":
        end = position + 8 + int.from_bytes(data[position:position + 4], "big")
        if end + 4 > len(data) or zlib.crc32(view[position + 4:end]) != int.from_bytes(data[end:end + 4], "big"):
            return False
        position = end + 4
    return data[position:position + 8] == b"\0\0\0\0IEND"


def _check_single(image: Image.Image, name: str, max_pixels: int | None) -> None:
    check_image_size(*image.size, name, max_pixels)
    if getattr(image, "is_animated", False) and image.format != "MPO":
        raise InputError(f"{name} is an animation ({image.format} with several frames); one picture per file is "
                         "read, and taking only the first frame would lose the rest: save its frames as PNG files")


def _rgba8(image: Image.Image, name: str) -> np.ndarray:
    if image.mode in SIXTEEN_BIT_GREY:
        # Pillow's RGBA conversion clips 16-bit grey at 255 (everything above 1/256 turns white): scale instead.
        grey = np.asarray(image, dtype=np.int64)
        levels = ((np.clip(grey, 0, 65535) * 255 + 32767) // 65535).astype(np.uint8)
        transparent = image.info.get("transparency")
        alpha = np.where(grey == transparent, 0, 255).astype(np.uint8) if isinstance(transparent, int) else \
            np.full_like(levels, 255)
        return np.stack([levels, levels, levels, alpha], axis=-1)
    if image.mode == "F":
        raise InputError(f"{name}: 32-bit floating-point images are not read (their range is not known); save it "
                         "as an 8- or 16-bit PNG")
    return np.array(image.convert("RGBA"))


def _short(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return text if len(text) <= 200 else text[:200] + "..."
