"""The code style pyproject's [tool.ruff] sets (the ComfyUI registry's own checks among them) holds everywhere."""
from __future__ import annotations

import subprocess
import sys

from comfy_server import PACK_ROOT


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."],
                            cwd=PACK_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
