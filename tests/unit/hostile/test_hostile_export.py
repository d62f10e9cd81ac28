"""Hostile folders for the Bevy export: a game repository a user clones may carry a prepared ``.dgx-pixels/``,
links in ``assets/``, a planted journal; each attack below is refused (exit 2, one line) or set aside (a warning,
the export goes on), nothing outside the project's ``assets/`` and ``.dgx-pixels/`` is written, no user file is lost,
and later exports keep working. Every test lists the sandbox's whole tree before and after."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dgx_pixels.common.errors import InputError
from dgx_pixels.common.locks import file_lock
from dgx_pixels.export.core import export_bevy
from dgx_pixels.image.io import load_images
from dgx_pixels.sheets.assemble import assemble_sheet, frames_from_batches
from dgx_pixels.sheets.frames import parse_tag_spec
from hostile import Sandbox, changes, tree
from paths import REPO
from sheet_samples import save_rgba, walk_cycle

CARGO = '[package]\nname = "game"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nbevy = "0.19"\n'
MAIN_RS = "fn main() {\n    println!(\"the user's own code\");\n}\n"
GAME = "games/game"
ASSET = f"{GAME}/assets/sprites/hero"
STATE = f"{GAME}/.dgx-pixels"


@pytest.fixture
def box(tmp_path) -> Sandbox:
    """A sandbox with frames, a Bevy game (src/main.rs included) and a folder outside the game."""
    sandbox = Sandbox(tmp_path)
    for number, frame in enumerate(walk_cycle()[0]):
        (tmp_path / "frames").mkdir(exist_ok=True)
        save_rgba(frame, tmp_path / "frames" / f"f{number}.png")
    game = tmp_path / GAME
    (game / "src").mkdir(parents=True)
    (game / "Cargo.toml").write_text(CARGO)
    (game / "src" / "main.rs").write_text(MAIN_RS)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "precious.txt").write_text("the user's file")
    return sandbox


def frames(box: Sandbox) -> list[str]:
    return [str(path) for path in sorted((box.root / "frames").iterdir())]


def export(box: Sandbox, *extra: str, name: str = "hero", duration: int = 120):
    return box.main("export", "bevy", *frames(box), "--project", GAME, "--name", name, "--tags",
                    f"idle:4@{duration}ms, walk_E:6", *extra)


def plant_journal(box: Sandbox, journal: dict | str, files: dict[str, bytes] | None = None,
                  asset: str = "assets/sprites/hero") -> Path:
    pending = box.root / STATE / "pending" / asset
    (pending / "files").mkdir(parents=True, exist_ok=True)
    for name, data in (files or {}).items():
        (pending / "files" / name).write_bytes(data)
    (pending / "journal.json").write_text(journal if isinstance(journal, str) else json.dumps(journal))
    return pending


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_game_code_untouched(box: Sandbox) -> None:
    assert (box.root / GAME / "src" / "main.rs").read_text() == MAIN_RS
    assert (box.root / GAME / "Cargo.toml").read_text() == CARGO
    assert (box.root / "outside" / "precious.txt").read_text() == "the user's file"


# ---------------------------------------------------------------------------------------------------- links
def test_state_folder_symlinked_out_of_the_project_is_refused(box):
    outside_state = box.root / "outside" / "state"
    (outside_state / "pending" / "assets" / "sprites" / "hero" / "files").mkdir(parents=True)
    (outside_state / "pending" / "assets" / "sprites" / "hero" / "files" / "hero.png").write_bytes(b"theirs")
    (box.root / STATE).symlink_to(outside_state, target_is_directory=True)
    result = export(box).refused(2, ".dgx-pixels' is a symbolic link", "never follows links inside the project")
    assert result.changes.outside() == set()  # nothing written, nothing deleted, anywhere in the sandbox
    assert_game_code_untouched(box)
    box.main("export", "recover", GAME).refused(2, "is a symbolic link")
    box.main("export", "history", GAME).refused(2, "is a symbolic link")


def test_target_file_symlinked_into_src_is_not_written_through(box):
    assert export(box).code == 0
    target = box.root / ASSET / "hero.sprite.ron"
    target.unlink()
    target.symlink_to("../../../src/main.rs")
    result = export(box, duration=150).refused(2, "hero.sprite.ron' is a symbolic link (to '../../../src/main.rs')")
    assert result.changes.outside(STATE) == set()
    assert_game_code_untouched(box)


def test_target_file_hard_linked_to_src_is_not_written_through(box):
    assert export(box).code == 0
    target = box.root / ASSET / "hero.sprite.ron"
    target.unlink()
    os.link(box.root / GAME / "src" / "main.rs", target)
    result = export(box, duration=150).refused(2, "has 2 names (hard links)")
    assert result.changes.outside() == set()
    assert_game_code_untouched(box)


def test_assets_folder_symlinked_into_src_is_refused(box):
    (box.root / GAME / "assets").symlink_to("src", target_is_directory=True)
    result = export(box).refused(2, "assets' is a symbolic link (to 'src')")
    assert result.changes.outside(STATE) == set()
    assert sorted(p.name for p in (box.root / GAME / "src").iterdir()) == ["main.rs"]


def test_target_that_is_a_fifo_is_refused_without_blocking(box):
    (box.root / ASSET).mkdir(parents=True)
    os.mkfifo(box.root / ASSET / "hero.json")
    result = export(box).refused(2, "hero.json' exists and is not a file")
    assert result.changes.outside(STATE) == set()


def test_history_folder_symlinked_out_is_refused_before_any_file_changes(box):
    assert export(box).code == 0
    before = tree(box.root / ASSET)
    (box.root / "outside" / "history").mkdir()
    (box.root / STATE / "history").symlink_to("../../../outside/history", target_is_directory=True)
    result = export(box, duration=150).refused(2, "history' is a symbolic link")
    assert tree(box.root / ASSET) == before  # the final files never changed
    assert result.changes.outside() == set()


def test_lock_file_symlinked_out_is_refused(box):
    locks = box.root / STATE / "locks" / "assets" / "sprites"
    locks.mkdir(parents=True)
    (locks / "hero.lock").symlink_to(box.root / "outside" / "precious.txt")
    result = export(box).refused(2, "cannot open the lock file")
    assert result.changes.outside() == set()
    assert_game_code_untouched(box)


def test_pending_folder_symlinked_out_is_set_aside_unused(box):
    outside = box.root / "outside" / "pending-copy"
    (outside / "files").mkdir(parents=True)
    (outside / "files" / "hero.png").write_bytes(b"not the user's sprite")
    (outside / "journal.json").write_text(json.dumps({
        "asset": "assets/sprites/hero", "history": None,
        "files": {"hero.png": {"sha256": digest(b"not the user's sprite"), "bytes": 21}}}))
    parent = box.root / STATE / "pending" / "assets" / "sprites"
    parent.mkdir(parents=True)
    (parent / "hero").symlink_to(outside, target_is_directory=True)
    result = export(box).refused(0, "set aside a pending export of assets/sprites/hero", "it is not a folder")
    assert result.changes.outside(f"{GAME}/assets", STATE) == set()  # the copy outside is neither used nor deleted
    assert (box.root / ASSET / "hero.png").read_bytes() != b"not the user's sprite"


@pytest.mark.parametrize("blocked", [STATE, f"{GAME}/assets", ASSET, f"{STATE}/history"])
def test_a_file_where_a_folder_belongs_is_refused_and_kept(box, blocked):
    assert export(box).code == 0
    if (box.root / blocked).is_dir():
        (box.root / blocked).rename(box.root / "moved-away")
    (box.root / blocked).write_text("the user's notes")
    result = export(box, duration=150).refused(2, "exists and is not a folder")
    assert (box.root / blocked).read_text() == "the user's notes"
    assert result.changes.outside(STATE) == set()


# ---------------------------------------------------------------------------------------------------- journals
def test_planted_journal_naming_a_file_outside_the_project_is_set_aside(box):
    plant_journal(box, {"asset": "assets/sprites/hero", "history": None,
                        "files": {"../../../../pwned.txt": {"sha256": digest(b"owned"), "bytes": 5}}},
                  {"pwned.txt": b"owned"})
    result = export(box).refused(0, "set aside a pending export of assets/sprites/hero",
                                 "refusing to write a file named '../../../../pwned.txt'")
    assert not any("pwned" in path for path in result.changes.added if not path.startswith(STATE))
    assert result.changes.outside(f"{GAME}/assets", STATE) == set()
    assert_game_code_untouched(box)
    (rejected,) = [p for p in (box.root / STATE / "rejected").iterdir() if p.is_dir()]
    assert "pwned.txt" in rejected.with_name(rejected.name + ".why.txt").read_text()


def test_planted_journal_naming_another_asset_folder_is_set_aside(box):
    plant_journal(box, {"asset": "../../../outside", "history": None,
                        "files": {"hero.png": {"sha256": digest(b"x"), "bytes": 1}}}, {"hero.png": b"x"})
    export(box).refused(0, "the journal names the asset '../../../outside'")
    assert sorted(p.name for p in (box.root / "outside").iterdir()) == ["precious.txt"]


def test_recover_sets_aside_journals_of_assets_that_cannot_exist(box):
    (box.root / STATE / "pending" / "evil").mkdir(parents=True)
    (box.root / STATE / "pending" / "evil" / "journal.json").write_text("{}")
    (box.root / STATE / "pending" / "assets" / "sprites" / "bad name").mkdir(parents=True)
    result = box.main("export", "recover", GAME).refused(0, "set aside a pending export of evil",
                                                        "set aside a pending export of assets/sprites/bad name")
    assert "nothing to recover" in result.out
    assert result.changes.outside(STATE) == set()
    assert_game_code_untouched(box)


def test_corrupt_journal_is_set_aside_and_later_exports_work(box):
    plant_journal(box, "{ this is not json", {"hero.png": b"half"})
    export(box).refused(0, "the journal is not valid JSON")
    second = export(box, duration=150)
    assert second.code == 0 and second.err == "" and "previous version kept in" in second.out


@pytest.mark.parametrize("journal, reason", [
    ({"asset": "assets/sprites/hero", "history": None, "files": {"hero.png": {"sha256": "0" * 64, "bytes": 4}}},
     "the pending copy of 'hero.png' is damaged"),
    ({"asset": "assets/sprites/hero", "history": None,
      "files": {"hero.json": {"sha256": digest(b"{}"), "bytes": 2}}},
     "hero.json: no such pending file"),
    ({"asset": "assets/sprites/hero", "history": None, "files": {"hero.png": "sha?"}},
     "is not a sha256 and a size"),
    ({"asset": "assets/sprites/hero", "files": {}}, "does not have the keys asset, history and files"),
    ([1, 2, 3], "the journal is not a JSON object"),
    ({"asset": "assets/sprites/hero", "history": "../../x", "files": {"hero.png": {"sha256": "0" * 64, "bytes": 4}}},
     "history entry is not a snapshot time"),
])
def test_journals_that_fail_a_check_are_set_aside_never_executed(box, journal, reason):
    assert export(box).code == 0
    before = {path.name: path.read_bytes() for path in (box.root / ASSET).iterdir()}
    plant_journal(box, journal, {"hero.png": b"evil"})
    result = export(box).refused(0, "set aside a pending export of assets/sprites/hero", reason)
    assert {path.name: path.read_bytes() for path in (box.root / ASSET).iterdir()} == before  # nothing replayed
    assert result.changes.outside(STATE) == set()


def test_journal_that_is_a_symlink_is_set_aside(box):
    pending = plant_journal(box, "{}")
    (pending / "journal.json").unlink()
    (pending / "journal.json").symlink_to(box.root / "outside" / "precious.txt")
    export(box).refused(0, "journal.json is a symbolic link")
    assert_game_code_untouched(box)


def test_corrupt_history_record_is_skipped_with_a_warning(box):
    assert export(box).code == 0 and export(box, duration=150).code == 0
    assert export(box, duration=180).code == 0
    records = sorted((box.root / STATE / "history").rglob("snapshot.json"))
    records[0].write_text("{ broken")
    records[1].write_text(json.dumps({"asset": 5}))
    result = box.main("export", "history", GAME).refused(0, "not valid JSON", "not a snapshot record")
    assert "no previous versions kept" in result.out
    third = export(box, duration=200)
    assert third.code == 0 and "previous version kept in" in third.out  # later exports keep working


# ---------------------------------------------------------------------------------------------------- names, Cargo
@pytest.mark.parametrize("name, reason", [
    ("hero\n", "must be 1-64 letters"), ("CON", "device name on Windows"), ("nul", "device name on Windows"),
    ("COM1", "device name on Windows"), ("lpt9", "device name on Windows"), ("../hero", "must be 1-64 letters"),
    ("hero.png", "must be 1-64 letters"), ("x" * 65, "must be 1-64 letters"), ("", "must be 1-64 letters"),
])
def test_asset_names_that_are_not_plain_portable_names_are_refused_before_any_work(box, name, reason):
    result = export(box, name=name).refused(2, reason)
    assert result.changes.outside() == set()


def test_cargo_toml_that_is_a_fifo_is_not_read_and_not_waited_on(box):
    (box.root / GAME / "Cargo.toml").unlink()
    os.mkfifo(box.root / GAME / "Cargo.toml")
    result = export(box).refused(2, "no Bevy project at")
    assert result.changes.outside() == set()


def test_cargo_toml_linked_to_an_endless_device_is_not_read(box):
    (box.root / GAME / "Cargo.toml").unlink()
    (box.root / GAME / "Cargo.toml").symlink_to("/dev/zero")
    export(box).refused(2, "no Bevy project at")


def test_a_huge_cargo_toml_is_refused_before_it_is_read(box):
    with open(box.root / GAME / "Cargo.toml", "a") as handle:
        handle.truncate(2 << 20)  # 2 MB (sparse): a Cargo.toml is a few KB
    export(box).refused(2, "Cargo.toml is 2,097,152 bytes; a Cargo.toml may be at most 1,048,576")


@pytest.mark.parametrize("text", ["dependencies = 5\n", "[workspace]\ndependencies = []\n", "target = 'x'\n",
                                  "[target.'cfg(unix)']\ndependencies = 3\n"])
def test_cargo_toml_of_another_shape_is_no_bevy_project(box, text):
    (box.root / GAME / "Cargo.toml").write_text(text)
    export(box).refused(2, "no Bevy project at")


# ---------------------------------------------------------------------------------------------------- concurrency
def test_a_second_export_waits_for_the_lock_and_gives_up_cleanly(box):
    frames_, tags = walk_cycle()
    sheet, layout = assemble_sheet(frames_, parse_tag_spec(tags))
    project = (box.root / GAME).resolve()
    lock = project / ".dgx-pixels" / "locks" / "assets" / "sprites"
    lock.mkdir(parents=True)
    with file_lock(lock / "hero.lock", 1.0, "the test"):  # another exporter holds the asset
        started = time.monotonic()
        with pytest.raises(InputError, match="another export of assets/sprites/hero is still running after 0.5 s"):
            export_bevy(sheet, layout, str(project), "hero", [project], lock_timeout=0.5)
        assert time.monotonic() - started < 5
    assert not (project / "assets").exists()
    assert export_bevy(sheet, layout, str(project), "hero", [project], lock_timeout=0.5).write.written


RACER = """
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, os.environ["REPO"])
from dgx_pixels.export.core import export_bevy
from dgx_pixels.image.io import load_images
from dgx_pixels.sheets.assemble import assemble_sheet, frames_from_batches
from dgx_pixels.sheets.frames import parse_tag_spec

me, rounds, control, project = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
loaded = load_images(sorted(Path(sys.argv[5]).iterdir()), "frames")
frames = frames_from_batches([image for image, _ in loaded], [mask for _, mask in loaded])
for number in range(rounds):
    sheet, layout = assemble_sheet(frames, parse_tag_spec(f"idle:4@{100 + 2 * number + me}ms, walk_E:6"))
    (control / f"ready-{number}-{me}").touch()
    while not (control / f"go-{number}").exists():
        time.sleep(0.001)
    try:
        result = export_bevy(sheet, layout, project, "hero", [Path(project)])
        outcome = {"written": [p.name for p in result.write.written], "history": str(result.write.history or "")}
    except BaseException as err:
        outcome = {"error": repr(err)}
    (control / f"done-{number}-{me}").write_text(json.dumps(outcome))
"""


def expected_ron(box: Sandbox, duration: int) -> str:
    """The sprite description an export with this idle duration writes (what the racers render)."""
    from dgx_pixels.export.bevy import render_files

    loaded = load_images(frames(box), "frames")
    sheet, layout = assemble_sheet(frames_from_batches([i for i, _ in loaded], [m for _, m in loaded]),
                                   parse_tag_spec(f"idle:4@{duration}ms, walk_E:6"))
    return digest(render_files(sheet, layout, "hero")["hero.sprite.ron"])


def test_twenty_raced_rounds_of_two_processes_exporting_one_asset_lose_nothing(box):
    """Two processes export one asset at the same instant, 20 times (each round released together once both are
    ready): no crash, every export completes, and every version that was ever in assets/ is in the history."""
    rounds, control, project = 20, box.root / "control", box.root / GAME
    control.mkdir()
    before = box.tree()
    env = dict(box.env, REPO=str(REPO))
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(me), str(rounds), str(control), str(project),
                                str(box.root / "frames")], env=env, stderr=subprocess.PIPE, text=True)
              for me in (0, 1)]
    try:
        for number in range(rounds):
            for name in (f"ready-{number}-0", f"ready-{number}-1", f"done-{number}-0", f"done-{number}-1"):
                deadline = time.monotonic() + 120
                while not (control / name).exists():
                    assert all(racer.poll() is None for racer in racers), [r.stderr.read() for r in racers]
                    assert time.monotonic() < deadline, f"{name} never came"
                    time.sleep(0.005)
                if name.startswith("ready") and name.endswith("-1"):
                    (control / f"go-{number}").touch()
    finally:
        outcomes = [racer.wait(timeout=120) for racer in racers]
    assert outcomes == [0, 0], [racer.stderr.read() for racer in racers]
    results = [json.loads((control / f"done-{n}-{me}").read_text()) for n in range(rounds) for me in (0, 1)]
    assert not [r for r in results if "error" in r], results
    assert all("hero.sprite.ron" in r["written"] for r in results)  # every export wrote its own version
    kept = {digest(path.read_bytes()) for path in (project / ".dgx-pixels" / "history").rglob("hero.sprite.ron")}
    final = digest((project / "assets" / "sprites" / "hero" / "hero.sprite.ron").read_bytes())
    versions = {expected_ron(box, 100 + 2 * n + me) for n in range(rounds) for me in (0, 1)}
    assert len(versions) == 2 * rounds and final in versions
    assert versions - {final} <= kept  # every replaced version is in the history
    assert not (project / ".dgx-pixels" / "pending").exists()
    assert changes(before, box.tree()).outside("control", f"{GAME}/assets", STATE) == set()
    assert_game_code_untouched(box)
