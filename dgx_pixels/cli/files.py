"""Input and output files of the local image commands."""
from __future__ import annotations

from pathlib import Path

from ..common.errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def output_paths(inputs: list[Path], output: Path) -> list[Path]:
    if len(inputs) == 1 and output.suffix.lower() in IMAGE_SUFFIXES and not output.is_dir():
        return [output]
    if output.exists() and not output.is_dir():
        raise InputError(f"{output} is a file; with several inputs OUT must be a folder")
    names = [path.with_suffix(".png").name for path in inputs]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise InputError(f"several inputs would be written as {', '.join(sorted(duplicates))}; rename them")
    return [output / name for name in names]
