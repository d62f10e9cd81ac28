"""Prompt lists from text (the Prompt Lines node)."""
from __future__ import annotations

import pytest

from dgx_pixels.common.errors import InputError
from dgx_pixels.poses.prompts import prompt_lines


def test_lines_fill_the_template_and_skip_blanks_and_comments():
    text = "iron sword\n\n# shields later\n  health potion  \n"
    assert prompt_lines(text, "{line}, pixel art icon") == ["iron sword, pixel art icon",
                                                            "health potion, pixel art icon"]


@pytest.mark.parametrize(("text", "template", "message"), [
    ("sword", "pixel art icon", "has no {line}"),
    ("\n# nothing\n", "{line}", "no prompts"),
])
def test_bad_input_is_named(text, template, message):
    with pytest.raises(InputError, match=message):
        prompt_lines(text, template)
