"""``dgx-pixels mcp``: the MCP server that lets an AI assistant generate, clean up and export sprites (see
dgx_pixels.mcp). stdio by default (the assistant starts this command); ``--http PORT`` serves streamable HTTP on
127.0.0.1 with a bearer token instead. Nothing but the protocol is written on stdout."""
from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from ..common.errors import InputError
from .jobs import SERVER_ENV
from .options import positive_float

TOKEN_ENV = "DGX_PIXELS_MCP_TOKEN"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mcp", help="serve DGX-Pixels to AI assistants (Model Context Protocol)",
        description="An MCP server: tools to generate characters, tiles and items on ComfyUI, clean up images, "
                    "apply palettes and export into a Bevy project; the produced files as resources. Every path a "
                    "tool takes must lie inside the allowed folders (--root).")
    parser.add_argument("--server", action="append", metavar="URL",
                        help=f"a ComfyUI server (repeatable). Default: ${SERVER_ENV}, else http://127.0.0.1:8188")
    parser.add_argument("--root", action="append", type=Path, metavar="DIR",
                        help="a folder tools may read and write (repeatable; relative paths are taken in the first). "
                             "Default: the current folder; DGX_PIXELS_EXPORT_ROOTS are added")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where the jobs' files go (default: dgx-pixels-runs/mcp in the first root)")
    parser.add_argument("--http", type=int, metavar="PORT",
                        help=f"serve streamable HTTP on http://127.0.0.1:PORT/mcp instead of stdio; every request "
                             f"needs 'Authorization: Bearer <token>' (the token: ${TOKEN_ENV}, else one is made "
                             "and printed on stderr)")
    parser.add_argument("--job-timeout", type=positive_float, metavar="S", help="give up on a job after S s")
    parser.add_argument("--request-timeout", type=positive_float, default=30.0, metavar="S",
                        help="limit for each HTTP call to ComfyUI (default: 30)")
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import mcp  # noqa: F401  (first: without the SDK the command says how to install it)

    import anyio

    from ..export.paths import allowed_roots
    from ..mcp.server import Settings, serve_http, serve_stdio
    from .jobs import server_urls

    folders = args.root or [Path.cwd()]
    for folder in folders:
        if not folder.is_dir():
            raise InputError(f"--root {folder}: no such folder")
    roots = allowed_roots(folders)
    options = {"request_timeout": args.request_timeout, "job_timeout": args.job_timeout}
    settings = Settings(server_urls(args), roots, (args.out or roots[0] / "dgx-pixels-runs" / "mcp").absolute(),
                        options)
    if args.http is None:
        serve_stdio(settings)
        return 0
    if not 1 <= args.http <= 65535:
        raise InputError(f"--http must be a port from 1 to 65535, got {args.http}")
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        token = secrets.token_urlsafe(32)
        print(f"dgx-pixels mcp: bearer token (set {TOKEN_ENV} to choose one): {token}", file=sys.stderr)
    print(f"dgx-pixels mcp: serving http://127.0.0.1:{args.http}/mcp; allowed folders: "
          f"{', '.join(str(r) for r in roots)}", file=sys.stderr, flush=True)
    anyio.run(serve_http, settings, args.http, token)
    return 0
