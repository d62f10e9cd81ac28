"""The command line under careless and hostile use: bad option values stop it while parsing (exit 2, one line,
nothing read or written), files that are not what a command takes are named, and a real bug prints one line that
says so and where its report is, never a traceback."""
from __future__ import annotations

import os
import sys

import pytest

from hostile import Sandbox
from paths import DATA

TXT2IMG = str(DATA / "tiny_txt2img.json")


@pytest.fixture
def box(tmp_path) -> Sandbox:
    sandbox = Sandbox(tmp_path)
    from PIL import Image

    Image.new("RGBA", (16, 16), (200, 30, 30, 255)).save(tmp_path / "a.png")
    return sandbox


@pytest.mark.parametrize("arguments, message", [
    (["pixelize", "a.png", "-o", "o.png", "--size", "abc"], "argument --size: size 'abc' is not a size"),
    (["pixelize", "a.png", "-o", "o.png", "--reducer", "bogus"], "--reducer must be one of majority"),
    (["pixelize", "a.png", "-o", "o.png", "--alpha-threshold", "2"], "'2' must be at least 0 and at most 1"),
    (["pixelize", "a.png", "-o", "o.png", "--min-cell", "0"], "'0' must be above 0"),
    (["pixelize", "a.png", "-o", "o.png", "--min-cell", "8", "--max-cell", "4"], "--min-cell 8 is above --max-cell 4"),
    (["pixelize", "a.png", "-o", "o.png", "--colours", "300"], "--colours must be 0 (automatic) to 256, got 300"),
    (["pixelize", "a.png", "-o", "o.png", "--colours", "-1"], "'-1' must be at least 0"),
    (["pixelize", "a.png", "-o", "o.png", "--max-pixels", "nan"], "'nan' is not a whole number"),
    (["slice", "a.png", "-o", "out", "--min-size", "-1"], "argument --min-size: '-1' must be at least 1"),
    (["slice", "a.png", "-o", "out", "--grid", "3"], "argument --grid"),
    (["sheet", "a.png", "-o", "s.png", "--padding", "-1"], "argument --padding: '-1' must be at least 0"),
    (["sheet", "a.png", "-o", "s.png", "--pivot", "2,2"], "is not a pivot like 0.5,1.0"),
    (["sheet", "a.png", "-o", "s.png", "--cell", "0x-1"], "argument --cell"),
    (["tileset", "a.png", "-o", "t.png", "--seam-tolerance", "inf"], "'inf' is not a finite number"),
    (["palette", "apply", "a.png", "-o", "o.png", "--palette", "pico-8", "--strength", "5"], "--strength"),
    (["palette", "apply", "a.png", "-o", "o.png", "--palette", "pico-8", "--dither", "fancy"],
     "--dither must be one of"),
    (["palette", "extract", "a.png", "-o", "p.hex", "--seed", "-3"], "'-3' must be at least 0"),
    (["run", TXT2IMG, "--request-timeout", "-1"], "argument --request-timeout: '-1' must be above 0"),
    (["run", TXT2IMG, "--job-timeout", "0"], "argument --job-timeout: '0' must be above 0"),
    (["run", TXT2IMG, "--server-down-timeout", "nan"], "'nan' is not a finite number"),
    (["run", TXT2IMG, "--retries", "-2"], "argument --retries: '-2' must be at least 0"),
    (["run", TXT2IMG, "--queue-depth", "0"], "argument --queue-depth: '0' must be at least 1"),
    (["run", TXT2IMG, "--count", "0"], "--count must be from 1 to 10000"),
    (["run", TXT2IMG, "--server", "http://[::1"], "not a server URL: 'http://[::1'"),
    (["run", TXT2IMG, "--server", "ftp://x:21"], "not a server URL: 'ftp://x:21'"),
    (["batch", "jobs.txt", "--request-timeout", "abc"], "'abc' is not a number"),
    (["generate", "character", "knight", "--size", "abc"], "argument --size: size 'abc' is not a size"),
    (["generate", "tiles", "moss", "--name", "CON"], "device name on Windows"),
    (["generate", "items", "--item", "x", "--name", "hero\n"], "must be 1-64 letters"),
    (["export", "bevy", "a.png", "--project", ".", "--name", "x", "--columns", "-4"], "argument --columns"),
    (["sheet", "a.png", "-o", "s.png", "--tags", "idle:1@99999999999999999999ms"], "duration"),
])
def test_bad_option_values_stop_the_command_before_any_work(box, arguments, message):
    result = box.main(*arguments).refused(2, message)
    assert result.changes.outside() == set()
    assert len(result.err.strip().splitlines()) == 1


def test_an_image_given_as_a_workflow_is_named(box):
    result = box.run("run", "a.png").refused(2, "a.png: the workflow is not a JSON text file")
    assert "UnicodeDecodeError" not in result.err


@pytest.mark.parametrize("arguments, message", [
    (["run", "--resume", "a.png"], "a.png is not a run manifest (not JSON text)"),
    (["run", "--resume", "missing.json"], "missing.json: no such run manifest"),
    (["generate", "items", "a.png"], "a.png: not a text file (expected one item per line, UTF-8)"),
    (["generate", "items", "missing.txt"], "missing.txt: no such item list"),
    (["export", "bevy", "a.png", "--project", "a.png", "--name", "hero"], "a.png: no such folder"),
    (["palette", "list", "--dir", "a.png"], "a.png: not a directory"),
])
def test_files_that_are_not_what_the_command_takes_are_named(box, arguments, message):
    result = box.main(*arguments).refused(2, message)
    assert result.changes.outside() == set()


@pytest.mark.parametrize("make, message", [
    (lambda p: os.mkfifo(p), "jobs.txt is not a regular file"),
    (lambda p: p.write_bytes(b"\xff\xfe prompts"), "jobs.txt: not a text file"),
    (lambda p: open(p, "wb").truncate(65 << 20), "jobs.txt is 68,157,440 bytes; a batch file may be at most"),
    (lambda p: p.write_text("\n# only a comment\n"), "jobs.txt: no jobs in the file"),
])
def test_batch_files_that_are_no_text_or_too_big_are_refused(box, make, message):
    make(box.root / "jobs.txt")
    result = box.main("batch", "jobs.txt", "--workflow", TXT2IMG, "--server", "http://127.0.0.1:9").refused(2, message)
    assert result.changes.outside() == set()


CRASH = """
import sys
from dgx_pixels.cli import palette
def broken(args):
    return {}["a key the code forgot"]
palette._list = broken
from dgx_pixels.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_bug_prints_one_line_and_writes_its_report_to_a_log(box):
    import subprocess

    process = subprocess.run([sys.executable, "-c", CRASH, "palette", "list"], env=box.env, cwd=box.root,
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 70
    (line,) = process.stderr.strip().splitlines()
    assert line.startswith("dgx-pixels palette: internal error (a bug in dgx-pixels ")
    assert "KeyError: 'a key the code forgot'" in line and "Traceback" not in process.stderr
    (log,) = (box.root / "cache" / "logs").iterdir()
    assert str(log) in line
    report = log.read_text()
    assert "Traceback (most recent call last)" in report and "command: dgx-pixels palette list" in report


def test_a_missing_input_is_named_once_and_the_others_are_written(box):
    result = box.main("pixelize", "missing.png", "a.png", "-o", "out").refused(1, "missing.png: no such image file")
    assert result.err.count("missing.png") == 1
    assert sorted(p.name for p in (box.root / "out").iterdir()) == ["a.png"]
