"""What a finished job brings back, and its export on this machine.

A shipped workflow's Save Sheet node saves the sheet and its metadata (``sheets.metadata``) as output files, which
the client downloads like any output. Here they are found among a job's files, checked (the image through the image
gate, the metadata field by field, the two agreeing), and exported into a project on this machine through the same
safe writer as the Bevy Export node: allowed roots, no links followed, previous versions kept, files rewritten in
place so a running game reloads them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ..common.errors import InputError
from ..common.files import read_limited
from ..sheets.layout import SheetLayout
from ..sheets.metadata import METADATA_LIMIT, METADATA_SUFFIX, read_sheet_metadata

SAVE_SHEET_NODE = "DGXPixelsSaveSheet"


@dataclass(frozen=True)
class ReturnedSheet:
    """A sheet among a job's downloaded files: its image, its metadata file and what the metadata says."""

    image: Path
    metadata: Path
    layout: SheetLayout
    info: dict  # the metadata object (name, kind, palette...)

    @property
    def name(self) -> str:
        return str(self.info.get("name", ""))


@dataclass
class LocalExport:
    """One sheet written into a project here."""

    target: str
    project: Path
    asset_path: str  # the image as the game loads it
    files: list[dict] = field(default_factory=list)  # {"path", "sha256", "bytes", "state": written|unchanged}
    history: str = ""  # where the replaced versions were kept, if any
    snippet: str = ""  # code that uses the asset (Bevy: a spawn and animation system)
    warnings: list[str] = field(default_factory=list)

    def record(self) -> dict:
        """The manifest's entry for it."""
        return {"target": self.target, "project": str(self.project), "asset_path": self.asset_path,
                "files": self.files, "history": self.history}


def returns_sheets(prompt: Mapping) -> bool:
    """Whether an API workflow saves its sheet as output files (a Save Sheet node)."""
    return any(isinstance(node, dict) and node.get("class_type") == SAVE_SHEET_NODE for node in prompt.values())


def returned_sheets(files: Sequence[Mapping], out_dir: Path) -> list[ReturnedSheet]:
    """The sheets among a job's downloaded files (its manifest entries): each metadata file with the image it
    names, both checked. InputError when a metadata file is damaged or names an image the job did not bring."""
    by_server_name = {str(f.get("server_file", "")): out_dir / f["path"] for f in files}
    sheets = []
    for entry in files:
        if not str(entry.get("server_file", "")).endswith(METADATA_SUFFIX):
            continue
        path = out_dir / entry["path"]
        layout, info = read_sheet_metadata(read_limited(path, METADATA_LIMIT, "sheet metadata"), str(path))
        image = by_server_name.get(str(info.get("image", "")))
        if image is None:
            raise InputError(f"{path} describes the image {str(info.get('image'))[:100]!r}, which the job did not "
                             "return")
        sheets.append(ReturnedSheet(image, path, layout, info))
    return sheets


def sheet_pixels(sheet: ReturnedSheet):
    """The sheet's RGBA pixels (``[H, W, 4]`` uint8), checked against its metadata's size."""
    from ..image.decode import decode_rgba8

    rgba = decode_rgba8(sheet.image, str(sheet.image))
    if (rgba.shape[1], rgba.shape[0]) != tuple(sheet.layout.size):
        raise InputError(f"{sheet.image} is {rgba.shape[1]}x{rgba.shape[0]} but {sheet.metadata} says "
                         f"{sheet.layout.size[0]}x{sheet.layout.size[1]}")
    return rgba


# ---------------------------------------------------------------------------------------------------- targets
def check_export(target: str, project: str | Path, roots: list[Path]) -> Path:
    """The project folder ``target``'s export would write into, refused (InputError) before any job runs when it
    cannot take it: outside the roots, missing, or not a project of the target's engine where it needs one."""
    from ..export.core import check_target
    from ..export.paths import resolve_target

    chosen = check_target(target)
    folder = resolve_target(str(project), roots)
    if chosen.find is not None:
        return chosen.find(folder, roots)
    if not folder.is_dir():
        raise InputError(f"{project}: no such folder")
    return folder


def export_sheet(sheet: ReturnedSheet, target: str, project: str | Path, roots: list[Path],
                 name: str = "") -> LocalExport:
    """Write ``sheet`` into ``project`` for ``target``, named ``name`` (default: the metadata's asset name), and
    record each file written with its hash."""
    from ..export.core import export_asset

    result = export_asset(target, sheet_pixels(sheet), sheet.layout, str(project), name or sheet.name, roots)
    files = []
    for path in result.files:
        data = read_limited(path, 1 << 30, "exported file", follow_links=False)
        files.append({"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                      "state": "unchanged" if path in result.write.unchanged else "written"})
    return LocalExport(target, result.project, result.asset_path, files, str(result.write.history or ""),
                       result.snippet, list(result.write.set_aside))
