"""What a job brings back: the sheet and its metadata found among its downloaded files, checked, and exported into
a project on this machine exactly as the Bevy Export node would have written it; files named after their node."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from bevy_asset import check_bevy_asset
from dgx_pixels.common.errors import InputError
from dgx_pixels.export.bevy import render_files
from dgx_pixels.export.paths import project_roots
from dgx_pixels.image.png import png_bytes, to_rgba8
from dgx_pixels.remote.client.scheduler import local_names
from dgx_pixels.remote.results import check_export, export_sheet, returned_sheets
from dgx_pixels.sheets.assemble import assemble_sheet
from dgx_pixels.sheets.frames import parse_tag_spec
from dgx_pixels.sheets.metadata import metadata_bytes, sheet_metadata
from sheet_samples import walk_cycle

CARGO = '[package]\nname = "game"\n\n[dependencies]\nbevy = "0.19"\n'


def _job_folder(tmp_path, damage=None):
    """A run folder as the client leaves it: job/sheet.png and job/sheet.json with their manifest entries."""
    frames, spec = walk_cycle()
    sheet, layout = assemble_sheet(frames, parse_tag_spec(spec), padding=1)
    rgba = to_rgba8(sheet)
    metadata = sheet_metadata(layout, "knight", "knight_00001_.png", ("fitted", ["#102030"]))
    if damage:
        damage(metadata)
    files = {"sheet.png": png_bytes(rgba), "sheet.json": metadata_bytes(metadata)}
    (tmp_path / "job").mkdir()
    entries = []
    for name, data in files.items():
        (tmp_path / "job" / name).write_bytes(data)
        server_name = "knight_00001_.png" if name.endswith(".png") else "knight_00001_.sheet.json"
        entries.append({"path": f"job/{name}", "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                        "node": "Sheet", "server_file": server_name})
    return entries, layout, rgba


def _project(tmp_path):
    project = tmp_path / "game"
    project.mkdir()
    (project / "Cargo.toml").write_text(CARGO)
    return project


def test_a_returned_sheet_exports_as_the_node_would_have_written_it(tmp_path):
    entries, layout, rgba = _job_folder(tmp_path)
    (sheet,) = returned_sheets(entries, tmp_path)
    assert sheet.layout == layout and sheet.name == "knight" and sheet.image == tmp_path / "job" / "sheet.png"
    project = _project(tmp_path)
    done = export_sheet(sheet, "bevy", project, project_roots(project))
    folder = project / "assets" / "sprites" / "knight"
    check_bevy_asset(folder, "knight", layout, rgba)
    # byte for byte what the Bevy Export node writes from the same sheet and layout
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == render_files(rgba, layout, "knight")
    assert done.asset_path == "sprites/knight/knight.png" and 'asset_server.load("sprites/knight/knight.png")' \
        in done.snippet
    assert {f["state"] for f in done.files} == {"written"}
    for entry in done.files:
        data = open(entry["path"], "rb").read()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    again = export_sheet(sheet, "bevy", project, project_roots(project), "knight")
    assert {f["state"] for f in again.files} == {"unchanged"} and not again.history


def test_a_second_export_keeps_the_previous_version(tmp_path):
    entries, layout, _ = _job_folder(tmp_path)
    (sheet,) = returned_sheets(entries, tmp_path)
    project = _project(tmp_path)
    export_sheet(sheet, "bevy", project, project_roots(project), "hero")
    (project / "assets" / "sprites" / "hero" / "hero.png").write_bytes(b"changed by hand")
    done = export_sheet(sheet, "bevy", project, project_roots(project), "hero")
    assert done.history and any(f["state"] == "written" for f in done.files)


@pytest.mark.parametrize("damage, message", [
    (lambda m: m.update(image="other_00001_.png"), "which the job did not return"),
    (lambda m: m.update(size=[999, 999]), r"sheet.png is \d+x\d+ but .* says 999x999"),
    (lambda m: m["frames"][0].update(index=-1), "frame 0 index"),
])
def test_returned_files_that_disagree_are_refused(tmp_path, damage, message):
    entries, _, _ = _job_folder(tmp_path, damage)
    project = _project(tmp_path)
    with pytest.raises(InputError, match=message):
        for sheet in returned_sheets(entries, tmp_path):
            export_sheet(sheet, "bevy", project, project_roots(project))
    assert not (project / "assets").exists()


def test_export_targets_are_named_and_checked_before_any_job(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InputError, match="export target must be one of bevy, godot, phaser"):
        check_export("unity3", plain, project_roots(plain))
    with pytest.raises(InputError, match="no Bevy project"):
        check_export("bevy", str(plain), project_roots(plain))
    with pytest.raises(InputError, match="Godot"):
        check_export("godot", str(plain), project_roots(plain))
    assert check_export("aseprite", str(plain), project_roots(plain)) == plain.resolve()
    with pytest.raises(InputError, match="no such folder"):
        check_export("aseprite", str(plain / "missing"), project_roots(plain))


def test_a_returned_sheet_exports_for_another_engine(tmp_path):
    """Any target of the export core: here the Aseprite JSON any engine's plugin reads, into a plain folder."""
    import aseprite_rules

    entries, layout, rgba = _job_folder(tmp_path)
    (sheet,) = returned_sheets(entries, tmp_path)
    plain = tmp_path / "other_game"
    plain.mkdir()
    done = export_sheet(sheet, "aseprite", plain, project_roots(plain))
    folder = plain / "assets" / "sprites" / "knight"
    assert done.target == "aseprite" and done.asset_path == "assets/sprites/knight/knight.png"
    assert np.array_equal(np.asarray(Image.open(folder / "knight.png").convert("RGBA")), rgba)
    aseprite = json.loads((folder / "knight.json").read_text())
    aseprite_rules.check(aseprite)
    assert [tag["name"] for tag in aseprite["meta"]["frameTags"]] == [a.name for a in layout.animations]
    assert {f["path"] for f in done.files} == {str(path) for path in folder.iterdir()}


def test_a_node_making_a_png_and_a_json_gives_plain_names():
    refs = [{"node_id": "8", "node": "Sheet", "filename": "hero_00001_.png"},
            {"node_id": "8", "node": "Sheet", "filename": "hero_00001_.sheet.json"},
            {"node_id": "9", "node": "Check", "filename": "a.png"}, {"node_id": "9", "node": "Check",
                                                                     "filename": "b.png"}]
    assert local_names(refs) == ["sheet.png", "sheet.json", "check_000.png", "check_001.png"]


def test_metadata_json_is_plain_json_for_other_tools(tmp_path):
    entries, layout, _ = _job_folder(tmp_path)
    data = json.loads((tmp_path / "job" / "sheet.json").read_text())
    assert data["rects"][0] == [layout.rects[0].x, layout.rects[0].y, layout.rects[0].w, layout.rects[0].h]
    assert np.isclose(data["anchor"], layout.anchor()).all()
