"""The ``dgx-pixels`` command: each subcommand lives in ``dgx_pixels.cli.<name>`` and registers itself.

Errors are one line on stderr: a bad option or input says what and exits 2 (before any work where it can be known
up front); a file the system refuses (a folder that cannot be written, a name too long) names the file and exits 2;
a bug of dgx-pixels itself says so in one line, with the full report written to a log file, and exits 70.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import os
import sys
import traceback

from .. import __version__
from ..common.errors import InputError, describe_os_error
from .examples import attach_examples

# Modules are imported on use so `dgx-pixels host ...` works before torch is installed.
COMMAND_MODULES = ("host", "doctor", "models", "pixelize", "export", "run", "palette", "generate", "poses", "check")
EXIT_BAD_INPUT = 2
EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE
EXIT_INTERRUPTED = 130
# What a command that needs an optional package says when it is missing: one line with the way to install it.
INSTALL_HINTS = {"torch": "pip install torch (a CPU-only build is smaller: pip install torch --index-url "
                          "https://download.pytorch.org/whl/cpu)"}


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error (its usage block would bury the reason); subcommands inherit it."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="dgx-pixels",
        description="Pixel-art game assets: pixel-perfect downscale, palettes, sprite sheets, Bevy export.",
    )
    parser.add_argument("--version", action="version", version=f"dgx-pixels {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(subparsers)
    attach_examples(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    command = f"dgx-pixels {args.command}"
    try:
        with _pillow_limit_is_ours():
            return int(args.func(args) or 0)
    except InputError as err:
        print(f"{command}: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:
        print(f"{command}: error: {describe_os_error(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:
        if isinstance(err, ModuleNotFoundError) and err.name in INSTALL_HINTS:
            print(f"{command}: error: this command needs {err.name}, which is not installed: "
                  f"{INSTALL_HINTS[err.name]}", file=sys.stderr)
            return EXIT_BAD_INPUT
        # a bug: one line here, the traceback in a file a report can carry
        log = _write_report(err, argv if argv is not None else sys.argv[1:])
        print(f"{command}: internal error (a bug in dgx-pixels {__version__}): {type(err).__name__}: "
              f"{str(err)[:200]}; the full report is in {log}", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


@contextlib.contextmanager
def _pillow_limit_is_ours():
    """The command line checks every image against its own pixel limit (DGX_PIXELS_MAX_PIXELS or --max-pixels)
    before decoding, so Pillow's fixed decompression-bomb limit (and its warning) stands aside meanwhile."""
    try:
        from PIL import Image
    except ImportError:  # host commands run before Pillow is installed
        yield
        return
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _write_report(err: BaseException, argv: list[str]) -> str:
    """The traceback of an internal error in ``<cache>/logs/``; returns where (or why it could not be written)."""
    from ..host.provision import cache_dir

    moment = datetime.datetime.now()
    report = (f"dgx-pixels {__version__}, Python {sys.version.split()[0]}, {moment.isoformat()}\n"
              f"command: dgx-pixels {' '.join(argv)}\n\n"
              + "".join(traceback.format_exception(type(err), err, err.__traceback__)))
    path = cache_dir() / "logs" / f"error-{moment:%Y%m%d-%H%M%S}-{os.getpid()}.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report)
    except OSError as problem:
        return f"nowhere ({path} could not be written: {problem.strerror})"
    return str(path)
