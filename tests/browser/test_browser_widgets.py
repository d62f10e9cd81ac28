"""The web extension's widgets in a real browser, fed by real node executions on the real server."""
from __future__ import annotations

import numpy as np

from frontend import open_comfy, screenshot
from dgx_pixels.image import io as imageio
from pixel_art import blow_up, true_sprite, uniform_cuts



def canvas_pixels(page, selector: str) -> dict:
    """Size of the widget's canvas and whether its pixels form hard-edged blocks (no smoothing)."""
    return page.evaluate("""(selector) => {
        const canvas = document.querySelector(selector);
        const ctx = canvas.getContext('2d');
        const {width, height} = canvas;
        const data = ctx.getImageData(0, 0, width, height).data;
        const colours = new Set();
        for (let i = 0; i < data.length; i += 4) colours.add(`${data[i]},${data[i+1]},${data[i+2]},${data[i+3]}`);
        return {width, height, colours: colours.size};
    }""", selector)


def run_in_page(page, prompt: dict) -> None:
    """Queue an API prompt from the page and wait until the node's onExecuted has fed its widget."""
    page.evaluate("""async (prompt) => {
        window.__dgxDone = false;
        window.comfyAPI.api.api.addEventListener('executing',
            (e) => { if (e.detail === null) window.__dgxDone = true; });
        await window.comfyAPI.api.api.queuePrompt(0, {output: prompt, workflow: {}});
    }""", prompt)
    page.wait_for_function("() => window.__dgxDone === true", timeout=60_000)


def test_pixel_preview_shows_hard_pixels_and_the_grid(comfy, browser, tmp_path):
    rgb, mask = true_sprite(16, 12, seed=8)
    image, big_mask = blow_up(rgb, mask, uniform_cuts(16, 12.0), uniform_cuts(12, 12.0))
    imageio.save_png(tmp_path / "preview_knight.png", image[0], big_mask[0])
    name = comfy.upload_image(tmp_path / "preview_knight.png")
    page = open_comfy(browser, comfy)
    try:
        node_id = page.evaluate("""(name) => {
            app.graph.clear();
            const load = LiteGraph.createNode('LoadImage'); app.graph.add(load); load.pos = [40, 120];
            load.widgets.find(w => w.name === 'image').value = name;
            const down = LiteGraph.createNode('DGXPixelsPixelPerfectDownscale'); app.graph.add(down);
            down.pos = [420, 120];
            load.connect(0, down, 0); load.connect(1, down, down.inputs.findIndex(i => i.name === 'mask'));
            const save = LiteGraph.createNode('PreviewImage'); app.graph.add(save); save.pos = [900, 120];
            down.connect(0, save, 0);
            return down.id;
        }""", name)
        page.evaluate("async () => { await app.queuePrompt(0, 1); }")
        page.wait_for_selector(".dgx-pixel_preview[data-ready='1']", timeout=60_000)
        page.wait_for_timeout(300)
        after = canvas_pixels(page, ".dgx-pixel_preview canvas")
        assert after["width"] % 16 == 0 and after["width"] // 16 == after["height"] // 12  # integer zoom
        assert after["colours"] <= 16 * 12 + 4  # hard pixels, grid, checkerboard; smoothing adds many more
        label = page.inner_text(".dgx-pixel_preview .dgx-label")
        assert "16×12 px" in label and "confidence" in label
        screenshot(page, "widget-pixel-preview-after")
        page.click(".dgx-pixel_preview button:text('after')")  # switch to the input
        page.wait_for_timeout(200)
        before = canvas_pixels(page, ".dgx-pixel_preview canvas")
        assert before["width"] == 192  # the 192x144 input at 1x
        screenshot(page, "widget-pixel-preview-before")
        assert node_id
    finally:
        page.close()


def test_palette_swatches_show_hex_codes_and_copy_on_click(comfy, browser):
    page = open_comfy(browser, comfy)
    try:
        page.evaluate("""() => {
            app.graph.clear();
            const load = LiteGraph.createNode('DGXPixelsLoadPalette'); app.graph.add(load); load.pos = [60, 120];
            load.widgets.find(w => w.name === 'palette').value = 'Sweetie 16';
            const preview = LiteGraph.createNode('PreviewImage'); app.graph.add(preview); preview.pos = [520, 120];
            load.connect(1, preview, 0);
        }""")
        page.evaluate("async () => { await app.queuePrompt(0, 1); }")
        page.wait_for_selector(".dgx-palette_swatches[data-ready='1']", timeout=60_000)
        swatches = page.locator(".dgx-palette_swatches .dgx-swatch")
        assert swatches.count() == 16
        assert swatches.nth(0).inner_text() == "#1a1c2c"
        assert "16 colours" in page.inner_text(".dgx-palette_swatches .dgx-bar")
        colour = page.evaluate("() => getComputedStyle(document.querySelector('.dgx-swatch')).backgroundColor")
        assert colour == "rgb(26, 28, 44)"
        swatches.nth(3).click()
        page.wait_for_function("() => document.querySelector('.dgx-palette_swatches').dataset.copied === '#ef7d57'")
        screenshot(page, "widget-palette-swatches")
    finally:
        page.close()


def test_sheet_player_advances_frames_and_switches_tags(comfy, browser, tmp_path):
    import numpy as np
    from PIL import Image

    names = []
    for index in range(6):
        frame = np.zeros((16, 16, 4), np.uint8)
        frame[4:16, 4:12] = (40 * index, 200 - 30 * index, 90, 255)
        frame[2 + index % 3: 6 + index % 3, 6:10] = (250, 220, 180, 255)
        Image.fromarray(frame).save(tmp_path / f"player{index}.png")
        names.append(comfy.upload_image(tmp_path / f"player{index}.png"))
    page = open_comfy(browser, comfy)
    try:
        page.evaluate("""(names) => {
            app.graph.clear();
            let previous = null;
            names.forEach((name, i) => {
                const load = LiteGraph.createNode('LoadImage'); app.graph.add(load); load.pos = [40, 40 + 60 * i];
                load.widgets.find(w => w.name === 'image').value = name;
                load.collapse();
                const join = LiteGraph.createNode('JoinImageWithAlpha'); app.graph.add(join);
                join.pos = [260, 40 + 60 * i]; join.collapse();
                load.connect(0, join, 0); load.connect(1, join, 1);
                if (previous) {
                    const batch = LiteGraph.createNode('ImageBatch'); app.graph.add(batch);
                    batch.pos = [480, 40 + 60 * i]; batch.collapse();
                    previous.connect(0, batch, 0); join.connect(0, batch, 1);
                    previous = batch;
                } else { previous = join; }
            });
            const sheet = LiteGraph.createNode('DGXPixelsAssembleSpriteSheet'); app.graph.add(sheet);
            sheet.pos = [700, 60];
            sheet.widgets.find(w => w.name === 'tags').value = 'idle:2@200ms, walk:4@120ms pingpong';
            previous.connect(0, sheet, 0);
            const preview = LiteGraph.createNode('PreviewImage'); app.graph.add(preview); preview.pos = [1150, 60];
            sheet.connect(0, preview, 0);
        }""", names)
        page.evaluate("async () => { await app.queuePrompt(0, 1); }")
        page.wait_for_selector(".dgx-sheet_player[data-ready='1']", timeout=90_000)
        options = page.eval_on_selector_all(".dgx-sheet_player select:first-child option",
                                             "els => els.map(e => e.value)")
        assert options == ["idle", "walk"]
        seen = set()
        for _ in range(12):
            seen.add(page.get_attribute(".dgx-sheet_player", "data-frame"))
            page.wait_for_timeout(110)
        assert {"0", "1"} <= seen  # idle plays on its own
        page.select_option(".dgx-sheet_player select >> nth=0", "walk")
        seen = set()
        for _ in range(16):
            seen.add(page.get_attribute(".dgx-sheet_player", "data-frame"))
            page.wait_for_timeout(70)
        assert {"2", "3", "4", "5"} <= seen
        pixels = canvas_pixels(page, ".dgx-sheet_player canvas")
        assert pixels["width"] >= 64 and pixels["colours"] < 40  # crisp pixels over a two-tone checkerboard
        screenshot(page, "widget-sheet-player")
    finally:
        page.close()


def test_shipped_workflow_runs_in_the_browser_and_feeds_every_widget(comfy, browser, tmp_path):
    """The clean-up workflow loaded with app.loadGraphData and queued from the page, as a user would."""
    import json

    from dgx_pixels.library.folder import CHECKOUT_WORKFLOWS

    rgb, _ = true_sprite(16, 16, seed=21, alpha=False)
    rgb[:2], rgb[:, :2] = (30, 200, 60), (30, 200, 60)
    image, _ = blow_up(rgb, np.zeros((16, 16), np.float32), uniform_cuts(16, 9.0), uniform_cuts(16, 9.0))
    imageio.save_png(tmp_path / "browser_cleanup.png", image[0])
    name = comfy.upload_image(tmp_path / "browser_cleanup.png")
    workflow = json.loads((CHECKOUT_WORKFLOWS / "cleanup_existing_art.json").read_text())
    for node in workflow["nodes"]:
        if node["type"] == "LoadImage":
            node["widgets_values"][0] = name
    page = open_comfy(browser, comfy)
    try:
        page.evaluate("async (wf) => { await app.loadGraphData(wf); }", workflow)
        page.evaluate("async () => { await app.queuePrompt(0, 1); }")
        for widget in ("pixel_preview", "palette_swatches", "sheet_player"):
            # widgets scrolled out of view are attached but hidden
            page.wait_for_selector(f".dgx-{widget}[data-ready='1']", state="attached", timeout=120_000)
        assert "16×16 px" in page.text_content(".dgx-pixel_preview .dgx-label")
        assert page.locator(".dgx-palette_swatches").first.locator(".dgx-swatch").count() <= 16
        page.evaluate("() => app.canvas.ds.scale = 0.55")
        page.wait_for_timeout(400)
        screenshot(page, "workflow-cleanup-run")
    finally:
        page.close()
