"""``dgx-pixels mcp``: the MCP server that lets an AI assistant generate, clean up and export sprites."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mcp", help="serve the tools to AI assistants (Model Context Protocol)")
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    return 0
