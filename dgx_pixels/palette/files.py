"""Palette files: read and write .hex, .gpl (GIMP), JASC .pal, Paint.NET .txt, and .png swatch strips or grids.

A file that does not parse raises InputError naming the file, the line and the problem.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from .palette import MAX_COLOURS, Palette
from ..common.errors import InputError
from ..common.files import write_atomic

READ_SUFFIXES = (".hex", ".gpl", ".pal", ".txt", ".png")
WRITE_SUFFIXES = (".hex", ".gpl", ".pal", ".txt")


def _hex_colour(text: str, where: str) -> tuple[int, int, int]:
    code = text.strip().lstrip("#")
    if len(code) == 8:  # Paint.NET's AARRGGBB
        code = code[2:]
    if len(code) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in code):
        raise InputError(f"{where}: {text.strip()!r} is not a hex colour (RRGGBB)")
    return tuple(int(code[i:i + 2], 16) for i in (0, 2, 4))


def _rgb_numbers(parts: list[str], where: str) -> tuple[int, int, int]:
    try:
        values = tuple(int(p) for p in parts[:3])
    except ValueError:
        raise InputError(f"{where}: expected three numbers R G B, got {' '.join(parts[:3])!r}") from None
    if len(values) != 3 or any(not 0 <= v <= 255 for v in values):
        raise InputError(f"{where}: colour values must be three numbers from 0 to 255, got {' '.join(parts[:3])!r}")
    return values


def read_palette(path: str | Path) -> Palette:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise InputError(f"{path}: unknown palette format {suffix!r}; use one of {', '.join(READ_SUFFIXES)}")
    if suffix == ".png":
        return _read_png(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such palette file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot be read as text ({err})") from None
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
        raise InputError(f"{path}, line 3: the colour count {lines[2].strip()!r} is not a number") from None
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
    try:
        with Image.open(path) as image:
            rgba = image.convert("RGBA")
    except FileNotFoundError:
        raise InputError(f"{path}: no such palette file") from None
    except OSError as err:
        raise InputError(f"{path}: not a readable image ({err})") from None
    seen: dict[tuple[int, int, int], None] = {}
    for r, g, b, a in rgba.getdata():
        if a >= 128:
            seen.setdefault((r, g, b), None)
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
