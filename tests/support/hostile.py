"""A sandbox for hostile tests: one temporary root holds everything a command may touch (its inputs, the folders it
is pointed at, the places an attack aims at, and its HOME, TMPDIR and cache), so listing the whole tree before and
after shows every file written, changed or lost. Commands run as the user runs them: ``dgx-pixels`` in a process
of its own, or its ``main()`` in this one (faster, same code) with its output captured."""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from paths import REPO

ISOLATED = ("HOME", "TMPDIR", "DGX_PIXELS_CACHE", "XDG_CACHE_HOME")
CLEARED = ("DGX_PIXELS_EXPORT_ROOTS", "DGX_PIXELS_MAX_PIXELS", "DGX_PIXELS_SERVER")


def tree(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (links listed, never followed): relative path -> what it is (a file's sha256, a
    link's target)."""
    entries = {}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder) / name
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                kind = f"link -> {os.readlink(path)}"
            elif stat.S_ISDIR(info.st_mode):
                kind = "folder"
            elif stat.S_ISREG(info.st_mode):
                kind = "file " + hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                kind = f"special {stat.S_IFMT(info.st_mode):o}"
            entries[str(path.relative_to(root))] = kind
    return entries


@dataclass
class Changes:
    added: set[str]
    removed: set[str]
    modified: set[str]

    def outside(self, *allowed: str) -> set[str]:
        """Changed paths that are not under any of the ``allowed`` prefixes."""
        changed = self.added | self.removed | self.modified
        return {path for path in changed if not any(path == a or path.startswith(a.rstrip("/") + "/")
                                                    for a in allowed)}


def changes(before: dict[str, str], after: dict[str, str]) -> Changes:
    return Changes(set(after) - set(before), set(before) - set(after),
                   {path for path in set(before) & set(after) if before[path] != after[path]})


@dataclass
class Result:
    code: int
    out: str
    err: str
    changes: Changes

    def refused(self, code: int, *texts: str) -> "Result":
        """Exit ``code``, each text in stderr, no traceback, and no line said twice."""
        assert self.code == code, f"exit {self.code}, expected {code}\nstdout: {self.out}\nstderr: {self.err}"
        assert "Traceback" not in self.err + self.out, self.err
        for text in texts:
            assert text in self.err, f"{text!r} not in stderr:\n{self.err}"
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert len(lines) == len(set(lines)), self.err
        return self


class Sandbox:
    """The temporary root of one hostile test (see the module notes)."""

    def __init__(self, root: Path):
        self.root = root
        for name in ("home", "tmp", "cache"):
            (root / name).mkdir(parents=True, exist_ok=True)
        self.env = {key: value for key, value in os.environ.items() if key not in CLEARED}
        self.env.update(HOME=str(root / "home"), TMPDIR=str(root / "tmp"), DGX_PIXELS_CACHE=str(root / "cache"),
                        XDG_CACHE_HOME=str(root / "cache"), PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")

    def tree(self) -> dict[str, str]:
        return tree(self.root)

    def run(self, *args, timeout: float = 180, env: dict | None = None) -> Result:
        """``dgx-pixels ARGS`` in a process of its own, with the sandbox as its working folder."""
        before = self.tree()
        process = subprocess.run([sys.executable, "-m", "dgx_pixels", *map(str, args)], cwd=self.root,
                                 env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout)
        return Result(process.returncode, process.stdout, process.stderr, changes(before, self.tree()))

    def main(self, *args, env: dict | None = None) -> Result:
        """``dgx-pixels ARGS`` through ``main()`` in this process (the same code, without the start-up cost)."""
        from dgx_pixels.cli.main import main

        before = self.tree()
        out, err = io.StringIO(), io.StringIO()
        saved = dict(os.environ)
        cwd = os.getcwd()
        try:
            os.environ.clear()
            os.environ.update({**self.env, **(env or {})})
            os.chdir(self.root)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main([str(arg) for arg in args])
                except SystemExit as exit_:  # argparse refusing an option
                    code = exit_.code
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(saved)
        return Result(code, out.getvalue(), err.getvalue(), changes(before, self.tree()))
