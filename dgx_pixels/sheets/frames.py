"""Frame metadata shared by pose batches, sprite sheets and exports (the FRAMES type in ComfyUI).

A FRAMES value is a list of ``Frame``, one per image of a batch, in batch order. Consecutive frames with the same
``animation`` and ``direction`` form one animation tag in a sheet. A frame may carry sockets and hitboxes measured in
a frame of ``space`` pixels (sockets.py), which the sheet maps onto its cells.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from ..common.errors import InputError
from .sockets import Hitbox, Socket, coerce_marks

LOOP_MODES = ("forward", "reverse", "pingpong", "once")
DIRECTIONS_8 = ("S", "SE", "E", "NE", "N", "NW", "W", "SW")


@dataclass(frozen=True)
class Frame:
    animation: str
    index: int
    duration_ms: int = 100
    direction: str = ""
    loop: str = "forward"
    sockets: tuple[Socket, ...] = ()
    hitboxes: tuple[Hitbox, ...] = ()
    space: tuple[int, int] = (0, 0)  # the frame size the marks were measured in; (0, 0): the frame's own

    @property
    def tag(self) -> str:
        """The animation tag name: ``walk`` or, with a direction, ``walk_E``."""
        return f"{self.animation}_{self.direction}" if self.direction else self.animation

    def to_dict(self) -> dict:
        """The tag fields; sockets, hitboxes and their space only when the frame has marks."""
        data = asdict(self)
        if not (self.sockets or self.hitboxes):
            for key in ("sockets", "hitboxes", "space"):
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Frame":
        fields = {key: data[key] for key in ("animation", "index", "duration_ms", "direction", "loop") if key in data}
        sockets, hitboxes = coerce_marks(data.get("sockets"), data.get("hitboxes"))
        if sockets or hitboxes:
            space = data.get("space") or (0, 0)
            if not (isinstance(space, (list, tuple)) and len(space) == 2
                    and all(type(side) is int and 0 <= side <= 1 << 16 for side in space)):
                raise InputError(f"a frame's marks space must be [width, height], got {space!r}")
            fields.update(sockets=sockets, hitboxes=hitboxes, space=tuple(space))
        return cls(**fields)


# ---------------------------------------------------------------------------------------------------- tag specs
LOOP_ALIASES = {"loop": "forward", "ping-pong": "pingpong", "pingpong": "pingpong", "forward": "forward",
                "reverse": "reverse", "once": "once"}
_SPEC_ENTRY = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_-]*)\s*:\s*(?P<count>[^\s@]+)(?:\s*@\s*(?P<duration>[^\s]+))?(?:\s+(?P<loop>\S+))?$")
_DURATION = re.compile(r"^@?(?P<value>[0-9]*\.?[0-9]+)(?P<unit>ms|s|fps)?$", re.IGNORECASE)
MAX_DURATION_MS = 60_000  # a minute per frame; beyond it a typo (and engines' u32/u64 fields stay safe)


def parse_tag_spec(spec: str) -> list[Frame]:
    """Frames from a text spec such as ``idle:4@120ms, walk_E:8@80ms pingpong, attack:5@12fps once``.

    Entries are separated by commas, semicolons or new lines: ``name:count`` then optionally ``@`` a duration
    (``120ms``, ``0.1s``, ``12fps``; a bare number is milliseconds; default 100 ms) and a loop mode (forward,
    reverse, pingpong, once). A name ending in a compass direction (``walk_E``, ``run_NW``) sets the direction.
    """
    frames: list[Frame] = []
    entries = [part.strip() for part in re.split(r"[,;\n]", spec)]
    for number, entry in enumerate(entries, start=1):
        if not entry:
            continue
        match = _SPEC_ENTRY.match(entry)
        if not match:
            raise InputError(f"tag spec entry {number} {entry!r} is not like 'walk:8@80ms pingpong' "
                             "(name:count, then optional @duration and loop mode)")
        count_text = match["count"]
        if not count_text.isdigit() or int(count_text) < 1:
            raise InputError(f"tag spec entry {number} {entry!r}: frame count {count_text!r} is not a whole number "
                             "of at least 1")
        duration = (parse_duration(match["duration"], f"tag spec entry {number} {entry!r}")
                    if match["duration"] else Frame.duration_ms)
        loop_text = (match["loop"] or "forward").lower()
        if loop_text not in LOOP_ALIASES:
            raise InputError(f"tag spec entry {number} {entry!r}: loop mode {match['loop']!r} is not one of "
                             f"{', '.join(LOOP_MODES)}")
        animation, direction = _split_direction(match["name"])
        frames.extend(Frame(animation, index, duration, direction, LOOP_ALIASES[loop_text])
                      for index in range(int(count_text)))
    if not frames:
        raise InputError("the tag spec is empty; write it like 'idle:4@120ms, walk:8@80ms pingpong'")
    return frames


def parse_duration(text: str, where: str) -> int:
    """``120ms``, ``0.1s``, ``12fps`` or ``120`` (ms), with or without a leading ``@`` -> whole milliseconds."""
    match = _DURATION.match(text)
    milliseconds = 0.0
    if match and float(match["value"]) > 0:
        value, unit = float(match["value"]), (match["unit"] or "ms").lower()
        milliseconds = {"ms": value, "s": value * 1000.0, "fps": 1000.0 / value}[unit]
    if not 0 < milliseconds <= MAX_DURATION_MS:
        raise InputError(f"{where}: duration {text!r} is not a time like 80ms, 0.1s or 12fps (above 0, at most "
                         f"{MAX_DURATION_MS // 1000} s)")
    return max(1, round(milliseconds))


def _split_direction(name: str) -> tuple[str, str]:
    head, _, tail = name.rpartition("_")
    if head and tail.upper() in DIRECTIONS_8:
        return head, tail.upper()
    return name, ""


@dataclass(frozen=True)
class TagRun:
    """Consecutive frames sharing a tag: positions ``start..end`` (inclusive) of a FRAMES list."""
    name: str
    start: int
    end: int
    loop: str


def tag_runs(frames: list[Frame]) -> list[TagRun]:
    """Group consecutive frames by tag (a frame index that does not increase starts a new run); a tag that comes
    back later gets a numbered name (``walk_E_2``)."""
    runs: list[TagRun] = []
    seen: dict[str, int] = {}
    for position, frame in enumerate(frames):
        previous = frames[position - 1] if position else None
        if previous is not None and previous.tag == frame.tag and frame.index > previous.index:
            runs[-1] = TagRun(runs[-1].name, runs[-1].start, position, runs[-1].loop)
            continue
        seen[frame.tag] = seen.get(frame.tag, 0) + 1
        name = frame.tag if seen[frame.tag] == 1 else f"{frame.tag}_{seen[frame.tag]}"
        runs.append(TagRun(name, position, position, frame.loop if frame.loop in LOOP_MODES else "forward"))
    return runs


def tag_spec(frames: list[Frame]) -> str:
    """The text spec of a FRAMES list (``idle_E:4@150ms forward, ...``): ``parse_tag_spec`` reads it back as the
    same tags, durations and loop modes (per run, from its first frame)."""
    return ", ".join(f"{run.name}:{run.end - run.start + 1}@{frames[run.start].duration_ms}ms {run.loop}"
                     for run in tag_runs(frames))


def coerce_frames(value) -> list[Frame]:
    """A FRAMES value as it may arrive from ComfyUI (a list, a list of lists, dicts) -> a flat list of Frame."""
    if value is None:
        return []
    if isinstance(value, Frame):
        return [value]
    if isinstance(value, dict):
        return [Frame.from_dict(value)]
    if isinstance(value, (list, tuple)):
        return [frame for item in value for frame in coerce_frames(item)]
    raise InputError(f"frame tags must be a FRAMES list, got {type(value).__name__}")
