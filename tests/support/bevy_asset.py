"""Check an asset folder a Bevy export wrote, the way the Bevy export tests check its files: the Aseprite JSON
against its schema and rules, the atlas RON against Bevy's from_grid (ported), the sprite RON's animations, the
image's pixels, and the nearest-sampling .meta."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

import aseprite_rules
import bevy_oracle
import ron_subset
from paths import DATA


def check_bevy_asset(folder: Path, name: str, layout, rgba: np.ndarray | None = None) -> None:
    """``folder``: ``<project>/assets/<kind>/<name>``; ``layout``: the sheet's SheetLayout; ``rgba``: its pixels."""
    image = np.asarray(Image.open(folder / f"{name}.png").convert("RGBA"))  # indexed when it has few colours
    assert image.shape == (layout.size[1], layout.size[0], 4)
    if rgba is not None:
        assert np.array_equal(image, rgba)
    aseprite = json.loads((folder / f"{name}.json").read_text())
    aseprite_rules.check(aseprite)
    assert [tag["name"] for tag in aseprite["meta"]["frameTags"]] == [a.name for a in layout.animations]
    atlas = ron_subset.loads((folder / f"{name}.atlas.ron").read_text())
    textures = [(t["min"], t["max"]) for t in atlas["textures"]]
    if layout.grid:
        _, oracle = bevy_oracle.from_grid(layout.cell, layout.columns, layout.rows, (layout.padding,) * 2,
                                          (layout.offset,) * 2)
        assert textures == oracle
    assert textures == [((r.x, r.y), (r.right, r.bottom)) for r in layout.rects]
    sprite = ron_subset.loads((folder / f"{name}.sprite.ron").read_text())
    assert sprite["image"] == f"{name}.png" and sprite["tile_size"] == layout.cell
    for animation in layout.animations:
        assert sprite["animations"][animation.name]["indices"] == layout.atlas_indices(animation)
    (collection,) = ron_subset.loads((folder / f"{name}.assets.ron").read_text())
    assert collection[f"{name}.image"]["path"] == f"{folder.parent.name}/{name}/{name}.png"
    golden = (DATA / "bevy" / "bevy_pixel_dark_with_meta.png.meta").read_bytes()
    assert (folder / f"{name}.png.meta").read_bytes() == golden
