"""The shipped workflows: files match their definitions, load in the real frontend, appear in the template browser,
and every API twin runs end to end on the tiny model with outputs that pass the pixel-art checks."""
from __future__ import annotations

import json

import numpy as np
import pytest

from comfy_server import ComfyServer
from dgx_pixels.library import definitions as library
from dgx_pixels.library.folder import CHECKOUT_WORKFLOWS
from dgx_pixels.remote.params import ApiWorkflow
from paths import DATA, REPO
from workflow_runs import check_export, run_library_workflow


@pytest.fixture(scope="module")
def studio(host, tiny_checkpoint_path, tiny_lora_path, tmp_path_factory):
    """A server whose models carry the names the workflows expect (the tiny model stands in for SDXL)."""
    models = tmp_path_factory.mktemp("named-models")
    (models / library.SDXL_CHECKPOINT).symlink_to(tiny_checkpoint_path)
    (models / library.PIXEL_ART_LORA).symlink_to(tiny_lora_path)
    server = ComfyServer(host, tmp_path_factory.mktemp("studio-base"),
                         models={"checkpoints": [models / library.SDXL_CHECKPOINT],
                                 "loras": [models / library.PIXEL_ART_LORA]})
    try:
        yield server.start()
    finally:
        server.stop()


def test_files_match_their_definitions(studio):
    object_info = studio.object_info()
    for workflow in library.LIBRARY:
        for path, text in library.rendered_files(workflow, workflow.build(), object_info).items():
            assert path.is_file(), f"{path} is missing: run `make workflows`"
            assert path.read_text() == text, f"{path} drifted from its definition: run `make workflows`"


def test_template_browser_lists_the_workflows(studio):
    templates = studio.get_json("/workflow_templates")
    pack, listed = next((pack, names) for pack, names in templates.items() if "dgx-pixels" in pack)
    assert {w.name for w in library.LIBRARY} <= set(listed)
    for workflow in library.LIBRARY:  # the browser shows a same-name thumbnail
        import urllib.request

        with urllib.request.urlopen(f"{studio.url}/api/workflow_templates/{pack}/{workflow.name}.jpg") as answer:
            assert answer.read(3) == b"\xff\xd8\xff", f"{workflow.name}.jpg is not served as a JPEG"


def test_editor_files_load_in_the_frontend_and_convert_to_their_twins(studio, browser):
    from frontend import open_comfy, screenshot

    page = open_comfy(browser, studio)
    try:
        for workflow in library.LIBRARY:
            ui = json.loads((CHECKOUT_WORKFLOWS / f"{workflow.name}.json").read_text())
            missing = page.evaluate("(wf) => wf.nodes.map(n => n.type)"
                                    ".filter(t => !LiteGraph.registered_node_types[t])",
                                    ui)
            assert missing == [], f"{workflow.name}: unknown node types {missing}"
            page.evaluate("async (wf) => { await app.loadGraphData(wf); }", ui)
            converted = page.evaluate("async () => (await app.graphToPrompt()).output")
            twin = json.loads((CHECKOUT_WORKFLOWS / "api" / f"{workflow.name}.json").read_text())
            differing = {k: (converted.get(k), twin.get(k)) for k in set(converted) | set(twin)
                         if (converted.get(k) or {}).get("inputs") != (twin.get(k) or {}).get("inputs")
                         or (converted.get(k) or {}).get("class_type") != (twin.get(k) or {}).get("class_type")}
            assert differing == {}, f"{workflow.name}: frontend vs twin {differing}"
            check_layout(workflow.name, page.evaluate(LAYOUT))
            page.wait_for_timeout(300)
            screenshot(page, f"workflow-{workflow.name}")
    finally:
        page.close()


# The boxes the frontend draws: nodes with their title bars, groups with theirs.
LAYOUT = """() => ({
    nodes: app.graph._nodes.map(n => ({type: n.type, title: n.title, box: Array.from(n.getBounding())})),
    groups: app.graph._groups.map(g => ({title: g.title, box: Array.from(g._bounding)})),
})"""


def overlap(a: list, b: list) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def inside(inner: list, outer: list) -> bool:
    return (outer[0] <= inner[0] and inner[0] + inner[2] <= outer[0] + outer[2] and outer[1] <= inner[1]
            and inner[1] + inner[3] <= outer[1] + outer[3])


def check_layout(name: str, layout: dict) -> None:
    """No two groups overlap, no note covers a node, every node sits in one group; in the character workflow every
    stage (group) holds a note that explains it."""
    groups, nodes = layout["groups"], layout["nodes"]
    for number, group in enumerate(groups):
        for other in groups[number + 1:]:
            assert not overlap(group["box"], other["box"]), f"{name}: {group['title']!r} overlaps {other['title']!r}"
    notes = [node for node in nodes if node["type"] == "Note"]
    for note in notes:
        for node in nodes:
            assert node is note or not overlap(note["box"], node["box"]), f"{name}: a note covers {node['title']!r}"
    for node in nodes:
        assert sum(inside(node["box"], group["box"]) for group in groups) == 1, f"{name}: {node['title']!r}"
    if name == "character_sprite_sheet":
        for group in groups:
            assert any(inside(note["box"], group["box"]) for note in notes), f"{group['title']!r} has no note"


TINY = {"width": 64, "height": 64, "steps": 2, "seed": 3}


def test_cleanup_existing_art_end_to_end(studio, tmp_path):
    from dgx_pixels.image import io as imageio
    from pixel_art import blow_up, true_sprite, uniform_cuts

    rgb, mask = true_sprite(20, 16, seed=11, alpha=False)
    rgb[:2] = (30, 200, 60)
    rgb[:, :2] = (30, 200, 60)
    image, big_mask = blow_up(rgb, np.zeros((16, 20), np.float32), uniform_cuts(20, 11.3), uniform_cuts(16, 11.3),
                              noise=0.01)
    imageio.save_png(tmp_path / "old_sprite.png", image[0])
    outputs = run_library_workflow(studio, "cleanup_existing_art", {"colours": 8},
                                   {"image": tmp_path / "old_sprite.png"})
    assets, sheet = check_export(studio, outputs, "sprites", "cleaned", (20, 16), 8)
    assert sheet.size == (20, 16)


def test_tileset_seamless_end_to_end(studio, tmp_path):
    outputs = run_library_workflow(studio, "tileset_seamless", {**TINY, "tiles": 2, "tile_size": "16x16",
                                                                  "colours": 8})
    assets, sheet = check_export(studio, outputs, "tilesets", "ground", (16, 16), 8)
    assert (assets / "ground.tsx").is_file()


def test_item_icons_end_to_end(studio, tmp_path):
    outputs = run_library_workflow(studio, "item_icons", {**TINY, "items": "sword\npotion\nshield",
                                                            "icon_size": "16x16", "colors": 12})
    assets, sheet = check_export(studio, outputs, "items", "items", (16, 16), 12)
    assert len(json.loads((assets / "items.json").read_text())["frames"]) == 3


def test_generate_command_queues_the_library_workflows(studio, tmp_path):
    import subprocess
    import sys

    root = REPO
    common = ["--server", studio.url, "--set", "width=64", "--set", "height=64", "--steps", "2", "--colors", "6",
              "-q"]
    result = subprocess.run([sys.executable, "-m", "dgx_pixels", "generate", "items", "--item", "axe", "--item",
                             "ring", "--icon-size", "16x16", "--name", "loot", "-o", str(tmp_path / "items"),
                             *common], cwd=root, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "items" / "manifest.json").read_text())
    assert [job["state"] for job in manifest["jobs"]] == ["done"]
    assets = studio.base_dir / "output" / "bevy_game" / "assets" / "items" / "loot"
    assert len(json.loads((assets / "loot.json").read_text())["frames"]) == 2
    result = subprocess.run([sys.executable, "-m", "dgx_pixels", "generate", "tiles", "cobblestone", "--tiles", "0",
                             *common], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "tiles" in result.stderr


def test_the_0_1_character_workflow_still_validates_and_runs(studio):
    """Scripts written for the first character workflow (a prompt per frame, Pose Batch) send its API prompt with
    its parameter names: the server still takes it, and it still draws a tagged sheet."""
    legacy = ApiWorkflow.load(DATA / "legacy" / "character_sprite_sheet.json")
    assert "DGXPixelsCharacterPoseBatch" in {node["class_type"] for node in legacy.prompt.values()}
    values = {"width": 64, "height": 64, "steps": 2, "animations": "idle:2, walk:2", "directions": "right",
              "size": "16x16", "colours": 8, "seed": 5, "prompt": "a green goblin", "asset_name": "goblin"}
    studio.run(legacy.bind(legacy.resolve(values)), timeout=600)  # queueing fails on any validation error
    assets, sheet = check_export(studio, {}, "sprites", "goblin", (16, 16), 8)
    atlas = json.loads((assets / "goblin.json").read_text())
    assert [(t["name"], t["from"], t["to"]) for t in atlas["meta"]["frameTags"]] == [("idle_E", 0, 1),
                                                                                     ("walk_E", 2, 3)]
