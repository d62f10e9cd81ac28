"""Every engine target loaded by that engine's own reader, not ours: Godot resources by godot-parser, Phaser 3/4 and
PixiJS 8 from npm under node, Unity's .meta by unityparser, LDtk by ldtkpy (the LDtk JSON schema's own bindings);
each checked field by field against the layout (rectangles, durations, loops, pivots, filters).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from godot_parser import load as godot_load
from ldtkpy.api import ldtk_json_from_dict
from PIL import Image
from unityparser import UnityDocument

import web_engines
from dgx_pixels.common.errors import InputError
from dgx_pixels.export.core import TARGETS, ExportOptions, export_asset, export_assets
from dgx_pixels.export.ldtk import identifier
from dgx_pixels.export.unity import internal_id
from dgx_pixels.sheets import tileset
from dgx_pixels.sheets.assemble import assemble_sheet
from dgx_pixels.sheets.frames import parse_tag_spec
from dgx_pixels.sheets.tileset import BLOB_BITS, CORNER_BITS
from sheet_samples import walk_cycle

SPEC = "idle:4@120ms, walk_E:4@80ms pingpong, attack:2@150ms once"
LOOPS = {"idle": True, "walk_E": True, "attack": False}
PLAY = {"idle": [0, 1, 2, 3], "walk_E": [4, 5, 6, 7, 6, 5], "attack": [8, 9]}  # positions in the order shown


def make_project(tmp_path: Path) -> Path:
    """A folder that is a Godot and a Unity project at once."""
    project = tmp_path / "game"
    (project / "ProjectSettings").mkdir(parents=True)
    (project / "project.godot").write_text("config_version=5\n")
    (project / "ProjectSettings" / "ProjectVersion.txt").write_text("m_EditorVersion: 2022.3.20f1\n")
    return project


def knight(**options):
    frames, _ = walk_cycle()
    return assemble_sheet(frames, parse_tag_spec(SPEC), **options)


SHEETS = {
    "grid": lambda: knight(padding=1),
    "trimmed": lambda: knight(trim=True, dedupe=True, padding=1, layout="packed"),
}


@pytest.fixture(params=list(SHEETS))
def exported(request, tmp_path):
    """(sheet, layout, {target: ExportResult}) for one sheet exported to Godot, Phaser, PixiJS and Unity."""
    sheet, layout = SHEETS[request.param]()
    project = make_project(tmp_path)
    results = {target: export_asset(target, sheet, layout, str(project), "hero", [tmp_path])
               for target in ("godot", "phaser", "pixi", "unity")}
    return sheet, layout, results


def cell_rect(layout, position: int) -> dict:
    """Where frame ``position``'s stored pixels are on the sheet and in its cell."""
    frame = layout.frames[position]
    rect = layout.rects[frame.index]
    return {"x": rect.x, "y": rect.y, "w": rect.w, "h": rect.h, "trim_x": frame.trim.x, "trim_y": frame.trim.y}


# ---------------------------------------------------------------------------------------------------- Godot
def _godot_sections(path: Path):
    resource = godot_load(str(path))
    sections = resource.get_sections()
    return resource, sections


def test_godot_sprite_frames_read_by_godot_parser(exported):
    _, layout, results = exported
    folder = results["godot"].asset_dir
    resource, sections = _godot_sections(folder / "hero.tres")
    header = sections[0].header
    assert (header.name, header.attributes["type"], header.attributes["format"]) == ("gd_resource", "SpriteFrames", 3)
    assert header.attributes["load_steps"] == len(sections) - 1  # every ext/sub resource plus the resource
    external = [s for s in sections if s.header.name == "ext_resource"]
    assert [(s.header.attributes["type"], s.header.attributes["path"]) for s in external] == [
        ("Texture2D", "res://assets/sprites/hero/hero.png")]
    atlases = {s.header.attributes["id"]: s for s in sections if s.header.name == "sub_resource"}
    assert all(s.header.attributes["type"] == "AtlasTexture" for s in atlases.values())
    main = sections[-1]
    assert main.header.name == "resource"
    animations = {a["name"]: a for a in main["animations"]}
    assert list(animations) == list(PLAY)
    for name, positions in PLAY.items():
        animation = animations[name]
        assert animation["loop"] is LOOPS[name]
        durations = [layout.frames[p].duration_ms for p in positions]
        assert animation["speed"] == pytest.approx(1000 / min(durations), abs=1e-5)
        assert len(animation["frames"]) == len(positions)
        for position, shown in zip(positions, animation["frames"]):
            assert shown["duration"] * 1000 / animation["speed"] == pytest.approx(layout.frames[position].duration_ms)
            atlas = atlases[shown["texture"].args[0]]
            assert atlas["atlas"].name == "ExtResource" and atlas["atlas"].args == ["1_sheet"]
            want = cell_rect(layout, position)
            assert atlas["region"].args == [want["x"], want["y"], want["w"], want["h"]]
            # margin: the stored pixels' offset in the cell, and what the cell adds around them
            margin = atlas["margin"].args if "margin" in atlas.properties else [0, 0, 0, 0]
            assert margin == [want["trim_x"], want["trim_y"], layout.cell[0] - want["w"], layout.cell[1] - want["h"]]
    assert main["metadata/pivot"].args == [float(v) for v in layout.pivot]
    assert main["metadata/cell_size"].args == list(layout.cell)


def test_godot_scene_and_import_settings(exported):
    _, layout, results = exported
    folder = results["godot"].asset_dir
    _, sections = _godot_sections(folder / "hero.tscn")
    assert sections[0].header.name == "gd_scene" and sections[0].header.attributes["format"] == 3
    assert sections[1].header.attributes["path"] == "res://assets/sprites/hero/hero.tres"
    node = sections[-1]
    assert node.header.attributes["type"] == "AnimatedSprite2D"
    assert node["texture_filter"] == 1  # TEXTURE_FILTER_NEAREST
    assert node["sprite_frames"].args == [sections[1].header.attributes["id"]]
    assert (node["animation"], node["autoplay"], node["centered"]) == ("idle", "idle", False)
    assert node["offset"].args == [-float(layout.pivot[0]), -float(layout.pivot[1])]
    # The .import file is Godot's ConfigFile (INI-like): the importer and pixel-art settings.
    import configparser
    config = configparser.ConfigParser()
    config.read_string((folder / "hero.png.import").read_text())
    assert config["remap"]["importer"] == '"texture"' and config["remap"]["type"] == '"CompressedTexture2D"'
    assert config["deps"]["source_file"] == '"res://assets/sprites/hero/hero.png"'
    params = config["params"]
    assert (params["compress/mode"], params["mipmaps/generate"], params["detect_3d/compress_to"],
            params["process/fix_alpha_border"]) == ("0", "false", "0", "false")  # the PNG's pixels, as they are


@pytest.mark.parametrize("order, mode, bits", [("corner 16", 1, CORNER_BITS), ("blob 47", 0, BLOB_BITS)])
def test_godot_tileset_terrains(tmp_path, order, mode, bits):
    count = 16 if order == "corner 16" else 47
    generator = torch.Generator().manual_seed(5)
    tiles = [torch.rand(8, 8, 4, generator=generator) for _ in range(count)]
    for tile in tiles:
        tile[..., 3] = 1.0
    sheet, layout = tileset.assemble_tileset(tiles, spacing=1, margin=2, autotile=order)
    project = make_project(tmp_path)
    result = export_asset("godot", sheet, layout, str(project), "grass", [tmp_path])
    assert {path.name for path in result.files} == {"grass.png", "grass.png.import", "grass.tres"}
    _, sections = _godot_sections(result.asset_dir / "grass.tres")
    assert sections[0].header.attributes["type"] == "TileSet"
    source = next(s for s in sections if s.header.name == "sub_resource")
    assert source.header.attributes["type"] == "TileSetAtlasSource"
    assert source["margins"].args == [2, 2] and source["separation"].args == [1, 1]
    assert source["texture_region_size"].args == [8, 8]
    main = sections[-1]
    assert main["tile_size"].args == [8, 8] and main["terrain_set_0/mode"] == mode
    assert main["terrain_set_0/terrain_0/name"] == "grass"
    assert main["sources/0"].args == [source.header.attributes["id"]]
    peering = {"top_side": "N", "top_right_corner": "NE", "right_side": "E", "bottom_right_corner": "SE",
               "bottom_side": "S", "bottom_left_corner": "SW", "left_side": "W", "top_left_corner": "NW"}
    for tile in layout.tiles:
        key = f"{tile.index % layout.columns}:{tile.index // layout.columns}/0"
        assert source[key] == 0 and source[f"{key}/terrain_set"] == 0
        assert source[f"{key}/custom_data_0"] is tile.seamless
        set_bits = {peering[p.rsplit("/", 1)[1]] for p in source.properties if p.startswith(f"{key}/terrains_peering")}
        assert sum(bits[name] for name in set_bits) == tile.mask and set_bits <= set(bits)


# ---------------------------------------------------------------------------------------------------- Phaser
@pytest.mark.parametrize("version", list(web_engines.PHASER_PACKAGES))
def test_phaser_loads_frames_and_builds_every_animation(exported, version):
    _, layout, results = exported
    loaded = web_engines.phaser_load(version, results["phaser"].asset_dir / "hero.json", layout.size)
    assert list(loaded["frames"]) == [str(p) for p in range(len(layout.frames))]
    for position in range(len(layout.frames)):
        frame, want = loaded["frames"][str(position)], cell_rect(layout, position)
        assert (frame["x"], frame["y"], frame["w"], frame["h"]) == (want["x"], want["y"], want["w"], want["h"])
        assert (frame["sourceWidth"], frame["sourceHeight"]) == layout.cell
        assert (frame["trimX"], frame["trimY"]) == (want["trim_x"], want["trim_y"])
        assert frame["customPivot"] is True  # a sprite showing the frame takes the pivot as its origin
        assert frame["pivotX"] * layout.cell[0] == pytest.approx(layout.pivot[0], abs=1e-4)
        assert frame["pivotY"] * layout.cell[1] == pytest.approx(layout.pivot[1], abs=1e-4)
    animations = {a["key"]: a for a in loaded["animations"]}
    assert list(animations) == list(PLAY)
    for animation in layout.animations:
        built = animations[animation.name]
        positions = list(range(animation.start, animation.end + 1))
        assert [f["frame"] for f in built["frames"]] == [str(p) for p in positions]
        assert [f["duration"] for f in built["frames"]] == [layout.frames[p].duration_ms for p in positions]
        assert built["repeat"] == (-1 if LOOPS[animation.name] else 0)
        assert built["yoyo"] is (animation.loop == "pingpong")  # Phaser plays pingpong tags as yoyo


# ---------------------------------------------------------------------------------------------------- PixiJS
def test_pixi_spritesheet_textures_anchors_and_animations(exported):
    _, layout, results = exported
    loaded = web_engines.pixi_load(results["pixi"].asset_dir / "hero.pixi.json", layout.size)
    assert loaded["recognised"] is True  # Assets.load hands the file to the spritesheet parser
    data = json.loads((results["pixi"].asset_dir / "hero.pixi.json").read_text())
    keys = list(data["frames"])
    assert list(loaded["textures"]) == keys
    for position, key in enumerate(keys):
        texture, want = loaded["textures"][key], cell_rect(layout, position)
        assert texture["frame"] == {"x": want["x"], "y": want["y"], "w": want["w"], "h": want["h"]}
        assert texture["orig"] == {"x": 0, "y": 0, "w": layout.cell[0], "h": layout.cell[1]}
        if layout.trimmed:
            assert texture["trim"] == {"x": want["trim_x"], "y": want["trim_y"], "w": want["w"], "h": want["h"]}
        assert texture["anchor"]["x"] * layout.cell[0] == pytest.approx(layout.pivot[0], abs=1e-4)
        assert texture["anchor"]["y"] * layout.cell[1] == pytest.approx(layout.pivot[1], abs=1e-4)
    assert list(loaded["animations"]) == list(PLAY)
    for name, positions in PLAY.items():
        played = loaded["animations"][name]
        assert played["keys"] == [keys[p] for p in positions] and played["sameTextures"]
        assert played["durations"] == [layout.frames[p].duration_ms for p in positions]
        assert played["loop"] is LOOPS[name]


def test_pixi_reads_the_phaser_file_frames_too(exported):
    """One Aseprite JSON serves both web engines: PixiJS finds every frame by the same names, with its anchor."""
    _, layout, results = exported
    loaded = web_engines.pixi_load(results["phaser"].asset_dir / "hero.json", layout.size)
    assert loaded["recognised"] is True
    for position in range(len(layout.frames)):
        want, texture = cell_rect(layout, position), loaded["textures"][str(position)]
        assert texture["frame"] == {k: want[k] for k in ("x", "y", "w", "h")}
        assert texture["anchor"]["y"] * layout.cell[1] == pytest.approx(layout.pivot[1], abs=1e-4)


# ---------------------------------------------------------------------------------------------------- Unity
def test_unity_meta_read_by_unityparser(exported, tmp_path):
    _, layout, results = exported
    meta_path = results["unity"].asset_dir / "hero.png.meta"
    assert results["unity"].asset_dir == tmp_path / "game" / "Assets" / "sprites" / "hero"
    document = UnityDocument.load_yaml(str(meta_path))
    meta = document.entry
    importer = meta["TextureImporter"]
    assert meta["fileFormatVersion"] == "2" and len(meta["guid"]) == 32
    assert importer["textureType"] == "8" and importer["spriteMode"] == "2"  # Sprite (2D and UI), Multiple
    assert importer["textureSettings"]["filterMode"] == "0"  # Point
    assert importer["mipmaps"]["enableMipMap"] == "0"
    assert importer["spritePixelsToUnits"] == str(layout.cell[1])
    assert {p["buildTarget"]: p["textureCompression"] for p in importer["platformSettings"]} == {
        "DefaultTexturePlatform": "0", "Standalone": "0"}  # uncompressed
    sprites = importer["spriteSheet"]["sprites"]
    assert [s["name"] for s in sprites] == [f"hero_{p}" for p in range(len(layout.frames))]
    height = layout.size[1]
    for position, sprite in enumerate(sprites):
        want = cell_rect(layout, position)
        rect = {k: int(sprite["rect"][k]) for k in ("x", "y", "width", "height")}
        assert rect == {"x": want["x"], "y": height - want["y"] - want["h"], "width": want["w"], "height": want["h"]}
        assert sprite["alignment"] == "9"  # custom pivot
        pivot = (float(sprite["pivot"]["x"]), float(sprite["pivot"]["y"]))
        # the pivot, in the sprite's rectangle from its bottom-left, is the layout's pivot in the cell
        assert want["trim_x"] + pivot[0] * want["w"] == pytest.approx(layout.pivot[0], abs=1e-4)
        assert want["trim_y"] + (1 - pivot[1]) * want["h"] == pytest.approx(layout.pivot[1], abs=1e-4)
        assert int(sprite["internalID"]) == internal_id(sprite["name"])
    table = importer["spriteSheet"]["nameFileIdTable"]
    assert {name: int(value) for name, value in table.items()} == {s["name"]: int(s["internalID"]) for s in sprites}
    assert len({s["internalID"] for s in sprites}) == len(sprites)


def test_unity_keeps_the_guid_unity_gave_the_texture(tmp_path):
    sheet, layout = knight()
    project = make_project(tmp_path)
    meta = export_asset("unity", sheet, layout, str(project), "hero", [tmp_path]).asset_dir / "hero.png.meta"
    theirs = "0123456789abcdef0123456789abcdef"
    text = meta.read_text()
    meta.write_text(text.replace(UnityDocument.load_yaml(str(meta)).entry["guid"], theirs))
    sheet[0, 0] = torch.tensor([1.0, 0.0, 0.0, 1.0])  # a changed sheet: the files are rewritten
    result = export_asset("unity", sheet, layout, str(project), "hero", [tmp_path])
    assert UnityDocument.load_yaml(str(meta)).entry["guid"] == theirs
    assert result.write.history is not None


# ---------------------------------------------------------------------------------------------------- LDtk
def test_ldtk_project_read_by_ldtkpy(tmp_path):
    sheet, layout = knight(cell=(24, 24), padding=1)
    result = export_asset("ldtk", sheet, layout, str(tmp_path), "hero", [tmp_path])
    data = json.loads((result.asset_dir / "hero.ldtk").read_text())
    project = ldtk_json_from_dict(data)
    [definition] = project.defs.tilesets
    assert definition.rel_path == "hero.png" and definition.tile_grid_size == 24
    assert (definition.px_wid, definition.px_hei) == layout.size
    assert (definition.spacing, definition.padding) == (layout.padding, layout.offset)
    assert (definition.c_wid, definition.c_hei) == (layout.columns, layout.rows)
    [enum] = project.defs.enums
    assert enum.uid == definition.tags_source_enum_uid and enum.identifier == "HeroAnimation"
    assert [v.id for v in enum.values] == ["Idle", "Walk_E", "Attack"]  # LDtk's capitalised identifiers
    tags = {tag.enum_value_id: tag.tile_ids for tag in definition.enum_tags}
    for animation in layout.animations:
        assert tags[identifier(animation.name)] == sorted(set(layout.atlas_indices(animation)))
    custom = {entry.tile_id: json.loads(entry.data) for entry in definition.custom_data}
    assert {tile: value["duration_ms"] for tile, value in custom.items()} == {
        frame.index: frame.duration_ms for frame in layout.frames}
    assert len(project.levels) == 1 and project.json_version == "1.5.3"


def test_ldtk_tileset_masks_and_refusals(tmp_path):
    generator = torch.Generator().manual_seed(7)
    tiles = [torch.rand(8, 8, 4, generator=generator) for _ in range(16)]
    sheet, layout = tileset.assemble_tileset(tiles, spacing=1, autotile="corner 16")
    result = export_asset("ldtk", sheet, layout, str(tmp_path), "grass", [tmp_path])
    [definition] = ldtk_json_from_dict(json.loads((result.asset_dir / "grass.ldtk").read_text())).defs.tilesets
    tagged = {tile: tag.enum_value_id for tag in definition.enum_tags for tile in tag.tile_ids}
    assert tagged == {tile.index: f"mask_{tile.mask}" for tile in layout.tiles}
    trimmed_sheet, trimmed = knight(trim=True)
    with pytest.raises(InputError, match="untrimmed"):
        export_asset("ldtk", trimmed_sheet, trimmed, str(tmp_path), "hero", [tmp_path])


# ---------------------------------------------------------------------------------------------------- Aseprite
@pytest.mark.parametrize("form", ["array", "hash"])
@pytest.mark.parametrize("names", ["number", "aseprite"])
def test_aseprite_forms_and_frame_names(tmp_path, form, names):
    sheet, layout = knight(trim=True)
    result = export_asset("aseprite", sheet, layout, str(tmp_path), "hero", [tmp_path],
                          options=ExportOptions(aseprite_form=form, frame_names=names))
    data = json.loads((result.asset_dir / "hero.json").read_text())
    expected = [str(p) if names == "number" else f"hero {p}.png" for p in range(len(layout.frames))]
    if form == "array":
        assert [frame["filename"] for frame in data["frames"]] == expected
    else:
        assert list(data["frames"]) == expected
    assert [(t["name"], t["from"], t["to"], t["direction"], t.get("repeat")) for t in data["meta"]["frameTags"]] == [
        ("idle", 0, 3, "forward", None), ("walk_E", 4, 7, "pingpong", None), ("attack", 8, 9, "forward", "1")]


# ---------------------------------------------------------------------------------------------------- one core
def test_every_target_writes_through_the_safe_exporter(tmp_path):
    sheet, layout = knight(cell=(24, 24))
    project = make_project(tmp_path)
    (project / "Cargo.toml").write_text('[package]\nname = "game"\n[dependencies]\nbevy = "0.19"\n')
    for target in TARGETS:
        with pytest.raises(InputError, match="outside|allowed"):  # the roots hold for every target
            export_asset(target, sheet, layout, "/etc", "hero", [tmp_path])
        first = export_asset(target, sheet, layout, str(project), "hero", [tmp_path])
        assert all(path.is_file() and path.parent == first.asset_dir for path in first.files)
        again = export_asset(target, sheet, layout, str(project), "hero", [tmp_path])
        assert set(again.write.unchanged) == set(again.files) and again.write.history is None
    for target in ("godot", "unity", "bevy"):  # engines with a project file refuse a plain folder
        plain = tmp_path / "plain"
        plain.mkdir(exist_ok=True)
        with pytest.raises(InputError, match="no .* project"):
            export_asset(target, sheet, layout, str(plain), "hero", [tmp_path])


def test_two_targets_that_disagree_on_a_file_write_nothing(tmp_path):
    sheet, layout = knight()
    with pytest.raises(InputError, match="both write"):
        export_assets(["bevy", "phaser"], sheet, layout, str(tmp_path), "hero", [tmp_path],
                      options=ExportOptions(require_project=False))
    assert not (tmp_path / "assets").exists()
    with pytest.raises(InputError, match="both write"):  # the Phaser file is Aseprite's with anchors
        export_assets(["phaser", "aseprite"], sheet, layout, str(tmp_path), "hero", [tmp_path])
    results = export_assets(["phaser", "pixi", "ldtk"], sheet, layout, str(tmp_path), "hero", [tmp_path])
    assert [r.target for r in results] == ["phaser", "pixi", "ldtk"]


# ---------------------------------------------------------------------------------------------------- PNG
def test_exported_png_is_indexed_and_decodes_to_the_sheet(exported):
    sheet, _, results = exported
    data = results["godot"].asset_dir.joinpath("hero.png").read_bytes()
    image = Image.open(io.BytesIO(data))
    assert image.mode in ("P", "L", "LA")  # a palette (or greyscale when oxipng finds it smaller)
    expected = (sheet.clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    assert np.array_equal(np.asarray(image.convert("RGBA")), expected)
    assert b"tEXt" not in data and b"iTXt" not in data


def test_unity_never_reads_or_writes_through_a_link_at_its_meta(tmp_path):
    sheet, layout = knight()
    project = make_project(tmp_path)
    folder = project / "Assets" / "sprites" / "hero"
    folder.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("guid: 0123456789abcdef0123456789abcdef\n")
    (folder / "hero.png.meta").symlink_to(secret)
    with pytest.raises(InputError, match="is a symbolic link"):
        export_asset("unity", sheet, layout, str(project), "hero", [tmp_path])
    assert secret.read_text() == "guid: 0123456789abcdef0123456789abcdef\n" and not (folder / "hero.png").exists()
    (folder / "hero.png.meta").unlink()
    (folder / "hero.png.meta").write_bytes(b"guid: " + b"a" * (2 << 20))  # not a .meta Unity wrote
    with pytest.raises(InputError, match="hero.png.meta read back by the export may be at most"):
        export_asset("unity", sheet, layout, str(project), "hero", [tmp_path])
