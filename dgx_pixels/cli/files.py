"""Input and output files of the local image commands: outputs are PNG files named for their inputs, and never
replace an input unless ``--force`` says so."""
from __future__ import annotations

import os
from pathlib import Path

from ..common.errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def image_files(paths: list[Path]) -> list[Path]:
    """Inputs as typed, a folder standing for the image files directly in it (by name; the folder's own files, not
    its subfolders'). A folder with no images stays as it is, for the reader to refuse like any other bad input."""
    found: list[Path] = []
    for path in paths:
        # os.path.isdir: an impossible name (too long, a NUL) is no folder here; its reader names the problem
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                        and not p.name.startswith(".")) if os.path.isdir(path) else []
        found += images or [path]
    return found


def output_paths(inputs: list[Path], output: Path, force: bool = False) -> list[Path]:
    """One output per input: ``output`` itself for one input and an image file name, else ``output/<stem>.png``."""
    if len(inputs) == 1 and output.suffix.lower() in IMAGE_SUFFIXES and not output.is_dir():
        targets = [png_output(output)]
    else:
        if output.exists() and not output.is_dir():
            raise InputError(f"{output} is a file; with several inputs OUT must be a folder")
        names = [path.with_suffix(".png").name for path in inputs]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise InputError(f"several inputs would be written as {', '.join(sorted(duplicates))}; rename them")
        targets = [output / name for name in names]
    check_output_folder(targets[0].parent)
    refuse_overwriting_inputs(inputs, targets, force)
    return targets


def check_output_folder(folder: Path) -> None:
    """Refuse an output folder that cannot be made because a file stands on its way (``-o file.png/x.png``)."""
    for place in (folder, *folder.parents):
        if place.is_dir():
            return
        if place.exists() or place.is_symlink():
            raise InputError(f"{place} is a file, not a folder for the output" if place == folder else
                             f"{place} is a file, so the output folder {folder} cannot be made")


def png_output(path: Path) -> Path:
    if path.suffix.lower() != ".png":
        raise InputError(f"{path}: images are written as PNG (exact colours and alpha, which JPEG and the others "
                         "do not keep); name the output .png")
    return path


def refuse_overwriting_inputs(inputs: list[Path], targets: list[Path], force: bool) -> None:
    """An output that is one of the inputs (the same file, by any name) is refused unless ``force``: a command
    run as ``pixelize a/*.png -o a/`` would otherwise replace the originals."""
    if force:
        return
    sources = {_identity(path) for path in inputs} - {None}
    for target in targets:
        if _identity(target) in sources:
            raise InputError(f"{target} is one of the inputs and would be replaced; choose another output, or add "
                             "--force to replace it")


def _identity(path: Path) -> tuple[int, int] | None:
    """The file's device and inode (the same file under any name), or None when there is none."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino
