"""Prompt nodes: one prompt per line of text, as a list ComfyUI maps the following nodes over."""
from __future__ import annotations

from comfy_api.latest import io

from ..dgx_pixels.poses.prompts import prompt_lines
from .runtime import CATEGORY, node_id, user_errors


class PromptLines(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_id("PromptLines"),
            display_name="Prompt Lines",
            category=f"{CATEGORY}/prompts",
            description="One prompt per line (items, tiles...). The output is a list: the text encoder and "
                        "sampler after it run once per line.",
            inputs=[
                io.String.Input("lines", multiline=True, default="iron sword\nhealth potion\nwooden shield",
                                tooltip="One item per line; lines starting with # are skipped."),
                io.String.Input("template", default="{line}", multiline=True,
                                tooltip="Each line goes in at {line}, e.g. '{line}, pixel art game icon, plain "
                                        "background'."),
            ],
            outputs=[io.String.Output(display_name="prompts", is_output_list=True),
                     io.Int.Output(display_name="count")],
        )

    @classmethod
    def execute(cls, lines, template) -> io.NodeOutput:
        with user_errors("Prompt Lines"):
            prompts = prompt_lines(lines, template)
            return io.NodeOutput(prompts, len(prompts))


NODES = [PromptLines]
