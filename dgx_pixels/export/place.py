"""Where an export lands: the engine's project found from the folder a user gives, and the asset's folder in it.

Every target writes into ``<project>/<base>/<kind>/<name>/`` (base ``assets``, or ``Assets`` where Unity looks),
through safe_write: the same allowed roots, history and recovery for every engine.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import InputError
from ..image.png import to_rgba8
from ..sheets.layout import ASSET_KINDS, SheetLayout
from .paths import STATE_DIR, inner_dir, inner_file, read_inner

MARKER_LIMIT = 1 << 20  # a project file is a few KB; anything larger under that name is not one


@dataclass(frozen=True)
class AssetPlace:
    """An asset's place: ``project`` (a real folder inside the roots), ``base``/``kind``/``name`` below it."""
    project: Path
    base: str
    kind: str
    name: str

    @property
    def asset(self) -> str:
        return f"{self.base}/{self.kind}/{self.name}"

    @property
    def folder(self) -> Path:
        return self.project / self.asset

    @property
    def image(self) -> str:
        return f"{self.name}.png"

    def path(self, file_name: str) -> str:
        """A file of the asset relative to the project, with forward slashes (``assets/sprites/hero/hero.png``)."""
        return f"{self.asset}/{file_name}"

    def existing(self, file_name: str, limit: int = MARKER_LIMIT) -> bytes | None:
        """The asset's current file ``file_name`` (never through a link), or None when there is none yet."""
        folder = inner_dir(self.project, self.asset.split("/"), create=False)
        if folder is None or not inner_file(folder / file_name, self.project):
            return None
        return read_inner(folder / file_name, limit, f"{file_name} read back by the export")


def find_marked_project(start: Path, roots: list[Path], marker: str, engine: str, hint: str) -> Path:
    """The nearest folder from ``start`` upwards (inside its export root) holding the file ``marker`` (a path
    relative to the folder: ``project.godot``, ``ProjectSettings/ProjectVersion.txt``)."""
    if not start.is_dir():
        raise InputError(f"{str(start)!r} is not a folder; give the {engine} project folder ({hint})")
    root = next((r.resolve() for r in roots if start == r.resolve() or r.resolve() in start.parents), None)
    for folder in [start, *start.parents]:
        if folder.name == STATE_DIR:
            break
        candidate = folder / marker
        if os.path.isfile(candidate) and not os.path.islink(candidate):
            return folder
        if root is None or folder == root:
            break
    raise InputError(f"no {engine} project at {str(start)!r}: no {marker} there or above it inside the export root. "
                     f"Point the export at your {engine} project ({hint}), or turn off 'must be a project' "
                     "(--any-folder) to write into a plain folder")


def check_kind(kind: str) -> str:
    if kind not in ASSET_KINDS:
        raise InputError(f"asset folder must be one of {', '.join(ASSET_KINDS)}, got {kind!r}")
    return kind


def sheet_pixels(sheet, layout: SheetLayout):
    """The sheet as 8-bit RGBA, refused when it is not the image its layout describes."""
    rgba = to_rgba8(sheet)
    if (rgba.shape[1], rgba.shape[0]) != tuple(layout.size):
        raise InputError(f"the sheet image is {rgba.shape[1]}x{rgba.shape[0]} but its layout says "
                         f"{layout.size[0]}x{layout.size[1]}; connect the image and SHEET from the same node")
    return rgba
