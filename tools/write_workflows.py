#!/usr/bin/env python3
"""Rewrite the workflow library's files (``workflows/<name>.json``, ``workflows/api/<name>.json`` and its
``.params.json``) from their definitions in ``dgx_pixels/library/definitions.py``.

The editor format needs every node's definition (widget order, slot types), so a ComfyUI with this pack loaded is
started from the provisioned host for its ``/object_info``. Run with the host's Python: ``make workflows``.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dgx_pixels.host.provision import require_host  # noqa: E402
from dgx_pixels.host.server import LocalServer  # noqa: E402
from dgx_pixels.library.definitions import write_library  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="dgx-pixels-workflows-") as base:
        with LocalServer(require_host(), Path(base)) as server:
            object_info = server.object_info()
    for path in write_library(object_info):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
