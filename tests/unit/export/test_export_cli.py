"""The command line: dgx-pixels sheet / tileset / slice / export bevy|recover|history on PNG files."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from pytiled_parser import parse_tileset

import aseprite_rules
from dgx_pixels.cli.main import main
from sheet_samples import figure, save_rgba, walk_cycle


@pytest.fixture
def frame_files(tmp_path):
    paths = []
    for number, frame in enumerate(walk_cycle()[0]):
        paths.append(tmp_path / "frames" / f"f{number:02d}.png")
        paths[-1].parent.mkdir(exist_ok=True)
        save_rgba(frame, paths[-1])
    return paths


def test_sheet_writes_the_png_and_aseprite_json(frame_files, tmp_path, capsys):
    out = tmp_path / "out" / "hero.png"
    assert main(["sheet", *map(str, frame_files), "-o", str(out), "--tags", "idle:4@120ms, walk_E:6 pingpong",
                 "--padding", "1", "--layout", "packed", "--columns", "5"]) == 0
    assert "10 frames of 24x24, 2 animations" in capsys.readouterr().out
    with Image.open(out) as image:
        assert image.size == (5 * 24 + 4, 2 * 24 + 1)
    data = json.loads(out.with_suffix(".json").read_text())
    aseprite_rules.check(data)
    assert data["meta"]["image"] == "hero.png" and data["meta"]["frameTags"][1]["direction"] == "pingpong"


def test_tileset_writes_png_tsx_and_json(tmp_path, capsys):
    tiles = []
    for number in range(4):
        tile = torch.zeros(8, 8, 4)
        tile[..., number % 3] = 1.0
        tile[..., 3] = 1.0
        tiles.append(tmp_path / f"t{number}.png")
        save_rgba(tile, tiles[-1])
    out = tmp_path / "ground.png"
    assert main(["tileset", *map(str, tiles), "-o", str(out), "--spacing", "1", "--margin", "1"]) == 0
    assert "4 tiles, 2 columns; every tile seamless" in capsys.readouterr().out
    parsed = parse_tileset(out.with_suffix(".tsx"))
    assert (parsed.tile_count, parsed.spacing, parsed.margin, parsed.image_width) == (4, 1, 1, 19)
    assert json.loads((tmp_path / "ground.tileset.json").read_text())["tilecount"] == 4


def test_slice_cuts_poses_into_same_size_frames(tmp_path, capsys):
    canvas = torch.zeros(30, 80, 4)
    for number, x in enumerate((2, 28, 54)):
        canvas[2:26, x:x + 24] = figure(lift=number)
    save_rgba(canvas, tmp_path / "poses.png")
    assert main(["slice", str(tmp_path / "poses.png"), "-o", str(tmp_path / "cut")]) == 0
    assert "3 frames of" in capsys.readouterr().out
    cut = sorted((tmp_path / "cut").iterdir())
    assert [p.name for p in cut] == ["poses_000.png", "poses_001.png", "poses_002.png"]
    bottoms = {int(np.nonzero(np.asarray(Image.open(p).convert("RGBA"))[..., 3].max(axis=1))[0].max()) for p in cut}
    assert len(bottoms) == 1  # one baseline


def test_export_bevy_writes_the_project_and_prints_the_snippet(frame_files, tmp_path, capsys):
    game = tmp_path / "game"
    game.mkdir()
    (game / "Cargo.toml").write_text('[dependencies]\nbevy = "0.19"\n')
    arguments = ["export", "bevy", *map(str, frame_files), "--project", str(game), "--name", "hero", "--tags"]
    assert main(arguments + ["idle:4, walk_E:6"]) == 0
    out = capsys.readouterr().out
    assert "written: " in out and "TextureAtlasLayout::from_grid(" in out
    assert (game / "assets" / "sprites" / "hero" / "hero.sprite.ron").exists()
    assert main(arguments + ["idle:4@150ms, walk_E:6"]) == 0
    assert "previous version kept in" in capsys.readouterr().out
    assert main(["export", "history", str(game)]) == 0
    assert "assets/sprites/hero: hero.sprite.ron" in capsys.readouterr().out
    assert main(["export", "recover", str(game)]) == 0
    assert "nothing to recover" in capsys.readouterr().out


def test_command_errors_are_one_clear_line_and_exit_code_2(frame_files, tmp_path, capsys):
    assert main(["sheet", *map(str, frame_files), "-o", str(tmp_path / "x.png"), "--tags", "idle:3"]) == 2
    assert "dgx-pixels sheet: error: the frame tags describe 3 frames but there are 10 images" in \
        capsys.readouterr().err
    assert main(["export", "bevy", str(frame_files[0]), "--project", str(tmp_path), "--name", "x"]) == 2
    assert "no Bevy project at" in capsys.readouterr().err
    assert main(["sheet", str(tmp_path / "missing.png"), "-o", str(tmp_path / "x.png")]) == 2
    assert "missing.png: no such image file" in capsys.readouterr().err


def test_every_export_target_has_its_command():
    from dgx_pixels.cli.export import ENGINE_TARGETS
    from dgx_pixels.export.core import TARGETS
    assert list(ENGINE_TARGETS) == list(TARGETS)


@pytest.mark.parametrize("target, marker, files", [
    ("godot", "project.godot", {"hero.png", "hero.png.import", "hero.tres", "hero.tscn"}),
    ("phaser", None, {"hero.png", "hero.json"}),
    ("pixi", None, {"hero.png", "hero.pixi.json"}),
    ("unity", "ProjectSettings/ProjectVersion.txt", {"hero.png", "hero.png.meta"}),
    ("ldtk", None, {"hero.png", "hero.ldtk"}),
    ("aseprite", None, {"hero.png", "hero.json"}),
])
def test_export_to_each_engine(frame_files, tmp_path, capsys, target, marker, files):
    game = tmp_path / "game"
    game.mkdir()
    arguments = ["export", target, *map(str, frame_files), "--project", str(game), "--name", "hero",
                 "--tags", "idle:4, walk_E:6"]
    if marker:  # refused until the folder is the engine's project, or --any-folder says any folder will do
        assert main(arguments) == 2
        assert f"no {'Godot' if target == 'godot' else 'Unity'} project at" in capsys.readouterr().err
        (game / marker).parent.mkdir(exist_ok=True)
        (game / marker).write_text("")
    assert main(arguments) == 0
    out = capsys.readouterr().out
    folder = game / ("Assets" if target == "unity" else "assets") / "sprites" / "hero"
    assert {path.name for path in folder.iterdir()} == files
    assert out.count("written: ") == len(files) and "hero" in out.split("\n\n", 1)[1]
    with Image.open(folder / "hero.png") as image:
        assert image.mode == "P"  # 8 colours: indexed
    assert main(arguments + ["--rgba", "--no-optimise"]) == 0
    assert "previous version kept in" in capsys.readouterr().out
    with Image.open(folder / "hero.png") as image:
        assert image.mode == "RGBA"


def test_export_options_of_aseprite_and_unity(frame_files, tmp_path):
    assert main(["export", "aseprite", *map(str, frame_files), "--project", str(tmp_path), "--name", "hero",
                 "--form", "hash", "--frame-names", "aseprite"]) == 0
    data = json.loads((tmp_path / "assets" / "sprites" / "hero" / "hero.json").read_text())
    assert list(data["frames"])[:2] == ["hero 0.png", "hero 1.png"]
    assert main(["export", "unity", *map(str, frame_files), "--project", str(tmp_path), "--name", "hero",
                 "--any-folder", "--pixels-per-unit", "16"]) == 0
    meta = (tmp_path / "Assets" / "sprites" / "hero" / "hero.png.meta").read_text()
    assert "  spritePixelsToUnits: 16\n" in meta
