"""Hostile image files and careless outputs for the image commands: decompression bombs, files that are no images
(or no files), 16-bit and other modes, animations, outputs that would lie about their format, land on an input or
cannot be written. Each bad file gets one line and the batch goes on; nothing outside the output is written."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bombs import animated, bomb_png, grey16_png, text_chunk_bomb_png
from dgx_pixels.common.errors import InputError
from dgx_pixels.image.decode import decode_rgba8
from dgx_pixels.image.io import save_png
from hostile import Sandbox
from pixel_art import blow_up, true_sprite, uniform_cuts


@pytest.fixture
def box(tmp_path) -> Sandbox:
    """A sandbox with two good sprites (a/good1.png, a/good2.png) and a 12000x12000 bomb (a/bomb.png, 140 KB)."""
    sandbox = Sandbox(tmp_path)
    (tmp_path / "a").mkdir()
    for seed in (1, 2):
        rgb, mask = true_sprite(12, 12, seed=seed)
        image, big_mask = blow_up(rgb, mask, uniform_cuts(12, 8.0), uniform_cuts(12, 8.0))
        save_png(tmp_path / "a" / f"good{seed}.png", image[0], big_mask[0])
    (tmp_path / "a" / "bomb.png").write_bytes(bomb_png(12000, 12000))
    return sandbox


BOMB_LINE = "a/bomb.png is 12000x12000 = 144,000,000 pixels, over the limit of 67,108,864"


def outputs(box: Sandbox, folder: str = "out") -> list[str]:
    return sorted(p.name for p in (box.root / folder).iterdir()) if (box.root / folder).exists() else []


# ---------------------------------------------------------------------------------------------------- bombs
def test_a_bomb_in_a_pixelize_batch_is_refused_and_the_good_files_are_written(box):
    result = box.run("pixelize", "a/good1.png", "a/bomb.png", "a/good2.png", "-o", "out")
    result.refused(1, f"dgx-pixels pixelize: {BOMB_LINE}; raise it with DGX_PIXELS_MAX_PIXELS",
                   "1 of 3 file(s) failed")
    assert outputs(box) == ["good1.png", "good2.png"]
    assert result.changes.outside("out") == set()


def test_a_bomb_in_a_palette_apply_batch_is_refused_and_the_good_files_are_written(box):
    result = box.run("palette", "apply", "a/good1.png", "a/bomb.png", "a/good2.png", "-o", "out",
                     "--palette", "pico-8")
    result.refused(1, BOMB_LINE, "1 of 3 file(s) failed")
    assert outputs(box) == ["good1.png", "good2.png"]


@pytest.mark.parametrize("command", [
    ["palette", "extract", "a/good1.png", "a/bomb.png", "-o", "out/p.hex"],
    ["palette", "convert", "a/bomb.png", "-o", "out/p.hex"],
    ["sheet", "a/good1.png", "a/bomb.png", "-o", "out/s.png"],
    ["tileset", "a/good1.png", "a/bomb.png", "-o", "out/t.png"],
    ["slice", "a/bomb.png", "-o", "out"],
    ["pixelize", "a/good1.png", "a/bomb.png", "-o", "out", "--lock"],
    ["pixelize", "a/good1.png", "a/bomb.png", "-o", "out", "--colours", "4"],
    ["export", "bevy", "a/good1.png", "a/bomb.png", "--project", "game", "--name", "hero", "--any-folder"],
])
def test_a_bomb_among_the_inputs_of_one_output_is_refused_before_any_write(box, command):
    (box.root / "game").mkdir()
    result = box.main(*command).refused(2, BOMB_LINE)
    assert result.changes.outside() == set()


def test_the_pixel_limit_comes_from_the_option_then_the_environment(box):
    box.main("pixelize", "a/good1.png", "-o", "out", "--max-pixels", "1000").refused(
        1, "a/good1.png is 96x96 = 9,216 pixels, over the limit of 1,000")
    box.main("pixelize", "a/good1.png", "-o", "out", env={"DGX_PIXELS_MAX_PIXELS": "1000"}).refused(
        1, "over the limit of 1,000")
    box.main("pixelize", "a/good1.png", "-o", "out", env={"DGX_PIXELS_MAX_PIXELS": "lots"}).refused(
        1, "DGX_PIXELS_MAX_PIXELS='lots' is not a whole number of pixels")
    box.main("pixelize", "a/good1.png", "-o", "out", "--max-pixels", "0").refused(2, "'0' must be at least 1")
    assert outputs(box) == []


def test_many_frames_together_are_held_to_the_batch_limit(box):
    frames = [f"a/good{1 + n % 2}.png" for n in range(10)]
    box.main("sheet", *frames, "-o", "out/s.png", "--max-pixels", "20000").refused(
        2, "the frames (10 files) hold together = 92,160 pixels, over the limit of 80,000")


def test_pillows_own_bomb_error_becomes_ours(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(bomb_png(13500, 13500))  # over Pillow's 179 MP even when our limit is raised
    with pytest.raises(InputError, match="huge.png: too large to decode safely .*decompression bomb"):
        decode_rgba8(path, str(path), max_pixels=10 ** 9)


# ---------------------------------------------------------------------------------------------------- not images
@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "not a readable image"),
    (lambda p: p.write_text("just text"), "not a readable image"),
    (lambda p: p.write_bytes(bomb_png(64, 64)[:60]), "not a readable image"),
    (lambda p: p.write_bytes(text_chunk_bomb_png()), "Decompressed data too large"),
    (lambda p: os.mkfifo(p), "is not a regular file"),
    (lambda p: p.mkdir(), "is not a regular file"),
    (lambda p: p.symlink_to("/dev/zero"), "is not a regular file"),
])
def test_files_that_are_no_images_get_one_line_and_the_batch_goes_on(box, make, message):
    make(box.root / "a" / "bad.png")
    result = box.main("pixelize", "a/good1.png", "a/bad.png", "a/good2.png", "-o", "out").refused(1, message)
    assert outputs(box) == ["good1.png", "good2.png"]
    (line,) = [line for line in result.err.splitlines() if "bad.png" in line]
    assert line.count("a/bad.png") == 1  # the path once, not twice


@pytest.mark.parametrize("format", ["GIF", "PNG"])
def test_animations_are_refused_with_a_reason_not_cut_to_their_first_frame(box, format):
    animated(box.root / "a" / f"walk.{format.lower()}", format)
    result = box.main("pixelize", f"a/walk.{format.lower()}", "a/good1.png", "-o", "out")
    result.refused(1, f"is an animation ({format} with several frames)", "save its frames as PNG files")
    assert outputs(box) == ["good1.png"]


# ---------------------------------------------------------------------------------------------------- modes
def test_sixteen_bit_grey_is_scaled_not_flattened(tmp_path):
    values = np.array([[0, 257, 0x1234, 0x8000, 0xFFFF]], dtype=np.uint16)
    path = tmp_path / "grey16.png"
    path.write_bytes(grey16_png(values))
    rgba = decode_rgba8(path, "grey16.png")
    assert rgba[0, :, 0].tolist() == [0, 1, 18, 128, 255] and (rgba[..., 3] == 255).all()
    path.write_bytes(grey16_png(values, transparent=0x8000))
    assert decode_rgba8(path, "grey16.png")[0, :, 3].tolist() == [255, 255, 255, 0, 255]


def test_sixteen_bit_grey_through_the_command_keeps_its_levels(box):
    ramp = np.repeat((np.arange(16, dtype=np.uint16) * 4369)[None], 4, axis=0)  # 0 .. 65535 in 16 steps
    (box.root / "a" / "ramp16.png").write_bytes(grey16_png(ramp))
    assert box.main("sheet", "a/ramp16.png", "-o", "out/ramp.png").code == 0
    with Image.open(box.root / "out" / "ramp.png") as sheet:
        levels = np.asarray(sheet.convert("RGBA"))[0, :, 0]
    assert levels.tolist() == [17 * n for n in range(16)]  # not 0 then 255


@pytest.mark.parametrize("make, expected", [
    (lambda: Image.new("LA", (2, 1), (100, 0)), [(100, 100, 100, 0)] * 2),
    (lambda: _palette_with_transparency(), [(255, 0, 0, 255), (0, 0, 0, 0)]),
    (lambda: Image.new("CMYK", (2, 1), (0, 255, 255, 0)), [(255, 0, 0, 255)] * 2),
    (lambda: Image.new("1", (2, 1), 1), [(255, 255, 255, 255)] * 2),
    (lambda: _rgb_with_transparency(), [(10, 20, 30, 0), (200, 200, 200, 255)]),
])
def test_other_modes_are_converted_with_their_transparency(tmp_path, make, expected):
    image = make()
    path = tmp_path / ("picture.tif" if image.mode == "CMYK" else "picture.png")
    image.save(path)
    rgba = decode_rgba8(path, path.name)
    assert [tuple(int(v) for v in pixel) for pixel in rgba[0]] == expected


def _palette_with_transparency() -> Image.Image:
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 0])
    image.putpixel((1, 0), 1)
    image.info["transparency"] = 1
    return image


def _rgb_with_transparency() -> Image.Image:
    image = Image.new("RGB", (2, 1), (200, 200, 200))
    image.putpixel((0, 0), (10, 20, 30))
    image.info["transparency"] = (10, 20, 30)
    return image


# ---------------------------------------------------------------------------------------------------- outputs
@pytest.mark.parametrize("command", [
    ["pixelize", "a/good1.png", "-o", "x.jpg"],
    ["palette", "apply", "a/good1.png", "-o", "x.webp", "--palette", "pico-8"],
    ["sheet", "a/good1.png", "-o", "x.jpg"],
    ["tileset", "a/good1.png", "-o", "x.gif"],
])
def test_outputs_are_never_other_formats_holding_png_bytes(box, command):
    result = box.main(*command).refused(2, "images are written as PNG")
    assert result.changes.outside() == set()


def test_pixelize_into_its_own_folder_needs_force(box):
    before = {p.name: p.read_bytes() for p in (box.root / "a").glob("good*.png")}
    result = box.main("pixelize", "a/good1.png", "a/good2.png", "-o", "a")
    result.refused(2, "a/good1.png is one of the inputs and would be replaced", "add --force")
    assert {p.name: p.read_bytes() for p in (box.root / "a").glob("good*.png")} == before
    assert result.changes.outside() == set()
    assert box.main("pixelize", "a/good1.png", "a/good2.png", "-o", "a", "--force").code == 0
    assert {p.name: p.read_bytes() for p in (box.root / "a").glob("good*.png")} != before


def test_an_input_reached_by_another_name_is_protected_too(box):
    (box.root / "b").mkdir()
    os.link(box.root / "a" / "good1.png", box.root / "b" / "good1.png")
    box.main("palette", "apply", "a/good1.png", "-o", "b", "--palette", "pico-8").refused(2, "is one of the inputs")
    (box.root / "c").symlink_to("a", target_is_directory=True)
    box.main("sheet", "a/good1.png", "a/good2.png", "-o", "c/good2.png").refused(2, "is one of the inputs")
    box.main("slice", "a/good1.png", "-o", "a").code  # slices are named good1_000.png...: no clash
    (box.root / "a" / "good1_000.png").unlink()
    os.link(box.root / "a" / "good1.png", box.root / "a" / "good1_000.png")
    box.main("slice", "a/good1.png", "-o", "a").refused(2, "good1_000.png is one of the inputs")


@pytest.mark.parametrize("output, message", [
    ("/proc/x.png", "/proc/x.png: cannot be written"),
    ("a/good1.png/x.png", "a/good1.png is a file, not a folder for the output"),
    ("x" * 300 + ".png", "file name too long"),
])
def test_outputs_that_cannot_be_written_get_one_line(box, output, message):
    result = box.run("pixelize", "a/good1.png", "-o", output)
    result.refused(result.code, message)
    assert result.code in (1, 2)
    (line,) = [line for line in result.err.splitlines() if message in line]
    assert line.count(output) <= 1
    assert result.changes.outside() == set()


def test_a_missing_input_with_a_very_long_name_gets_one_line(box):
    name = "y" * 300 + ".png"
    result = box.main("pixelize", name, "a/good1.png", "-o", "out").refused(1, "file name too long")
    assert outputs(box) == ["good1.png"] and result.err.count(name) == 1


def test_a_palette_image_over_the_limit_is_refused(box):
    box.main("palette", "convert", "a/bomb.png", "-o", "p.hex").refused(2, BOMB_LINE)
    Path(box.root / "a" / "many.png").write_bytes(b"")
    box.main("palette", "convert", "a/many.png", "-o", "p.hex").refused(2, "not a readable image")


FUZZED_FORMATS = ("PNG", "GIF", "BMP", "TIFF", "WEBP", "ICO", "JPEG", "TGA", "PPM", "PCX", "DDS", "QOI")


@pytest.mark.filterwarnings("ignore")  # Pillow warns about some damaged headers; only errors matter here
@pytest.mark.parametrize("format", FUZZED_FORMATS)
def test_randomly_damaged_files_of_every_format_are_refused_as_input_errors(format):
    """A seeded fuzz: random byte changes and cuts of a small image in each format Pillow writes. Every file either
    decodes or is refused with an InputError (the command's one line), never another exception."""
    import io
    import random

    buffer = io.BytesIO()
    Image.new("RGB" if format in ("JPEG", "PPM", "PCX") else "RGBA", (17, 9), (10, 200, 30)).save(buffer, format)
    original = buffer.getvalue()
    chance = random.Random(format)
    for _ in range(150):
        data = bytearray(original)
        for _ in range(chance.randint(1, 8)):
            data[chance.randrange(len(data))] = chance.randrange(256)
        if chance.random() < 0.2:
            data = data[:chance.randrange(len(data))]
        try:
            decode_rgba8(bytes(data), "fuzzed", max_pixels=1 << 24)
        except InputError:
            pass
