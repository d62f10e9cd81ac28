"""The terrain workflow as a user meets it: loaded from the shipped file into ComfyUI's editor, set small, queued from
the page; the plan, the tiles, the edge check and the map preview show on their nodes."""
from __future__ import annotations

import json

from frontend import open_comfy, screenshot
from dgx_pixels.library.folder import CHECKOUT_WORKFLOWS
from tiny_checkpoint import CHECKPOINT_NAME, LORA_NAME

# Widget values a user would type for a quick look on the tiny model, by node title.
SMALL = {"Terrain Transitions": {"tile_size": 16, "canvas": 64, "variants": 1, "seed": 2},
         "Base Sampler": {"steps": 2}, "Tile Sampler": {"steps": 2}, "Map Preview": {"columns": 12, "rows": 8},
         "Bevy Export": {"name": "browser_meadow"}}


def test_terrain_workflow_runs_in_the_editor_and_shows_its_map(comfy, browser):
    workflow = json.loads((CHECKOUT_WORKFLOWS / "terrain_transitions.json").read_text())
    page = open_comfy(browser, comfy, viewport=(1600, 1000))
    try:
        page.evaluate("async (wf) => { await app.loadGraphData(wf); }", workflow)
        unset = page.evaluate("""([values, checkpoint, lora]) => {
            const unset = [];
            const byTitle = (title) => app.graph._nodes.find((n) => n.title === title);
            const set = (node, name, value) => {
                const widget = node && (node.widgets || []).find((w) => w.name === name);
                if (widget) widget.value = value; else unset.push(`${node && node.title}.${name}`);
            };
            for (const [title, widgets] of Object.entries(values))
                for (const [name, value] of Object.entries(widgets)) set(byTitle(title), name, value);
            for (const node of app.graph._nodes) {
                if (node.type === 'CheckpointLoaderSimple') set(node, 'ckpt_name', checkpoint);
                if (node.type === 'LoraLoader') set(node, 'lora_name', lora);
            }
            return unset;
        }""", [SMALL, CHECKPOINT_NAME, LORA_NAME])
        assert unset == []
        page.evaluate("""async () => {
            window.__dgxDone = false;
            window.__dgxErrors = [];
            const api = window.comfyAPI.api.api;
            api.addEventListener('executing', (e) => { if (e.detail === null) window.__dgxDone = true; });
            api.addEventListener('execution_error', (e) => window.__dgxErrors.push(
                `${e.detail.node_type}: ${e.detail.exception_message}`));
            await app.queuePrompt(0, 1);
        }""")
        page.wait_for_function("() => window.__dgxDone === true", timeout=600_000)
        assert page.evaluate("() => window.__dgxErrors") == []
        entry = list(comfy.get_json("/history").values())[-1]  # this run: the latest prompt
        titles = {node_id: node["_meta"]["title"] for node_id, node in entry["prompt"][2].items()}
        with_images = {titles[node_id] for node_id, output in entry["outputs"].items() if output.get("images")}
        assert {"Terrain Transitions", "Terrain Tiles", "Edge Check", "Map Preview"} <= with_images
        page.evaluate("""() => { app.canvas.ds.scale = 0.42; app.canvas.ds.offset = [40, 60];
                                 app.canvas.setDirty(true, true); }""")
        page.wait_for_timeout(800)
        screenshot(page, "workflow-terrain-run")
        page.evaluate("""() => {
            const node = app.graph._nodes.find((n) => n.title === 'Map Preview');
            app.canvas.ds.scale = 1.0;
            app.canvas.ds.offset = [-node.pos[0] + 700, -node.pos[1] + 120];
            app.canvas.setDirty(true, true);
        }""")
        # A node loads its preview when it is drawn on screen.
        page.wait_for_function("""() => (app.graph._nodes.find((n) => n.title === 'Map Preview').imgs || [])
                                        .some((img) => img.complete && img.naturalWidth > 0)""", timeout=30_000)
        page.wait_for_timeout(300)
        screenshot(page, "workflow-terrain-map-preview")
    finally:
        page.close()
