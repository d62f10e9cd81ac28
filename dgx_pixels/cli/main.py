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
from ..common.files import listening_to_writes
from .events import JsonEvents
from .examples import attach_examples

# Modules are imported on use so `dgx-pixels host ...` works before torch is installed.
COMMAND_MODULES = ("host", "doctor", "models", "pixelize", "export", "run", "palette", "generate", "poses", "check",
                   "mcp", "worker", "submit")
# Commands that take --json (events as JSON lines on stdout): those that make files or run jobs. Jobs on servers
# report their own files; the local commands' files are reported as they are written.
JSON_COMMANDS = ("pixelize", "export", "sheet", "tileset", "slice", "palette", "poses", "check", "run", "batch",
                 "generate")
JOB_COMMANDS = ("run", "batch", "generate")
EXIT_BAD_INPUT = 2
EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE
EXIT_INTERRUPTED = 130
# What a command that needs an optional package says when it is missing: one line with the way to install it.
INSTALL_HINTS = {"torch": "pip install torch (a CPU-only build is smaller: pip install torch --index-url "
                          "https://download.pytorch.org/whl/cpu)",
                 "mcp": "pip install 'dgx-pixels[mcp]' (the official MCP SDK)"}


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error (its usage block would bury the reason); subcommands inherit it. With
    ``--json`` on the command line the error is also the JSON summary on stdout."""

    json_errors = False

    def error(self, message: str):
        if ArgumentParser.json_errors:
            JsonEvents(sys.stdout, self.prog.removeprefix("dgx-pixels ")).summary(EXIT_BAD_INPUT, message)
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
    for name in JSON_COMMANDS:
        _add_json_option(subparsers.choices[name], name)
    attach_examples(parser)
    return parser


def _add_json_option(parser: argparse.ArgumentParser, label: str) -> None:
    """``--json`` on every action of a command (``export bevy``, ``palette apply``...)."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        parser.add_argument("--json", action="store_true", dest="json_events",
                            help="report progress, files and the outcome as JSON lines on stdout (human output "
                                 "goes to stderr)")
        parser.set_defaults(json_label=label)
        return
    for name, child in actions[0].choices.items():
        if not any(isinstance(a, argparse._StoreTrueAction) and a.dest == "json_events" for a in child._actions):
            _add_json_option(child, f"{label} {name}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    ArgumentParser.json_errors = "--json" in argv and bool(argv) and argv[0] in JSON_COMMANDS
    try:
        args = parser.parse_args(argv)
    finally:
        ArgumentParser.json_errors = False
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    command = f"dgx-pixels {args.command}"
    events = JsonEvents(sys.stdout, args.json_label) if getattr(args, "json_events", False) else None
    args.events = events
    code, error = _run_command(args, command, argv, events)
    if events is not None:
        events.summary(code, error)
    return code


def _run_command(args: argparse.Namespace, command: str, argv: list[str],
                 events: JsonEvents | None) -> tuple[int, str]:
    """The command's exit code, and the one-line error it stopped on (also printed on stderr)."""
    try:
        with _pillow_limit_is_ours(), _json_mode(events, args.command not in JOB_COMMANDS):
            return int(args.func(args) or 0), ""
    except InputError as err:
        code, message = EXIT_BAD_INPUT, str(err)
    except OSError as err:
        code, message = EXIT_BAD_INPUT, describe_os_error(err)
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED, "interrupted"
    except Exception as err:
        if isinstance(err, ModuleNotFoundError) and err.name in INSTALL_HINTS:
            code, message = EXIT_BAD_INPUT, (f"this command needs {err.name}, which is not installed: "
                                             f"{INSTALL_HINTS[err.name]}")
        else:  # a bug: one line here, the traceback in a file a report can carry
            log = _write_report(err, argv)
            message = (f"internal error (a bug in dgx-pixels {__version__}): {type(err).__name__}: "
                       f"{str(err)[:200]}; the full report is in {log}")
            print(f"{command}: {message}", file=sys.stderr)
            return EXIT_INTERNAL_ERROR, message
    print(f"{command}: error: {message}", file=sys.stderr)
    return code, message


@contextlib.contextmanager
def _json_mode(events: JsonEvents | None, report_writes: bool):
    """With ``--json``: what the command prints goes to stderr, and (``report_writes``) each file it writes becomes
    a ``file`` event."""
    if events is None:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr), \
            listening_to_writes(events.file) if report_writes else contextlib.nullcontext():
        yield


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
