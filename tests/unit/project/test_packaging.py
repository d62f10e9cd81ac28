"""The command line as `pip install` gives it: a wheel built from the shipped files, installed away from the
checkout, with every subcommand and the workflow library inside."""
from __future__ import annotations

import os
import subprocess
import sys
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
