"""Animations from text: custom keyframes, and lists like 'idle, walk:8@90ms'."""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import replace

from ..common.errors import InputError
from ..sheets.frames import DIRECTIONS_8, LOOP_ALIASES, parse_duration
from .library import BUILTIN_ANIMATIONS, DEFAULT_ANIMATIONS, MAX_FRAMES_PER_ANIMATION, Animation, Keyframe
from .rig import NEUTRAL, PARAMETER_NAMES, PARAMETERS, mirror_pose

_NAME = r"[A-Za-z][A-Za-z0-9_-]*"
_HEADER = re.compile(rf"^(?P<name>{_NAME})\s*:(?P<rest>.*)$")
_KEYFRAME = re.compile(r"^(?P<time>[0-9]*\.?[0-9]+)(?:\s+(?P<rest>.*))?$")
_TOKEN = re.compile(r'"[^"]*"|\S+')


def _check_name(name: str, where: str) -> str:
    head, _, tail = name.rpartition("_")
    if head and tail.upper() in DIRECTIONS_8:
        raise InputError(f"{where}: the animation name {name!r} ends in a direction ({tail}); directions are added "
                         "to the tags by the batch, so pick another name")
    return name


def _frame_count(text: str, where: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_FRAMES_PER_ANIMATION:
        raise InputError(f"{where}: frame count {text!r} is not a whole number from 1 to {MAX_FRAMES_PER_ANIMATION}")
    return int(text)


def _loop_mode(text: str, where: str) -> str:
    mode = LOOP_ALIASES.get(text.lower())
    if mode is None:
        raise InputError(f"{where}: {text!r} is not a loop mode (forward, reverse, pingpong, once)")
    return mode


def _pose_value(token: str, where: str) -> tuple[str, float]:
    name, _, text = token.partition("=")
    if name not in PARAMETERS:
        close = difflib.get_close_matches(name, PARAMETER_NAMES, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else f"; known: {', '.join(PARAMETER_NAMES)}"
        raise InputError(f"{where}: unknown pose parameter {name!r}{hint}")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: {token!r} needs a number after '=', like {name}=30") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: {token!r} is not a finite number")
    return name, value


def parse_custom_animations(text: str) -> list[Animation]:
    """Animations defined as keyframes in text. An animation starts with a header line, then one line per
    keyframe::

        wave: 6 @120ms pingpong "waving one hand"
        0    r_arm=160 r_arm_out=25 r_elbow=20 "hand up"
        0.5  r_arm=160 r_arm_out=25 r_elbow=80
        1    r_arm=160 r_arm_out=25 r_elbow=20

    Header: ``name:`` then, in any order, a frame count, ``@duration``, a loop mode and a quoted phrase for the
    prompt. Keyframe: a time from 0 to 1, ``parameter=value`` pairs (unset ones stay neutral; see PARAMETERS),
    ``mirror`` to start from the previous keyframe with right and left swapped, and a quoted phrase. A keyframe at
    time 1 ends the animation there; without one the last keyframe flows back into the first (a cycle). ``#``
    starts a comment.
    """
    animations: list[Animation] = []
    current: dict | None = None

    def finish() -> None:
        if current is None:
            return
        where = f"custom animation {current['name']!r} (line {current['line']})"
        if not current["keys"]:
            raise InputError(f"{where} has no keyframes; add lines like '0 r_arm=90' below its header")
        if current["keys"][0].time != 0.0:
            raise InputError(f"{where}: the first keyframe must be at time 0")
        animations.append(Animation(current["name"], tuple(current["keys"]), current["frames"],
                                    current["duration"], current["loop"], current["phrase"]))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"custom animations line {number} {line!r}"
        header = _HEADER.match(line)
        if header:
            finish()
            name = _check_name(header["name"], where)
            if any(a.name == name for a in animations):
                raise InputError(f"{where}: the animation {name!r} is defined twice")
            current = {"name": name, "line": number, "keys": [], "frames": 8, "duration": 100, "loop": "forward",
                       "phrase": name}
            for token in _TOKEN.findall(header["rest"]):
                if token.startswith('"'):
                    current["phrase"] = token.strip('"').strip()
                elif token.startswith("@"):
                    current["duration"] = parse_duration(token, where)
                elif token.isdigit():
                    current["frames"] = _frame_count(token, where)
                else:
                    current["loop"] = _loop_mode(token, where)
            continue
        keyframe = _KEYFRAME.match(line)
        if not keyframe:
            raise InputError(f"{where}: expected an animation header like 'wave: 6 @120ms' or a keyframe like "
                             "'0.5 r_arm=90 r_elbow=30'")
        if current is None:
            raise InputError(f"{where}: a keyframe before any animation header; start with a line like 'wave:'")
        time = float(keyframe["time"])
        keys = current["keys"]
        if not 0.0 <= time <= 1.0:
            raise InputError(f"{where}: keyframe time {time:g} is outside 0..1")
        if keys and time <= keys[-1].time:
            raise InputError(f"{where}: keyframe times must increase (after {keys[-1].time:g})")
        if keys and keys[-1].time == 1.0:
            raise InputError(f"{where}: nothing may follow the keyframe at time 1")
        pose: dict[str, float] = {}
        phrase = ""
        for token in _TOKEN.findall(keyframe["rest"] or ""):
            if token.startswith('"'):
                phrase = token.strip('"').strip()
            elif token.lower() == "mirror":
                if not keys:
                    raise InputError(f"{where}: 'mirror' needs a keyframe before it to mirror")
                pose.update(mirror_pose({**NEUTRAL, **keys[-1].pose}))
            else:
                name, value = _pose_value(token, where)
                pose[name] = value
        keys.append(Keyframe(time, pose, phrase))
    finish()
    return animations


_ENTRY = re.compile(rf"^(?P<name>{_NAME})(?:\s*:\s*(?P<count>\S+?))?(?:\s*(?P<duration>@\S+))?(?:\s+(?P<loop>\S+))?$")


def available_animations(custom_text: str = "") -> dict[str, Animation]:
    """Built-in animations, with custom ones added (a custom one with a built-in name replaces it)."""
    return {**BUILTIN_ANIMATIONS, **{a.name: a for a in parse_custom_animations(custom_text or "")}}


def resolve_animations(spec: str, custom_text: str = "", frames_per_animation: int = 0) -> list[Animation]:
    """The animations of a batch, in order, from a list like ``idle, walk:8@90ms, attack once``.

    Each entry names a built-in or custom animation, optionally with ``:count``, ``@duration`` and a loop mode.
    Without a count, ``frames_per_animation`` (when above 0) or the animation's own count is used. Custom
    animations that the list does not name are added after it.
    """
    custom = parse_custom_animations(custom_text or "")
    library = {**BUILTIN_ANIMATIONS, **{a.name: a for a in custom}}
    if frames_per_animation and not 1 <= frames_per_animation <= MAX_FRAMES_PER_ANIMATION:
        raise InputError(f"frames per animation {frames_per_animation} is outside 1..{MAX_FRAMES_PER_ANIMATION} "
                         "(0 uses each animation's own count)")
    entries = [part.strip() for part in re.split(r"[,;\n]", spec or "") if part.strip()]
    chosen: list[Animation] = []
    for number, entry in enumerate(entries, start=1):
        where = f"animation entry {number} {entry!r}"
        match = _ENTRY.match(entry)
        if not match:
            raise InputError(f"{where} is not like 'walk', 'walk:8' or 'walk:8@90ms pingpong'")
        name = match["name"]
        if name not in library:
            close = difflib.get_close_matches(name, list(library), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InputError(f"{where}: no animation called {name!r}{hint}; built in: "
                             f"{', '.join(BUILTIN_ANIMATIONS)}; define others in the custom animations")
        if any(a.name == name for a in chosen):
            raise InputError(f"{where}: {name!r} is listed twice")
        animation = library[name]
        frames = (_frame_count(match["count"], where) if match["count"]
                  else frames_per_animation or animation.frames)
        duration = parse_duration(match["duration"], where) if match["duration"] else animation.duration_ms
        loop = _loop_mode(match["loop"], where) if match["loop"] else animation.loop
        chosen.append(replace(animation, frames=frames, duration_ms=duration, loop=loop))
    for animation in custom:
        if all(a.name != animation.name for a in chosen):
            frames = frames_per_animation or animation.frames
            chosen.append(replace(animation, frames=frames))
    if not chosen:
        raise InputError(f"no animations: list some, e.g. '{DEFAULT_ANIMATIONS}'")
    return chosen
