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
        help="an existing ComfyUI folder (used in place, with its own venv/.venv when there is one), a ComfyUI "
        "Desktop base folder, or a git URL / local git repository to clone at the pinned commit; default: the "
        f"recorded host, else {hostlib.COMFYUI_URL}",
    )
    setup.add_argument(
        "--torch",
        nargs="+",
        metavar="REQ",
        help=f"pip requirements for torch, kept for later set-ups (default: as chosen before, else "
        f"{' '.join(hostlib.TORCH_SPEC)})",
    )
    setup.add_argument("--python", metavar="PATH",
                       help="run ComfyUI with this Python (an existing ComfyUI environment: only DGX-Pixels' small "
                            "requirements are installed into it) instead of a venv in the cache")
    setup.set_defaults(func=_setup)

    run = actions.add_parser("run", help="provision if needed, link this pack into custom_nodes and start ComfyUI")
    run.add_argument("--comfyui", metavar="SOURCE", help="as for setup")
    run.add_argument("--port", type=int, default=8188, help="port to listen on (default: %(default)s)")
    run.add_argument("--listen", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    run.add_argument("--cpu", action="store_true",
                     help="run on the CPU even where a GPU is found (without it, a GPU torch cannot use is an error)")
    run.set_defaults(func=_run)

    info = actions.add_parser("info", help="print the host's ComfyUI folder, Python and commit")
    info.set_defaults(func=_info)

    python = actions.add_parser("python", help="print the host venv's Python (for scripts and make)")
    python.set_defaults(func=_python)


def _setup(args: argparse.Namespace) -> int:
    host = hostlib.provision(args.comfyui, tuple(args.torch or ()), args.python)
    where = f"ComfyUI {host.comfyui} @ {host.commit[:8]}" if host.comfyui else f"ComfyUI Desktop ({host.custom_nodes})"
    print(f"host ready: {where}, python {host.python}")
    if not host.comfyui:
        print(f"DGX-Pixels linked as {hostlib.link_pack(host)}: restart ComfyUI Desktop to load it")
    return 0


def _run(args: argparse.Namespace) -> int:
    host = hostlib.provision(args.comfyui)
    link = hostlib.link_pack(host)
    cmd = hostlib.server_command(host, port=args.port, listen=args.listen, cpu=args.cpu or None)
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
