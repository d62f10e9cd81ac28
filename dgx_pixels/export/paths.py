"""Where an export may write, and how it moves inside a project without trusting what is on disk.

- Roots: a target is refused when empty, when it has a ``..`` part, when it is absolute and outside every allowed
  root, or when a symlink leads out of the roots (checked for the project and every folder created above it).
- Inside the project (``assets/...`` and ``.dgx-pixels/...``) no link is followed at all: a repository a user
  clones may carry a prepared ``.dgx-pixels`` or ``assets`` tree, and a link that stays inside the roots can still
  point into ``src/``. Every folder on the way must be a plain folder, every file a plain file with one name (a
  hard link would carry a write to its other name).
- Names: asset names and exported file names are matched whole (``\\A...\\Z``: a trailing newline is refused),
  and Windows device names (CON, NUL, COM1...) are refused, so a project stays usable on every system.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Iterable

from ..common.errors import InputError
from ..common.files import O_NONBLOCK, O_NOFOLLOW, announce_write, read_limited
from ..sheets.layout import ASSET_KINDS

ENV_ROOTS = "DGX_PIXELS_EXPORT_ROOTS"
STATE_DIR = ".dgx-pixels"
ASSET_BASES = ("assets", "Assets")  # the folder a game engine loads from (Unity's is Assets)
NAME_PATTERN = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
# An exported file: the asset name, then dotted suffixes of letters and digits (hero.png.meta, hero.sprite.ron).
FILE_SUFFIXES = re.compile(r"\A(\.[A-Za-z0-9]{1,16}){1,4}\Z")
DEVICE_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in range(10))}
O_BINARY = getattr(os, "O_BINARY", 0)


def check_name(name: str, what: str = "asset name") -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InputError(f"{what} {name!r} must be 1-64 letters, digits, '_' or '-', starting with a letter or "
                         "digit (it becomes a folder and file name)")
    if name.upper() in DEVICE_NAMES:
        raise InputError(f"{what} {name!r} is a device name on Windows (CON, PRN, AUX, NUL, COM0-9, LPT0-9), which "
                         "no file there may be called; choose another")
    return name


def check_file_name(file_name: str, asset_name: str) -> str:
    """An exported file's name: the asset name and its suffixes, nothing that could leave the asset folder."""
    if not (isinstance(file_name, str) and file_name.startswith(f"{asset_name}.")
            and FILE_SUFFIXES.match(file_name[len(asset_name):])):
        raise InputError(f"refusing to write a file named {file_name!r} (exported files are named "
                         f"{asset_name}.<suffix>)")
    return file_name


def asset_parts(asset: str) -> tuple[str, str, str]:
    """``assets/<kind>/<name>`` (or ``Assets/...``) -> its three parts, refused unless exactly that shape."""
    parts = asset.split("/") if isinstance(asset, str) else []
    if len(parts) != 3 or parts[0] not in ASSET_BASES or parts[1] not in ASSET_KINDS:
        raise InputError(f"{asset!r} is not an asset folder (assets/<{'|'.join(ASSET_KINDS)}>/<name>)")
    check_name(parts[2])
    return parts[0], parts[1], parts[2]


# ---------------------------------------------------------------------------------------------------- roots
def allowed_roots(extra: Iterable[str | os.PathLike] = (), environ: dict | None = None) -> list[Path]:
    """The roots exports may write under: ``extra`` (e.g. ComfyUI's output folder) then DGX_PIXELS_EXPORT_ROOTS
    (os.pathsep-separated absolute folders)."""
    environ = os.environ if environ is None else environ
    listed = [str(item) for item in extra if str(item).strip()]
    listed += [item for item in environ.get(ENV_ROOTS, "").split(os.pathsep) if item.strip()]
    roots: list[Path] = []
    for item in listed:
        path = Path(os.path.abspath(os.path.expanduser(item.strip())))
        if path not in roots:
            roots.append(path)
    return roots


def project_roots(project: str | os.PathLike) -> list[Path]:
    """The roots for an export the user points at from this machine: the project folder itself (it must exist),
    then DGX_PIXELS_EXPORT_ROOTS."""
    if not Path(project).is_dir():
        raise InputError(f"{project}: no such folder")
    return allowed_roots([os.path.abspath(project)])


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _root_of(path: Path, roots: list[Path]) -> Path | None:
    """The allowed root holding ``path``, comparing both as written and with symlinks resolved."""
    for root in roots:
        if _inside(path, root) or _inside(path, root.resolve()):
            return root
    return None


def resolve_target(path: str | os.PathLike, roots: list[Path]) -> Path:
    """An export folder given by the user -> its real path inside an allowed root, or InputError saying why not.

    A relative path is taken inside the first root (ComfyUI's output folder for the node).
    """
    text = os.fspath(path).strip() if path is not None else ""
    if not roots:
        raise InputError(f"no export roots are allowed; set {ENV_ROOTS} to the folders exports may write to")
    if not text:
        raise InputError("the export path is empty; give the Bevy project folder")
    if "\0" in text:
        raise InputError("the export path contains a NUL character")
    parts = Path(text).parts
    if ".." in parts:
        raise InputError(f"export path {text!r} contains '..'; give the folder without going up a level")
    lexical = Path(os.path.abspath(os.path.expanduser(text) if Path(text).is_absolute() or text.startswith("~")
                                   else roots[0] / text))
    root = _root_of(lexical, roots)
    if root is None:
        raise InputError(f"export path {str(lexical)!r} is outside the allowed export roots "
                         f"({', '.join(str(r) for r in roots)}); add its folder to {ENV_ROOTS} or use a path "
                         "inside one of them")
    return check_real_path(lexical, roots)


def check_real_path(path: Path, roots: list[Path]) -> Path:
    """``path`` with symlinks resolved, refused when that leaves every allowed root."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as err:  # a link loop, a name too long
        raise InputError(f"{str(path)!r} cannot be resolved ({err})") from None
    if not any(_inside(real, root.resolve()) for root in roots):
        raise InputError(f"{str(path)!r} leads through a symlink to {str(real)!r}, outside the allowed export roots "
                         f"({', '.join(str(r) for r in roots)}); exports never follow links out of a root")
    return real


def make_dirs_inside(directory: Path, base: Path, roots: list[Path]) -> Path:
    """Create ``directory`` below ``base`` one level at a time, checking each existing level's real path first, so
    a symlinked folder leading out of the roots is refused before anything is created behind it."""
    relative = Path(os.path.relpath(directory, base))
    current = check_real_path(base, roots)
    for part in relative.parts:
        current = current / part
        if not (current.exists() or current.is_symlink()):
            _make_dir(current)
        current = check_real_path(current, roots)
        if not current.is_dir():
            raise InputError(f"{str(current)!r} exists and is not a folder")
    return current


def _make_dir(path: Path) -> None:
    try:
        path.mkdir()
    except FileExistsError:
        pass  # made by a concurrent export meanwhile; checked by the caller like any existing folder
    except OSError as err:
        raise InputError(f"cannot create the folder {str(path)!r} ({(err.strerror or str(err)).lower()})") from None


# ---------------------------------------------------------------------------------------------------- in the project
def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise InputError(f"{str(path)!r} cannot be examined ({(err.strerror or str(err)).lower()})") from None


def refuse_link(path: Path, project: Path) -> InputError:
    try:
        points_to = f" (to {os.readlink(path)!r})"
    except OSError:
        points_to = ""
    return InputError(f"{str(path)!r} is a symbolic link{points_to}; an export never follows links inside the "
                      f"project {str(project)!r}: remove the link (or move it away) and export again")


def inner_dir(project: Path, parts: Iterable[str], create: bool = True) -> Path | None:
    """``project``/``parts``, walked one level at a time without following links: every level must be a plain
    folder (created when missing and ``create``, else None is returned). ``project`` is a real path already."""
    current = project
    for part in parts:
        current = current / part
        info = _lstat(current)
        if info is None:
            if not create:
                return None
            _make_dir(current)
            info = _lstat(current)
        if info is not None and stat.S_ISLNK(info.st_mode):
            raise refuse_link(current, project)
        if info is None or not stat.S_ISDIR(info.st_mode):
            raise InputError(f"{str(current)!r} exists and is not a folder; move it away and export again")
    return current


def inner_file(path: Path, project: Path) -> bool:
    """Whether the file ``path`` exists; refused when it is a link, not a plain file, or has other names."""
    info = _lstat(path)
    if info is None:
        return False
    if stat.S_ISLNK(info.st_mode):
        raise refuse_link(path, project)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{str(path)!r} exists and is not a file; move it away first")
    if info.st_nlink > 1:
        raise InputError(f"{str(path)!r} has {info.st_nlink} names (hard links), so writing it would change its "
                         "other names too, maybe outside assets/; an export never writes through links: replace "
                         "it with a copy and export again")
    return True


def read_inner(path: Path, limit: int, what: str) -> bytes:
    """A plain file's bytes, never through a link, refused over ``limit`` bytes."""
    return read_limited(path, limit, what, follow_links=False)


def write_in_place(path: Path, data: bytes) -> None:
    """Overwrite the final file itself (same inode): asset watchers see a write, not a rename. Opened without
    following a link or blocking on a FIFO, and checked again once open (it may have changed since it was
    examined)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_BINARY, 0o644)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            raise InputError(f"{str(path)!r} changed into something that is not a plain file during the export")
        os.ftruncate(descriptor, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view):]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    announce_write(path)
