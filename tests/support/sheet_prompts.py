"""Prompt parts for sheets and the Bevy export in a real ComfyUI: a Bevy project in the server's output folder (an
allowed root), frames loaded with LoadImage, Assemble Sprite Sheet and Bevy Export nodes."""
from __future__ import annotations

import uuid

from sheet_samples import save_rgba


SPEC = "idle:4@120ms, walk_E:6@80ms pingpong"


def bevy_project(comfy) -> tuple[str, object]:
    """A fresh Bevy project folder inside the server's output folder; returns (relative name, path)."""
    name = f"bevy_game_{uuid.uuid4().hex[:8]}"
    path = comfy.base_dir / "output" / name
    path.mkdir()
    (path / "Cargo.toml").write_text('[package]\nname = "game"\nversion = "0.1.0"\n\n[dependencies]\nbevy = "0.19"\n')
    return name, path


def load_frames_prompt(comfy, tmp_path, frames, first_id: int = 100) -> tuple[dict, list]:
    """LoadImage + JoinImageWithAlpha per frame, chained through ImageBatch: (prompt part, link to the batch)."""
    prompt, batch = {}, None
    for number, frame in enumerate(frames):
        path = tmp_path / f"frame_{uuid.uuid4().hex[:6]}_{number}.png"
        save_rgba(frame, path)
        load, join = str(first_id + 3 * number), str(first_id + 3 * number + 1)
        prompt[load] = {"class_type": "LoadImage", "inputs": {"image": comfy.upload_image(path)}}
        prompt[join] = {"class_type": "JoinImageWithAlpha", "inputs": {"image": [load, 0], "alpha": [load, 1]}}
        if batch is None:
            batch = [join, 0]
        else:
            merged = str(first_id + 3 * number + 2)
            prompt[merged] = {"class_type": "ImageBatch", "inputs": {"image1": batch, "image2": [join, 0]}}
            batch = [merged, 0]
    return prompt, batch


def assemble_node(frames_link, **overrides) -> dict:
    inputs = {"frames": frames_link, "tags": SPEC, "layout": "rows", "columns": 0, "cell_width": 0,
              "cell_height": 0, "align": "baseline", "pivot_x": 0.5, "pivot_y": 1.0, "padding": 1, "extrude": 0,
              "trim": False, "dedupe": False}
    inputs.update(overrides)
    return {"class_type": "DGXPixelsAssembleSpriteSheet", "inputs": inputs}


def export_node(source: str, project: str, name: str, **overrides) -> dict:
    inputs = {"sheet": [source, 0], "mask": [source, 1], "layout": [source, 2], "project": project, "name": name,
              "folder": "auto", "png_meta": True, "must_be_bevy_project": True}
    inputs.update(overrides)
    return {"class_type": "DGXPixelsBevyExport", "inputs": inputs}
