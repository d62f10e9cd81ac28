"""Prompts: per-frame prompts and seeds for pose batches from editable templates, and prompt lists from text.

A template names fields in braces: ``{character}``, ``{direction}`` (words for the view, e.g. "right side"),
``{pose}`` (the action and this frame's key pose), ``{action}``, ``{detail}``, ``{animation}`` (its name),
``{frame}`` (1-based) and ``{frames}``. Phrases for animations and directions can be replaced with lines like
``walk: striding`` or ``E: right side``.
"""
from __future__ import annotations

import re
import string

from ..common.errors import InputError
from ..sheets.frames import DIRECTIONS_8, Frame

DEFAULT_TEMPLATE = "{character}, {direction} view, {pose}, pixel art sprite, plain background"
SHEET_TEMPLATE = ("{character}, character sheet, {count} poses in a grid of {columns} by {rows}: {poses}, "
                  "pixel art sprite sheet, plain background")
# One prompt per strip (an animation in one direction, all its frames in one image): who, which view, what it does,
# how the image is laid out, and whether a reference of the character stands on the left.
STRIP_TEMPLATE = "{character}, {direction} view, {pose}, {layout}, {reference}, pixel art, plain white background"
FRAME_FIELDS = ("character", "direction", "pose", "action", "detail", "animation", "frame", "frames")
SHEET_FIELDS = ("character", "count", "columns", "rows", "poses")
STRIP_FIELDS = ("character", "direction", "pose", "action", "detail", "animation", "frames", "columns", "rows",
                "layout", "reference")
REFERENCE_PHRASE = "the same character as the reference on the left"

# Words for each facing: the side of the character the viewer sees (facing E shows its right side).
DIRECTION_WORDS = {"S": "front", "SE": "three-quarter front right", "E": "right side",
                   "NE": "three-quarter back right", "N": "back", "NW": "three-quarter back left", "W": "left side",
                   "SW": "three-quarter front left"}

SEED_POLICIES = ("same seed for every frame", "new seed per frame", "new seed per animation")
MAX_SEED = 0xFFFFFFFFFFFFFFFF


def parse_phrases(text: str) -> dict[str, str]:
    """Phrase replacements, one per line: ``walk: striding`` (an animation) or ``E: right side`` (a direction).
    Lines starting with # are skipped."""
    phrases: dict[str, str] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, separator, value = line.partition(":")
        key = key.strip()
        if not separator or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", key):
            raise InputError(f"phrases line {number} {line!r} is not like 'walk: striding' or 'E: right side'")
        phrases[key.upper() if key.upper() in DIRECTIONS_8 else key] = value.strip()
    return phrases


def template_fields(template: str, allowed: tuple[str, ...], what: str = "template") -> list[str]:
    """The fields a template uses; unknown fields or broken braces are an InputError naming them."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as err:
        raise InputError(f"the {what} {template!r} has unbalanced braces ({err}); write fields like {{pose}}") \
            from None
    unknown = sorted({name for name in fields if name not in allowed})
    if unknown:
        raise InputError(f"the {what} uses unknown field(s) {', '.join('{' + n + '}' for n in unknown)}; "
                         f"known: {', '.join('{' + n + '}' for n in allowed)}")
    return fields


def fill(template: str, values: dict[str, object]) -> str:
    """Fill a checked template and tidy what empty fields leave behind (doubled commas, stray spaces)."""
    text = template.format_map({key: "" if value is None else value for key, value in values.items()})
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*,(\s*,)+", ",", text)
    text = re.sub(r"\s+,", ",", text)
    return text.strip(" ,")


def frame_prompts(character: str, frames: list[Frame], actions: list[str], details: list[str],
                  template: str = DEFAULT_TEMPLATE, phrases: dict[str, str] | None = None) -> list[str]:
    """One prompt per frame: ``actions``/``details`` are each frame's animation phrase and key-pose phrase."""
    template_fields(template, FRAME_FIELDS)
    phrases = phrases or {}
    counts: dict[str, int] = {}
    for frame in frames:
        counts[frame.tag] = max(counts.get(frame.tag, 0), frame.index + 1)
    prompts = []
    for frame, action, detail in zip(frames, actions, details):
        action = phrases.get(frame.animation, action)
        direction = phrases.get(frame.direction, DIRECTION_WORDS.get(frame.direction, ""))
        pose = ", ".join(part for part in (action, detail) if part)
        prompts.append(fill(template, {"character": character.strip(), "direction": direction, "pose": pose,
                                       "action": action, "detail": detail, "animation": frame.animation,
                                       "frame": frame.index + 1, "frames": counts[frame.tag]}))
    return prompts


def sheet_prompt(character: str, frames: list[Frame], actions: list[str], columns: int, rows: int,
                 template: str = SHEET_TEMPLATE, phrases: dict[str, str] | None = None) -> str:
    """One prompt for a multi-pose image: ``{poses}`` lists the cells in reading order ("front view idle, ...")."""
    template_fields(template, SHEET_FIELDS, "sheet template")
    phrases = phrases or {}
    cells = []
    for frame, action in zip(frames, actions):
        direction = phrases.get(frame.direction, DIRECTION_WORDS.get(frame.direction, ""))
        view = f"{direction} view" if direction else ""
        cells.append(" ".join(part for part in (view, phrases.get(frame.animation, action)) if part))
    return fill(template, {"character": character.strip(), "count": len(frames), "columns": columns, "rows": rows,
                           "poses": ", ".join(cells)})


def strip_prompt(character: str, frame: Frame, action: str, detail: str, frames: int, columns: int, rows: int,
                 template: str = STRIP_TEMPLATE, phrases: dict[str, str] | None = None,
                 referenced: bool = False) -> str:
    """One identity prompt for a strip: the character, the view and the animation once, instead of a prompt per
    frame. ``{layout}`` describes the grid (empty for a single frame, whose ``{pose}`` then names its key pose);
    ``{reference}`` asks for the character on the left when an anchor is drawn there."""
    template_fields(template, STRIP_FIELDS, "strip template")
    phrases = phrases or {}
    action = phrases.get(frame.animation, action)
    single = frames == 1
    layout = "" if single else (f"sprite sheet of {frames} animation frames in a grid of {columns} columns and "
                                f"{rows} row{'s' if rows > 1 else ''}")
    return fill(template, {"character": character.strip(),
                           "direction": phrases.get(frame.direction, DIRECTION_WORDS.get(frame.direction, "")),
                           "pose": ", ".join(part for part in (action, detail if single else "") if part),
                           "action": action, "detail": detail, "animation": frame.animation, "frames": frames,
                           "columns": columns, "rows": rows, "layout": layout,
                           "reference": REFERENCE_PHRASE if referenced else ""})


def frame_seeds(seed: int, frames: list[Frame], policy: str = SEED_POLICIES[0]) -> list[int]:
    """Seeds per frame: the character's seed for all (most consistent), or offset by the frame's position or by
    its animation's number (wrapping at 2**64, as the sampler's seed does)."""
    if policy not in SEED_POLICIES:
        raise InputError(f"seed policy {policy!r} is not one of: {', '.join(SEED_POLICIES)}")
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed {seed} is outside 0..{MAX_SEED}")
    if policy == SEED_POLICIES[1]:
        offsets = list(range(len(frames)))
    elif policy == SEED_POLICIES[2]:
        numbers: dict[str, int] = {}
        offsets = [numbers.setdefault(frame.animation, len(numbers)) for frame in frames]
    else:
        offsets = [0] * len(frames)
    return [(seed + offset) % (MAX_SEED + 1) for offset in offsets]


def prompt_lines(text: str, template: str = "{line}") -> list[str]:
    """Non-empty, non-comment (#) lines of ``text``, each put into ``template`` at ``{line}``."""
    if "{line}" not in template:
        raise InputError(f"the template {template!r} has no {{line}} for the line's text")
    lines = [line.strip() for line in text.splitlines()]
    prompts = [template.replace("{line}", line) for line in lines if line and not line.startswith("#")]
    if not prompts:
        raise InputError("no prompts: write one item per line (lines starting with # are skipped)")
    return prompts
