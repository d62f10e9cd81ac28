"""Bevy export files without Bevy: golden RON and .meta, RON read back and checked against the from_grid oracle,
the Aseprite JSON against a JSON Schema plus its cross-field rules, the PNG, the Rust snippet's numbers, and how
the project is found.

Golden files live in tests/data/bevy; after a deliberate format change, rewrite them with
``DGX_PIXELS_UPDATE_GOLDEN=1`` and review the diff.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from PIL import Image

import aseprite_rules
import bevy_oracle
import ron_subset
from dgx_pixels.sheets import tileset
from dgx_pixels.sheets.align import align_frames
from dgx_pixels.sheets.assemble import assemble_sheet
from dgx_pixels.common.errors import InputError
from dgx_pixels.export.bevy import _scan_for_bevy, cargo_depends_on_bevy, find_bevy_project, render_files, rust_snippet
from dgx_pixels.export.aseprite import aseprite_array
from dgx_pixels.sheets.frames import parse_tag_spec
from sheet_samples import to_uint8, walk_cycle
from paths import BEVY_STUB, DATA

BEVY_DATA = DATA / "bevy"


def _knight(**options):
    frames, spec = walk_cycle()
    return assemble_sheet(frames, parse_tag_spec(spec), **options)


def _tiles(count=16):
    import torch
    generator = torch.Generator().manual_seed(3)
    tiles = [torch.rand(8, 8, 4, generator=generator) for _ in range(count)]
    for tile in tiles:
        tile[..., 3] = 1.0
    return tileset.assemble_tileset(tiles, spacing=1, margin=2, autotile="corner 16")


CASES = {
    "knight": lambda: _knight(padding=1),
    "knight_trimmed": lambda: _knight(trim=True, dedupe=True, padding=1, layout="packed"),
    "knight_packed_extruded": lambda: _knight(layout="packed", columns=4, padding=2, extrude=1),
    "grass": _tiles,
}


@pytest.fixture(scope="module")
def exports():
    made = {name: make() for name, make in CASES.items()}
    return {name: (sheet_and_layout, render_files(*sheet_and_layout, name))
            for name, sheet_and_layout in made.items()}


def _check_golden(path: Path, data: bytes) -> None:
    if os.environ.get("DGX_PIXELS_UPDATE_GOLDEN"):
        path.write_bytes(data)
    assert path.exists(), f"no golden file {path.name}; create it with DGX_PIXELS_UPDATE_GOLDEN=1 and review it"
    assert data.decode() == path.read_text(), f"{path.name} changed; review and update the golden file"


# ---------------------------------------------------------------------------------------------------- golden
@pytest.mark.parametrize("case, suffix", [
    ("knight", ".sprite.ron"), ("knight", ".atlas.ron"), ("knight", ".assets.ron"),
    ("knight_trimmed", ".sprite.ron"), ("knight_trimmed", ".assets.ron"),
    ("grass", ".assets.ron"), ("grass", ".tsx"),
])
def test_files_match_their_golden_copies(exports, case, suffix):
    _, files = exports[case]
    _check_golden(BEVY_DATA / f"{case}{suffix}", files[f"{case}{suffix}"])


def test_png_meta_is_bevys_own_nearest_sampler_example(exports):
    _, files = exports["knight"]
    golden = (BEVY_DATA / "bevy_pixel_dark_with_meta.png.meta").read_bytes()  # copied from Bevy v0.19.1
    assert files["knight.png.meta"] == golden
    meta = ron_subset.loads(golden.decode())
    assert meta["asset"]["$name"] == "Load" and meta["asset"]["loader"] == "bevy_image::image_loader::ImageLoader"
    sampler = meta["asset"]["settings"]["sampler"]
    assert sampler["$name"] == "Descriptor" and sampler["$items"][0]["$name"] == "ImageSamplerDescriptor"
    assert {sampler["$items"][0][key] for key in ("mag_filter", "min_filter", "mipmap_filter")} == {"Nearest"}


# ---------------------------------------------------------------------------------------------------- files
def test_png_is_indexed_optimised_and_carries_no_metadata(exports):
    (sheet, layout), files = exports["knight"]
    data = files["knight.png"]
    chunks, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        chunks.append(data[position + 4:position + 8].decode())
        position += 12 + length
    assert chunks[0] == "IHDR" and chunks[-1] == "IEND"
    assert not {"tEXt", "iTXt", "zTXt", "eXIf"} & set(chunks)
    image = Image.open(io.BytesIO(data))
    assert image.mode == "P" and image.size == layout.size  # a knight of a few colours: a palette and its alpha
    assert np.array_equal(np.asarray(image.convert("RGBA")), to_uint8(sheet))


@pytest.mark.parametrize("case", CASES)
def test_atlas_ron_lists_exactly_the_rects_bevy_uses(exports, case):
    (_, layout), files = exports[case]
    atlas = ron_subset.loads(files[f"{case}.atlas.ron"].decode())
    assert atlas["size"] == layout.size  # the real image size (from_grid's own leaves out the offset)
    textures = [(t["min"], t["max"]) for t in atlas["textures"]]
    if layout.grid:
        size, oracle = bevy_oracle.from_grid(layout.cell, layout.columns, layout.rows, (layout.padding,) * 2,
                                             (layout.offset,) * 2)
        assert textures == oracle
        assert size == (layout.size[0] - 2 * layout.offset, layout.size[1] - 2 * layout.offset)
    else:
        assert textures == [((r.x, r.y), (r.right, r.bottom)) for r in layout.rects]


@pytest.mark.parametrize("case", ["knight", "knight_trimmed", "knight_packed_extruded"])
def test_sprite_ron_animations_show_the_right_frames_with_the_pivot_on_the_entity(exports, case):
    (sheet, layout), files = exports[case]
    manifest = ron_subset.loads(files[f"{case}.sprite.ron"].decode())
    assert manifest["image"] == f"{case}.png" and manifest["tile_size"] == layout.cell
    image = to_uint8(sheet)
    cells, _ = align_frames(walk_cycle()[0], "baseline")
    textures = ron_subset.loads(files[f"{case}.atlas.ron"].decode())["textures"]
    for animation in layout.animations:
        entry = manifest["animations"][animation.name]
        assert entry["direction"] == animation.loop and entry["pivot"] == layout.pivot
        assert (entry["first"], entry["last"]) == (entry["indices"][0], entry["indices"][-1])
        for position, index, duration in zip(range(animation.start, animation.end + 1), entry["indices"],
                                              entry["durations_ms"]):
            rect = textures[index]["min"], textures[index]["max"]
            shown = bevy_oracle.render_sprite(image, rect)
            anchor = manifest["anchors"][index] if manifest["trims"] else manifest["anchor"]
            trim = manifest["trims"][index] if manifest["trims"] else (0, 0, *layout.cell)
            assert duration == layout.frames[position].duration_ms
            # every opaque pixel lands where it sits relative to the pivot in the untrimmed cell
            cell = to_uint8(cells[position])
            ys, xs = np.nonzero(shown[..., 3])
            for y, x in zip(ys, xs):
                world = bevy_oracle.pixel_world_position(shown.shape[1::-1], anchor, (x, y))
                cell_x, cell_y = trim[0] + x, trim[1] + y
                assert world == pytest.approx((cell_x - layout.pivot[0], layout.pivot[1] - cell_y))
                assert np.array_equal(shown[y, x], cell[cell_y, cell_x])


@pytest.mark.parametrize("case", CASES)
def test_asset_loader_collection_uses_its_exact_field_names(exports, case):
    (_, layout), files = exports[case]
    (collection,) = ron_subset.loads(files[f"{case}.assets.ron"].decode())
    image = collection[f"{case}.image"]
    folder = "tilesets" if case == "grass" else "sprites"
    assert image == {"$name": "Image", "path": f"{folder}/{case}/{case}.png", "sampler": "Nearest"}
    if not layout.grid:
        assert f"{case}.layout" not in collection  # bevy_asset_loader has no form for arbitrary rects
        return
    grid = collection[f"{case}.layout"]
    allowed = {"$name", "tile_size_x", "tile_size_y", "columns", "rows", "padding_x", "padding_y", "offset_x",
               "offset_y"}  # StandardDynamicAsset::TextureAtlasLayout (deny_unknown_fields)
    assert set(grid) <= allowed and grid["$name"] == "TextureAtlasLayout"
    _, rects = bevy_oracle.from_grid((grid["tile_size_x"], grid["tile_size_y"]), grid["columns"], grid["rows"],
                                     (grid.get("padding_x", 0), grid.get("padding_y", 0)),
                                     (grid.get("offset_x", 0), grid.get("offset_y", 0)))
    assert rects == [((r.x, r.y), (r.right, r.bottom)) for r in layout.rects]


@pytest.mark.parametrize("case", CASES)
def test_aseprite_json_follows_the_schema_and_its_cross_field_rules(exports, case):
    (_, layout), files = exports[case]
    data = json.loads(files[f"{case}.json"])
    aseprite_rules.check(data)
    assert [tag["name"] for tag in data["meta"]["frameTags"]] == [a.name for a in layout.animations]
    pivot = data["meta"]["slices"][0]["keys"][0]["pivot"]
    assert (pivot["x"], pivot["y"]) == layout.pivot


@pytest.mark.parametrize("broken, rule", [
    (lambda d: d["meta"]["frameTags"][0].update({"direction": "sideways"}), "schema"),
    (lambda d: d["meta"]["frameTags"][0].update({"repeat": 1}), "schema"),
    (lambda d: d["frames"][0].update({"duration": 0}), "schema"),
    (lambda d: d["meta"]["frameTags"][0].update({"to": 99}), "invariant"),
    (lambda d: d["meta"]["frameTags"][0].update({"from": 3, "to": 2}), "invariant"),
])
def test_the_schema_and_rules_reject_broken_aseprite_data(exports, broken, rule):
    data = json.loads(exports["knight"][1]["knight.json"])
    broken(data)
    with pytest.raises(jsonschema.ValidationError if rule == "schema" else AssertionError):
        aseprite_rules.check(data)


def test_once_tags_repeat_one_time_as_a_string():
    _, layout = assemble_sheet(walk_cycle()[0][:3], parse_tag_spec("jump:3@90ms once"))
    (tag,) = aseprite_array(layout, "x.png", "x")["meta"]["frameTags"]
    assert tag == {"name": "jump", "from": 0, "to": 2, "direction": "forward", "repeat": "1"}


def _blank(layout):
    return np.zeros((layout.size[1], layout.size[0], 4), np.uint8)


# ---------------------------------------------------------------------------------------------------- snippet
def _from_grid_call(snippet: str):
    match = re.search(r"TextureAtlasLayout::from_grid\(\s*UVec2::new\((\d+), (\d+)\), (\d+), (\d+), "
                      r"(None|Some\(UVec2::splat\((\d+)\)\)), (None|Some\(UVec2::splat\((\d+)\)\)),\s*\)", snippet)
    assert match, snippet
    tile = (int(match[1]), int(match[2]))
    padding = (int(match[6]),) * 2 if match[6] else None
    offset = (int(match[8]),) * 2 if match[8] else None
    return bevy_oracle.from_grid(tile, int(match[3]), int(match[4]), padding, offset)


@pytest.mark.parametrize("case", ["knight", "knight_packed_extruded", "grass"])
def test_snippet_from_grid_call_makes_the_exported_rects(exports, case):
    (_, layout), _ = exports[case]
    snippet = rust_snippet(layout, case, f"sprites/{case}/{case}.png")
    _, rects = _from_grid_call(snippet)
    assert rects == [((r.x, r.y), (r.right, r.bottom)) for r in layout.rects]
    assert f'asset_server.load("sprites/{case}/{case}.png")' in snippet
    assert "Sprite::from_atlas_image(image, TextureAtlas { layout, index: animation.frames[0].0 })" in snippet
    anchor = re.search(r"Anchor\(Vec2::new\(([-0-9.]+), ([-0-9.]+)\)\)", snippet)
    assert (float(anchor[1]), float(anchor[2])) == pytest.approx(layout.anchor(), abs=1e-6)
    for animation in layout.animations:
        const = re.search(rf"const {case.upper()}_{animation.name.upper()}: &\[\(usize, u64\)\] = &\[(.*)\];",
                          snippet)
        pairs = [tuple(map(int, pair)) for pair in re.findall(r"\((\d+), (\d+)\)", const[1])]
        assert [index for index, _ in pairs] == layout.play_order(animation)


def test_trimmed_snippet_builds_the_rects_and_moves_the_anchor_per_frame(exports):
    (_, layout), _ = exports["knight_trimmed"]
    snippet = rust_snippet(layout, "hero", "sprites/hero/hero.png")
    rects = re.search(r"const HERO_RECTS: &\[\(u32, u32, u32, u32\)\] = &\[(.*)\];", snippet)[1]
    assert [tuple(map(int, r)) for r in re.findall(r"\((\d+), (\d+), (\d+), (\d+)\)", rects)] == \
        [(r.x, r.y, r.right, r.bottom) for r in layout.rects]
    assert "TextureAtlasLayout::new_empty(UVec2::new(" in snippet and "atlas.add_texture(URect::new(" in snippet
    assert "*anchor = Anchor(Vec2::new(x, y));" in snippet


# ---------------------------------------------------------------------------------------------------- project
@pytest.mark.parametrize("cargo", [
    '[package]\nname = "g"\n\n[dependencies]\nbevy = "0.19"\n',
    '[package]\nname = "g"\n\n[dependencies.bevy]\nversion = "0.19"\nfeatures = ["file_watcher"]\n',
    '[workspace]\nmembers = ["game"]\n\n[workspace.dependencies]\nbevy = { version = "0.19" }\n',
    '[dependencies]\nengine = { package = "bevy", version = "0.19" }\n',
    "[target.'cfg(unix)'.dependencies]\nbevy = \"0.19\"\n",
])
def test_a_bevy_dependency_is_recognised_in_every_table_form(cargo):
    assert cargo_depends_on_bevy(cargo)
    assert _scan_for_bevy(cargo)  # the Python 3.10 fallback agrees


def test_other_crates_are_not_bevy():
    cargo = '[package]\nname = "bevy_like"\n\n[dependencies]\nbevy_ecs = "0.19"\nserde = "1"\n# bevy = "0.19"\n'
    assert not cargo_depends_on_bevy(cargo) and not _scan_for_bevy(cargo)


def test_the_project_is_found_from_inside_it_and_missing_ones_are_explained(tmp_path):
    game = tmp_path / "game"
    (game / "assets" / "sprites").mkdir(parents=True)
    (game / "Cargo.toml").write_text('[dependencies]\nbevy = "0.19"\n')
    assert find_bevy_project(game / "assets" / "sprites", [tmp_path]) == game
    (tmp_path / "tool").mkdir()
    (tmp_path / "tool" / "Cargo.toml").write_text('[dependencies]\nclap = "4"\n')
    with pytest.raises(InputError, match=r"tool/Cargo.toml does not depend on bevy"):
        find_bevy_project(tmp_path / "tool", [tmp_path])
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "Cargo.toml").write_text('[dependencies\nbevy = "0.19"\n')
    with pytest.raises(InputError, match=r"Cargo.toml is not valid TOML \(.*line 1"):
        find_bevy_project(tmp_path / "broken", [tmp_path])
    with pytest.raises(InputError, match="is not a folder"):
        find_bevy_project(tmp_path / "nowhere", [tmp_path])


def test_an_image_that_does_not_match_its_layout_is_refused(exports):
    (_, layout), _ = exports["knight"]
    with pytest.raises(InputError, match=r"the sheet image is 3x2 but its layout says"):
        render_files(np.zeros((2, 3, 4), np.uint8), layout, "knight")
    with pytest.raises(InputError, match="asset name 'my knight'"):
        render_files(_blank(layout), layout, "my knight")


def test_the_snippet_compiles_against_the_bevy_api(exports, tmp_path):
    """Type-checks every snippet form with rustc against tests/bevy_stub (Bevy 0.19's signatures; crates cannot
    be fetched here), as a 2021-edition crate like most games."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is not installed")
    crate = tmp_path / "game"
    (crate / "src").mkdir(parents=True)
    stub = BEVY_STUB
    (crate / "Cargo.toml").write_text(f'[package]\nname = "game"\nversion = "0.1.0"\nedition = "2021"\n\n'
                                      f'[dependencies]\nbevy = {{ path = "{stub.as_posix()}" }}\n')
    modules = []
    for case in ("knight", "knight_trimmed", "grass"):
        (_, layout), _ = exports[case]
        modules.append(f"mod {case} {{\n{rust_snippet(layout, case, f'sprites/{case}/{case}.png')}}}\n")
    (crate / "src" / "main.rs").write_text("#![deny(warnings)]\n#![allow(dead_code)]\n" + "\n".join(modules)
                                          + "\nfn main() {}\n")
    result = subprocess.run([cargo, "check", "--offline", "--quiet"], cwd=crate, capture_output=True, text=True,
                            env=dict(os.environ, CARGO_TARGET_DIR=str(tmp_path / "target")), timeout=300)
    assert result.returncode == 0, result.stderr
