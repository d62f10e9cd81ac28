"""The ``dgx-pixels`` command: each subcommand lives in ``dgx_pixels.cli.<name>`` and registers itself."""
from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from ..common.errors import InputError

# Modules are imported on use so `dgx-pixels host ...` works before torch is installed.
COMMAND_MODULES = ("host", "models", "pixelize", "export", "run", "palette", "generate", "poses", "check")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dgx-pixels",
        description="Pixel-art game assets: pixel-perfect downscale, palettes, sprite sheets, Bevy export.",
    )
    parser.add_argument("--version", action="version", version=f"dgx-pixels {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        print(f"dgx-pixels {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dgx-pixels {args.command}: interrupted", file=sys.stderr)
        return 130
