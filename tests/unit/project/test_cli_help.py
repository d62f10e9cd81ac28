"""Every command's help page explains every option and ends with examples that the command line accepts."""
from __future__ import annotations

import argparse
import shlex

import pytest

from dgx_pixels.cli.examples import EXAMPLES
from dgx_pixels.cli.main import build_parser


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from leaf_commands(child, (*path, name))
            return
    yield " ".join(path), parser


LEAVES = dict(leaf_commands(build_parser()))


@pytest.mark.parametrize("command", sorted(LEAVES))
def test_help_has_examples_and_every_option_says_what_it_does(command):
    parser = LEAVES[command]
    page = parser.format_help()
    assert "examples:" in page and f"dgx-pixels {command}" in page.split("examples:")[1]
    unexplained = [action.option_strings or [action.dest] for action in parser._actions
                   if not action.help and not isinstance(action, argparse._HelpAction)]
    assert not unexplained, f"dgx-pixels {command}: no help text for {unexplained}"


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_every_example_parses(command):
    assert command in LEAVES, f"examples for a command that does not exist: {command}"
    for line in EXAMPLES[command].strip().splitlines():
        text = line.split("  #")[0].strip()
        if text.startswith("$("):
            continue
        words = shlex.split(text)
        assert words[0] == "dgx-pixels"
        args = build_parser().parse_args(words[1:])
        assert args.func, text
