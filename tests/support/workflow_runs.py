"""Running the shipped workflows in tests: bind named values (uploading images) and queue the API twin; check what
Bevy Export wrote."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from dgx_pixels.library.folder import CHECKOUT_WORKFLOWS
from dgx_pixels.remote.params import ApiWorkflow
from paths import ARTIFACTS as TEST_ARTIFACTS

ARTIFACTS = TEST_ARTIFACTS / "workflows"


def library_prompt(server, name: str, values: dict, images: dict | None = None) -> tuple[ApiWorkflow, dict]:
    """The API prompt of a shipped workflow with ``values`` bound (``images``: parameter -> local file, uploaded)."""
    workflow = ApiWorkflow.load(CHECKOUT_WORKFLOWS / "api" / f"{name}.json")
    uploaded = {key: server.upload_image(Path(path)) for key, path in (images or {}).items()}
    resolved = workflow.resolve({**values, **{k: str(v) for k, v in (images or {}).items()}})
    return workflow, workflow.bind(resolved, uploaded)


def run_library_workflow(server, name: str, values: dict, images: dict | None = None) -> dict:
    return server.run(library_prompt(server, name, values, images)[1], timeout=600)


def check_export(server, outputs: dict, folder: str, asset: str, native: tuple[int, int] | None, max_colours: int):
    """``native``: the size every frame's cell must have (None: frames aligned on one baseline may need more)."""
    assets = server.base_dir / "output" / "bevy_game" / "assets" / folder / asset
    sheet = Image.open(assets / f"{asset}.png")
    assert not sheet.info.get("prompt")
    rgba = np.asarray(sheet.convert("RGBA"))
    assert set(np.unique(rgba[..., 3]).tolist()) <= {0, 255}, "alpha must be binary"
    opaque = rgba[rgba[..., 3] == 255][:, :3]
    assert len({tuple(p) for p in opaque}) <= max_colours
    atlas = json.loads((assets / f"{asset}.json").read_text())
    frames = atlas["frames"]
    assert frames and (native is None or all((f["frame"]["w"], f["frame"]["h"]) == native for f in frames))
    for suffix in (".sprite.ron", ".atlas.ron", ".assets.ron", ".png.meta"):
        assert (assets / f"{asset}{suffix}").is_file()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # kept to look at: the sheet at 8x
    sheet.resize((sheet.width * 8, sheet.height * 8), Image.NEAREST).save(ARTIFACTS / f"{folder}-{asset}.png")
    return assets, sheet
