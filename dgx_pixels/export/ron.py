"""A small RON (Rusty Object Notation) writer for the shapes serde gives Rust types.

Python values map to RON as: dict -> map ``{"k": v}``, list -> sequence ``[a, b]``, tuple -> tuple ``(a, b)``,
Struct -> ``Name(field: v)`` or ``(field: v)`` without a name, Call -> a tuple struct or newtype variant
``Name(v, ...)``, Ident -> a unit variant ``Nearest``, str/int/float/bool as literals.
Short values stay on one line; maps, the top level and long values open one line per item with trailing commas;
a tuple struct around a single block hugs it (``({`` ... ``})``, as in bevy_asset_loader's examples).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

INDENT = "    "
LINE_WIDTH = 100


@dataclass(frozen=True)
class Ident:
    name: str


@dataclass(frozen=True)
class Struct:
    fields: dict
    name: str = ""


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple = field(default_factory=tuple)


def dumps(value) -> str:
    """The RON text of ``value`` with a final newline; the top level always opens one line per item."""
    return _render(value, 0, force_block=True) + "\n"


def _scalar(value) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"RON has no literal for {value}")
        text = repr(value)
        return text if any(ch in text for ch in ".e") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # RON strings use the same escapes as JSON
    if isinstance(value, Ident):
        return value.name
    if value is None:
        return "None"
    return None


def _items(value) -> tuple[str, str, list[tuple[str, object]]]:
    """(opening, closing, [(prefix, item)]) for a compound value."""
    if isinstance(value, Struct):
        return f"{value.name}(", ")", [(f"{key}: ", item) for key, item in value.fields.items()]
    if isinstance(value, Call):
        return f"{value.name}(", ")", [("", item) for item in value.args]
    if isinstance(value, dict):
        return "{", "}", [(f"{json.dumps(str(key))}: ", item) for key, item in value.items()]
    if isinstance(value, list):
        return "[", "]", [("", item) for item in value]
    if isinstance(value, tuple):
        return "(", ")", [("", item) for item in value]
    raise TypeError(f"no RON form for {type(value).__name__}")


def _render(value, depth: int, force_block: bool = False) -> str:
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    opening, closing, items = _items(value)
    if not items:
        return opening + closing
    if isinstance(value, Call) and len(items) == 1 and _scalar(value.args[0]) is None:
        inner = _render(value.args[0], depth, force_block)
        if "\n" in inner:  # a newtype around a block hugs it: `Descriptor(Sampler(` ... `))`
            return opening + inner + closing
    block = force_block or isinstance(value, dict)
    if not block:
        inline = opening + ", ".join(prefix + _render(item, depth + 1) for prefix, item in items) + closing
        if "\n" not in inline and len(INDENT * depth) + len(inline) <= LINE_WIDTH:
            return inline
    inner = INDENT * (depth + 1)
    lines = [f"{inner}{prefix}{_render(item, depth + 1)}," for prefix, item in items]
    return opening + "\n" + "\n".join(lines) + "\n" + INDENT * depth + closing
