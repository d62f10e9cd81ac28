"""Option types and options shared by the commands: values are checked while the command line is parsed, so a bad
one stops the command with exit code 2 and one line before any file is read or any server contacted. No torch here:
the parser loads without it."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..common.errors import InputError
from ..common.limits import DEFAULT_MAX_PIXELS, PIXEL_LIMIT_ENV
from ..common.sizes import parse_size


def _number(text: str, kind, lowest: float, strict: bool, highest: float | None = None):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not {'a whole number' if kind is int else 'a number'}")
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    if value < lowest or (strict and value == lowest) or (highest is not None and value > highest):
        bound = f"above {lowest:g}" if strict else f"at least {lowest:g}"
        raise argparse.ArgumentTypeError(f"{text!r} must be {bound}" + (f" and at most {highest:g}"
                                                                          if highest is not None else ""))
    return value


def positive_int(text: str) -> int:
    return _number(text, int, 1, False)


def non_negative_int(text: str) -> int:
    return _number(text, int, 0, False)


def positive_float(text: str) -> float:
    return _number(text, float, 0.0, True)


def non_negative_float(text: str) -> float:
    return _number(text, float, 0.0, False)


def fraction(text: str) -> float:
    return _number(text, float, 0.0, False, 1.0)


def size(text: str) -> tuple[int, int]:
    """``WxH``, both sides given."""
    try:
        return parse_size(text)
    except InputError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def size_or_width(text: str) -> str:
    """``WxH`` or a width alone (the height follows the grid), kept as text for the core; empty: automatic."""
    if text.strip():
        try:
            parse_size(text, lone="width", low=1)
        except InputError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return text


def asset_name(text: str) -> str:
    """An asset name as the Bevy export takes it (checked here too, before a server is asked)."""
    from ..export.paths import check_name

    try:
        return check_name(text)
    except InputError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_image_input_options(parser: argparse.ArgumentParser, overwrites: bool = True) -> None:
    """``--max-pixels`` for commands that decode images; ``--force`` for those whose outputs could land on an
    input."""
    parser.add_argument("--max-pixels", type=positive_int, metavar="N",
                        help=f"largest image decoded, in pixels (default: ${PIXEL_LIMIT_ENV}, else "
                             f"{DEFAULT_MAX_PIXELS:,})")
    if overwrites:
        parser.add_argument("--force", action="store_true", help="allow an output to replace one of the inputs")


def check_colours(colours: int | None) -> None:
    """A palette size from --colours: 0 (automatic) up to a palette's maximum (checked before any image is read)."""
    from ..palette.palette import MAX_COLOURS

    if colours is not None and not 0 <= colours <= MAX_COLOURS:
        raise InputError(f"--colours must be 0 (automatic) to {MAX_COLOURS}, got {colours}")


class ImageInputs(argparse.Action):
    """Image inputs where a folder stands for the images in it (``pixelize frames/ -o out/``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from .files import image_files

        setattr(namespace, self.dest, image_files([Path(value) for value in values]))
