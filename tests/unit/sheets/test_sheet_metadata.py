"""Sheet metadata (``<name>.sheet.json``): every layout the sheet and tileset builders make reads back equal, and a
damaged file is refused naming the field."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from dgx_pixels.common.errors import InputError
from dgx_pixels.sheets import tileset
from dgx_pixels.sheets.assemble import assemble_sheet
from dgx_pixels.sheets.frames import parse_tag_spec
from dgx_pixels.sheets.metadata import metadata_bytes, read_sheet_metadata, sheet_metadata
from dgx_pixels.sheets.sockets import Hitbox, Socket
from sheet_samples import walk_cycle


def _knight(**options):
    frames, spec = walk_cycle()
    return assemble_sheet(frames, parse_tag_spec(spec), **options)[1]


def _tiles():
    generator = torch.Generator().manual_seed(3)
    tiles = [torch.rand(8, 8, 4, generator=generator) for _ in range(16)]
    for tile in tiles:
        tile[..., 3] = 1.0
    return tileset.assemble_tileset(tiles, spacing=1, margin=2, autotile="corner 16")[1]


def _marked():
    """Each frame with a hand socket and a body hitbox, as the pose batch's marks reach a sheet."""
    layout = _knight(padding=1)
    frames = tuple(replace(frame, sockets=(Socket("hand_R", 3.0 + n, 7.5),), hitboxes=(Hitbox("body", 1, 2, 6, 9.5),))
                   for n, frame in enumerate(layout.frames))
    return replace(layout, frames=frames)


LAYOUTS = {
    "rows": lambda: _knight(padding=1),
    "sockets_and_hitboxes": _marked,
    "trimmed": lambda: _knight(trim=True, dedupe=True, padding=1, layout="packed"),
    "packed_extruded": lambda: _knight(layout="packed", columns=4, padding=2, extrude=1),
    "tileset": _tiles,
}


@pytest.mark.parametrize("case", LAYOUTS)
def test_every_layout_reads_back_equal(case):
    layout = LAYOUTS[case]()
    data = metadata_bytes(sheet_metadata(layout, "hero", "hero_00001_.png", ("PICO-8", ["#000000", "#1d2b53"])))
    read, info = read_sheet_metadata(data, "hero.sheet.json")
    assert read == layout
    assert info["name"] == "hero" and info["image"] == "hero_00001_.png"
    assert info["palette"] == {"name": "PICO-8", "colours": ["#000000", "#1d2b53"]}
    if layout.animations:  # what a reader without our code needs: each animation's atlas indices and durations
        walk = next(a for a in info["animations"] if a["name"] == "walk_E")
        assert walk["indices"] == layout.atlas_indices(layout.animations[1]) and walk["loop"] == "pingpong"


@pytest.mark.parametrize("damage, message", [
    (lambda d: d.update(format="something"), "not dgx-pixels-sheet metadata"),
    (lambda d: d.update(version=2), "version 2 is not supported"),
    (lambda d: d.update(kind="../../etc"), "'kind' must be one of"),
    (lambda d: d.update(size=[10, "x"]), "'size' must be two whole numbers"),
    (lambda d: d["rects"].append([0, 0, 9999, 1]), "leaves the"),
    (lambda d: d["frames"][0].update(index=10_000), "frame 0 index"),
    (lambda d: d["frames"][1].update(duration_ms=True), "frame 1 duration_ms"),
    (lambda d: d["animations"][0].update(end=999), "animation 0 end"),
    (lambda d: d["animations"][0].update(loop="sideways"), "animation 0 loop must be one of"),
    (lambda d: d.update(frames=[{}] * 2_000_000), "'frames' holds 2,000,000 entries"),
    (lambda d: d.update(palette={"name": "x", "colours": ["red"]}), "'palette' must have a name"),
    (lambda d: d.update(autotile="blob 9000"), "'autotile' must be one of"),
    (lambda d: d["frames"][2].update(sockets=[{"name": "hand", "x": "left", "y": 1}]), "frame 2: socket hand's x"),
    (lambda d: d["frames"][0].update(hitboxes=[{"name": "body", "x": 0, "y": 0, "w": -1, "h": 1}]),
     "frame 0: hitbox body has a negative size"),
])
def test_damaged_metadata_is_refused_naming_the_field(damage, message):
    data = sheet_metadata(LAYOUTS["sockets_and_hitboxes"](), "hero", "hero.png")
    damage(data)
    with pytest.raises(InputError, match=message):
        read_sheet_metadata(json.dumps(data).encode(), "hero.sheet.json")


@pytest.mark.parametrize("data", [b"", b"[]", b"{" * 100_000, b"\xff\xfe", json.dumps({"format": 1}).encode()])
def test_what_is_not_metadata_is_refused_by_name(data):
    with pytest.raises(InputError, match="hero.sheet.json"):
        read_sheet_metadata(data, "hero.sheet.json")
