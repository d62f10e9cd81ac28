"""Re-rolls: only the strips whose frames failed the consistency check are drawn again, each with a new seed, until
they pass or the tries are spent; then the whole character runs once more with each strip's best seed, so the sheet,
its grid, palette and export come from one run.

Every try of a strip is checked against the same thing (the anchor; without one, the reference frame of the first
try), and a strip drawn with the same seed, prompt, guide and anchor comes out the same, so the final run shows the
strips that were accepted. Tries are jobs of one run manifest: ``try1`` (the whole character), ``walk_E-try2``,
``walk_E-try3``... (one strip each), then ``final``; each job's files hold its consistency scores.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ..common.errors import InputError

FIRST_TRY = "try1"
FINAL = "final"
TRY_PROJECT = "dgx-pixels-tries"  # re-roll jobs export here (inside ComfyUI's output folder), not into the game


@dataclass(frozen=True)
class Attempt:
    strip: str
    number: int  # 1 for the first try
    job: str
    seed: int
    failing_frames: int
    frames: list  # the strip's frame scores from the report


def reroll_seed(seed: int, strip: str, number: int) -> int:
    """A new seed for try ``number`` of a strip: fixed by the character's seed, so a run can be repeated."""
    digest = hashlib.sha256(f"{seed}:{strip}:{number}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def parse_seeds(text: str) -> dict[str, int]:
    """``walk_E=123, attack_W=7`` -> {strip: seed} (the Character Strips node checks the names)."""
    seeds = {}
    for entry in (part.strip() for part in re.split(r"[,;\n]", text or "")):
        name, _, value = entry.partition("=")
        if name.strip() and value.strip().isdigit():
            seeds[name.strip()] = int(value)
    return seeds


def consistency_files(manifest_path: Path, job: str) -> tuple[dict, str | None]:
    """A finished job's consistency scores and the reference image it was checked against, from the files the
    run downloaded (named in the manifest)."""
    from ..remote.client.manifest import RunManifest

    record = next((j for j in RunManifest.load(manifest_path).jobs if j.name == job), None)
    files = {Path(f["server_file"]).name: manifest_path.parent / f["path"] for f in (record.files if record else [])
             if f["node"] == "Consistency Check"}
    scores = next((path for name, path in files.items() if name.endswith(".json")), None)
    if scores is None:
        raise InputError(f"job {job} of {manifest_path} made no consistency scores; is its workflow the character "
                         "workflow?")
    reference = next((str(path) for name, path in files.items() if "reference" in name), None)
    return json.loads(scores.read_text()), reference


def job_name(strip: str, number: int) -> str:
    return FIRST_TRY if number == 1 else f"{strip}-try{number}"


class Rerolls:
    """Each strip's tries and scores, and what to queue next."""

    def __init__(self, params: dict):
        self.params = dict(params)  # the first try's parameter values
        self.seed = int(params.get("seed") or 0)
        self.first_seeds = parse_seeds(params.get("strip_seeds", ""))
        self.attempts: dict[str, list[Attempt]] = {}

    def seed_of(self, strip: str, number: int) -> int:
        return self.first_seeds.get(strip, self.seed) if number == 1 else reroll_seed(self.seed, strip, number)

    def record(self, job: str, number: int, report: dict) -> None:
        """Add a try's consistency report (the Consistency Check's scores file)."""
        for strip, verdict in report["strips"].items():
            frames = [frame for frame in report["frames"] if frame["strip"] == strip]
            self.attempts.setdefault(strip, []).append(
                Attempt(strip, number, job, self.seed_of(strip, number), verdict["failing_frames"], frames))

    def best(self, strip: str) -> Attempt:
        """The try with the fewest failing frames (the earliest of equals)."""
        return min(self.attempts[strip], key=lambda attempt: (attempt.failing_frames, attempt.number))

    def failing(self) -> list[str]:
        return [strip for strip in self.attempts if self.best(strip).failing_frames]

    @property
    def rerolled(self) -> bool:
        return any(len(tries) > 1 for tries in self.attempts.values())

    def retry_params(self, strip: str, number: int, reference: str | None) -> dict:
        """Draw one strip again with a new seed; its export goes to the tries folder, not into the game."""
        asset = self.params.get("asset_name") or "hero"
        params = {**self.params, "strips": strip, "strip_seeds": f"{strip}={self.seed_of(strip, number)}",
                  "project": TRY_PROJECT, "asset_name": f"{asset}-{strip}-try{number}"}
        return {**params, "reference": reference} if reference else params

    def final_params(self, reference: str | None) -> dict:
        """The whole character with each strip's best seed."""
        chosen = {strip: self.best(strip).seed for strip in self.attempts}
        seeds = ", ".join(f"{strip}={seed}" for strip, seed in chosen.items() if seed != self.seed)
        params = {**self.params, "strips": "", "strip_seeds": seeds}
        return {**params, "reference": reference} if reference else params

    def summary(self, final_report: dict | None = None) -> dict:
        return {"passed": not self.failing() if final_report is None else final_report["passed"],
                "strips": {strip: {"chosen": {"try": self.best(strip).number, "job": self.best(strip).job,
                                              "seed": self.best(strip).seed,
                                              "failing_frames": self.best(strip).failing_frames},
                                   "tries": [asdict(attempt) for attempt in tries]}
                           for strip, tries in self.attempts.items()},
                "final": final_report}
