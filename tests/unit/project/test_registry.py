"""The registry view of the pack, read by the registry's own code: ComfyUI's pyproject parser (comfy_config) and
comfy-cli's packer (``comfy node pack`` zips git-tracked files minus .comfyignore)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from urllib.parse import urlparse

from PIL import Image

from comfy_server import copy_tracked_files
from paths import REPO


def registry_config(host):
    sys.path.insert(0, host.comfyui)
    try:
        from comfy_config import config_parser
    finally:
        sys.path.remove(host.comfyui)
    return config_parser.extract_node_configuration(str(REPO))


def test_pyproject_gives_the_registry_its_urls_licence_and_icon(host):
    config = registry_config(host)
    assert config.project.name == "dgx-pixels"
    urls = config.project.urls
    assert urls.repository and urls.homepage and urls.documentation and urls.issues
    assert config.project.license.text == "GPL-3.0-or-later"
    assert config.tool_comfy.publisher_id and config.tool_comfy.display_name == "DGX-Pixels"
    # The icon URL points at a file of this repository: square, at most 400 px, as the registry asks.
    icon = REPO / urlparse(config.tool_comfy.icon).path.split("/main/", 1)[1]
    with Image.open(icon) as image:
        assert image.format == "PNG" and image.width == image.height <= 400


def test_registry_pack_holds_only_what_comfyui_needs(tmp_path):
    from comfy_cli.file_utils import zip_files

    source = copy_tracked_files(tmp_path / "source")
    subprocess.run(["git", "init", "-q"], cwd=source, check=True)
    subprocess.run(["git", "add", "-A"], cwd=source, check=True)
    cwd = os.getcwd()
    os.chdir(source)
    try:
        zip_files(str(tmp_path / "node.zip"))
    finally:
        os.chdir(cwd)
    names = zipfile.ZipFile(tmp_path / "node.zip").namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {".comfyignore", ".gitignore", "LICENSE", "README.md", "__init__.py", "dgx_pixels", "install.py",
                    "nodes", "pyproject.toml", "requirements.txt", "web", "workflows"}
    assert "web/js/dgx_pixels.js" in names and "workflows/api/character_sprite_sheet.json" in names
    assert not [name for name in names if name.startswith("web/") and not name.startswith("web/js/")]
