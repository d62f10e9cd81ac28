"""``dgx-pixels generate character|tiles|items``: the library's workflows with named options, on ComfyUI servers.

Each kind is a library workflow plus its parameters (workflows/api/<name>.params.json); the run itself is the same
as ``dgx-pixels run`` (progress, manifest, several servers, --resume).
"""
from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import datetime
from pathlib import Path

from ..common.errors import InputError
from ..common.files import read_limited
from .jobs import EXIT_FAILED, add_server_options, check_exports, execute_jobs, export_jobs
from .options import asset_name, non_negative_int, positive_int, size_or_width

# What each kind of `generate` runs: a workflow of the library.
ITEM_LIST_LIMIT = 16 << 20  # bytes of an item list
GENERATED_WORKFLOWS = {"character": "character_sprite_sheet", "tiles": "tileset_seamless", "items": "item_icons"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="generate characters, tiles or item icons with the shipped "
                                                    "workflows")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)

    character = kinds.add_parser("character", help="every animation frame of a character as a tagged sprite sheet")
    character.add_argument("prompt", nargs="?", help="the character, e.g. 'medieval knight with a red cape'")
    character.add_argument("--animations", help="e.g. 'idle, walk:8, attack once' (default idle, walk, attack)")
    character.add_argument("--directions", choices=["side", "right", "4", "8"], help="view directions")
    character.add_argument("--frames", type=int, help="frames per animation (0: each animation's usual count)")
    character.add_argument("--size", type=size_or_width, help="force the sprite's native size, e.g. 48x48")
    character.add_argument("--anchor", type=Path, metavar="IMAGE",
                           help="the character's anchor (an approved frame or your drawing): drawn beside every "
                                "strip and kept, so the model copies it; the frames are checked against it")
    character.add_argument("--layout", help="strips (default: one image per animation and direction) or per-frame")
    character.add_argument("--columns", type=positive_int, help="frames per row of a strip (default 4)")
    character.add_argument("--rows", type=positive_int, help="rows of a full strip (default 2)")
    character.add_argument("--strips", help="draw only these strips, e.g. 'walk_E, attack_W'")
    character.add_argument("--controlnet", help="OpenPose ControlNet file in the server's models/controlnet")
    character.add_argument("--reroll", type=non_negative_int, default=0, metavar="N",
                           help="draw strips that fail the consistency check again with new seeds, up to N more "
                                "times each, then the whole character with each strip's best seed")

    tiles = kinds.add_parser("tiles", help="seamless tiles on one palette, exported as a tileset")
    tiles.add_argument("prompt", nargs="?", help="what the tiles show, e.g. 'mossy stone floor'")
    tiles.add_argument("--tiles", type=int, help="how many tiles (default 4)")
    tiles.add_argument("--tile-size", type=size_or_width, help="native tile size, e.g. 32x32")
    tiles.add_argument("--axes", choices=["both", "x", "y"], help="wrap both ways (default) or one axis")

    items = kinds.add_parser("items", help="one icon per item on a shared palette, exported as an atlas")
    items.add_argument("file", nargs="?", type=Path, help="a text file with one item per line")
    items.add_argument("--item", action="append", default=[], help="an item (repeatable)")
    items.add_argument("--icon-size", type=size_or_width, help="native icon size, e.g. 32x32")

    for kind in (character, tiles, items):
        kind.add_argument("--colours", "--colors", type=int, help="palette size (0: automatic)")
        kind.add_argument("--seed", type=int, help="first seed (drawn and recorded when not given)")
        kind.add_argument("--steps", type=int, help="sampling steps")
        kind.add_argument("--lora", help="LoRA file in the server's models/loras")
        kind.add_argument("--lora-strength", type=float, help="how strongly the LoRA applies (default 1.0)")
        kind.add_argument("--name", type=asset_name, help="asset name in the Bevy project")
        kind.add_argument("--count", type=int, default=1, help="run it N times (seed, seed+1, ...)")
        kind.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                          help="any other parameter of the workflow, or \"<node title>.<input>\"")
        add_server_options(kind)
        kind.set_defaults(func=_generate)


def _values(args: argparse.Namespace) -> dict[str, str]:
    common = {"colours": args.colours, "seed": args.seed, "steps": args.steps, "lora": args.lora,
              "lora_strength": args.lora_strength, "asset_name": args.name}
    if args.kind in ("character", "tiles") and not args.prompt:
        raise InputError(f"give the {args.kind} prompt, e.g. dgx-pixels generate {args.kind} "
                         + ("'medieval knight with a red cape'" if args.kind == "character" else "'mossy stone floor'")
                         + "; or --resume MANIFEST")
    if args.kind == "character":
        specific = {"prompt": args.prompt, "animations": args.animations, "directions": args.directions,
                    "frames": args.frames, "size": args.size, "anchor": args.anchor, "layout": args.layout,
                    "columns": args.columns, "rows": args.rows, "strips": args.strips,
                    "controlnet": args.controlnet}
    elif args.kind == "tiles":
        specific = {"prompt": args.prompt, "tiles": args.tiles, "tile_size": args.tile_size, "axes": args.axes}
    else:
        lines = list(args.item)
        if args.file:
            try:
                text = read_limited(args.file, ITEM_LIST_LIMIT, "item list").decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(f"{args.file}: not a text file (expected one item per line, UTF-8)") from None
            lines += [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            raise InputError("give the items: a file with one per line, or --item NAME (repeatable)")
        specific = {"items": "\n".join(lines), "icon_size": args.icon_size}
    return {key: str(value) for key, value in {**common, **specific}.items() if value is not None}


def _generate(args: argparse.Namespace) -> int:
    from ..remote.batchfile import expand, typed_values
    from ..remote.params import ApiWorkflow, parse_assignment

    if args.resume:
        return execute_jobs(args, None)
    workflow = ApiWorkflow.load(GENERATED_WORKFLOWS[args.kind])
    if not 1 <= args.count <= 10000:
        raise InputError(f"--count must be from 1 to 10000, got {args.count}")
    texts = {**_values(args), **dict(parse_assignment(text) for text in args.assignments)}
    values = typed_values(workflow, texts)
    if getattr(args, "reroll", 0):
        return _generate_with_rerolls(args, workflow, values)
    return execute_jobs(args, expand(workflow, values, f"{args.kind}", args.count), args.kind)


def _generate_with_rerolls(args: argparse.Namespace, workflow, values: dict) -> int:
    """The character, then only its failing strips again (new seeds) up to ``--reroll`` times each, then the whole
    character with each strip's best seed; every try is a job of one run manifest, with its scores file."""
    from ..character.reroll import FINAL, FIRST_TRY, Rerolls, consistency_files, job_name
    from ..remote.client import Job

    if not 1 <= args.reroll <= 20:
        raise InputError(f"--reroll must be from 1 to 20, got {args.reroll}")
    if args.count != 1:
        raise InputError("--reroll draws one character; leave --count at 1")
    args.out = args.out or Path("dgx-pixels-runs") / f"{datetime.now():%Y%m%d-%H%M%S}-character"
    first = Job.create(workflow, values, name=FIRST_TRY)
    code = execute_jobs(args, [first], args.kind, export=False)
    if code:
        return code
    manifest_path = args.out / "manifest.json"
    rerolls = Rerolls(first.params)
    report, reference = consistency_files(manifest_path, FIRST_TRY)
    rerolls.record(FIRST_TRY, 1, report)
    # Without an anchor every try is checked against the first try's reference frame.
    reference = None if first.params.get("anchor") not in (None, "", "none") else reference
    for number in range(2, args.reroll + 2):
        failing = rerolls.failing()
        if not failing:
            break
        code = _queue_more(args, manifest_path, {job_name(strip, number): rerolls.retry_params(strip, number, reference)
                                                 for strip in failing})
        if code:
            return code
        for name in (job_name(strip, number) for strip in failing):
            rerolls.record(name, number, consistency_files(manifest_path, name)[0])
    final_report = None
    if rerolls.rerolled:
        code = _queue_more(args, manifest_path, {FINAL: rerolls.final_params(reference)})
        if code:
            return code
        final_report = consistency_files(manifest_path, FINAL)[0]
    summary = rerolls.summary(final_report)
    (args.out / "consistency.json").write_text(json.dumps(summary, indent=1) + "\n")
    if args.exports:  # the character as finally drawn
        code = export_jobs(args, "generate character", manifest_path, [FINAL if rerolls.rerolled else FIRST_TRY],
                           check_exports(args.exports, [workflow.prompt]))
    for strip, entry in summary["strips"].items():
        chosen = entry["chosen"]
        verdict = "still failing" if chosen["failing_frames"] else "passed"
        print(f"{strip}: {verdict} (try {chosen['try']} of {len(entry['tries'])}, seed {chosen['seed']})")
    if not summary["passed"]:
        print(f"dgx-pixels generate character: not every strip is consistent after {args.reroll} re-roll(s); "
              f"the best tries were kept (scores: {args.out / 'consistency.json'})", file=sys.stderr)
        return EXIT_FAILED
    return code


def _queue_more(args: argparse.Namespace, manifest_path: Path, jobs: dict[str, dict]) -> int:
    """Add jobs (name -> parameter values) to the run's manifest and run them."""
    from ..remote.client import JobRecord
    from ..remote.client.manifest import RunManifest

    manifest = RunManifest.load(manifest_path)
    key = manifest.jobs[0].workflow
    for name, params in jobs.items():
        manifest.jobs.append(JobRecord(name=name, workflow=key, params=params, prompt_id=uuid.uuid4().hex))
    manifest.save()
    args.resume = str(manifest_path)
    return execute_jobs(args, None, args.kind, export=False)
