"""``dgx-pixels train FOLDER --name mystyle``: a LoRA trained on your game's art with the shipped train_pixel_lora
workflow, on a ComfyUI server: the folder is uploaded, the run followed (each step and its loss, live), the LoRA and
its loss graph downloaded.

The server keeps the LoRA as output/loras/<name>.safetensors, which ComfyUI lists among its LoRAs, so the generation
workflows take it by name: ``dgx-pixels generate ... --lora mystyle``.
"""
from __future__ import annotations

import argparse
import json
import struct
from datetime import datetime
from pathlib import Path

from ..common.errors import InputError
from ..common.files import open_regular
from .jobs import add_server_options, execute_jobs
from .options import asset_name, positive_int

WORKFLOW = "train_pixel_lora"
JOB = "train"
# A character's frames face a known way and keep their proportions: no mirrored copies, a caption that says so.
CHARACTER_SPRITE_TYPE = "character sprite, full body"
DOWNLOADS = ("output", "temp")  # the LoRA, and the loss graph ComfyUI's Plot Loss Graph keeps in temp
HEADER_LIMIT = 16 << 20  # bytes of a safetensors header (its tensor list and metadata)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a LoRA on your game's art (a style, or one character)",
        description="Upload a folder of your art (any scale: true pixel art, upscaled sprites, AI output; a .txt "
                    "beside an image is its caption), train a LoRA on it with ComfyUI's own trainer through the "
                    "train_pixel_lora workflow (each step and its loss shown as it trains), and download the "
                    "LoRA and its loss graph.")
    parser.add_argument("folder", nargs="?", type=Path, metavar="FOLDER", help="the folder of training images")
    parser.add_argument("--name", type=asset_name, help="the LoRA's name (then: generate ... --lora NAME)")
    parser.add_argument("--trigger", help="the word that calls it up in prompts (default: the name)")
    parser.add_argument("--steps", type=positive_int, help="training steps (default 3000)")
    parser.add_argument("--rank", type=positive_int, help="LoRA rank (default 16)")
    parser.add_argument("--learning-rate", type=float, help="learning rate (default 0.0001)")
    parser.add_argument("--batch-size", type=positive_int, help="images per step (default 1)")
    parser.add_argument("--resolution", type=positive_int, help="training size: 1024 for SDXL (default), 512 SD1.5")
    parser.add_argument("--sprite-type", help="added to every caption (default 'pixel art sprite')")
    parser.add_argument("--flip", action="store_true", help="add mirrored copies of every image")
    parser.add_argument("--character", action="store_true",
                        help="the folder holds one character's approved frames (a turnaround or strips): captions "
                             "say 'character sprite', never mirrored")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                        help="any other parameter of the workflow, or \"<node title>.<input>\"")
    add_server_options(parser)
    parser.set_defaults(func=_train)


def _values(args: argparse.Namespace) -> dict[str, str]:
    if not args.folder or not args.name:
        raise InputError("give the FOLDER of your art and --name for the LoRA, e.g. dgx-pixels train art/ --name "
                         "mystyle; or --resume MANIFEST")
    if not args.folder.is_dir():
        raise InputError(f"{args.folder}: no such folder of training images")
    if args.character and args.flip:
        raise InputError("--character keeps the frames as drawn (a character faces a known way); leave out --flip")
    values = {"dataset": args.folder, "lora_name": args.name, "trigger": args.trigger or args.name,
              "steps": args.steps, "rank": args.rank, "learning_rate": args.learning_rate,
              "batch_size": args.batch_size, "resolution": args.resolution,
              "sprite_type": CHARACTER_SPRITE_TYPE if args.character and not args.sprite_type else args.sprite_type,
              "flip": True if args.flip else None}
    return {key: str(value) for key, value in values.items() if value is not None}


def _train(args: argparse.Namespace) -> int:
    from ..remote.batchfile import expand, typed_values
    from ..remote.params import ApiWorkflow, parse_assignment

    if args.resume:
        code = execute_jobs(args, None, JOB, export=False, download_types=DOWNLOADS)
    else:
        args.out = args.out or Path("dgx-pixels-runs") / f"{datetime.now():%Y%m%d-%H%M%S}-{JOB}"
        workflow = ApiWorkflow.load(WORKFLOW)
        texts = {**_values(args), **dict(parse_assignment(text) for text in args.assignments)}
        code = execute_jobs(args, expand(workflow, typed_values(workflow, texts), JOB, 1), JOB, export=False,
                            download_types=DOWNLOADS)
    if code == 0 and args.events is None:  # --json: the events say it, stdout stays JSON lines
        _explain(Path(args.resume).parent if args.resume and Path(args.resume).is_file() else
                 Path(args.resume) if args.resume else args.out)
    return code


def _explain(run_dir: Path | None) -> None:
    """Where the LoRA is, how the loss went, and how to use it."""
    if run_dir is None:
        return
    from ..remote.client.manifest import RunManifest

    manifest = RunManifest.load(run_dir / "manifest.json" if run_dir.is_dir() else run_dir)
    job = manifest.jobs[0]
    lora = next((manifest.out_dir / f["path"] for f in job.files if f["path"].endswith(".safetensors")), None)
    if lora is None:
        return
    metadata = lora_metadata(lora)
    loss = json.loads(metadata.get("dgx_pixels.loss") or "{}")
    name, trigger = job.params.get("lora_name", lora.stem), metadata.get("dgx_pixels.trigger", "")
    print(f"LoRA: {lora} (on the server: output/loras/{name}.safetensors)")
    if loss:
        print(f"loss: {loss['first_tenth_median']:.4f} -> {loss['last_tenth_median']:.4f} (median of the first "
              f"and last tenth of {loss['steps']} steps; lowest {loss['min']:.4f})")
    print(f"use it: dgx-pixels generate character \"{trigger or name}, a knight\" --lora {name}")


def lora_metadata(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file, read from its header (no tensor is loaded)."""
    with open_regular(path, "LoRA file") as handle:
        head = handle.read(8)
        size = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
        if not 0 < size <= HEADER_LIMIT:
            raise InputError(f"{path}: not a safetensors file")
        try:
            header = json.loads(handle.read(size))
        except ValueError:
            raise InputError(f"{path}: not a safetensors file (its header is not JSON)") from None
    metadata = header.get("__metadata__", {}) if isinstance(header, dict) else {}
    return {key: value for key, value in metadata.items() if isinstance(value, str)}
