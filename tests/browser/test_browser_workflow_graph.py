"""The workflow builder's editor format, loaded in ComfyUI's own frontend, converts back to its API twin."""
from __future__ import annotations

import json

from frontend import open_comfy, screenshot
from graphs import tiny_generation_graph


def test_editor_format_converts_back_to_the_api_twin_in_the_real_frontend(comfy, browser):
    graph = tiny_generation_graph()
    ui = graph.to_ui(comfy.object_info())
    page = open_comfy(browser, comfy)
    try:
        page.evaluate("async (wf) => { await app.loadGraphData(wf); }", json.loads(json.dumps(ui)))
        converted = page.evaluate("async () => (await app.graphToPrompt()).output")
        page.wait_for_timeout(300)
        screenshot(page, "workflow-graph-tiny")
    finally:
        page.close()
    expected = graph.to_api()
    for node_id, node in expected.items():
        assert converted[node_id]["class_type"] == node["class_type"]
        assert converted[node_id]["inputs"] == node["inputs"], node["_meta"]["title"]
    assert set(converted) == set(expected)  # the Note is virtual and the bypassed node is not sent
    assert converted["8"]["inputs"]["image"] == ["6", 0]
