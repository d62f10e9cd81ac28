"""The command line as `pip install` gives it: a wheel built from the shipped files, installed away from the
checkout, with every subcommand and the workflow library inside."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile

import pytest
from comfy_server import copy_tracked_files
from paths import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("packaging")
    source = copy_tracked_files(root / "source")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(root / "wheel"), str(source)], check=True, capture_output=True)
    wheel = next((root / "wheel").glob("dgx_pixels-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(root / "site"),
                    str(wheel)], check=True, capture_output=True)
    return wheel, root / "site"


def python_with(site, *args, **env):
    """Python with only the installed copy importable (run beside it, not in the checkout)."""
    return subprocess.run([sys.executable, *args], cwd=site.parent, env={**os.environ, "PYTHONPATH": str(site), **env},
                          capture_output=True, text=True, timeout=120)


def test_wheel_holds_every_module_and_the_workflow_library(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {path.relative_to(REPO).as_posix() for path in (REPO / "dgx_pixels").rglob("*.py")}
    assert modules <= names, f"missing from the wheel: {sorted(modules - names)}"
    for name in ("dgx_pixels/workflows/api/character_sprite_sheet.json",
                 "dgx_pixels/workflows/api/character_sprite_sheet.params.json",
                 "dgx_pixels/workflows/item_icons.json"):
        assert name in names


def test_installed_command_finds_its_library_away_from_the_checkout(installed):
    _, site = installed
    result = python_with(site, "-m", "dgx_pixels", "run", "item_icons", "--list-params")
    assert result.returncode == 0, result.stderr
    assert "items (text" in result.stdout
    result = python_with(site, "-m", "dgx_pixels", "palette", "list")
    assert result.returncode == 0 and "PICO-8" in result.stdout, result.stderr
    assert python_with(site, "-c", "import dgx_pixels; print(dgx_pixels.__file__)").stdout.startswith(str(site))


def test_installed_command_refuses_to_link_site_packages_into_comfyui(installed, tmp_path):
    _, site = installed
    code = ("import sys; from dgx_pixels.host import provision as host; "
            "from dgx_pixels.common.errors import InputError\n"
            "try:\n    host.link_pack(host.Host(sys.argv[1], sys.executable, ''))\n"
            "except InputError as err:\n    print(err)")
    result = python_with(site, "-c", code, str(tmp_path / "ComfyUI"), DGX_PIXELS_CACHE=str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    assert "not the node pack (a pip install)" in result.stdout


@pytest.fixture(scope="module")
def torchless(installed, tmp_path_factory):
    """A fresh venv holding the wheel and its dependencies, and no torch (a command-line-only user)."""
    wheel, _ = installed
    venv = tmp_path_factory.mktemp("torchless") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], check=True,
                   capture_output=True, timeout=1800)
    return python


TORCH_FREE = [("--version",), ("palette", "list"), ("palette", "convert", "PICO-8", "-o", "pico8.gpl"),
              ("poses", "list"), ("run", "item_icons", "--list-params"), ("models", "list", "--models-dir", "."),
              ("export", "history", "."), ("doctor", "--json"), ("generate", "character", "--help")]


def test_every_torch_free_command_runs_without_torch(torchless, tmp_path):
    def dgx(*args):
        return subprocess.run([torchless, "-m", "dgx_pixels", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300, env={**os.environ, "DGX_PIXELS_CACHE": str(tmp_path / "cache")})

    assert subprocess.run([torchless, "-c", "import torch"], capture_output=True).returncode != 0
    for args in TORCH_FREE:
        result = dgx(*args)
        assert result.returncode in (0, 1), (args, result.stderr)  # doctor: 1 names what fails (no host here)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, (args, result.stderr)
    assert (tmp_path / "pico8.gpl").read_text().count("\n") > 16
    needs = dgx("pixelize", "in.png", "-o", "out.png")
    assert needs.returncode == 2 and needs.stderr.count("\n") == 1, needs.stderr
    assert "needs torch, which is not installed: pip install torch" in needs.stderr


def test_the_source_archive_runs_the_unit_tests(tmp_path):
    source = copy_tracked_files(tmp_path / "source")
    subprocess.run([sys.executable, "-c", "from setuptools import build_meta; build_meta.build_sdist('dist')"],
                   cwd=source, check=True, capture_output=True)
    (archive,) = (source / "dist").glob("dgx_pixels-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    assert (unpacked / "tests" / "support" / "paths.py").is_file() and (unpacked / "workflows" / "api").is_dir()
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "not host",
                                "-p", "no:cacheprovider", "tests"], cwd=unpacked, capture_output=True, text=True)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-2000:]
    assert "unit/palette/test_palette_files.py::" in collected.stdout
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not host",
                          "tests/unit/palette", "tests/unit/sheets"], cwd=unpacked, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout[-3000:]
