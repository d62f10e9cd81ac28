"""Hostile palette files: huge files and lines are refused before they are parsed (by their size), hex codes are
strict, a bad line is quoted in part only, and files that are no text (or no files) get one clear line."""
from __future__ import annotations

import os

import pytest

from dgx_pixels.common.errors import InputError
from dgx_pixels.palette.files import read_palette
from hostile import Sandbox


@pytest.fixture
def box(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


def test_a_63_mb_hex_file_is_refused_by_its_size_before_it_is_read(box):
    with open(box.root / "huge.hex", "wb") as handle:
        handle.write(b"ff0000\n" * 1000)
        handle.truncate(63 << 20)  # the rest is sparse: its size alone refuses it
    result = box.main("palette", "convert", "huge.hex", "-o", "out.gpl")
    result.refused(2, "huge.hex is 66,060,288 bytes; a palette file may be at most 1,048,576")
    assert result.changes.outside() == set()


def test_a_long_line_is_refused_without_being_echoed(box):
    (box.root / "long.hex").write_text("ff0000\n" + "a" * 500_000 + "\n")
    result = box.main("palette", "convert", "long.hex", "-o", "out.gpl")
    result.refused(2, "long.hex, line 2: 500,000 characters long; palette lines are at most 256")
    assert len(result.err) < 300


@pytest.mark.parametrize("suffix, line", [
    (".hex", "GGFF0000"), (".hex", "zz00ff00"), (".hex", "#12345"), (".hex", "1234567"), (".hex", "ff 00 00"),
    (".txt", "GGFF0000"), (".txt", "FF12345G"), (".hex", "0x123456"),
])
def test_hex_codes_are_strict(box, suffix, line):
    (box.root / f"bad{suffix}").write_text(f"ff0000\n{line}\n")
    box.main("palette", "convert", f"bad{suffix}", "-o", "out.gpl").refused(
        2, f"bad{suffix}, line 2: {line!r} is not a hex colour")


@pytest.mark.parametrize("text, colours", [("#ff0000\n00FF00\n", 2), ("FF102030\n", 1), ("\ufeff#0000ff\n", 1)])
def test_well_formed_hex_codes_still_read(tmp_path, text, colours):
    (tmp_path / "ok.hex").write_text(text)
    assert len(read_palette(tmp_path / "ok.hex")) == colours
    assert read_palette(tmp_path / "ok.hex").colours[0] in ((255, 0, 0), (16, 32, 48), (0, 0, 255))


def test_a_bad_line_of_moderate_length_is_quoted_in_part(box):
    (box.root / "bad.gpl").write_text("GIMP Palette\n" + "1 2 " + "9" * 200 + "\n")
    result = box.main("palette", "convert", "bad.gpl", "-o", "out.hex")
    result.refused(2, "bad.gpl, line 2: colour values must be three numbers from 0 to 255, got '1 2 999")
    assert "... (204 characters)" in result.err and len(result.err) < 300


@pytest.mark.parametrize("make, message", [
    (lambda p: os.mkfifo(p), "is not a regular file"),
    (lambda p: p.symlink_to("/dev/zero"), "is not a regular file"),
    (lambda p: p.mkdir(), "is not a regular file"),
    (lambda p: p.write_bytes(b"GIMP Palette\n\xff\xfe\x00 1 2 3\n"), "not a text file"),
    (lambda p: p.write_text("GIMP Palette\n"), "no colours found"),
])
def test_palette_files_that_are_no_text_or_no_files_get_one_line(box, make, message):
    make(box.root / "p.gpl")
    result = box.main("palette", "convert", "p.gpl", "-o", "out.hex").refused(2, message)
    assert result.err.count("p.gpl") == 1


def test_a_jasc_count_that_lies_is_refused(tmp_path):
    (tmp_path / "p.pal").write_text("JASC-PAL\n0100\n99999999999999999999\n1 2 3\n")
    with pytest.raises(InputError, match="says 99999999999999999999 colours but the file has 1"):
        read_palette(tmp_path / "p.pal")


def test_listing_a_folder_reports_bad_palettes_and_goes_on(box):
    folder = box.root / "palettes"
    folder.mkdir()
    (folder / "good.hex").write_text("ff0000\n")
    (folder / "bad.hex").write_text("GGFF0000\n")
    os.mkfifo(folder / "pipe.hex")
    result = box.main("palette", "list", "--dir", "palettes")
    assert result.code == 0 and "good.hex" in result.out
    assert "bad.hex" in result.err and "pipe.hex" in result.err and "Traceback" not in result.err


def test_an_output_that_is_no_palette_format_is_refused_before_any_work(box):
    (box.root / "p.hex").write_text("ff0000\n")
    box.main("palette", "convert", "p.hex", "-o", "p.png").refused(2, "cannot write palette format '.png'")
    box.main("palette", "convert", "p.hex", "-o", "p.hex").refused(2, "p.hex is one of the inputs")
