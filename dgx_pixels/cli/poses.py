"""``dgx-pixels poses``: list the animation library and render OpenPose skeleton sheets, prompts and keypoints
without a ComfyUI server."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..common.errors import InputError
from ..common.files import write_atomic
from ..common.sizes import parse_size


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("poses", help="the pose library: list animations, render skeleton sheets")
    actions = parser.add_subparsers(dest="poses_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="built-in animations (and custom ones from a file) and the pose "
                                              "parameters keyframes can set")
    listing.add_argument("--custom", type=Path, metavar="FILE", help="a file of custom animations (keyframes)")
    listing.set_defaults(func=_list)

    render = actions.add_parser(
        "render", help="OpenPose skeleton sheets (one PNG per animation: a row per direction) plus poses.json",
        description="Writes DIR/<animation>.png for each animation (one row per direction, frames left to "
                    "right), DIR/poses.json (per frame: tag, prompt, seed and OpenPose keypoints), and with --each "
                    "every frame as DIR/<animation>_<direction>/<index>.png, the images an OpenPose ControlNet "
                    "takes.")
    render.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                        help="folder for the sheets and poses.json")
    render.add_argument("--animations", default=None,
                        help="animations in order, e.g. 'idle:4, walk:8@90ms, attack once' (default: every "
                             "built-in one)")
    render.add_argument("--directions", default="side",
                        help="side (E, W), right (E), 4 (S, E, N, W), 8, or compass points like 'S,E'")
    render.add_argument("--frames", type=int, default=0, metavar="N",
                        help="frames per animation without its own count (0: each animation's usual count)")
    render.add_argument("--size", default="512", metavar="WxH", help="frame size, e.g. 512 or 512x768")
    render.add_argument("--custom", type=Path, metavar="FILE", help="a file of custom animations (keyframes)")
    render.add_argument("--character", default="a game character", help="for the prompts in poses.json")
    render.add_argument("--template", default="", help="prompt template (default: the node's)")
    render.add_argument("--seed", type=int, default=0, help="the character's seed, for the prompts in poses.json")
    render.add_argument("--seed-policy", default="same seed for every frame",
                        help="same seed for every frame | new seed per frame | new seed per animation")
    render.add_argument("--each", action="store_true", help="also write every frame as its own PNG")
    render.set_defaults(func=_render)


def _read_custom(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read the custom animations ({err})") from None


def _list(args: argparse.Namespace) -> int:
    from ..poses.parser import available_animations
    from ..poses.rig import PARAMETERS

    library = available_animations(_read_custom(args.custom))
    print("animations:")
    for animation in library.values():
        kind = "returns to its first pose" if animation.cyclic else "ends on its last pose"
        print(f"  {animation.name:10} {animation.frames:2} frames {'@' + str(animation.duration_ms) + 'ms':7} "
              f"{animation.loop:8} {kind}: {animation.phrase}")
    print("pose parameters (keyframe lines: 'time name=value ...'):")
    for name, (neutral, meaning) in PARAMETERS.items():
        print(f"  {name:10} {neutral:5g}  {meaning}")
    return 0


def _render(args: argparse.Namespace) -> int:

    from ..image import io as imageio
    from ..poses import openpose
    from ..poses.batch import tag_rows
    from ..poses.library import DEFAULT_ANIMATIONS
    from ..poses.plan import plan_frames
    from ..poses.prompts import DEFAULT_TEMPLATE
    from ..poses.rig import JOINTS

    width, height = parse_size(args.size, "--size", lone="square", low=16, high=4096)
    if args.output.exists() and not args.output.is_dir():
        raise InputError(f"{args.output} is a file; -o takes a folder")
    plan = plan_frames(args.character, args.animations or DEFAULT_ANIMATIONS, args.directions, width, height,
                       frames_per_animation=args.frames, custom_animations=_read_custom(args.custom),
                       template=args.template or DEFAULT_TEMPLATE, seed=args.seed, seed_policy=args.seed_policy)
    batch, images = plan.batch, plan.skeletons
    rows = tag_rows(batch.frames)
    args.output.mkdir(parents=True, exist_ok=True)
    for animation in dict.fromkeys(frame.animation for frame in batch.frames):
        mine = [row for row in rows if batch.frames[row[0]].animation == animation]
        path = imageio.save_png(args.output / f"{animation}.png", openpose.tile_rows(images, mine))
        print(f"{path}: {animation}, {len(mine)} direction(s) x {len(mine[0])} frames")
    if args.each:
        for position, frame in enumerate(batch.frames):
            imageio.save_png(args.output / frame.tag / f"{frame.index:02d}.png", images[position])
    frames = plan.records(keypoints=True)
    listing = {"width": width, "height": height, "keypoint_order": "COCO-18", "joints": list(JOINTS),
               "frames": frames}
    write_atomic(args.output / "poses.json", json.dumps(listing, indent=1).encode())
    print(f"{args.output / 'poses.json'}: {len(frames)} frames")
    return 0
