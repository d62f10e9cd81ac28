"""``dgx-pixels models``: list and download the models the shipped workflows expect."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..host import provision as hostlib
from ..host import models as modellib
from ..common.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list or download the models the workflows use")
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    for name, func, help_text in (("list", _list, "show the catalogue and what is installed"),
                                  ("download", _download, "download models (resumable, sha256-checked)")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--models-dir", type=Path,
                            help="ComfyUI's models folder (default: the provisioned host's ComfyUI/models)")
        action.add_argument("--catalog", type=Path, help="a JSON catalogue instead of the built-in one")
        if name == "download":
            action.add_argument("names", nargs="+", metavar="NAME", help="model names from `models list`, or all")
            action.add_argument("--retries", type=int, default=5, help="retries per file, with backoff")
        action.set_defaults(func=func)


def _models_dir(args: argparse.Namespace) -> Path:
    if args.models_dir:
        return args.models_dir
    return hostlib.require_host().models_path


def _list(args: argparse.Namespace) -> int:
    catalog = modellib.load_catalog(args.catalog)
    host = hostlib.load_host()
    models_dir = args.models_dir or (host.models_path if host else None)
    for model in catalog.values():
        installed = models_dir is not None and (models_dir / model.folder / model.filename).exists()
        print(f"{model.name:14} {'installed' if installed else '-':9} {model.size_mb:>6} MB  "
              f"{model.folder}/{model.filename}  [{model.licence}]  {model.used_by}")
    return 0


def _download(args: argparse.Namespace) -> int:
    catalog = modellib.load_catalog(args.catalog)
    names = list(catalog) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in catalog]
    if unknown:
        raise InputError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(catalog)}")
    models_dir = _models_dir(args)
    for name in names:
        path = modellib.download(catalog[name], models_dir, retries=args.retries)
        print(f"{name}: {path}")
    return 0
