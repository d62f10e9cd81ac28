"""Where this package and its checkout are: the repository root holds the node pack, the package and the workflow
library; a pip install has only the package (with the library copied inside)."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PROJECT_ROOT = PACKAGE_DIR.parent
