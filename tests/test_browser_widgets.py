"""The web extension's widgets in a real browser, fed by real node executions on the real server."""
from __future__ import annotations

import pytest

from browser import open_comfy, screenshot
from dgx_pixels import imageio
from pixel_art import blow_up, true_sprite, uniform_cuts

pytestmark = pytest.mark.host


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
        window.comfyAPI.api.api.addEventListener('executing', (e) => { if (e.detail === null) window.__dgxDone = true; });
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
