"""`dgx-pixels pixelize`: files in, native pixel art out, per-file errors that do not stop the batch."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.cli.progress import run_per_file, usable_cores
from dgx_pixels.common.errors import InputError
from dgx_pixels.image import io as imageio
from pixel_art import blow_up, true_sprite, uniform_cuts
from paths import REPO

ROOT = REPO


def pixelize(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dgx_pixels", "pixelize", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def fake_sprite(path: Path, seed: int, cell: float = 9.5, size=(16, 12)) -> np.ndarray:
    rgb, mask = true_sprite(*size, seed=seed)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(size[0], cell), uniform_cuts(size[1], cell))
    imageio.save_png(path, image[0], big_mask[0])
    return rgb, mask


def test_one_file_to_one_file_keeps_alpha(tmp_path):
    rgb, mask = fake_sprite(tmp_path / "knight.png", 1)
    result = pixelize(tmp_path / "knight.png", "-o", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert out.shape == (12, 16, 4)
    assert np.array_equal(out[..., 3] == 0, mask == 1)
    opaque = mask == 0
    assert np.array_equal(out[..., :3][opaque], rgb[opaque])


def test_many_files_to_a_folder_and_a_bad_file_does_not_stop_the_rest(tmp_path):
    for seed in range(3):
        fake_sprite(tmp_path / f"frame{seed}.png", seed)
    (tmp_path / "broken.png").write_text("not an image")
    inputs = [tmp_path / "frame0.png", tmp_path / "broken.png", tmp_path / "frame1.png", tmp_path / "frame2.png"]
    result = pixelize(*inputs, "-o", tmp_path / "out")
    assert result.returncode == 1
    assert "broken.png: not a readable image" in result.stderr and "1 of 4 file(s) failed" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["frame0.png", "frame1.png", "frame2.png"]


forking_workers = pytest.mark.skipif(not sys.platform.startswith("linux") or usable_cores() < 2,
                                     reason="files go to forked workers on Linux with two or more cores")


@forking_workers
def test_files_go_to_worker_processes_and_each_failure_names_its_file(tmp_path, capsys):
    def work(source: Path, target: Path) -> None:
        if source.name == "bad":
            raise InputError(f"{source}: not a readable image")
        target.write_text(str(os.getpid()))

    sources = [tmp_path / name for name in ("a", "bad", "b", "c")]
    targets = [tmp_path / f"{source.name}.out" for source in sources]
    assert run_per_file(work, sources, targets, "pixelize") == 1
    workers = {int(target.read_text()) for target in targets if target.exists()}
    assert len(workers) >= 1 and os.getpid() not in workers
    assert len(list(tmp_path.glob("*.out"))) == 3
    errors = capsys.readouterr().err
    assert f"{tmp_path / 'bad'}: not a readable image" in errors and "1 of 4 file(s) failed" in errors


@forking_workers
def test_a_worker_killed_mid_batch_is_reported_without_a_traceback(tmp_path, capsys):
    def work(source: Path, target: Path) -> None:
        if source.name == "huge":  # what the kernel's out-of-memory killer does
            os.kill(os.getpid(), signal.SIGKILL)
        target.write_text("done")

    sources = [tmp_path / name for name in ("a", "huge", "b")]
    assert run_per_file(work, sources, [tmp_path / f"{s.name}.out" for s in sources], "pixelize") == 1
    errors = capsys.readouterr().err
    assert "a worker process was stopped (out of memory, or killed)" in errors and "Traceback" not in errors


def test_lock_and_size_options(tmp_path):
    for seed in range(2):
        fake_sprite(tmp_path / f"walk{seed}.png", seed, cell=8.0, size=(12, 12))
    result = pixelize(tmp_path / "walk0.png", tmp_path / "walk1.png", "-o", tmp_path / "out", "--lock",
                      "--size", "12x12", "--reducer", "median")
    assert result.returncode == 0, result.stderr
    assert {Image.open(p).size for p in (tmp_path / "out").iterdir()} == {(12, 12)}
    Image.new("RGB", (40, 40)).save(tmp_path / "other.png")
    result = pixelize(tmp_path / "walk0.png", tmp_path / "other.png", "-o", tmp_path / "out2", "--lock")
    assert result.returncode == 2 and "--lock needs inputs of one size" in result.stderr


def test_bad_options_are_clear(tmp_path):
    fake_sprite(tmp_path / "a.png", 0)
    result = pixelize(tmp_path / "a.png", "-o", tmp_path / "b.png", "--reducer", "mean")
    assert result.returncode == 2 and "--reducer must be one of" in result.stderr
    result = pixelize(tmp_path / "a.png", "-o", tmp_path / "b.png", "--size", "huge")
    assert result.returncode == 2 and "64x64 or 64" in result.stderr
    assert not (tmp_path / "b.png").exists()  # refused before any work


def test_colors_and_palette_options_lock_the_batch_to_one_palette(tmp_path):
    for seed in range(3):
        fake_sprite(tmp_path / f"run{seed}.png", seed, cell=8.0, size=(12, 12))
    inputs = [tmp_path / f"run{seed}.png" for seed in range(3)]
    for grid in ("--lock", None):  # one palette for all inputs, with or without one locked grid
        out = tmp_path / f"four{grid}"
        result = pixelize(*inputs, "-o", out, "--colors", "4", *([grid] if grid else []))
        assert result.returncode == 0, result.stderr
        used = set()
        for path in out.iterdir():
            rgba = np.asarray(Image.open(path).convert("RGBA"))
            used |= {tuple(p) for p in rgba[rgba[..., 3] > 0][:, :3]}
        assert len(used) <= 4
    result = pixelize(inputs[0], "-o", tmp_path / "gb.png", "--palette", "Game Boy DMG")
    assert result.returncode == 0, result.stderr
    rgba = np.asarray(Image.open(tmp_path / "gb.png").convert("RGBA"))
    assert {tuple(p) for p in rgba[rgba[..., 3] > 0][:, :3]} <= {(15, 56, 15), (48, 98, 48), (139, 172, 15),
                                                                 (155, 188, 15)}
    result = pixelize(inputs[0], "-o", tmp_path / "x.png", "--palette", "Mystery 9")
    # refused before any file is written
    assert result.returncode == 2 and "no built-in palette 'Mystery 9'" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_a_folder_stands_for_the_images_in_it(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for seed in (3, 4):
        fake_sprite(frames / f"f{seed}.png", seed)
    (frames / "notes.txt").write_text("not an image")
    (frames / "sub").mkdir()
    result = pixelize(frames, "-o", tmp_path / "native")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "native").iterdir()) == ["f3.png", "f4.png"]
    (tmp_path / "empty").mkdir()
    empty = pixelize(tmp_path / "empty", "-o", tmp_path / "x")
    assert empty.returncode == 1 and "empty is not a regular file (a FIFO, a device or a folder)" in empty.stderr


def test_the_recovered_palette_snaps_to_the_built_in_one_it_matches(tmp_path):
    pico = np.array([[0, 0, 0], [126, 37, 83], [255, 0, 77], [255, 163, 0], [41, 173, 255]], dtype=np.uint8)
    rng = np.random.default_rng(4)
    native = pico[rng.integers(0, len(pico), (12, 16))]
    big = np.repeat(np.repeat(native, 8, axis=0), 8, axis=1).astype(np.int16)
    noisy = np.clip(big + rng.integers(-5, 6, big.shape), 0, 255).astype(np.uint8)  # colours a few levels off
    Image.fromarray(noisy, "RGB").save(tmp_path / "pico.png")
    result = pixelize(tmp_path / "pico.png", "-o", tmp_path / "plain.png", "--colours", "0")
    assert result.returncode == 0, result.stderr
    assert "look like PICO-8 (5 of 16): --snap-palette" in result.stderr
    plain = {tuple(p) for p in np.asarray(Image.open(tmp_path / "plain.png").convert("RGB")).reshape(-1, 3)}
    result = pixelize(tmp_path / "pico.png", "-o", tmp_path / "snapped.png", "--colours", "0", "--snap-palette")
    assert result.returncode == 0, result.stderr
    snapped = np.asarray(Image.open(tmp_path / "snapped.png").convert("RGB"))
    assert snapped.shape == (12, 16, 3)
    assert {tuple(p) for p in snapped.reshape(-1, 3)} == {tuple(p) for p in pico.tolist()}
    assert plain != {tuple(p) for p in pico.tolist()}  # without the snap the colours stay as recovered
    result = pixelize(tmp_path / "pico.png", "-o", tmp_path / "x.png", "--colours", "4", "--snap-palette")
    assert result.returncode == 2 and "--snap-palette works with --colours 0" in result.stderr
