"""The workflow builder: API and editor formats from one graph, checked by ComfyUI's own frontend."""
from __future__ import annotations

import pytest

from dgx_pixels.library.graph import WorkflowGraph
from graphs import tiny_generation_graph


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


def test_bypassed_nodes_pass_their_inputs_through_in_the_api_twin():
    g = WorkflowGraph()
    a = g.node("EmptyImage", "A", width=8, height=8, batch_size=1, color=0)
    b = g.node("ImageInvert", "Invert", bypass={0: "image"}, image=a.out(0))
    g.node("PreviewImage", "Preview", images=b.out(0))
    api = g.to_api()
    assert "2" not in api
    assert api["3"]["inputs"]["images"] == ["1", 0]
