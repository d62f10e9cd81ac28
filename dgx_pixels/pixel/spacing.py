"""How many cells along each axis: every candidate count is scored against the edge profiles, both axes at once.

For a candidate count ``n`` on an axis of length L, a comb of ``n`` uniform cuts (its offset from the profile's
Fourier phase at ``n``) is laid over the profile of the scale level that suits cells of L/n pixels, and scored by:
- the share of edge energy within FIT_TOLERANCE of a cell from its cuts (cells are flat: edges lie on cuts);
- the share of the distinct edges (peaks of the fine-level profile) that have a cut of their own: one cut explains
  one edge, so a grid too coarse for edges a cell apart loses here even where its wide windows cover both;
- a small bonus for a cut on the image border (art that fills the canvas starts a cell there).
The two axes are chosen together, with cells no further from square than MAX_CELL_ASPECT; then a grid whose cells
are a whole number of the chosen ones wins if it scores nearly as well (finer grids explain the same edges too).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

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
    """Scores of every candidate cell count on one axis, and what they were computed from."""

    profiles: torch.Tensor  # [levels, L+1]
    peaks: torch.Tensor  # [L+1] distinct edges (see peak_energy)
    counts: torch.Tensor  # [N] ascending
    score: torch.Tensor  # [N]
    explained: torch.Tensor  # [N] share of edge energy near the cuts
    offset: torch.Tensor  # [N] comb offset in pixels

    @property
    def length(self) -> int:
        return self.profiles.shape[1] - 1

    def index(self, count: int) -> int:
        return count - int(self.counts[0])

    def cell(self, count: int) -> float:
        return self.length / count

    def score_on(self, counts: list[int], level: int) -> torch.Tensor:
        """Scores of ``counts`` all judged on one level (to compare a grid with a coarsening of it fairly)."""
        return _scores(self.profiles, self.peaks, torch.tensor(counts, device=self.profiles.device),
                       torch.full((len(counts),), level, device=self.profiles.device))[0]


def grid_fit(profile: torch.Tensor, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each candidate cell count, (share of edge energy near its cuts, grid offset in pixels).

    ``profile``: ``[L+1]`` edge energy by cut position for an axis of length L; ``counts``: ``[N]`` cell counts
    (at most L/2).
    """
    counts = counts.to(profile.device)
    explained, offset, _ = _fit(profile[None], counts, torch.zeros_like(counts))
    return explained, offset


def _fit(profiles: torch.Tensor, counts: torch.Tensor, levels: torch.Tensor
         ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """(explained share, offset, windows) of each count on the profile of its level (``profiles``: ``[levels,
    L+1]``), all counts' windows computed at once."""
    length = profiles.shape[1] - 1
    energy = profiles.double()
    cell = length / counts.double()
    offset = torch.zeros_like(cell)
    for index in levels.unique().tolist():  # at most len(LEVELS) groups
        chosen = levels == index
        offset[chosen] = _comb_offset(energy[index], counts[chosen], cell[chosen])
    first, after_last = _windows(offset, cell, int(counts.max()), length)
    # the energy within FIT_TOLERANCE of a cell around each cut, from prefix sums (the windows never overlap)
    cumulative = F.pad(energy.cumsum(1), (1, 0)).flatten()  # per level: energy at positions < i
    base = (levels * (length + 2))[:, None]
    near = (cumulative[base + after_last] - cumulative[base + first]).clamp(min=0).sum(dim=1)
    explained = near / energy.sum(1)[levels].clamp(min=1e-12)
    return explained, offset, (first, after_last)


def _comb_offset(energy: torch.Tensor, counts: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
    """A comb of n cuts repeats every L/n pixels: where it lines up best is the phase of the profile's Fourier
    coefficient n (position L is position 0 again), one FFT for every candidate at once."""
    folded = torch.cat([energy[:1] + energy[-1:], energy[1:-1]])
    harmonic = torch.fft.rfft(folded)[counts]
    return (-torch.angle(harmonic) / (2 * math.pi)) % 1.0 * cell


def _windows(offset: torch.Tensor, cell: torch.Tensor, most: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """First position and one past the last of the FIT_TOLERANCE window around every cut ``[N, most+3]``,
    clamped to 0..L+1 (an empty window has first >= after_last)."""
    steps = torch.arange(-1, most + 2, device=offset.device, dtype=torch.float64)
    cuts = offset[:, None] + steps[None, :] * cell[:, None]
    reach = (FIT_TOLERANCE * cell)[:, None] + 1e-6  # a whole-pixel reach is not lost to rounding of the offset
    first = (cuts - reach).ceil().clamp(0, length + 1).long()
    after_last = (cuts + reach).floor().clamp(-1, length).long() + 1
    return first, after_last


def peak_energy(profile: torch.Tensor, radius: int) -> torch.Tensor:
    """``[L+1]``: at each local maximum of the profile (within ``radius``) the square root of the energy around
    it, zero elsewhere; peaks below SIGNIFICANT_PEAK of the strong ones are dropped."""
    values = profile.double()[None, None]
    width = 2 * radius + 1
    local_max = F.max_pool1d(values, width, 1, radius)[0, 0]
    around = F.avg_pool1d(values, width, 1, radius, count_include_pad=True)[0, 0] * width
    energy = torch.where((values[0, 0] >= local_max) & (values[0, 0] > 0), around, torch.zeros_like(around))
    found = energy[energy > 0]
    if len(found) == 0:
        return energy
    # relative to the strong edges, not the strongest: one alpha border may outweigh every colour edge
    strong = found.quantile(STRONG_PEAK_QUANTILE) if len(found) > 1 else found[0]
    # weighted by amplitude (energies are squared steps): distinct edges count more evenly
    return torch.where(energy >= SIGNIFICANT_PEAK * strong, energy.sqrt(), torch.zeros_like(energy))


def one_edge_per_cut(peaks: torch.Tensor, windows: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """For each candidate, the share of the peaks explained when each cut explains only its strongest peak;
    ``windows``: the first position and one past the last of the window around each cut (see ``_windows``)."""
    length = peaks.shape[0] - 1
    first, after_last = windows
    last = after_last - 1
    # range maxima from a sparse table: table[j][i] = max(peaks[i : i + 2^j])
    table = [peaks]
    while (1 << len(table)) <= length + 1:
        half = 1 << (len(table) - 1)
        previous = table[-1]
        table.append(torch.maximum(previous, F.pad(previous[half:], (0, half))))
    table = torch.stack(table)  # [J, L+1]
    size = (last - first + 1).clamp(min=1)
    level = (size.double().log2().floor().long()).clamp(0, table.shape[0] - 1)
    left = table[level, first.clamp(0, length)]
    right = table[level, (last - (1 << level) + 1).clamp(0, length)]
    strongest = torch.where(last >= first, torch.maximum(left, right), torch.zeros_like(left))
    return strongest.sum(dim=1) / peaks.sum().clamp(min=1e-12)


def axis_fit(profiles: torch.Tensor, min_cell: float, max_cell: float) -> AxisFit | None:
    """Scores of every cell count between the cell size limits, each on the level that suits its cells;
    ``profiles``: ``[levels, L+1]``. None when no count is possible or the axis has no edges."""
    length = profiles.shape[1] - 1
    low = max(MIN_COUNT, math.ceil(length / max_cell))
    high = min(length // 2, math.floor(length / min_cell))
    if high < low or float(profiles.sum()) <= 0:
        return None
    counts = torch.arange(low, high + 1, device=profiles.device)
    peaks = peak_energy(profiles[PEAK_LEVEL], LEVELS[PEAK_LEVEL][0])
    score, explained, offset = _scores(profiles, peaks, counts, level_for_cell(length / counts.double()))
    return AxisFit(profiles, peaks, counts, score, explained, offset)


def _scores(profiles: torch.Tensor, peaks: torch.Tensor, counts: torch.Tensor, levels: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(score, explained share, offset) of each count judged on its level."""
    cell = (profiles.shape[1] - 1) / counts.double()
    explained, offset, windows = _fit(profiles, counts, levels)
    distinct = one_edge_per_cut(peaks, windows) if float(peaks.sum()) > 0 else explained
    phase_error = torch.minimum(offset, cell - offset) / cell  # 0: a cut falls on the image border
    score = (1 - PEAK_WEIGHT) * explained + PEAK_WEIGHT * distinct - PHASE_WEIGHT * phase_error
    return score, explained, offset


def choose_counts(fit_x: AxisFit, fit_y: AxisFit) -> tuple[int, int]:
    """The best pair of counts with nearly square cells, then the coarsest whole-number coarsening of it that
    scores nearly as well."""
    cell_x = fit_x.length / fit_x.counts.double()
    cell_y = fit_y.length / fit_y.counts.double()
    aspect = cell_x[:, None] / cell_y[None, :]
    allowed = (aspect <= MAX_CELL_ASPECT) & (aspect >= 1 / MAX_CELL_ASPECT)
    total = torch.where(allowed, fit_x.score[:, None] + fit_y.score[None, :], torch.full_like(aspect, -math.inf))
    best = int(total.argmax())
    count_x = int(fit_x.counts[best // total.shape[1]])
    count_y = int(fit_y.counts[best % total.shape[1]])
    # Coarsenings are judged on the chosen grid's own levels: a coarse level blurs away the edges that would
    # refute them.
    factors = [f for f in range(math.gcd(count_x, count_y), 1, -1)
               if count_x // f >= int(fit_x.counts[0]) and count_y // f >= int(fit_y.counts[0])]
    if factors:
        loss = torch.zeros(len(factors), dtype=torch.float64, device=total.device)
        for fit, count in ((fit_x, count_x), (fit_y, count_y)):
            level = int(level_for_cell(torch.tensor(fit.cell(count))))
            scores = fit.score_on([count] + [count // f for f in factors], level)
            loss += scores[0] - scores[1:]
        for factor, lost in zip(factors, loss.tolist()):
            if lost <= 2 * NEAR_BEST:
                return count_x // factor, count_y // factor
    return count_x, count_y


def fit_strength(fit: AxisFit, count: int) -> float:
    """0..1: how much more edge energy than chance the cuts of ``count`` cells explain."""
    explained = float(fit.explained[fit.index(count)])
    return min(1.0, max(0.0, (explained - CHANCE_FIT) / (1 - CHANCE_FIT)))
