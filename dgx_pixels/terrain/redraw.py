"""Redraws: a terrain set whose edge check fails is drawn again with new seeds for the failing tiles only (a full
tile is its base tile, so a failing full tile gets its base drawn again), until every touching pair agrees or the
tries are spent. Tiles that passed keep their seeds, so they come out the same.

Each try is a job of one run manifest (``try1``, ``try2``...) that draws and exports the whole set, so the game
holds the last try (the export keeps the earlier ones in its history); each job's files hold its edge report.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..character.reroll import parse_seeds, reroll_seed
from ..common.errors import InputError
from .orders import FULL_A, FULL_B

EDGE_CHECK = "Edge Check"  # the title of the Terrain Edge Check node in the shipped workflow


def edge_report(manifest_path: Path, job: str) -> dict:
    """A finished job's edge report, from the files the run downloaded (named in the manifest)."""
    from ..remote.client.manifest import RunManifest

    record = next((j for j in RunManifest.load(manifest_path).jobs if j.name == job), None)
    reports = [manifest_path.parent / f["path"] for f in (record.files if record else [])
               if f["node"] == EDGE_CHECK and f["path"].endswith(".json")]
    if not reports:
        raise InputError(f"job {job} of {manifest_path} made no edge report; is its workflow terrain_transitions?")
    return json.loads(reports[0].read_text())


def try_name(number: int) -> str:
    return f"try{number}"


class Redraws:
    """Each try's edge report, and the parameters of the next try."""

    def __init__(self, params: dict):
        self.params = {1: dict(params)}  # each try's parameter values
        self.seed = int(params.get("seed") or 0)
        self.tries: list[dict] = []

    def record(self, number: int, report: dict) -> None:
        self.tries.append({"try": number, "job": try_name(number), "passed": report["passed"],
                           "failing_tiles": report["failing_tiles"], "pairs_failing": report["pairs_failing"],
                           "tile_seeds": self.params[number].get("tile_seeds", ""), "report": report})

    @property
    def passed(self) -> bool:
        return bool(self.tries) and self.tries[-1]["passed"]

    def next_params(self, number: int) -> dict:
        """The whole set again, the last try's failing tiles (or the bases of failing full tiles) with new seeds."""
        last = self.tries[-1]
        report = last["report"]
        seeds = parse_seeds(last["tile_seeds"])
        kinds = {tile["index"]: tile["kind"] for tile in report["planned"]}
        for index in report["failing_tiles"]:
            key = {FULL_A: "a", FULL_B: "b"}.get(kinds[index], str(index))
            seeds[key] = reroll_seed(self.seed, key, number)
        self.params[number] = {**self.params[1],
                               "tile_seeds": ", ".join(f"{key}={value}" for key, value in seeds.items())}
        return self.params[number]

    def summary(self) -> dict:
        return {"passed": self.passed, "tries": [{k: v for k, v in entry.items() if k != "report"}
                                                 for entry in self.tries],
                "final": self.tries[-1]["report"] if self.tries else None}
