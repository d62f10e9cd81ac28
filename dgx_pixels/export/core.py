"""The one export entry point: a sheet and its layout into a game engine's project, one writer per target.

``export_asset(target, sheet, layout, project, name, roots, ...)`` finds the engine's project from ``project`` (a
folder inside the allowed ``roots``), encodes the image once (indexed when it can be, oxipng), asks the target's
writer for its files and writes them all through safe_write into ``<project>/<base>/<kind>/<name>/``: allowed
roots, no links followed, history of replaced files, in-place rewrites a running game hot-reloads, recovery after a
crash. ``export_assets`` does several targets at once and refuses, before writing anything, two targets that would
write different bytes under one file name.

Targets: bevy, godot, phaser, pixi, unity, ldtk, aseprite (see each writer's module for its files).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..common.errors import InputError
from ..image.png import png_bytes
from ..sheets.layout import SheetLayout
from . import bevy, godot, ldtk, unity, web
from .aseprite import FORMS, FRAME_NAMES, aseprite_data
from .paths import check_name, make_dirs_inside, resolve_target
from .place import AssetPlace, check_kind, find_marked_project, sheet_pixels
from .safe_write import LOCK_TIMEOUT, WriteResult, write_asset_files


@dataclass(frozen=True)
class ExportOptions:
    """Every target's settings (a target ignores those that are not its own)."""
    require_project: bool = True  # refuse a folder that is not a project of the target's engine
    palette_png: bool = True  # indexed PNG when the sheet has at most 256 colours
    optimise_png: bool = True  # oxipng, lossless
    png_meta: bool = True  # bevy: <name>.png.meta with nearest sampling
    aseprite_form: str = "array"  # aseprite: array or hash
    frame_names: str = "number"  # aseprite: "0", "1"... (what Phaser and PixiJS look up), or Aseprite's "hero 0.png"
    pixels_per_unit: int = 0  # unity: 0 makes one cell's height one unit

    def __post_init__(self):
        if self.aseprite_form not in FORMS:
            raise InputError(f"Aseprite JSON form must be one of {', '.join(FORMS)}, got {self.aseprite_form!r}")
        if self.frame_names not in FRAME_NAMES:
            raise InputError(f"frame names must be one of {', '.join(FRAME_NAMES)}, got {self.frame_names!r}")
        if not (type(self.pixels_per_unit) is int and 0 <= self.pixels_per_unit <= 100_000):
            raise InputError(f"pixels per unit must be a whole number from 0 to 100000, got {self.pixels_per_unit!r}")


Writer = Callable[[AssetPlace, SheetLayout, ExportOptions], dict[str, bytes]]
Snippet = Callable[[AssetPlace, SheetLayout, ExportOptions], str]


@dataclass(frozen=True)
class Target:
    name: str
    engine: str
    base: str  # the folder the engine loads assets from
    files: Writer  # every file but the image
    snippet: Snippet
    find: Callable[[Path, list[Path]], Path] | None = None  # the engine's project from a folder; None: any folder
    asset_path: Callable[[AssetPlace], str] | None = None  # the image as the engine names it


def _aseprite_files(place: AssetPlace, layout: SheetLayout, options: ExportOptions) -> dict[str, bytes]:
    data = aseprite_data(layout, place.image, place.name, options.aseprite_form, options.frame_names)
    return {f"{place.name}.json": (json.dumps(data, indent=1) + "\n").encode()}


def _aseprite_snippet(place: AssetPlace, layout: SheetLayout, options: ExportOptions) -> str:
    return (f"{place.path(place.name + '.json')}: Aseprite's sprite-sheet data ({options.aseprite_form} form), for "
            "any tool or engine plugin that reads it; sockets and hitboxes are slices.\n")


def _godot_project(start: Path, roots: list[Path]) -> Path:
    return find_marked_project(start, roots, "project.godot", "Godot", "the folder with project.godot")


def _unity_project(start: Path, roots: list[Path]) -> Path:
    return find_marked_project(start, roots, "ProjectSettings/ProjectVersion.txt", "Unity",
                               "the folder with Assets/ and ProjectSettings/")


TARGETS: dict[str, Target] = {target.name: target for target in (
    Target("bevy", "Bevy", "assets", bevy.bevy_target_files, bevy.bevy_target_snippet, bevy.find_bevy_project,
           bevy.bevy_asset_path),
    Target("godot", "Godot 4", "assets", godot.godot_files, godot.godot_snippet, _godot_project,
           lambda place: godot.res_path(place, place.image)),
    Target("phaser", "Phaser 3/4", "assets", web.phaser_files, web.phaser_snippet),
    Target("pixi", "PixiJS 8", "assets", web.pixi_files, web.pixi_snippet),
    Target("unity", "Unity", "Assets", unity.unity_files, unity.unity_snippet, _unity_project),
    Target("ldtk", "LDtk", "assets", ldtk.ldtk_files, ldtk.ldtk_snippet),
    Target("aseprite", "Aseprite JSON", "assets", _aseprite_files, _aseprite_snippet),
)}


@dataclass
class ExportResult:
    target: str
    project: Path
    asset_dir: Path
    asset_path: str  # the image as the engine names it (Bevy: relative to assets/; Godot: res://...)
    files: list[Path]
    snippet: str
    write: WriteResult = field(default_factory=WriteResult)


@dataclass(frozen=True)
class _Plan:
    target: Target
    place: AssetPlace
    files: dict[str, bytes]


def check_target(name: str) -> Target:
    if name not in TARGETS:
        raise InputError(f"export target must be one of {', '.join(TARGETS)}, got {name!r}")
    return TARGETS[name]


def _plan(target: Target, png: bytes, layout: SheetLayout, project: str, name: str, roots: list[Path], kind: str,
          options: ExportOptions) -> _Plan:
    folder = resolve_target(project, roots)
    if options.require_project and target.find is not None:
        project_dir = target.find(folder, roots)
    else:
        project_dir = make_dirs_inside(folder, next(r for r in roots if r.resolve() in [folder, *folder.parents]),
                                       roots)
    place = AssetPlace(project_dir, target.base, kind, name)
    return _Plan(target, place, {place.image: png, **target.files(place, layout, options)})


def export_assets(targets: list[str], sheet, layout: SheetLayout, project: str, name: str, roots: list[Path], *,
                  kind: str | None = None, options: ExportOptions = ExportOptions(),
                  lock_timeout: float = LOCK_TIMEOUT) -> list[ExportResult]:
    """Export to every target in ``targets`` (in order) into the project ``project``; nothing is written unless
    every target's files are made and no two disagree on a file."""
    chosen = [check_target(target) for target in dict.fromkeys(targets)]
    if not chosen:
        raise InputError(f"no export target chosen; pick one or more of {', '.join(TARGETS)}")
    check_name(name)
    kind = check_kind(kind or layout.kind)
    png = png_bytes(sheet_pixels(sheet, layout), palette=options.palette_png, optimise=options.optimise_png)
    plans = [_plan(target, png, layout, project, name, roots, kind, options) for target in chosen]
    written: dict[Path, tuple[str, bytes]] = {}
    for plan in plans:
        for file_name, data in plan.files.items():
            path = plan.place.folder / file_name
            other, before = written.setdefault(path, (plan.target.name, data))
            if before != data:
                raise InputError(f"the {other} and {plan.target.name} exports both write {path} with different "
                                 "contents; export them into different project folders")
    results = []
    for plan in plans:
        place = plan.place
        write = write_asset_files(place.project, place.asset, plan.files, roots, lock_timeout)
        asset_path = plan.target.asset_path(place) if plan.target.asset_path else place.path(place.image)
        results.append(ExportResult(plan.target.name, place.project, place.folder, asset_path,
                                    [place.folder / file for file in plan.files],
                                    plan.target.snippet(place, layout, options), write))
    return results


def export_asset(target: str, sheet, layout: SheetLayout, project: str, name: str, roots: list[Path], *,
                 kind: str | None = None, options: ExportOptions = ExportOptions(),
                 lock_timeout: float = LOCK_TIMEOUT) -> ExportResult:
    """Export to one target (see the module notes); nothing outside the project's asset folder is written (the
    records go to ``<project>/.dgx-pixels``), nothing outside the allowed ``roots`` is touched, and replaced files
    go to the history."""
    return export_assets([target], sheet, layout, project, name, roots, kind=kind, options=options,
                         lock_timeout=lock_timeout)[0]


def export_bevy(sheet, layout: SheetLayout, project: str, name: str, roots: list[Path], *, kind: str | None = None,
                png_meta: bool = True, require_bevy: bool = True, lock_timeout: float = LOCK_TIMEOUT) -> ExportResult:
    """The Bevy export (``export_asset("bevy", ...)`` with its two settings)."""
    return export_asset("bevy", sheet, layout, project, name, roots, kind=kind,
                        options=ExportOptions(require_project=require_bevy, png_meta=png_meta),
                        lock_timeout=lock_timeout)
