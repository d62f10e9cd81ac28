"""Palette files: every format round-trips; malformed files name the line and the problem."""
from __future__ import annotations

import pytest
from PIL import Image

from dgx_pixels.palette import files as palette_files
from dgx_pixels.palette.palette import Palette
from dgx_pixels.common.errors import InputError
from dgx_pixels.palette.builtin import builtin_palette


@pytest.mark.parametrize("suffix", palette_files.WRITE_SUFFIXES)
def test_round_trip(tmp_path, suffix):
    palette = builtin_palette("Sweetie 16")
    path = palette_files.write_palette(palette, tmp_path / f"sweetie{suffix}")
    loaded = palette_files.read_palette(path)
    assert loaded.colours == palette.colours
    if suffix == ".gpl":
        assert loaded.name == "Sweetie 16"


def test_png_swatch_grid(tmp_path):
    palette = builtin_palette("PICO-8")
    image = Image.new("RGB", (4 * 8, 2 * 8))
    for i, colour in enumerate(palette.colours):
        for y in range(8):
            for x in range(4):
                image.putpixel(((i % 8) * 4 + x, (i // 8) * 8 + y), colour)
    image.save(tmp_path / "pico.png")
    assert palette_files.read_palette(tmp_path / "pico.png").colours == palette.colours


def test_one_and_256_colour_files(tmp_path):
    (tmp_path / "one.hex").write_text("ff0000\n")
    assert len(palette_files.read_palette(tmp_path / "one.hex")) == 1
    many = Palette("many", tuple((i, 255 - i, i // 2) for i in range(256)))
    assert len(palette_files.read_palette(palette_files.write_palette(many, tmp_path / "many.gpl"))) == 256


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bad.hex", "ff0000\nnot-a-colour\n", "bad.hex, line 2: 'not-a-colour' is not a hex colour"),
    ("bad.gpl", "GIMP Palette\nName: x\n10 20\n", "bad.gpl, line 3: colour values must be three numbers"),
    ("bad2.gpl", "Palette\n", "bad2.gpl, line 1: a GIMP palette starts with 'GIMP Palette'"),
    ("bad.pal", "JASC-PAL\n0100\n3\n0 0 0\n1 1 1\n", "bad.pal, line 3: says 3 colours but the file has 2"),
    ("bad2.pal", "JASC-PAL\n0100\n1\n0 0 300\n", "bad2.pal, line 4: colour values must be three numbers from 0"),
    ("bad.txt", ";paint.net\nFFGG0000\n", "bad.txt, line 2: 'FFGG0000' is not a hex colour"),
    ("empty.hex", "\n\n", "empty.hex: no colours found"),
    ("palette.act", "x", "unknown palette format '.act'"),
])
def test_malformed_files_name_the_line(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(InputError) as error:
        palette_files.read_palette(tmp_path / name)
    assert message in str(error.value)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="no such palette file"):
        palette_files.read_palette(tmp_path / "nope.hex")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="not a readable image"):
        palette_files.read_palette(tmp_path / "broken.png")
