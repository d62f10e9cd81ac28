"""``dgx-pixels check``: the consistency scores of finished frames against the character's anchor, as the Consistency
Check node reports them, without a server."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..common.errors import InputError
from ..common.files import write_atomic
from .options import ImageInputs

EXIT_INCONSISTENT = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..character.thresholds import Thresholds

    defaults = Thresholds()
    parser = subparsers.add_parser(
        "check", help="score finished frames against the character's anchor (silhouette, size, palette, detail)",
        description="Scores every frame against the anchor (default: the first frame). FRAMES is a sheet PNG with "
                    "the Aseprite JSON Bevy Export writes beside it (<name>.json: frames and tags), or frame PNGs. "
                    "Exit code 0 when every frame passes, 1 when some fail.")
    parser.add_argument("frames", nargs="+", type=Path, metavar="FRAMES", action=ImageInputs,
                        help="the finished frames (files, or a folder of them), in order")
    parser.add_argument("--anchor", type=Path, metavar="IMAGE",
                        help="the anchor (a native sprite, or the drawing at the generation size)")
    parser.add_argument("--tags", help="tags for frame files, e.g. 'idle_E:4, walk_E:8' (a sheet's JSON has its own)")
    parser.add_argument("--min-silhouette", type=float, default=defaults.min_silhouette,
                        help="least silhouette overlap with the anchor, 0..1 (default: %(default)s)")
    parser.add_argument("--max-height-drift", type=float, default=defaults.max_height_drift, metavar="PX",
                        help="most height difference from the anchor, native pixels (default: %(default)s)")
    parser.add_argument("--max-width-drift", type=float, default=defaults.max_width_drift, metavar="PX",
                        help="most width difference from the anchor, native pixels (default: %(default)s)")
    parser.add_argument("--max-palette-distance", type=float, default=defaults.max_palette_distance,
                        help="worst colour cluster's distance from the anchor's, 100 x OKLab (default: %(default)s)")
    parser.add_argument("--max-detail-distance", type=float, default=defaults.max_detail_distance,
                        help="most difference in how colours meet at edges (default: %(default)s)")
    parser.add_argument("--picture", type=Path, metavar="PNG", help="write the frames by strip, failing ones marked")
    parser.add_argument("--scores", type=Path, metavar="FILE", help="write the scores as JSON (with --json they are "
                                                                    "also in the summary)")
    parser.set_defaults(func=_check)


def read_sheet(path: Path, data: dict):
    """Frames ``[N, h, w, 4]`` and tags of a sheet from its Aseprite JSON (array or hash form)."""
    import torch

    from ..image.io import load_rgba_bytes
    from ..sheets.frames import parse_tag_spec

    sheet = load_rgba_bytes(path)[0].float() / 255
    entries = data["frames"] if isinstance(data["frames"], list) else list(data["frames"].values())
    frames = []
    for number, entry in enumerate(entries):
        rect, source, placed = entry["frame"], entry["sourceSize"], entry.get("spriteSourceSize", entry["frame"])
        cell = torch.zeros(source["h"], source["w"], 4)
        crop = sheet[rect["y"]:rect["y"] + rect["h"], rect["x"]:rect["x"] + rect["w"]]
        if crop.shape[:2] != (rect["h"], rect["w"]):
            raise InputError(f"{path}: frame {number} lies outside the {sheet.shape[1]}x{sheet.shape[0]} sheet")
        cell[placed["y"]:placed["y"] + rect["h"], placed["x"]:placed["x"] + rect["w"]] = crop
        frames.append(cell)
    spec = ", ".join(f"{tag['name']}:{tag['to'] - tag['from'] + 1}@{entries[tag['from']]['duration']}ms "
                     f"{'once' if tag.get('repeat') == '1' else tag['direction'].replace('_reverse', '')}"
                     for tag in data.get("meta", {}).get("frameTags", []))
    tags = parse_tag_spec(spec) if spec else None
    return torch.stack(frames), (tags if tags and len(tags) == len(frames) else None)


def read_frames(paths: list[Path], tags_text: str | None):
    """The frames of a sheet (with its JSON beside it) or of frame files, padded to one size on one baseline."""
    import torch

    from ..character.report import with_alpha
    from ..image.io import load_image
    from ..sheets.frames import parse_tag_spec

    sidecar = paths[0].with_suffix(".json")
    if len(paths) == 1 and sidecar.is_file():
        try:
            return read_sheet(paths[0], json.loads(sidecar.read_text()))
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(f"{sidecar}: not an Aseprite sprite-sheet JSON ({err})") from None
    images = [with_alpha(*load_image(path))[0] for path in paths]
    height, width = max(i.shape[0] for i in images), max(i.shape[1] for i in images)
    frames = torch.zeros(len(images), height, width, 4)
    for frame, image in zip(frames, images):
        left = (width - image.shape[1]) // 2
        frame[height - image.shape[0]:, left:left + image.shape[1]] = image
    tags = parse_tag_spec(tags_text) if tags_text else None
    if tags is not None and len(tags) != len(images):
        raise InputError(f"--tags names {len(tags)} frames but {len(images)} files were given")
    return frames, tags


def _check(args: argparse.Namespace) -> int:
    from ..character.consistency import score_frames
    from ..character.thresholds import Thresholds
    from ..character.report import at_frame_scale, picture, with_alpha
    from ..image.io import load_image, save_png
    from ..image.ops import split_alpha

    frames, tags = read_frames(args.frames, args.tags)
    if args.anchor:
        anchor, name = at_frame_scale(with_alpha(*load_image(args.anchor)), (frames.shape[2], frames.shape[1])), \
            f"the anchor {args.anchor.name}"
    else:
        anchor, name = frames[:1], "the first frame"
    thresholds = Thresholds(args.min_silhouette, args.max_height_drift, args.max_width_drift,
                            args.max_palette_distance, args.max_detail_distance)
    report = score_frames(frames, anchor, tags, thresholds, name)
    print(report.table())
    if args.scores:
        write_atomic(args.scores, (json.dumps(report.to_dict(), indent=1) + "\n").encode())
    if args.events is not None:
        args.events.summary_fields["scores"] = report.to_dict()
    if args.picture:
        rgb, transparent = split_alpha(picture(frames, anchor, report)[None])
        save_png(args.picture, rgb[0], transparent[0])
        print(f"picture: {args.picture}", file=sys.stderr)
    return 0 if report.passed else EXIT_INCONSISTENT
