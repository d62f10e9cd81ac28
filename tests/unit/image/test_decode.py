"""The image gate's PNG fast path: an 8-bit RGB or RGBA PNG decoded by libspng gives exactly Pillow's pixels, every
other file still goes through Pillow, and a damaged file gets the words it got from Pillow."""
from __future__ import annotations

import io
import random
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from bombs import chunk
from dgx_pixels.common.errors import InputError
from dgx_pixels.image.decode import DECODE_ERRORS, decode_rgba8, libspng_format

# Adam7's passes: (first column, first row, column step, row step).
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _paeth(left: np.ndarray, up: np.ndarray, up_left: np.ndarray) -> np.ndarray:
    guess = left + up - up_left
    to_left, to_up, to_up_left = abs(guess - left), abs(guess - up), abs(guess - up_left)
    return np.where((to_left <= to_up) & (to_left <= to_up_left), left, np.where(to_up <= to_up_left, up, up_left))


def _scanlines(rows: np.ndarray, filter_type: int, step: int) -> bytes:
    """``rows`` (uint8 ``[H, bytes per row]``) filtered with ``filter_type``, each after its filter byte; ``step``:
    the bytes of one pixel. A type PNG does not have (a damaged file's) is written with the rows unfiltered."""
    lines, up = [], np.zeros(rows.shape[1], np.int32)
    for row in rows.astype(np.int32):
        left = np.concatenate([np.zeros(step, np.int32), row[:-step]])
        up_left = np.concatenate([np.zeros(step, np.int32), up[:-step]])
        predicted = (0, left, up, (left + up) // 2, _paeth(left, up, up_left), 0)[min(filter_type, 5)]
        lines.append(bytes([filter_type]) + ((row - predicted) % 256).astype(np.uint8).tobytes())
        up = row
    return b"".join(lines)


def png_file(pixels: np.ndarray, filter_type: int = 4, interlaced: bool = False, before_data: bytes = b"",
             after_data: bytes = b"") -> bytes:
    """A PNG of ``pixels`` (``[H, W, 3 or 4]``, uint8 or uint16 for 16 bits), every row filtered with
    ``filter_type``, its data split over several IDAT chunks; ``before_data``/``after_data``: chunks around them."""
    height, width, channels = pixels.shape
    raw = pixels.astype(pixels.dtype.newbyteorder(">")).view(np.uint8)
    passes = ADAM7 if interlaced else ((0, 0, 1, 1),)
    subimages = [raw[row::row_step, column::column_step] for column, row, column_step, row_step in passes]
    data = zlib.compress(b"".join(_scanlines(sub.reshape(len(sub), -1), filter_type, raw.shape[2])
                                  for sub in subimages if sub.size))
    header = struct.pack(">IIBBBBB", width, height, pixels.dtype.itemsize * 8, {3: 2, 4: 6}[channels], 0, 0,
                         int(interlaced))
    return (SIGNATURE + chunk(b"IHDR", header) + before_data
            + b"".join(chunk(b"IDAT", data[start:start + 40]) for start in range(0, len(data), 40))
            + after_data + chunk(b"IEND", b""))


def pillow_saved(pixels: np.ndarray, mode: str | None = None, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, "PNG", **options)
    return buffer.getvalue()


def pillows_array(data: bytes, keep_rgb: bool) -> np.ndarray:
    """What the gate gave before libspng: Pillow's pixels of an 8-bit RGB or RGBA PNG."""
    with Image.open(io.BytesIO(data)) as image:
        return np.array(image) if keep_rgb and image.mode == "RGB" else np.array(image.convert("RGBA"))


def fast_path_format(data: bytes, keep_rgb: bool) -> str | None:
    with Image.open(io.BytesIO(data)) as image:
        return libspng_format(image, len(data), keep_rgb)


def with_alpha(rgb: np.ndarray) -> np.ndarray:
    return np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)


def decoded_both_ways(data: bytes, tmp_path, keep_rgb: bool) -> np.ndarray:
    """The gate's array from the bytes and from a file holding them, which must agree."""
    path = tmp_path / "image.png"
    path.write_bytes(data)
    from_bytes = decode_rgba8(data, "image.png", keep_rgb=keep_rgb)
    from_file = decode_rgba8(path, str(path), keep_rgb=keep_rgb)
    assert from_bytes.dtype == from_file.dtype == np.uint8 and np.array_equal(from_bytes, from_file)
    return from_file


def _random_pixels(height: int, width: int, channels: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------------- fast path
@pytest.mark.parametrize("keep_rgb", [False, True])
def test_a_plain_rgb_or_rgba_png_takes_the_fast_path(keep_rgb):
    assert fast_path_format(pillow_saved(_random_pixels(9, 13, 3, 1)), keep_rgb) == ("RGB" if keep_rgb else "RGBA")
    assert fast_path_format(pillow_saved(_random_pixels(9, 13, 4, 1)), keep_rgb) == "RGBA"
    assert fast_path_format(png_file(_random_pixels(9, 13, 3, 1), interlaced=True), keep_rgb) is not None


@pytest.mark.parametrize("size", [(1, 1), (7, 3), (3, 7), (17, 10)])
@pytest.mark.parametrize("interlaced", [False, True])
@pytest.mark.parametrize("filter_type", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("channels", [3, 4])
def test_every_filter_and_interlacing_gives_pillows_pixels(tmp_path, channels, filter_type, interlaced, size):
    pixels = _random_pixels(size[1], size[0], channels, seed=filter_type)
    data = png_file(pixels, filter_type, interlaced)
    for keep_rgb in (False, True):
        assert fast_path_format(data, keep_rgb) is not None
        decoded = decoded_both_ways(data, tmp_path, keep_rgb)
        expected = pixels if channels == 4 or keep_rgb else with_alpha(pixels)
        assert decoded.shape == expected.shape and np.array_equal(decoded, expected)
        assert np.array_equal(decoded, pillows_array(data, keep_rgb))


@pytest.mark.parametrize("compress_level", [0, 1, 6, 9])
@pytest.mark.parametrize("channels", [3, 4])
def test_pngs_pillow_writes_give_the_same_pixels(tmp_path, channels, compress_level):
    smooth = np.linspace(0, 255, 40 * 31 * channels).reshape(31, 40, channels).astype(np.uint8)
    pixels = np.concatenate([smooth, _random_pixels(31, 40, channels, seed=compress_level)])  # adaptive filters
    data = pillow_saved(pixels, compress_level=compress_level)
    for keep_rgb in (False, True):
        assert np.array_equal(decoded_both_ways(data, tmp_path, keep_rgb), pillows_array(data, keep_rgb))


def test_gamma_colour_space_and_icc_profile_are_ignored_as_pillow_ignores_them(tmp_path):
    pixels = _random_pixels(6, 11, 3, seed=5)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    colour = (chunk(b"gAMA", struct.pack(">I", 100000)) + chunk(b"cHRM", struct.pack(">8I", *[31270, 32900] * 4))
              + chunk(b"iCCP", b"sRGB\0\0" + zlib.compress(profile)))
    data = png_file(pixels, before_data=colour)
    assert fast_path_format(data, keep_rgb=True) == "RGB"
    assert np.array_equal(decoded_both_ways(data, tmp_path, keep_rgb=True), pixels)
    assert np.array_equal(pillows_array(data, keep_rgb=True), pixels)


# ---------------------------------------------------------------------------------------------------- Pillow's path
GREYS = np.array([[0, 60, 255], [128, 7, 200]], dtype=np.uint8)
PALETTE = np.array([[10, 20, 30], [200, 100, 0], [0, 255, 40]], dtype=np.uint8)


def _palette_png() -> bytes:
    image = Image.fromarray(np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8), "P")
    image.putpalette(PALETTE.tobytes())
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


RGB = _random_pixels(2, 3, 3, seed=7)
KEY = tuple(int(value) for value in RGB[0, 1])
PILLOWS_FILES = {
    "16-bit RGB": (lambda: png_file((RGB.astype(np.uint16) * 257)), with_alpha(RGB)),
    "RGB with a tRNS colour key": (lambda: pillow_saved(RGB, transparency=KEY),
                                   np.concatenate([RGB, np.where((RGB == KEY).all(-1), 0, 255)[..., None]], -1)),
    "palette": (_palette_png, with_alpha(PALETTE[[[0, 1, 2], [2, 1, 0]]])),
    "grey": (lambda: pillow_saved(GREYS, "L"), with_alpha(np.stack([GREYS] * 3, -1))),
    "grey and alpha": (lambda: pillow_saved(np.stack([GREYS, GREYS[::-1]], -1), "LA"),
                       np.stack([GREYS] * 3 + [GREYS[::-1]], -1)),
}


@pytest.mark.parametrize("kind", PILLOWS_FILES)
def test_other_pngs_go_through_pillow_and_decode_right(tmp_path, kind):
    make, expected = PILLOWS_FILES[kind]
    data = make()
    assert fast_path_format(data, keep_rgb=False) is None
    assert np.array_equal(decoded_both_ways(data, tmp_path, keep_rgb=False), expected)
    kept = decoded_both_ways(data, tmp_path, keep_rgb=True)
    # keep_rgb spares only an alpha that is not there (a tRNS colour key is alpha, and stays)
    assert kept.shape[-1] == 4 or (expected[..., 3] == 255).all()
    assert np.array_equal(kept, expected[..., :kept.shape[-1]])


def test_a_file_padded_past_its_pixels_goes_through_pillow(tmp_path):
    pixels = _random_pixels(4, 5, 3, seed=8)
    data = png_file(pixels) + bytes(2 << 20)  # after IEND, which Pillow never reads
    assert fast_path_format(data, keep_rgb=True) is None
    assert np.array_equal(decoded_both_ways(data, tmp_path, keep_rgb=True), pixels)


def test_a_text_chunk_after_the_image_data_is_read_as_pillow_reads_it(tmp_path):
    pixels = _random_pixels(4, 5, 4, seed=9)
    data = png_file(pixels, after_data=chunk(b"tEXt", b"Comment\0made by hand"))
    assert np.array_equal(decoded_both_ways(data, tmp_path, keep_rgb=False), pixels)


# ---------------------------------------------------------------------------------------------------- damage
def _damaged(change) -> bytes:
    data = bytearray(png_file(_random_pixels(9, 13, 3, seed=10)))
    change(data, data.index(b"IDAT") + 4)
    return bytes(data)


def _with_right_crc(data: bytearray, start: int) -> None:
    """Recomputes the CRC of the chunk whose data begins at ``start``."""
    length = int.from_bytes(data[start - 8:start - 4], "big")
    data[start + length:start + length + 4] = struct.pack(">I", zlib.crc32(data[start - 4:start + length]))


def _garbage_deflate(data: bytearray, start: int) -> None:
    data[start + 2:start + 12] = b"\xff" * 10
    _with_right_crc(data, start)


@pytest.mark.parametrize("damage, message", [
    (lambda: _damaged(lambda data, start: data.__delitem__(slice(start + 50, None))),
     "image.png: not a readable image (broken PNG file (chunk b'ID'))"),
    (lambda: _damaged(_garbage_deflate),
     "image.png: not a readable image (broken data stream when reading image file)"),
    (lambda: png_file(RGB, filter_type=9),
     "image.png: not a readable image (unrecognized data stream contents when reading image file)"),
    (lambda: png_file(RGB, after_data=chunk(b"zTXt", b"Comment\0\0" + zlib.compress(bytes(200 << 20), 9))),
     "image.png: not a readable image (Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK)"),
    (lambda: png_file(RGB, after_data=chunk(b"tEXt", b"Comment\0cut short"))[:-12 - 6],  # no IEND either
     "image.png: not a readable image (Truncated File Read)"),
])
def test_damaged_files_are_refused_with_pillows_words(tmp_path, damage, message):
    data = damage()
    path = tmp_path / "image.png"
    path.write_bytes(data)
    for source in (data, path):
        with pytest.raises(InputError) as refused:
            decode_rgba8(source, "image.png", keep_rgb=True)
        assert str(refused.value) == message


def test_a_wrong_crc_on_intact_image_data_decodes_as_pillow_decodes_it(tmp_path):
    def wrong_crc(data: bytearray, start: int) -> None:
        length = int.from_bytes(data[start - 8:start - 4], "big")
        data[start + length] ^= 0xFF

    data = _damaged(wrong_crc)
    assert np.array_equal(decoded_both_ways(data, tmp_path, keep_rgb=True), pillows_array(data, keep_rgb=True))


def _unplaced(message: str) -> str:
    """``message`` without the memory addresses of objects it names (Pillow names its file object)."""
    return re.sub(r" at 0x[0-9a-f]+", "", message)


def test_randomly_damaged_image_data_gives_what_pillow_gave():
    """A seeded fuzz of the bytes from the first IDAT on (the header stays an 8-bit RGB one): the gate's array, or
    its refusal, is Pillow's."""
    original = png_file(_random_pixels(9, 13, 3, seed=11), filter_type=4)
    first = original.index(b"IDAT") - 4
    chance = random.Random(11)
    for _ in range(300):
        data = bytearray(original)
        for _ in range(chance.randint(1, 4)):
            data[chance.randrange(first, len(data))] = chance.randrange(256)
        if chance.random() < 0.2:
            data = data[:chance.randrange(first, len(data))]
        data = bytes(data)
        try:
            expected = pillows_array(data, keep_rgb=True)
        except DECODE_ERRORS as err:
            with pytest.raises(InputError) as refused:
                decode_rgba8(data, "fuzzed", keep_rgb=True)
            assert _unplaced(str(refused.value)) == _unplaced(f"fuzzed: not a readable image ({err})")
        else:
            assert np.array_equal(decode_rgba8(data, "fuzzed", keep_rgb=True), expected)
