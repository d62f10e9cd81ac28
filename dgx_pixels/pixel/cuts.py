"""Cut positions along one axis once the cell count is known: a uniform comb, walked cuts for a drifting grid, and
each cut moved onto the edge it stands for.

Bounded work on every input: a uniform comb has ``count`` + 1 cuts and ``count`` is at most L / min_cell (and at
most L / 2); the walk's step is never below ``smallest`` (half the found cell, and never below the smallest cell
size allowed) and each step advances at least max(1, int(0.7 * smallest)) whole pixels, so it takes at most that
many steps into L and gives at most one cut per step; the snap keeps the count. Nothing here
loops over pixels, and no loop runs without a bound fixed before it starts.
"""
from __future__ import annotations

import math

import numpy as np

from .spacing import FIT_TOLERANCE

SNAP_WINDOW = 0.35  # a cut may move this share of a cell towards the strongest edge near it
SNAP_STRENGTH = 0.25  # ... when that edge is at least this share of the typical edge on a cut
# walked cuts replace the uniform grid when they leave at most this share of the edge energy the uniform grid misses
# unexplained, and at least DRIFT_MARGIN less in all (a missed cut at a weak edge costs the uniform grid little)
DRIFT_RESIDUE = 0.5
DRIFT_MARGIN = 0.005
WALK_REACH = (0.7, 1.3)  # the next cut is looked for this many local cells ahead


def predicted_cuts(length: int, count: int, offset: float) -> np.ndarray:
    """Uniform cuts for ``count`` cells: 0, the comb's cuts inside the axis, and ``length``; exactly ``count``
    cells (the edge cells of an offset comb may round either way: then an even split)."""
    cell = length / count
    inner = offset + cell * np.arange(-1, count + 2, dtype=np.float64)
    inner = inner[(inner > 0.5 * cell) & (inner < length - 0.5 * cell)]
    cuts = np.concatenate([[0.0], inner, [float(length)]])
    if len(cuts) - 1 == count:
        return cuts
    return np.linspace(0, length, count + 1)


def lower_median(values: np.ndarray) -> float:
    """The median, the lower middle value for an even count: always one of the values (an edge that is there)."""
    return float(np.partition(values, (len(values) - 1) // 2)[(len(values) - 1) // 2])


def snap_cuts(profile: np.ndarray, cuts: np.ndarray) -> list[int]:
    """Move every inner cut to the centre of the strongest edge within SNAP_WINDOW of a cell, when that edge is
    a real one (at least SNAP_STRENGTH of the median edge found near the cuts); else keep it."""
    length = profile.shape[0] - 1
    cell = length / (len(cuts) - 1)
    radius = max(1, int(SNAP_WINDOW * cell))
    inner = np.round(cuts[1:-1]).astype(np.int64)
    if len(inner) == 0:
        return [0, length]
    window = inner[:, None] + np.arange(-radius, radius + 1)[None, :]
    valid = (window > 0) & (window < length)
    values = np.where(valid, profile[window.clip(0, length)], 0.0)
    peak = values.max(axis=1)
    found = peak[peak > 0]
    typical = lower_median(found) if len(found) else 0.0
    strong = peak > SNAP_STRENGTH * max(typical, 1e-12)
    # the centre of the edge energy around the peak: blurred edges have wide, flat peaks
    weights = np.where((values >= 0.6 * peak[:, None]) & valid, values, 0.0)
    centre = (weights * window).sum(axis=1) / weights.sum(axis=1).clip(min=1e-12)
    snapped = np.where(strong, np.round(centre).astype(np.int64), inner)
    result = [0] + snapped.tolist() + [length]
    # keep the cuts in order with no empty cells
    for i in range(1, len(result) - 1):
        result[i] = min(max(result[i], result[i - 1] + 1), length - (len(result) - 1 - i))
    return result


def walk_cuts(profile: np.ndarray, cell: float, start: float = 0.0, min_cell: float = 1.0) -> list[int]:
    """Cuts found by stepping one local cell at a time to the strongest edge 0.7..1.3 cells ahead: follows a
    grid whose cell size drifts along the axis. A step with no clear edge moves exactly one cell.

    Bounded: the step (the median of the last three cells) stays between ``smallest`` = max(min_cell, cell / 2)
    and 2 * cell, positions are whole pixels, and the next cut is looked for no nearer than
    ``advance`` = max(1, int(0.7 * smallest)) pixels ahead, so every step advances at least ``advance`` and the
    walk takes at most L / advance steps."""
    profile = np.asarray(profile, dtype=np.float64)
    values = profile.tolist()  # a 1-D profile: a Python walk over cells, not pixels
    length = len(values) - 1
    smallest, largest = max(min_cell, 0.5 * cell), 2.0 * cell
    advance = max(1, int(WALK_REACH[0] * smallest))
    positive = profile[profile > 0]
    threshold = 0.25 * lower_median(positive) if len(positive) else math.inf
    position = round(start) if start > 0.5 * cell else 0
    cuts = [0, position] if position else [0]
    step = cell
    for _ in range(math.ceil(length / advance)):
        if length - position < 1.5 * step:
            break
        low = position + max(advance, int(WALK_REACH[0] * step))
        high = min(length - 1, int(position + WALK_REACH[1] * step) + 1)
        window = values[low:high + 1]
        peak = max(window) if window else 0.0
        if peak > threshold:
            near = [(i + low, v) for i, v in enumerate(window) if v >= 0.6 * peak]
            position = round(sum(i * v for i, v in near) / sum(v for _, v in near))
        else:
            position += max(advance, round(step))
        cuts.append(position)
        gaps = sorted(b - a for a, b in zip(cuts[-4:], cuts[-3:]))
        step = min(largest, max(smallest, gaps[len(gaps) // 2])) if len(cuts) > 3 else cell
    if cuts[-1] >= length:
        cuts.pop()
    cuts.append(length)
    return cuts


def cut_fit(profile: np.ndarray, cuts: list[int]) -> float:
    """Share of the edge energy within FIT_TOLERANCE of a local cell from the nearest cut."""
    positions = np.arange(profile.shape[0], dtype=np.float64)
    edges = np.asarray(cuts, dtype=np.float64)
    right = np.searchsorted(edges, positions).clip(1, len(cuts) - 1)
    left_cut, right_cut = edges[right - 1], edges[right]
    distance = np.minimum(positions - left_cut, right_cut - positions)
    near = distance <= FIT_TOLERANCE * (right_cut - left_cut)
    return float((profile * near).sum() / max(profile.sum(), 1e-12))


def follow_drift(profile: np.ndarray, uniform: np.ndarray, min_cell: float) -> np.ndarray:
    """Walked cuts instead of the uniform grid where they explain clearly more edges (a drifting grid; the
    uniform fit may then also have missed a cell or two)."""
    length = profile.shape[0] - 1
    walked = walk_cuts(profile, length / (len(uniform) - 1), float(uniform[1]) if len(uniform) > 2 else 0.0,
                       min_cell)
    missed_walked = 1 - cut_fit(profile, walked)
    missed_uniform = 1 - cut_fit(profile, snap_cuts(profile, uniform))
    if missed_walked <= min(DRIFT_RESIDUE * missed_uniform, missed_uniform - DRIFT_MARGIN):
        return np.asarray(walked, dtype=np.float64)
    return uniform
