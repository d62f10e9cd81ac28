"""The workflow builder: API and editor formats from one graph, checked by ComfyUI's own frontend."""
from __future__ import annotations

import json

import pytest

from conftest import TINY_CHECKPOINT_NAME
from dgx_pixels.workflow_graph import WorkflowGraph


def tiny_generation_graph() -> WorkflowGraph:
    g = WorkflowGraph()
    ckpt = g.node("CheckpointLoaderSimple", "Checkpoint", ckpt_name=TINY_CHECKPOINT_NAME)
    pos = g.node("CLIPTextEncode", "Positive prompt", clip=ckpt.out(1), text="pixel art knight")
    neg = g.node("CLIPTextEncode", "Negative prompt", clip=ckpt.out(1), text="blurry")
    latent = g.node("EmptyLatentImage", "Canvas", width=64, height=64, batch_size=1)
    sampler = g.node("KSampler", "Sampler", model=ckpt.out(0), positive=pos.out(0), negative=neg.out(0),
                     latent_image=latent.out(0), seed=3, steps=2, cfg=7.0, sampler_name="euler",
                     scheduler="normal", denoise=1.0)
    decode = g.node("VAEDecode", "Decode", samples=sampler.out(0), vae=ckpt.out(2))
    invert = g.node("ImageInvert", "Optional invert", bypass={0: "image"}, image=decode.out(0))
    up = g.node("DGXPixelsPixelUpscale", "Upscale", image=invert.out(0), scale=2)
    g.node("SaveImage", "Save", images=up.out(0), filename_prefix="graph")
    g.group("Model", [ckpt, pos, neg])
    g.note("Type what to draw in the positive prompt.", pos)
    return g


def test_api_format_links_and_titles():
    api = tiny_generation_graph().to_api()
    assert api["2"] == {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "pixel art knight"},
                        "_meta": {"title": "Positive prompt"}}
    assert api["6"]["inputs"] == {"samples": ["5", 0], "vae": ["1", 2]}


def test_titles_must_be_unique():
    g = WorkflowGraph()
    g.node("EmptyImage", "A")
    with pytest.raises(ValueError, match="two nodes titled"):
        g.node("EmptyImage", "A")


@pytest.mark.host
def test_editor_format_converts_back_to_the_api_twin_in_the_real_frontend(comfy, browser):
    from browser import open_comfy, screenshot

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


def test_bypassed_nodes_pass_their_inputs_through_in_the_api_twin():
    g = WorkflowGraph()
    a = g.node("EmptyImage", "A", width=8, height=8, batch_size=1, color=0)
    b = g.node("ImageInvert", "Invert", bypass={0: "image"}, image=a.out(0))
    g.node("PreviewImage", "Preview", images=b.out(0))
    api = g.to_api()
    assert "2" not in api
    assert api["3"]["inputs"]["images"] == ["1", 0]
