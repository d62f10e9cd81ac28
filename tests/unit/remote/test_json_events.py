"""``--json``: every line on stdout is one JSON object (human output goes to stderr), files are reported as they are
written, and the last line is the summary, also when the command stops on an error."""
from __future__ import annotations

import hashlib
import json

import pytest

from dgx_pixels.cli.main import main
from sheet_samples import save_rgba, walk_cycle


def events_of(text: str) -> list[dict]:
    lines = text.splitlines()
    assert lines, "nothing on stdout"
    parsed = [json.loads(line) for line in lines]  # every line is JSON on its own
    assert all("event" in event for event in parsed)
    assert [e["event"] for e in parsed].count("summary") == 1 and parsed[-1]["event"] == "summary"
    return parsed


@pytest.fixture
def frames(tmp_path):
    paths = []
    for number, frame in enumerate(walk_cycle()[0][:4]):
        paths.append(tmp_path / "frames" / f"f{number}.png")
        paths[-1].parent.mkdir(exist_ok=True)
        save_rgba(frame, paths[-1])
    return paths


def test_a_local_command_reports_each_file_and_sums_up(frames, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["palette", "apply", *map(str, frames), "-o", str(out), "--palette", "PICO-8", "--json"]) == 0
    captured = capsys.readouterr()
    events = events_of(captured.out)
    files = [e for e in events if e["event"] == "file"]
    assert sorted(e["path"] for e in files) == sorted(str(out / p.name) for p in frames)
    for event in files:
        data = open(event["path"], "rb").read()
        assert event["sha256"] == hashlib.sha256(data).hexdigest() and event["bytes"] == len(data)
    summary = events[-1]
    assert summary["ok"] is True and summary["exit_code"] == 0 and summary["command"] == "palette apply"
    assert sorted(summary["files"]) == sorted(e["path"] for e in files)


def test_an_export_reports_the_files_in_the_project_not_its_records(frames, tmp_path, capsys):
    project = tmp_path / "game"
    project.mkdir()
    assert main(["export", "bevy", *map(str, frames), "--project", str(project), "--name", "hero", "--any-folder",
                 "--tags", "idle:4", "--json"]) == 0
    captured = capsys.readouterr()
    events = events_of(captured.out)
    written = {e["path"] for e in events if e["event"] == "file"}
    assert str(project / "assets" / "sprites" / "hero" / "hero.png") in written
    assert not any("/.dgx-pixels/" in path for path in written)
    assert "fn spawn_hero(" in captured.err  # the human output (the snippet) is on stderr


def test_check_puts_its_scores_in_the_summary(frames, capsys):
    code = main(["check", *map(str, frames), "--tags", "idle:4", "--json"])
    summary = events_of(capsys.readouterr().out)[-1]
    assert summary["exit_code"] == code and summary["scores"]["frames"]


@pytest.mark.parametrize("argv, code, message", [
    (["palette", "apply", "missing.png", "-o", "x", "--palette", "PICO-8", "--json"], 1, ""),
    (["run", "no_such_workflow", "--json"], 2, "no workflow 'no_such_workflow'"),
    (["run", "cleanup_existing_art", "--set", "colours=many", "--json"], 2, "expects a whole number, got 'many'"),
    (["generate", "tiles", "moss", "--tiles", "many", "--json"], 2, "invalid int value: 'many'"),
    (["run", "cleanup_existing_art", "--export", "unity3=game", "--json"], 2, "unknown export target 'unity3'"),
    (["run", "cleanup_existing_art", "--set", "image=nope.png", "--server", "http://127.0.0.1:9", "--json"], 2,
     "no such image file"),
])
def test_errors_end_with_a_summary_holding_the_message(argv, code, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        assert main(argv) == code
    except SystemExit as exit:  # a bad option: argparse stops the command
        assert exit.code == code
    captured = capsys.readouterr()
    summary = events_of(captured.out)[-1]
    assert summary["ok"] is False and summary["exit_code"] == code
    assert message in summary.get("error", "") and message in captured.err


def test_an_unreachable_server_is_exit_3_in_json_too(tmp_path, capsys):
    art = tmp_path / "art.png"
    save_rgba(walk_cycle()[0][0], art)
    code = main(["run", "cleanup_existing_art", "--set", f"image={art}", "--server", "http://127.0.0.1:9",
                 "--retries", "0", "--request-timeout", "2", "-o", str(tmp_path / "out"), "--json"])
    assert code == 3
    events = events_of(capsys.readouterr().out)
    assert events[-1]["exit_code"] == 3
