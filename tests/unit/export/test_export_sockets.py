"""Sockets from the poses land on the right pixel of the right frame in every export.

The pose batch knows where the right hand is in every frame (64x64 pose space). Each frame is drawn at half that
size (the native pixel art) with the body where the pose puts it and one magenta pixel at the hand; jumps lift the
feet, so baseline alignment moves frames in their cells, and trim cuts each frame to its opaque box. Each export's
own description of where the hand is, read by that engine's reader, must point at the magenta pixel of the sheet.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from godot_parser import load as godot_load
from ldtkpy.api import ldtk_json_from_dict
from unityparser import UnityDocument

import ron_subset
import web_engines
from dgx_pixels.export.core import export_asset
from dgx_pixels.poses.batch import build_pose_batch
from dgx_pixels.poses.parser import resolve_animations
from dgx_pixels.poses.rig import resolve_directions
from dgx_pixels.sheets.assemble import assemble_sheet

SPACE = 64
NATIVE = 32
HAND = (1.0, 0.0, 1.0, 1.0)
BODY = (0.3, 0.5, 0.8, 1.0)


def _posed_frames():
    batch = build_pose_batch(resolve_animations("walk:4, jump:4"), resolve_directions("right"), SPACE, SPACE)
    scale = NATIVE / SPACE
    images = []
    for tag in batch.frames:
        image = torch.zeros(NATIVE, NATIVE, 4)
        body = next(box for box in tag.hitboxes if box.name == "body")
        left, top = max(0, math.floor(body.x * scale)), max(0, math.floor(body.y * scale))
        right = min(NATIVE, math.ceil(body.right * scale * 0.6 + body.x * scale * 0.4))  # a narrow torso column
        bottom = min(NATIVE, math.ceil(body.bottom * scale))
        image[top:bottom, left:max(left + 1, right)] = torch.tensor(BODY)
        hand = next(socket for socket in tag.sockets if socket.name == "hand_r")
        image[math.floor(hand.y * scale), math.floor(hand.x * scale)] = torch.tensor(HAND)
        images.append(image)
    return images, batch.frames


@pytest.fixture(scope="module")
def sheet_and_layout():
    images, tags = _posed_frames()
    sheet, layout = assemble_sheet(images, tags, align="baseline", trim=True, padding=1, layout="rows")
    assert layout.trimmed and len({(f.trim.x, f.trim.y) for f in layout.frames}) > 1  # frames sit apart in cells
    return sheet, layout


def _is_hand(sheet: torch.Tensor, x: int, y: int) -> bool:
    return bool(torch.allclose(sheet[y, x], torch.tensor(HAND)))


def _cell_to_sheet(rect_x, rect_y, trim_x, trim_y, x, y) -> tuple[int, int]:
    return int(rect_x + x - trim_x), int(rect_y + y - trim_y)


def test_the_sheet_itself(sheet_and_layout):
    sheet, layout = sheet_and_layout
    assert int(torch.all(sheet == torch.tensor(HAND), dim=-1).sum()) == len(layout.frames)
    for frame in layout.frames:
        hand = next(s for s in frame.sockets if s.name == "hand_r")
        rect = layout.rects[frame.index]
        assert _is_hand(sheet, *_cell_to_sheet(rect.x, rect.y, frame.trim.x, frame.trim.y, hand.x, hand.y))


def test_aseprite_and_phaser_slices(sheet_and_layout, tmp_path):
    sheet, layout = sheet_and_layout
    result = export_asset("phaser", sheet, layout, str(tmp_path), "hero", [tmp_path])
    data = json.loads((result.asset_dir / "hero.json").read_text())
    loaded = web_engines.phaser_load("Phaser 3", result.asset_dir / "hero.json", layout.size)  # Phaser's rects
    [hand] = [s for s in data["meta"]["slices"] if s["name"] == "socket_hand_r"]
    assert [key["frame"] for key in hand["keys"]] == list(range(len(layout.frames)))
    for key in hand["keys"]:
        frame = loaded["frames"][str(key["frame"])]
        bounds = key["bounds"]
        assert _is_hand(sheet, *_cell_to_sheet(frame["x"], frame["y"], frame["trimX"], frame["trimY"],
                                               bounds["x"], bounds["y"]))


def test_pixi_frame_sockets(sheet_and_layout, tmp_path):
    sheet, layout = sheet_and_layout
    result = export_asset("pixi", sheet, layout, str(tmp_path), "hero", [tmp_path])
    data = json.loads((result.asset_dir / "hero.pixi.json").read_text())
    loaded = web_engines.pixi_load(result.asset_dir / "hero.pixi.json", layout.size)
    for name, keys in data["animations"].items():
        for key in keys:
            texture = loaded["textures"][key]
            x, y = data["frames"][key]["sockets"]["hand_r"]
            assert _is_hand(sheet, *_cell_to_sheet(texture["frame"]["x"], texture["frame"]["y"],
                                                   texture["trim"]["x"], texture["trim"]["y"], x, y))


def test_godot_socket_metadata(sheet_and_layout, tmp_path):
    sheet, layout = sheet_and_layout
    (tmp_path / "project.godot").write_text("")
    result = export_asset("godot", sheet, layout, str(tmp_path), "hero", [tmp_path])
    sections = godot_load(str(result.asset_dir / "hero.tres")).get_sections()
    atlases = {s.header.attributes["id"]: s for s in sections if s.header.name == "sub_resource"}
    main = sections[-1]
    checked = 0
    for animation in main["animations"]:
        for shown, sockets in zip(animation["frames"], main["metadata/sockets"][animation["name"]]):
            atlas = atlases[shown["texture"].args[0]]
            region = atlas["region"].args
            margin = atlas["margin"].args if "margin" in atlas.properties else [0, 0, 0, 0]
            x, y = sockets["hand_r"].args
            assert _is_hand(sheet, *_cell_to_sheet(region[0], region[1], margin[0], margin[1], x, y))
            checked += 1
    assert checked == len(layout.frames)


def test_unity_user_data_sockets(sheet_and_layout, tmp_path):
    sheet, layout = sheet_and_layout
    (tmp_path / "ProjectSettings").mkdir()
    (tmp_path / "ProjectSettings" / "ProjectVersion.txt").write_text("m_EditorVersion: 6000.0.1f1\n")
    result = export_asset("unity", sheet, layout, str(tmp_path), "hero", [tmp_path])
    importer = UnityDocument.load_yaml(str(result.asset_dir / "hero.png.meta")).entry["TextureImporter"]
    marks = json.loads(importer["userData"])
    height = layout.size[1]
    for sprite in importer["spriteSheet"]["sprites"]:
        rect = {k: float(sprite["rect"][k]) for k in ("x", "y", "width", "height")}
        pivot = (float(sprite["pivot"]["x"]) * rect["width"], float(sprite["pivot"]["y"]) * rect["height"])
        # sprite space: pixels from the pivot, y up, to the pixel's centre
        sx, sy = marks[sprite["name"]]["sockets"]["hand_r"]
        from_left, from_bottom = rect["x"] + pivot[0] + sx, rect["y"] + pivot[1] + sy
        x, y = math.floor(from_left), height - 1 - math.floor(from_bottom)
        assert _is_hand(sheet, x, y), sprite["name"]


def test_bevy_sprite_description_sockets(sheet_and_layout, tmp_path):
    sheet, layout = sheet_and_layout
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "game"\n[dependencies]\nbevy = "0.19"\n')
    result = export_asset("bevy", sheet, layout, str(tmp_path), "hero", [tmp_path])
    description = ron_subset.loads((result.asset_dir / "hero.sprite.ron").read_text())
    rects, trims = layout.rects, description["trims"]
    checked = 0
    for animation in description["animations"].values():
        for index, sockets in zip(animation["indices"], animation["sockets"]):
            x, y = sockets["hand_r"]
            assert _is_hand(sheet, *_cell_to_sheet(rects[index].x, rects[index].y, trims[index][0], trims[index][1],
                                                   x, y))
            checked += 1
    assert checked == len(layout.frames)


def test_ldtk_tile_custom_data_sockets(tmp_path):
    """LDtk reads sheets as grids: the same poses, untrimmed."""
    images, tags = _posed_frames()
    sheet, layout = assemble_sheet(images, tags, align="baseline", padding=1)
    result = export_asset("ldtk", sheet, layout, str(tmp_path), "hero", [tmp_path])
    [definition] = ldtk_json_from_dict(json.loads((result.asset_dir / "hero.ldtk").read_text())).defs.tilesets
    assert len(definition.custom_data) == len(layout.frames)
    for entry in definition.custom_data:
        column, row = entry.tile_id % definition.c_wid, entry.tile_id // definition.c_wid
        left = definition.padding + column * (definition.tile_grid_size + definition.spacing)
        top = definition.padding + row * (definition.tile_grid_size + definition.spacing)
        x, y = json.loads(entry.data)["sockets"]["hand_r"]
        assert _is_hand(sheet, left + x, top + y)


def test_hitboxes_cover_the_body(sheet_and_layout):
    """Every opaque pixel a frame stores lies inside its body hitbox."""
    sheet, layout = sheet_and_layout
    for frame in layout.frames:
        body = next(b for b in frame.hitboxes if b.name == "body")
        rect = layout.rects[frame.index]
        stored = sheet[rect.y:rect.bottom, rect.x:rect.right, 3] > 0
        ys, xs = np.nonzero(stored.numpy())
        cell_x, cell_y = xs + frame.trim.x, ys + frame.trim.y
        assert (cell_x >= body.x).all() and (cell_x < body.right).all()
        assert (cell_y >= body.y).all() and (cell_y < body.bottom).all()
