"""``dgx-pixels host``: provision a ComfyUI host and run it with this pack loaded."""
from __future__ import annotations

import argparse
import os

from ..host import provision as hostlib


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("host", help="provision and run a local ComfyUI host with DGX-Pixels loaded")
    actions = parser.add_subparsers(dest="host_command", metavar="ACTION", required=True)

    setup = actions.add_parser("setup", help="provision (or update) the host; quick when nothing changed")
    setup.add_argument(
        "--comfyui",
        metavar="SOURCE",
        help="an existing ComfyUI folder (used in place), or a git URL / local git repository to clone at the "
        f"pinned commit; default: the recorded host, else {hostlib.COMFYUI_URL}",
    )
    setup.add_argument(
        "--torch",
        nargs="+",
        default=list(hostlib.TORCH_SPEC),
        metavar="REQ",
        help="pip requirements for torch (default: %(default)s)",
    )
    setup.set_defaults(func=_setup)

    run = actions.add_parser("run", help="provision if needed, link this pack into custom_nodes and start ComfyUI")
    run.add_argument("--comfyui", metavar="SOURCE", help="as for setup")
    run.add_argument("--port", type=int, default=8188)
    run.add_argument("--listen", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    run.set_defaults(func=_run)

    info = actions.add_parser("info", help="print the host's ComfyUI folder, Python and commit")
    info.set_defaults(func=_info)

    python = actions.add_parser("python", help="print the host venv's Python (for scripts and make)")
    python.set_defaults(func=_python)


def _setup(args: argparse.Namespace) -> int:
    host = hostlib.provision(args.comfyui, tuple(args.torch))
    print(f"host ready: ComfyUI {host.comfyui} @ {host.commit[:8]}, python {host.python}")
    return 0


def _run(args: argparse.Namespace) -> int:
    host = hostlib.provision(args.comfyui)
    link = hostlib.link_pack(host)
    cmd = hostlib.server_command(host, port=args.port, listen=args.listen)
    print(f"DGX-Pixels loaded from {link}")
    print(f"ComfyUI: http://{args.listen}:{args.port}/  (Ctrl-C stops it)", flush=True)
    os.execv(cmd[0], cmd)


def _info(args: argparse.Namespace) -> int:
    host = hostlib.require_host()
    print(f"comfyui: {host.comfyui}\npython:  {host.python}\ncommit:  {host.commit}")
    print(f"cache:   {hostlib.host_dir()}")
    return 0


def _python(args: argparse.Namespace) -> int:
    print(hostlib.require_host().python)
    return 0
