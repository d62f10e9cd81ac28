"""``dgx-pixels generate character|tiles|items|terrain``: the library's workflows with named options, on ComfyUI
servers.

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
from .options import asset_name, non_negative_float, non_negative_int, positive_int, size_or_width

# What each kind of `generate` runs: a workflow of the library.
ITEM_LIST_LIMIT = 16 << 20  # bytes of an item list
GENERATED_WORKFLOWS = {"character": "character_sprite_sheet", "tiles": "tileset_seamless", "items": "item_icons",
                       "terrain": "terrain_transitions"}
TERRAIN_ORDERS = ("corner 16", "blob 47", "platformer")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="generate characters, tiles, item icons or terrain sets with the "
                                                    "shipped workflows")
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

    terrain = kinds.add_parser("terrain", help="transition tiles between two terrains (corner 16, blob 47 or "
                                               "platformer), edge-checked, with a map preview, exported as a tileset")
    terrain.add_argument("terrain_a", nargs="?", help="the first terrain, e.g. grass (a platformer's surface)")
    terrain.add_argument("terrain_b", nargs="?", help="the second terrain, e.g. dirt (a platformer's ground)")
    terrain.add_argument("--order", choices=TERRAIN_ORDERS, help="the tile order (default corner 16)")
    terrain.add_argument("--tile-size", type=positive_int, help="native tile size in pixels (default 32)")
    terrain.add_argument("--canvas", type=positive_int, help="generation size of each tile (default 1024)")
    terrain.add_argument("--variants", type=non_negative_int, help="extra versions of each full tile (default 2)")
    terrain.add_argument("--tile-a", type=Path, metavar="IMAGE", help="your own seamless tile for the first terrain")
    terrain.add_argument("--tile-b", type=Path, metavar="IMAGE", help="your own seamless tile for the second terrain")
    terrain.add_argument("--tolerance", type=non_negative_float, help="edge agreement tolerance (default 1.5)")
    terrain.add_argument("--redraw", type=non_negative_int, default=0, metavar="N",
                         help="draw tiles that fail the edge check again with new seeds, up to N more times")

    for kind in (character, tiles, items, terrain):
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
    elif args.kind == "terrain":
        if not (args.terrain_a and args.terrain_b):
            raise InputError("give both terrains, e.g. dgx-pixels generate terrain grass dirt --order 'blob 47'; or "
                             "--resume MANIFEST")
        specific = {"terrain_a": args.terrain_a, "terrain_b": args.terrain_b, "order": args.order,
                    "tile_size": args.tile_size, "canvas": args.canvas, "variants": args.variants,
                    "tile_a": args.tile_a, "tile_b": args.tile_b, "tolerance": args.tolerance}
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
    if getattr(args, "redraw", 0):
        return _generate_terrain_with_redraws(args, workflow, values)
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


def _generate_terrain_with_redraws(args: argparse.Namespace, workflow, values: dict) -> int:
    """The terrain set, then again with new seeds for the tiles that failed the edge check, up to ``--redraw``
    times; every try is a job of one run manifest, with its edge report."""
    from ..remote.client import Job
    from ..terrain.redraw import Redraws, edge_report, try_name

    if not 1 <= args.redraw <= 20:
        raise InputError(f"--redraw must be from 1 to 20, got {args.redraw}")
    if args.count != 1:
        raise InputError("--redraw draws one terrain set; leave --count at 1")
    args.out = args.out or Path("dgx-pixels-runs") / f"{datetime.now():%Y%m%d-%H%M%S}-terrain"
    first = Job.create(workflow, values, name=try_name(1))
    code = execute_jobs(args, [first], args.kind, export=False)
    if code:
        return code
    manifest_path = args.out / "manifest.json"
    redraws = Redraws(first.params)
    redraws.record(1, edge_report(manifest_path, try_name(1)))
    for number in range(2, args.redraw + 2):
        if redraws.passed:
            break
        code = _queue_more(args, manifest_path, {try_name(number): redraws.next_params(number)})
        if code:
            return code
        redraws.record(number, edge_report(manifest_path, try_name(number)))
    summary = redraws.summary()
    (args.out / "edges.json").write_text(json.dumps(summary, indent=1) + "\n")
    if args.exports:  # the set as finally drawn
        code = export_jobs(args, "generate terrain", manifest_path, [summary["tries"][-1]["job"]],
                           check_exports(args.exports, [workflow.prompt]))
    for entry in summary["tries"]:
        verdict = "every edge agrees" if entry["passed"] else f"tiles {entry['failing_tiles']} fail"
        print(f"{entry['job']}: {verdict} ({entry['pairs_failing']} pairs disagree)")
    if not summary["passed"]:
        print(f"dgx-pixels generate terrain: edges still disagree after {args.redraw} redraw(s); the last try was "
              f"exported (report: {args.out / 'edges.json'})", file=sys.stderr)
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
