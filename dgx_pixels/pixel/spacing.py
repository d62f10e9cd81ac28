"""How many cells along each axis: every candidate count is scored against the edge profiles, both axes at once.

For a candidate count ``n`` on an axis of length L, a comb of ``n`` uniform cuts (its offset from the profile's
Fourier phase at ``n``) is laid over the profile of the scale level that suits cells of L/n pixels, and scored by:
- the share of edge energy within FIT_TOLERANCE of a cell from its cuts (cells are flat: edges lie on cuts);
- the share of the distinct edges (peaks of the fine-level profile) that have a cut of their own: one cut explains
  one edge, so a grid too coarse for edges a cell apart loses here even where its wide windows cover both;
- a small bonus for a cut on the image border (art that fills the canvas starts a cell there).
The two axes are chosen together, with cells no further from square than MAX_CELL_ASPECT; then a grid whose cells
are a whole number of the chosen ones wins if it scores nearly as well (finer grids explain the same edges too).

Profiles are 1-D (a few thousand values), read back once from the image's device: their analysis runs in numpy,
whose operations cost about a microsecond each where a tensor operation costs several (and a GPU kernel launch
more), for the same arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .edges import LEVELS, level_for_cell

FIT_TOLERANCE = 0.25  # an edge within this share of a cell from a cut counts as explained by it
CHANCE_FIT = 2 * FIT_TOLERANCE  # what a grid explains of edges placed at random
PEAK_WEIGHT = 0.3  # weight of the one-edge-per-cut share in the score (the energy share has the rest)
PEAK_LEVEL = 0  # distinct edges are counted on this level's profile (fine, still above pixel noise)
SIGNIFICANT_PEAK = 0.1  # peaks weaker than this share of the strong ones are texture or noise
STRONG_PEAK_QUANTILE = 0.9
PHASE_WEIGHT = 0.1
NEAR_BEST = 0.04  # per axis: a coarser grid wins if it scores this much less than the best, or less
MAX_CELL_ASPECT = 1.15  # cells may be this much wider than tall or taller than wide
MIN_COUNT = 2


@dataclass(frozen=True)
class AxisFit:
    """Scores of every candidate cell count on one axis, and what they were computed from (float64 arrays)."""

    profiles: np.ndarray  # [levels, L+1]
    peaks: np.ndarray  # [L+1] distinct edges (see peak_energy)
    counts: np.ndarray  # [N] ascending
    score: np.ndarray  # [N]
    explained: np.ndarray  # [N] share of edge energy near the cuts
    offset: np.ndarray  # [N] comb offset in pixels

    @property
    def length(self) -> int:
        return self.profiles.shape[1] - 1

    def index(self, count: int) -> int:
        return count - int(self.counts[0])

    def cell(self, count: int) -> float:
        return self.length / count

    def score_on(self, counts: list[int], level: int) -> np.ndarray:
        """Scores of ``counts`` all judged on one level (to compare a grid with a coarsening of it fairly)."""
        return _scores(self.profiles, self.peaks, np.asarray(counts), np.full(len(counts), level))[0]


def grid_fit(profile: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each candidate cell count, (share of edge energy near its cuts, grid offset in pixels).

    ``profile``: ``[L+1]`` edge energy by cut position for an axis of length L; ``counts``: ``[N]`` cell counts
    (at most L/2).
    """
    counts = np.asarray(counts)
    explained, offset, _ = _fit(np.asarray(profile, dtype=np.float64)[None], counts, np.zeros_like(counts))
    return explained, offset


def _fit(profiles: np.ndarray, counts: np.ndarray, levels: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(explained share, offset, windows) of each count on the profile of its level (``profiles``: ``[levels,
    L+1]``), all counts' windows computed at once."""
    length = profiles.shape[1] - 1
    cell = length / counts
    offset = np.zeros(len(counts))
    for index in np.unique(levels).tolist():  # at most len(LEVELS) groups
        chosen = levels == index
        offset[chosen] = _comb_offset(profiles[index], counts[chosen], cell[chosen])
    first, after_last = _windows(offset, cell, int(counts.max()), length)
    # the energy within FIT_TOLERANCE of a cell around each cut, from prefix sums (the windows never overlap)
    cumulative = np.zeros((len(profiles), length + 2))  # per level: energy at positions < i
    np.cumsum(profiles, axis=1, out=cumulative[:, 1:])
    cumulative = cumulative.ravel()
    base = (levels * (length + 2))[:, None]
    near = (cumulative[base + after_last] - cumulative[base + first]).clip(min=0).sum(axis=1)
    explained = near / profiles.sum(axis=1)[levels].clip(min=1e-12)
    return explained, offset, (first, after_last)


def _comb_offset(energy: np.ndarray, counts: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """A comb of n cuts repeats every L/n pixels: where it lines up best is the phase of the profile's Fourier
    coefficient n (position L is position 0 again), one FFT for every candidate at once."""
    folded = np.concatenate([energy[:1] + energy[-1:], energy[1:-1]])
    harmonic = np.fft.rfft(folded)[counts]
    return (-np.angle(harmonic) / (2 * math.pi)) % 1.0 * cell


def _windows(offset: np.ndarray, cell: np.ndarray, most: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """First position and one past the last of the FIT_TOLERANCE window around every cut ``[N, most+3]``,
    clamped to 0..L+1 (an empty window has first >= after_last)."""
    steps = np.arange(-1, most + 2, dtype=np.float64)
    cuts = offset[:, None] + steps[None, :] * cell[:, None]
    reach = (FIT_TOLERANCE * cell)[:, None] + 1e-6  # a whole-pixel reach is not lost to rounding of the offset
    first = np.ceil(cuts - reach).clip(0, length + 1).astype(np.int64)
    after_last = np.floor(cuts + reach).clip(-1, length).astype(np.int64) + 1
    return first, after_last


def peak_energy(profile: np.ndarray, radius: int) -> np.ndarray:
    """``[L+1]``: at each local maximum of the profile (within ``radius``) the square root of the energy around
    it, zero elsewhere; peaks below SIGNIFICANT_PEAK of the strong ones are dropped."""
    width = 2 * radius + 1
    border = np.full(radius, -np.inf)
    local_max = sliding_window_view(np.concatenate([border, profile, border]), width).max(axis=1)
    cumulative = np.concatenate([np.zeros(radius + 1), profile.cumsum()])
    cumulative = np.concatenate([cumulative, np.full(radius, cumulative[-1])])  # zeros beyond the ends
    around = cumulative[width:] - cumulative[:-width]
    energy = np.where((profile >= local_max) & (profile > 0), around, 0.0)
    found = energy[energy > 0]
    if len(found) == 0:
        return energy
    # relative to the strong edges, not the strongest: one alpha border may outweigh every colour edge
    strong = np.quantile(found, STRONG_PEAK_QUANTILE)
    # weighted by amplitude (energies are squared steps): distinct edges count more evenly
    return np.where(energy >= SIGNIFICANT_PEAK * strong, np.sqrt(energy), 0.0)


def one_edge_per_cut(peaks: np.ndarray, windows: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """For each candidate, the share of the peaks explained when each cut explains only its strongest peak;
    ``windows``: the first position and one past the last of the window around each cut (see ``_windows``)."""
    first, after_last = windows
    candidates, per_candidate = first.shape
    positions = np.flatnonzero(peaks)  # a few dozen distinct edges: each is placed in its window, if any
    if len(positions) == 0:
        return np.zeros(candidates)
    # every candidate's windows in one ascending list (row n shifted by n * (L + 2)): the window holding a
    # position is the first that ends after it, if it also starts at or before it
    stride = len(peaks) + 1
    shifted = positions[None, :] + (np.arange(candidates) * stride)[:, None]  # [N, P]
    window = np.searchsorted((after_last + (np.arange(candidates) * stride)[:, None]).ravel(), shifted,
                             side="right").clip(max=first.size - 1)
    inside = (window // per_candidate == np.arange(candidates)[:, None]) & \
        (first.ravel()[window] + (window // per_candidate) * stride <= shifted)
    # a window's peaks are neighbours in position order: each run of one window keeps its largest
    keys = np.where(inside, window, -1).ravel()
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    strongest = np.maximum.reduceat(np.where(inside, peaks[positions], 0.0).ravel(), starts)
    return np.bincount(starts // len(positions), weights=strongest, minlength=candidates) / max(peaks.sum(), 1e-12)


def axis_fit(profiles: np.ndarray, min_cell: float, max_cell: float) -> AxisFit | None:
    """Scores of every cell count between the cell size limits, each on the level that suits its cells;
    ``profiles``: ``[levels, L+1]`` float64. None when no count is possible or the axis has no edges."""
    length = profiles.shape[1] - 1
    low = max(MIN_COUNT, math.ceil(length / max_cell))
    high = min(length // 2, math.floor(length / min_cell))
    if high < low or float(profiles.sum()) <= 0:
        return None
    counts = np.arange(low, high + 1)
    peaks = peak_energy(profiles[PEAK_LEVEL], LEVELS[PEAK_LEVEL][0])
    score, explained, offset = _scores(profiles, peaks, counts, level_for_cell(length / counts))
    return AxisFit(profiles, peaks, counts, score, explained, offset)


def _scores(profiles: np.ndarray, peaks: np.ndarray, counts: np.ndarray, levels: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, explained share, offset) of each count judged on its level."""
    cell = (profiles.shape[1] - 1) / counts
    explained, offset, windows = _fit(profiles, counts, levels)
    distinct = one_edge_per_cut(peaks, windows) if float(peaks.sum()) > 0 else explained
    phase_error = np.minimum(offset, cell - offset) / cell  # 0: a cut falls on the image border
    score = (1 - PEAK_WEIGHT) * explained + PEAK_WEIGHT * distinct - PHASE_WEIGHT * phase_error
    return score, explained, offset


def choose_counts(fit_x: AxisFit, fit_y: AxisFit) -> tuple[int, int]:
    """The best pair of counts with nearly square cells, then the coarsest whole-number coarsening of it that
    scores nearly as well."""
    cell_x = fit_x.length / fit_x.counts
    cell_y = fit_y.length / fit_y.counts
    aspect = cell_x[:, None] / cell_y[None, :]
    allowed = (aspect <= MAX_CELL_ASPECT) & (aspect >= 1 / MAX_CELL_ASPECT)
    total = np.where(allowed, fit_x.score[:, None] + fit_y.score[None, :], -math.inf)
    best = int(total.argmax())
    count_x = int(fit_x.counts[best // total.shape[1]])
    count_y = int(fit_y.counts[best % total.shape[1]])
    # Coarsenings are judged on the chosen grid's own levels: a coarse level blurs away the edges that would
    # refute them.
    factors = [f for f in range(math.gcd(count_x, count_y), 1, -1)
               if count_x // f >= int(fit_x.counts[0]) and count_y // f >= int(fit_y.counts[0])]
    if factors:
        loss = np.zeros(len(factors))
        for fit, count in ((fit_x, count_x), (fit_y, count_y)):
            scores = fit.score_on([count] + [count // f for f in factors], int(level_for_cell(fit.cell(count))))
            loss += scores[0] - scores[1:]
        for factor, lost in zip(factors, loss.tolist()):
            if lost <= 2 * NEAR_BEST:
                return count_x // factor, count_y // factor
    return count_x, count_y


def fit_strength(fit: AxisFit, count: int) -> float:
    """0..1: how much more edge energy than chance the cuts of ``count`` cells explain."""
    explained = float(fit.explained[fit.index(count)])
    return min(1.0, max(0.0, (explained - CHANCE_FIT) / (1 - CHANCE_FIT)))
