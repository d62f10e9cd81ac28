"""`dgx-pixels palette`: list, extract, apply (locked or per image), convert."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from paths import REPO

ROOT = REPO


def palette(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dgx_pixels", "palette", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def noisy(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(path)


def test_list_extract_apply_convert(tmp_path):
    assert "PICO-8" in palette("list").stdout
    for seed in range(2):
        noisy(tmp_path / f"in{seed}.png", seed)
    inputs = [tmp_path / "in0.png", tmp_path / "in1.png"]
    result = palette("extract", *inputs, "-o", tmp_path / "set.gpl", "--colours", "6", "--keep", "#000000")
    assert result.returncode == 0, result.stderr
    assert "6 colours" in result.stdout and "#000000" in result.stdout
    result = palette("apply", *inputs, "-o", tmp_path / "out", "--colors", "5", "--lock", "--dither", "atkinson")
    assert result.returncode == 0, result.stderr
    used = set()
    for path in (tmp_path / "out").iterdir():
        used |= {tuple(p) for p in np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)}
    assert len(used) <= 5
    result = palette("apply", inputs[0], "-o", tmp_path / "pico.png", "--palette", "PICO-8", "--dither", "bayer 4")
    assert result.returncode == 0, result.stderr
    result = palette("convert", tmp_path / "set.gpl", "-o", tmp_path / "set.hex")
    assert result.returncode == 0 and len((tmp_path / "set.hex").read_text().split()) == 6


def test_bad_dither_and_bad_file_are_clear(tmp_path):
    noisy(tmp_path / "in.png", 0)
    result = palette("apply", tmp_path / "in.png", "-o", tmp_path / "o.png", "--colours", "4", "--dither", "fancy")
    assert result.returncode == 2 and "dither must be one of" in result.stderr
    (tmp_path / "bad.hex").write_text("zzzzzz\n")
    result = palette("convert", tmp_path / "bad.hex", "-o", tmp_path / "x.gpl")
    assert result.returncode == 2 and "bad.hex, line 1" in result.stderr
