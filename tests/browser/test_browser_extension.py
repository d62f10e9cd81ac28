"""The web extension in a real browser against the real ComfyUI frontend."""
from __future__ import annotations


from frontend import open_comfy, screenshot



def test_extension_loads_and_our_nodes_are_in_the_menu(comfy, browser):
    page = open_comfy(browser, comfy)
    try:
        assert any("dgx-pixels" in path for path in comfy.get_json("/extensions"))
        registered = page.evaluate(
            "() => Object.keys(LiteGraph.registered_node_types).filter(n => n.startsWith('DGXPixels'))")
        assert "DGXPixelsPixelUpscale" in registered
        colour = page.evaluate("""() => {
            const node = LiteGraph.createNode('DGXPixelsPixelUpscale');
            app.graph.add(node);
            node.pos = [200, 200];
            app.graph.setDirtyCanvas(true, true);
            return node.bgcolor;
        }""")
        assert colour == "#1d2738"
        page.wait_for_timeout(300)
        screenshot(page, "pixel-upscale-node")
    finally:
        page.close()
