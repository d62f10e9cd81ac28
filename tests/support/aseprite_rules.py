"""Aseprite array JSON checks: the JSON Schema (support/schemas) plus the cross-field rules a schema cannot state."""
from __future__ import annotations

import json

import jsonschema
from paths import SCHEMAS

SCHEMA = json.loads((SCHEMAS / "aseprite_array.schema.json").read_text())


def invariants(data: dict) -> None:
    """Tags and slice keys point at existing frames; rects lie inside the image; trims inside the source size."""
    count = len(data["frames"])
    width, height = data["meta"]["size"]["w"], data["meta"]["size"]["h"]
    for tag in data["meta"]["frameTags"]:
        assert 0 <= tag["from"] <= tag["to"] < count, tag
    for frame in data["frames"]:
        rect, source, trim = frame["frame"], frame["sourceSize"], frame["spriteSourceSize"]
        assert rect["x"] + rect["w"] <= width and rect["y"] + rect["h"] <= height
        assert (rect["w"], rect["h"]) == (trim["w"], trim["h"])
        assert trim["x"] + trim["w"] <= source["w"] and trim["y"] + trim["h"] <= source["h"]
        assert frame["trimmed"] == ((trim["x"], trim["y"], trim["w"], trim["h"]) != (0, 0, source["w"], source["h"]))
    for piece in data["meta"]["slices"]:
        for key in piece["keys"]:
            assert key["frame"] < count


def check(data: dict) -> None:
    jsonschema.validate(data, SCHEMA)
    invariants(data)
