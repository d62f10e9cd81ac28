"""Edge agreement: for every pair of tiles that may touch in a map, the touching edges must continue each other.

The difference across a touching edge (mean |difference| of the two rows of pixels that meet, colours counted
premultiplied by alpha) is held against the difference between neighbouring pixels inside the two tiles along the
same axis, as the seam check does for a tile against itself: a pair agrees when it is at most ``tolerance`` times
that, plus a couple of 8-bit steps. An edge that meets air must be transparent.

Each disagreeing pair is laid on the one of its two tiles that disagrees with the larger share of all its partners
(the odd one out; both when even). The tiles blamed are the ones to draw again.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ..common.errors import InputError
from ..sheets.tileset import SEAM_ALLOWANCE

SIDES = {("x", 0): "E", ("x", 1): "W", ("y", 0): "S", ("y", 1): "N"}  # the side of (first, second) that touches
AIR = -1


@dataclass(frozen=True)
class PairCheck:
    first: int  # left of (axis x) or above (axis y) second; -1: air
    second: int
    axis: str
    difference: float
    allowed: float

    @property
    def agrees(self) -> bool:
        return self.difference <= self.allowed


@dataclass(frozen=True)
class TileVerdict:
    index: int
    name: str
    passed: bool
    failing_sides: dict  # side -> "disagreeing of partners", e.g. {"E": "3 of 4"}


@dataclass(frozen=True)
class EdgeReport:
    tolerance: float
    pairs: tuple[PairCheck, ...]
    tiles: tuple[TileVerdict, ...]

    @property
    def passed(self) -> bool:
        return all(pair.agrees for pair in self.pairs)

    @property
    def failing_tiles(self) -> list[int]:
        return [tile.index for tile in self.tiles if not tile.passed]

    def to_dict(self) -> dict:
        failing = [pair for pair in self.pairs if not pair.agrees]
        return {"passed": self.passed, "tolerance": self.tolerance, "pairs_checked": len(self.pairs),
                "pairs_failing": len(failing), "failing_tiles": self.failing_tiles,
                "worst_ratio": round(max((p.difference / max(p.allowed, 1e-9) for p in self.pairs), default=0.0), 4),
                "tiles": [asdict(tile) for tile in self.tiles],
                "failing_pairs": [{**asdict(pair), "difference": round(pair.difference, 5),
                                   "allowed": round(pair.allowed, 5)} for pair in failing]}

    def table(self) -> str:
        failing = [pair for pair in self.pairs if not pair.agrees]
        lines = [f"{len(self.pairs)} touching pairs checked, {len(failing)} disagree; "
                 f"{len(self.tiles) - len(self.failing_tiles)} of {len(self.tiles)} tiles pass"
                 + ("" if self.passed else f"; draw again: {', '.join(map(str, self.failing_tiles))}")]
        for tile in self.tiles:
            if not tile.passed:
                sides = ", ".join(f"{side} {count}" for side, count in tile.failing_sides.items())
                lines.append(f"tile {tile.index} ({tile.name}): FAILS on {sides}")
        for pair in failing[:20]:
            where = "left of" if pair.axis == "x" else "above"
            first = "air" if pair.first == AIR else f"tile {pair.first}"
            second = "air" if pair.second == AIR else f"tile {pair.second}"
            lines.append(f"{first} {where} {second}: edge difference {pair.difference:.3f} > {pair.allowed:.3f}")
        if len(failing) > 20:
            lines.append(f"... and {len(failing) - 20} more pairs")
        return "\n".join(lines)


def touching_rows(tiles: torch.Tensor, index: int, axis: str, side: int) -> torch.Tensor:
    """The pixels of a tile that touch its partner: its last column/row when it comes first, else its first."""
    tile = tiles[index]
    if axis == "x":
        return tile[:, -1] if side == 0 else tile[:, 0]
    return tile[-1] if side == 0 else tile[0]


def check_edges(tiles: torch.Tensor, pairs: list[tuple[int, int, str]], names: list[str] | None = None,
                tolerance: float = 1.5) -> EdgeReport:
    """``tiles``: RGBA ``[N, S, S, 4]`` (after the palette lock); ``pairs``: (first, second, axis), -1 for air."""
    if tiles.ndim != 4 or tiles.shape[-1] != 4:
        raise InputError(f"tiles must be RGBA [N, S, S, 4], got {tuple(tiles.shape)}")
    if not tolerance >= 0:
        raise InputError(f"edge tolerance must be 0 or more, got {tolerance}")
    count = tiles.shape[0]
    if any(not -1 <= i < count for pair in pairs for i in pair[:2]):
        raise InputError(f"the edge pairs name tiles beyond the {count} given; connect the tiles of this terrain set")
    names = names or [f"tile {i}" for i in range(count)]
    tiles = tiles.float().cpu()
    premultiplied = torch.cat([tiles[..., :3] * tiles[..., 3:], tiles[..., 3:]], dim=-1)
    inside = {"x": (premultiplied[:, :, 1:] - premultiplied[:, :, :-1]).abs().mean(dim=(1, 2, 3)),
              "y": (premultiplied[:, 1:] - premultiplied[:, :-1]).abs().mean(dim=(1, 2, 3))}
    checks = []
    for first, second, axis in pairs:
        rows = [touching_rows(premultiplied, index, axis, side) if index != AIR else None
                for side, index in enumerate((first, second))]
        if rows[0] is None or rows[1] is None:
            edge = rows[0] if rows[1] is None else rows[1]
            checks.append(PairCheck(first, second, axis, float(edge[:, 3].mean()), SEAM_ALLOWANCE))
            continue
        scale = float((inside[axis][first] + inside[axis][second]) / 2)
        difference = float((rows[0] - rows[1]).abs().mean())
        checks.append(PairCheck(first, second, axis, difference, tolerance * scale + SEAM_ALLOWANCE))
    return EdgeReport(tolerance, tuple(checks), verdicts(checks, names))


def verdicts(checks: list[PairCheck], names: list[str]) -> tuple[TileVerdict, ...]:
    """Each disagreeing pair is laid on whichever of its two tiles disagrees with the larger share of all its
    partners (on both when even; an edge against air on its tile)."""
    partners: dict[tuple[int, str], int] = {}
    counts: dict[int, list[int]] = {}  # tile -> [disagreeing pairs, pairs]
    for check in checks:
        for side, index in enumerate((check.first, check.second)):
            if index != AIR:
                partners[(index, SIDES[(check.axis, side)])] = partners.get((index, SIDES[(check.axis, side)]), 0) + 1
                count = counts.setdefault(index, [0, 0])
                count[0] += not check.agrees
                count[1] += 1
    share = {index: disagreeing / total for index, (disagreeing, total) in counts.items()}
    blamed: dict[int, dict[str, int]] = {}
    for check in (check for check in checks if not check.agrees):
        tiles = [(SIDES[(check.axis, side)], index) for side, index in enumerate((check.first, check.second))
                 if index != AIR]
        worst = max(share[index] for _, index in tiles)
        for side, index in tiles:
            if share[index] == worst:
                sides = blamed.setdefault(index, {})
                sides[side] = sides.get(side, 0) + 1
    return tuple(TileVerdict(index, name, index not in blamed,
                             {side: f"{count} of {partners[(index, side)]}"
                              for side, count in sorted(blamed.get(index, {}).items())})
                 for index, name in enumerate(names))
