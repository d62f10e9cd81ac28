"""Palette files: read and write .hex, .gpl (GIMP), JASC .pal, Paint.NET .txt, and .png swatch strips or grids.

A file that does not parse raises InputError naming the file, the line and the problem. Files are distrusted: the
size is checked before anything is read (a palette is a few KB: a 63 MB .hex is refused at once), every line's
length before it is parsed, hex codes are strict (all 6 or 8 digits), and a bad line is quoted only in part.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .palette import MAX_COLOURS, Palette
from ..common.errors import InputError
from ..common.files import read_limited, write_atomic
from ..image.decode import decode_rgba8

READ_SUFFIXES = (".hex", ".gpl", ".pal", ".txt", ".png")
WRITE_SUFFIXES = (".hex", ".gpl", ".pal", ".txt")
TEXT_LIMIT = 1 << 20  # bytes of a text palette: 256 colours with long comments take a few KB
IMAGE_LIMIT = 16 << 20  # bytes of a palette image
LINE_LIMIT = 256  # characters of one line
SHOWN = 40  # characters of a bad line quoted in an error
HEX_COLOUR = re.compile(r"\A#?([0-9A-Fa-f]{2})?([0-9A-Fa-f]{6})\Z")  # RRGGBB, or Paint.NET's AARRGGBB


def _shown(text: str) -> str:
    """A line quoted in an error: the start of it, never a whole megabyte."""
    text = text.strip()
    return repr(text) if len(text) <= SHOWN else f"{text[:SHOWN]!r}... ({len(text):,} characters)"


def _hex_colour(text: str, where: str) -> tuple[int, int, int]:
    match = HEX_COLOUR.match(text.strip())
    if not match:
        raise InputError(f"{where}: {_shown(text)} is not a hex colour (RRGGBB, or AARRGGBB)")
    code = match[2]
    return tuple(int(code[i:i + 2], 16) for i in (0, 2, 4))


def _rgb_numbers(parts: list[str], where: str) -> tuple[int, int, int]:
    try:
        values = tuple(int(p) for p in parts[:3])
    except ValueError:
        raise InputError(f"{where}: expected three numbers R G B, got {_shown(' '.join(parts[:3]))}") from None
    if len(values) != 3 or any(not 0 <= v <= 255 for v in values):
        raise InputError(f"{where}: colour values must be three numbers from 0 to 255, got "
                         f"{_shown(' '.join(parts[:3]))}")
    return values


def read_palette(path: str | Path) -> Palette:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise InputError(f"{path}: unknown palette format {suffix!r}; use one of {', '.join(READ_SUFFIXES)}")
    if suffix == ".png":
        return _read_png(path)
    try:
        lines = read_limited(path, TEXT_LIMIT, "palette file").decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not a text file ({err.reason} at byte {err.start})") from None
    for number, line in enumerate(lines, start=1):
        if len(line) > LINE_LIMIT:
            raise InputError(f"{path}, line {number}: {len(line):,} characters long; palette lines are at most "
                             f"{LINE_LIMIT}")
    reader = {".hex": _read_hex, ".gpl": _read_gpl, ".pal": _read_jasc, ".txt": _read_paint_net}[suffix]
    colours, name = reader(lines, path)
    if not colours:
        raise InputError(f"{path}: no colours found")
    if len(colours) > MAX_COLOURS:
        raise InputError(f"{path}: {len(colours)} colours; at most {MAX_COLOURS}")
    return Palette(name or path.stem, tuple(colours))


def _read_hex(lines: list[str], path: Path):
    colours = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            colours.append(_hex_colour(line, f"{path}, line {number}"))
    return colours, None


def _read_gpl(lines: list[str], path: Path):
    if not lines or lines[0].strip() != "GIMP Palette":
        raise InputError(f"{path}, line 1: a GIMP palette starts with 'GIMP Palette'")
    colours, name = [], None
    for number, line in enumerate(lines[1:], start=2):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.lower().startswith("name:"):
            name = text.split(":", 1)[1].strip() or None
            continue
        if text.lower().startswith("columns:"):
            continue
        colours.append(_rgb_numbers(text.split(), f"{path}, line {number}"))
    return colours, name


def _read_jasc(lines: list[str], path: Path):
    if len(lines) < 3 or lines[0].strip() != "JASC-PAL":
        raise InputError(f"{path}, line 1: a JASC palette starts with 'JASC-PAL', '0100' and the colour count")
    try:
        count = int(lines[2].strip())
    except ValueError:
        raise InputError(f"{path}, line 3: the colour count {_shown(lines[2])} is not a number") from None
    colours = [_rgb_numbers(line.split(), f"{path}, line {number}")
               for number, line in enumerate(lines[3:], start=4) if line.strip()]
    if len(colours) != count:
        raise InputError(f"{path}, line 3: says {count} colours but the file has {len(colours)}")
    return colours, None


def _read_paint_net(lines: list[str], path: Path):
    colours = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text and not text.startswith(";"):
            colours.append(_hex_colour(text, f"{path}, line {number}"))
    return colours, None


def _read_png(path: Path):
    """Colours of a swatch strip or grid in reading order, each once (flat swatch blocks of any size)."""
    rgba = decode_rgba8(read_limited(path, IMAGE_LIMIT, "palette image"), str(path)).reshape(-1, 4)
    opaque = rgba[rgba[:, 3] >= 128, :3]
    _, first = np.unique(opaque.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32),
                         return_index=True)
    seen = {tuple(int(v) for v in opaque[index]): None for index in sorted(first)}
    if len(seen) > MAX_COLOURS:
        raise InputError(f"{path}: more than {MAX_COLOURS} colours; a palette image holds flat swatches")
    if not seen:
        raise InputError(f"{path}: the image is fully transparent")
    return Palette(path.stem, tuple(seen))


def palette_text(palette: Palette, suffix: str) -> str:
    rows = palette.colours
    if suffix == ".hex":
        return "".join("%02x%02x%02x\n" % c for c in rows)
    if suffix == ".gpl":
        header = f"GIMP Palette\nName: {palette.name}\nColumns: {min(8, len(rows))}\n#\n"
        return header + "".join("%3d %3d %3d\t#%02x%02x%02x\n" % (*c, *c) for c in rows)
    if suffix == ".pal":
        return f"JASC-PAL\n0100\n{len(rows)}\n" + "".join("%d %d %d\n" % c for c in rows)
    if suffix == ".txt":
        return f";paint.net Palette File\n;Palette Name: {palette.name}\n" + "".join(
            "FF%02X%02X%02X\n" % c for c in rows)
    raise InputError(f"cannot write palette format {suffix!r}; use one of {', '.join(WRITE_SUFFIXES)}")


def check_palette_output(path: str | Path) -> Path:
    """Refuse an output name whose suffix is no palette format, before any work."""
    path = Path(path)
    if path.suffix.lower() not in WRITE_SUFFIXES:
        raise InputError(f"{path}: cannot write palette format {path.suffix or '(none)'!r}; use one of "
                         f"{', '.join(WRITE_SUFFIXES)}")
    return path


def write_palette(palette: Palette, path: str | Path) -> Path:
    """Write atomically (a crash never leaves half a palette under ``path``)."""
    path = Path(path)
    return write_atomic(path, palette_text(palette, path.suffix.lower()).encode())


def palette_from_argument(text: str) -> Palette:
    """A palette named on the command line: a palette file's path, or a built-in palette's name."""
    from .builtin import builtin_palette

    path = Path(text).expanduser()
    if path.suffix.lower() in READ_SUFFIXES or path.exists():
        return read_palette(path)
    return builtin_palette(text)
