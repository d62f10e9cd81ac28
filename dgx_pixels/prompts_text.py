"""Prompt lists from text: one prompt per line, each filled into a template."""
from __future__ import annotations

from .errors import InputError


def prompt_lines(text: str, template: str = "{line}") -> list[str]:
    """Non-empty, non-comment (#) lines of ``text``, each put into ``template`` at ``{line}``."""
    if "{line}" not in template:
        raise InputError(f"the template {template!r} has no {{line}} for the line's text")
    lines = [line.strip() for line in text.splitlines()]
    prompts = [template.replace("{line}", line) for line in lines if line and not line.startswith("#")]
    if not prompts:
        raise InputError("no prompts: write one item per line (lines starting with # are skipped)")
    return prompts
