"""The web engines the export tests load our files with: Phaser 3, Phaser 4 and PixiJS 8 from npm, run under node.

The packages are pinned by tests/support/js/package-lock.json and installed on first use with ``npm ci`` (from
npm's cache when it has them). A machine without node or npm, or one that cannot install the packages, skips these
tests with the reason; nothing else needs node.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"
PHASER_PACKAGES = {"Phaser 3": "phaser3", "Phaser 4": "phaser"}
NODE_TIMEOUT = 120


def _installed() -> bool:
    """node_modules holds exactly what the lock names (npm writes its own copy of the lock there)."""
    installed = JS / "node_modules" / ".package-lock.json"
    if not installed.is_file():
        return False
    wanted = json.loads((JS / "package-lock.json").read_text())["packages"]
    have = json.loads(installed.read_text())["packages"]
    return all(have.get(path, {}).get("version") == entry.get("version")
               for path, entry in wanted.items() if path)


def ensure_packages() -> None:
    """Install the pinned packages when they are missing, or skip the calling test with the reason."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the Phaser and PixiJS loaders cannot run (apt-get install "
                    "nodejs npm)")
    if _installed():
        return
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=JS,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip(f"npm could not install the web engines from tests/support/js/package-lock.json: "
                    f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")


def _node(*arguments: str) -> dict:
    ensure_packages()
    done = subprocess.run(["node", *arguments], cwd=JS, capture_output=True, text=True, timeout=NODE_TIMEOUT)
    assert done.returncode == 0, f"node {arguments[0]} failed:\n{done.stderr}"
    return json.loads(done.stdout)


def phaser_load(version: str, sheet_json: Path, size: tuple[int, int]) -> dict:
    """What Phaser (``version``: a PHASER_PACKAGES key) makes of an Aseprite JSON: its texture frames and the
    animations ``createFromAseprite`` builds (with the export snippet's repeats)."""
    return _node("phaser_load.cjs", str(JS / "node_modules" / PHASER_PACKAGES[version]), str(sheet_json),
                 str(size[0]), str(size[1]))


def pixi_load(sheet_json: Path, size: tuple[int, int]) -> dict:
    """What PixiJS 8 makes of a sheet JSON: whether its spritesheet loader takes the file, the textures of
    ``Spritesheet`` and each animation played as an AnimatedSprite the way the export snippet does."""
    return _node("pixi_load.mjs", str(sheet_json), str(size[0]), str(size[1]))
