"""Where the workflow library's files are: ``workflows/`` of the checkout (editor files, with ``api/`` twins and
parameter maps), or the copy a pip install puts inside the package."""
from __future__ import annotations

from pathlib import Path

from ..common.paths import PACKAGE_DIR, PROJECT_ROOT

CHECKOUT_WORKFLOWS = PROJECT_ROOT / "workflows"


def workflows_dir() -> Path:
    return CHECKOUT_WORKFLOWS if CHECKOUT_WORKFLOWS.is_dir() else PACKAGE_DIR / "workflows"


WORKFLOWS_DIR = workflows_dir()
API_DIR = WORKFLOWS_DIR / "api"
