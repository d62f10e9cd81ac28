"""The Bevy export never writes outside its allowed roots, never loses a previous file, survives a crash in the
middle of writing, and writes final files in place so Bevy's file watcher hot-reloads them."""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dgx_pixels.common.errors import InputError
from dgx_pixels.export import journal, paths, safe_write
from dgx_pixels.export.bevy import render_files
from dgx_pixels.export.core import export_bevy
from dgx_pixels.sheets.frames import parse_tag_spec
from dgx_pixels.sheets.assemble import assemble_sheet
from paths import REPO
from sheet_samples import save_rgba, walk_cycle

CARGO = '[package]\nname = "game"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nbevy = "0.19"\n'


def _sheet(version: int = 1):
    """Two different exports of one asset: version 2 changes the timing and the colours."""
    frames, _ = walk_cycle()
    if version == 2:
        frames = [frame * torch.tensor([0.5, 1.0, 1.0, 1.0]) for frame in frames]
    return assemble_sheet(frames, parse_tag_spec(f"idle:4@{100 + version}ms, walk_E:6@80ms pingpong"))


@pytest.fixture
def world(tmp_path):
    """An allowed root holding a Bevy game, and a folder outside every root."""
    root, outside = tmp_path / "allowed", tmp_path / "outside"
    (root / "game").mkdir(parents=True)
    (root / "game" / "Cargo.toml").write_text(CARGO)
    outside.mkdir()
    return root, outside


def _export(root, version=1, project="game", name="knight", **options):
    return export_bevy(*_sheet(version), project, name, [root], **options)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------------- paths
def test_relative_and_absolute_paths_inside_a_root_are_accepted(world):
    root, _ = world
    relative = _export(root)
    absolute = _export(root, project=str(root / "game"))
    assert relative.asset_dir == absolute.asset_dir == (root / "game" / "assets" / "sprites" / "knight").resolve()
    assert sorted(p.name for p in relative.files) == sorted(
        ["knight.png", "knight.sprite.ron", "knight.atlas.ron", "knight.json", "knight.assets.ron",
         "knight.png.meta"])


def test_roots_come_from_the_caller_and_the_environment_variable(tmp_path):
    roots = paths.allowed_roots([tmp_path / "out"], {"DGX_PIXELS_EXPORT_ROOTS": os.pathsep.join(
        ["/srv/games", "", str(tmp_path / "out"), "~/projects"])})
    assert roots == [tmp_path / "out", Path("/srv/games"), Path.home() / "projects"]


@pytest.mark.parametrize("project, message", [
    ("", "the export path is empty"),
    ("   ", "the export path is empty"),
    ("../game", "contains '..'"),
    ("game/../../outside", "contains '..'"),
    ("game\0", "NUL character"),
    ("/etc", "is outside the allowed export roots"),
    ("~", "is outside the allowed export roots"),
])
def test_paths_that_leave_the_roots_are_refused(world, project, message):
    root, _ = world
    with pytest.raises(InputError, match=message):
        _export(root, project=project)


def test_an_absolute_path_outside_every_root_is_refused(world):
    root, outside = world
    (outside / "Cargo.toml").write_text(CARGO)
    with pytest.raises(InputError, match=rf"'{outside}' is outside the allowed export roots \({root}\)"):
        _export(root, project=str(outside))
    assert list(outside.iterdir()) == [outside / "Cargo.toml"]


def test_no_roots_means_no_export(world):
    with pytest.raises(InputError, match="no export roots are allowed; set DGX_PIXELS_EXPORT_ROOTS"):
        export_bevy(*_sheet(), "game", "knight", [])


def test_a_project_symlink_leading_out_of_the_root_is_refused(world):
    root, outside = world
    (outside / "Cargo.toml").write_text(CARGO)
    (root / "linked").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InputError, match="leads through a symlink to .*outside the allowed export roots"):
        _export(root, project="linked")
    assert not (outside / "assets").exists()


def test_a_symlinked_assets_folder_leading_out_is_refused_before_anything_is_created(world):
    root, outside = world
    (root / "game" / "assets").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InputError, match="assets' is a symbolic link .*never follows links inside the project"):
        _export(root)
    assert list(outside.iterdir()) == []


def test_a_symlinked_file_leading_out_is_not_written_through(world):
    root, outside = world
    _export(root)
    target = root / "game" / "assets" / "sprites" / "knight" / "knight.json"
    target.unlink()
    (outside / "victim.json").write_text("precious")
    target.symlink_to(outside / "victim.json")
    with pytest.raises(InputError, match="knight.json' is a symbolic link"):
        _export(root, version=2)
    assert (outside / "victim.json").read_text() == "precious"


def test_symlinks_that_stay_inside_the_root_are_fine(world):
    root, _ = world
    (root / "current").symlink_to(root / "game", target_is_directory=True)
    assert _export(root, project="current").project == (root / "game").resolve()


@pytest.mark.parametrize("name", ["", "../knight", "a/b", ".hidden", "knight.png", "x" * 65, "my knight"])
def test_asset_names_that_are_not_plain_file_names_are_refused(world, name):
    root, _ = world
    with pytest.raises(InputError, match="asset name"):
        _export(root, name=name)


def test_a_folder_without_a_bevy_cargo_toml_needs_the_opt_out(world):
    root, _ = world
    with pytest.raises(InputError, match="is not a folder; give the Bevy project folder"):
        _export(root, project="plain")
    (root / "plain").mkdir()
    with pytest.raises(InputError, match="no Bevy project at .* turn off 'must be a Bevy project'"):
        _export(root, project="plain")
    result = _export(root, project="plain/assets_only", require_bevy=False)
    assert result.asset_dir == (root / "plain" / "assets_only" / "assets" / "sprites" / "knight").resolve()


# ---------------------------------------------------------------------------------------------------- history
def test_overwriting_keeps_the_previous_version_with_its_hashes(world):
    root, _ = world
    first = _export(root)
    old = {path.name: path.read_bytes() for path in first.files}
    second = _export(root, version=2)
    snapshot = second.write.history
    assert snapshot is not None and snapshot.is_relative_to((root / "game" / ".dgx-pixels" / "history").resolve())
    manifest = json.loads((snapshot / "snapshot.json").read_text())
    assert manifest["asset"] == "assets/sprites/knight"
    changed = {path.name for path in second.write.written}
    assert changed == set(manifest["files"]) == {"knight.png", "knight.sprite.ron", "knight.json"}
    for name, info in manifest["files"].items():
        kept = (snapshot / name).read_bytes()
        assert kept == old[name] and info["sha256"] == hashlib.sha256(kept).hexdigest()
        assert info["replaced_by"] == _digest(second.asset_dir / name)
    assert {p.name for p in second.write.unchanged} == {"knight.atlas.ron", "knight.assets.ron", "knight.png.meta"}
    third = _export(root, version=2)  # nothing changed: nothing written, no new history
    assert third.write.written == [] and third.write.history is None
    assert [entry["path"] for entry in journal.history((root / "game").resolve()).entries] == [str(snapshot)]


def test_every_overwrite_adds_a_snapshot(world):
    root, _ = world
    for version in (1, 2, 1, 2):
        _export(root, version=version)
    entries = journal.history((root / "game").resolve()).entries
    assert len(entries) == 3 and entries == sorted(entries, key=lambda e: e["saved_at"])


# ---------------------------------------------------------------------------------------------------- crashes
class Crash(BaseException):
    """Stands for the process dying: nothing catches it."""


def _crash_after(monkeypatch, writes_before: int):
    real = safe_write.write_in_place
    calls = {"count": 0}

    def write(path, data):
        if calls["count"] == writes_before:
            with open(path, "wb") as handle:  # half the bytes reach the disk, then the lights go out
                handle.write(data[:len(data) // 2])
            raise Crash()
        calls["count"] += 1
        real(path, data)

    monkeypatch.setattr(safe_write, "write_in_place", write)


def test_a_crash_while_writing_the_final_files_loses_nothing(world, monkeypatch):
    root, _ = world
    first = _export(root)
    old = {path.name: path.read_bytes() for path in first.files}
    new = render_files(*_sheet(2), "knight")
    _crash_after(monkeypatch, writes_before=1)  # knight.png done, knight.sprite.ron half written
    with pytest.raises(Crash):
        _export(root, version=2)
    monkeypatch.undo()
    asset = first.asset_dir
    assert (asset / "knight.sprite.ron").read_bytes() == new["knight.sprite.ron"][:len(new["knight.sprite.ron"]) // 2]
    (snapshot,) = [Path(entry["path"]) for entry in journal.history((root / "game").resolve()).entries]
    for name in ("knight.png", "knight.sprite.ron", "knight.json"):  # every old version is kept whole
        assert (snapshot / name).read_bytes() == old[name]
    pending = root / "game" / ".dgx-pixels" / "pending" / "assets" / "sprites" / "knight"
    for name in ("knight.png", "knight.sprite.ron", "knight.json"):  # and every new one
        assert (pending / "files" / name).read_bytes() == new[name]
    restored = safe_write.recover((root / "game").resolve(), [root]).restored
    assert {p.name for p in restored} == {"knight.sprite.ron", "knight.json"}
    assert all((asset / name).read_bytes() == data for name, data in new.items())
    assert not (root / "game" / ".dgx-pixels" / "pending").exists()


def test_the_next_export_finishes_an_interrupted_one_first(world, monkeypatch):
    root, _ = world
    _export(root)
    _crash_after(monkeypatch, writes_before=0)
    with pytest.raises(Crash):
        _export(root, version=2)
    monkeypatch.undo()
    result = _export(root, version=1)
    assert {p.name for p in result.write.recovered} == {"knight.png", "knight.sprite.ron", "knight.json"}
    assert result.write.history is not None  # the finished version 2 went to history before version 1 came back
    entries = journal.history((root / "game").resolve()).entries
    assert len(entries) == 2
    new = render_files(*_sheet(2), "knight")
    assert (Path(entries[-1]["path"]) / "knight.png").read_bytes() == new["knight.png"]


def test_a_crash_before_the_journal_leaves_the_final_files_untouched(world, monkeypatch):
    root, _ = world
    first = _export(root)
    before = {path.name: path.read_bytes() for path in first.files}
    real = journal.write_atomic

    def durable(path, data, durable=False):
        if path.name == "journal.json":
            raise Crash()
        return real(path, data, durable)

    monkeypatch.setattr(journal, "write_atomic", durable)
    with pytest.raises(Crash):
        _export(root, version=2)
    monkeypatch.undo()
    assert {path.name: path.read_bytes() for path in first.files} == before
    assert safe_write.recover((root / "game").resolve(), [root]).restored == []
    assert not (root / "game" / ".dgx-pixels" / "pending").exists()


CRASHING_CLI = """
import os, sys
from dgx_pixels.export import journal, paths, safe_write
calls = []
def write(path, data):
    if len(calls) == int(os.environ["CRASH_AFTER"]):
        with open(path, "wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
        os._exit(9)  # no cleanup, no finally: a real process death
    calls.append(path)
    with open(path, "wb") as handle:
        handle.write(data)
safe_write.write_in_place = write
from dgx_pixels.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_killed_export_process_is_recovered_by_the_command(world, tmp_path):
    root, _ = world
    frames = []
    for number, frame in enumerate(walk_cycle()[0]):
        frames.append(tmp_path / f"frame{number}.png")
        save_rgba(frame, frames[-1])
    env = dict(os.environ, PYTHONPATH=str(REPO), CRASH_AFTER="99")
    command = [sys.executable, "-c", CRASHING_CLI, "export", "bevy", *map(str, frames), "--project",
               str(root / "game"), "--name", "knight"]
    first = subprocess.run(command + ["--tags", "idle:4@100ms, walk_E:6"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    asset = root / "game" / "assets" / "sprites" / "knight"
    old = {path.name: path.read_bytes() for path in asset.iterdir()}
    env["CRASH_AFTER"] = "0"
    killed = subprocess.run(command + ["--tags", "idle:4@150ms, walk_E:6", "--padding", "2"], env=env,
                            capture_output=True, text=True)
    assert killed.returncode == 9
    assert (asset / "knight.png").read_bytes() != old["knight.png"]  # half written
    (entry,) = journal.history((root / "game").resolve()).entries
    assert all((Path(entry["path"]) / name).read_bytes() == old[name] for name in entry["files"])
    recover = subprocess.run([sys.executable, "-m", "dgx_pixels", "export", "recover", str(root / "game")],
                             env=env, capture_output=True, text=True, cwd=REPO)
    assert recover.returncode == 0 and "restored:" in recover.stdout, recover.stderr
    from PIL import Image
    with Image.open(asset / "knight.png") as image:
        image.load()  # a whole PNG again
        assert image.size[0] == 6 * 24 + 5 * 2
    assert json.loads((asset / "knight.json").read_text())["frames"][0]["duration"] == 150


# ---------------------------------------------------------------------------------------------------- hot reload
IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x2, 0x8, 0x40, 0x80, 0x100, 0x200


def _inotify_events(folder: Path, action) -> list[tuple[str, int]]:
    """(file name, event mask) pairs Linux reports for ``folder`` while ``action`` runs: what notify, and so
    Bevy's file watcher, receives."""
    libc = ctypes.CDLL(None, use_errno=True)
    descriptor = libc.inotify_init1(os.O_NONBLOCK)
    assert descriptor >= 0
    try:
        mask = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
        assert libc.inotify_add_watch(descriptor, str(folder).encode(), mask) >= 0
        action()
        events, data = [], b""
        while True:
            try:
                data += os.read(descriptor, 65536)
            except BlockingIOError:
                break
        offset = 0
        while offset < len(data):
            _, event_mask, _, length = struct.unpack_from("iIII", data, offset)
            name = data[offset + 16:offset + 16 + length].rstrip(b"\0").decode()
            events.append((name, event_mask))
            offset += 16 + length
        return events
    finally:
        os.close(descriptor)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's file watching API")
def test_final_files_are_rewritten_in_place_so_bevy_hot_reloads_them(world):
    root, _ = world
    first = _export(root)
    inodes = {path.name: path.stat().st_ino for path in first.files}
    result = None

    def overwrite():
        nonlocal result
        result = _export(root, version=2)

    events = _inotify_events(first.asset_dir, overwrite)
    written = {path.name for path in result.write.written}
    closed = {name for name, mask in events if mask & IN_CLOSE_WRITE}
    assert written and closed == written  # Access(Close(Write)) -> AssetSourceEvent::ModifiedAsset -> reload
    assert not [e for e in events if e[1] & (IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE)]
    assert {path.name: path.stat().st_ino for path in result.files} == inodes  # same files, not replacements
