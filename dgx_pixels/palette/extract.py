"""Palette extraction: k-means++ on a weighted colour histogram, median steps, and the automatic size."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..common.errors import InputError
from .distinct import DistinctColours, distinct_colours, packed_rgb
from .palette import MAX_COLOURS, Palette
from .space import perceptual, srgb_to_oklab

# Extraction: k-means runs on a weighted histogram of the colours (6 bits per channel, each bin at the mean colour
# of its pixels), several seeded k-means++ starts side by side, then a few steps towards the weighted median.
HISTOGRAM_BITS = 6
KMEANS_RESTARTS = 6
KMEANS_ITERATIONS = 8
KMEANS_TRIAL_ITERATIONS = 3
MEDIAN_STEPS = 4
# Automatic size (see automatic_palette).
AUTO_K_MAX = 32
AUTO_K_MARGIN = 0.0085  # a mean distance of about 1 CIEDE2000 unit in the perceptual space


def colour_histogram(rgb: torch.Tensor, weights: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted colours binned at ``bits`` per channel: (mean sRGB of each used bin ``[M, 3]``, weights ``[M]``)."""
    levels = (rgb * (1 << bits)).to(torch.int64).clamp_(0, (1 << bits) - 1)
    codes = (levels[:, 0] << (2 * bits)) | (levels[:, 1] << bits) | levels[:, 2]
    used, slot = torch.unique(codes, return_inverse=True)
    mass = torch.zeros(len(used), dtype=rgb.dtype, device=rgb.device).index_add_(0, slot, weights)
    sums = torch.zeros(len(used), 3, dtype=rgb.dtype, device=rgb.device).index_add_(0, slot, rgb * weights[:, None])
    keep = mass > 0
    return sums[keep] / mass[keep, None], mass[keep]


@dataclass(frozen=True)
class WeightedPoints:
    """Colours in the perceptual space ``[M, 3]`` with their pixel counts ``[M]`` (and squared norms, reused)."""

    points: torch.Tensor
    weights: torch.Tensor
    norms: torch.Tensor

    @classmethod
    def of(cls, rgb: torch.Tensor, weights: torch.Tensor) -> "WeightedPoints":
        points = perceptual(rgb)
        return cls(points, weights, points.square().sum(dim=1))

    def assign(self, centres: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Nearest centre of every point for several centre sets ``[R, K, 3]`` at once -> (owner ``[R, M]``,
        squared distance ``[R, M]``)."""
        scores = torch.baddbmm(centres.square().sum(dim=-1)[:, None, :], self.points.expand(centres.shape[0], -1, -1),
                               centres.transpose(1, 2), alpha=-2)
        best, owner = scores.min(dim=-1)
        return owner, (best + self.norms).clamp_(min=0)

    def means(self, values: torch.Tensor, weights: torch.Tensor, owner: torch.Tensor, k: int
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per centre set and centre, the ``weights`` ``[R, M]``-weighted mean of the ``values`` ``[M, C]`` it owns
        -> (means ``[R, k, C]``, total weight ``[R, k]``)."""
        sets = owner.shape[0]
        slot = (owner + torch.arange(sets, device=owner.device)[:, None] * k).reshape(-1)
        mass = torch.zeros(sets * k, dtype=values.dtype, device=values.device).index_add_(0, slot, weights.reshape(-1))
        sums = torch.zeros(sets * k, values.shape[1], dtype=values.dtype, device=values.device)
        sums.index_add_(0, slot, (weights[..., None] * values).reshape(-1, values.shape[1]))
        return (sums / mass.clamp(min=1e-12)[:, None]).reshape(sets, k, -1), mass.reshape(sets, k)


def kmeans(data: WeightedPoints, k: int, seed: int, fixed: torch.Tensor) -> torch.Tensor:
    """``k`` centres ``[k, 3]``: KMEANS_RESTARTS seeded k-means++ starts side by side, KMEANS_TRIAL_ITERATIONS Lloyd
    iterations for each, then the best (smallest mean distance) alone until it settles. The ``fixed`` centres
    (kept colours) come first and never move."""
    points, weights = data.points, data.weights
    restarts, kept = KMEANS_RESTARTS, fixed.shape[0]
    # The draws come from a CPU generator, so a seed gives the same palette on any device.
    draws = torch.rand(k, restarts, generator=torch.Generator().manual_seed(seed)).to(points.device)
    centres = points.new_zeros((restarts, k, 3))
    centres[:, :kept] = fixed
    if not kept:
        centres[:, 0] = points[weights.argmax()]  # the most common colour
    start = max(kept, 1)
    nearest = data.assign(centres[:1, :start])[1].expand(restarts, -1).contiguous()
    for j in range(start, k):
        cumulative = (weights * nearest).cumsum(dim=1)
        pick = torch.searchsorted(cumulative, (draws[j] * cumulative[:, -1])[:, None]).clamp_(max=len(points) - 1)
        chosen = points[pick[:, 0]]  # [R, 3]
        centres[:, j] = chosen
        distance = torch.addmm(chosen.square().sum(dim=1)[:, None], chosen, points.T, alpha=-2) + data.norms
        nearest = torch.minimum(nearest, distance)
    movable = (torch.arange(k, device=points.device) >= kept)[None, :, None]

    def lloyd(centres: torch.Tensor, iterations: int) -> torch.Tensor:
        previous = None
        for _ in range(iterations):
            owner, _ = data.assign(centres)
            if previous is not None and torch.equal(owner, previous):
                break  # settled
            previous = owner
            means, mass = data.means(points, weights.expand(centres.shape[0], -1), owner, k)
            centres = torch.where(movable & (mass[..., None] > 0), means, centres)
        return centres

    centres = lloyd(centres, KMEANS_TRIAL_ITERATIONS)
    mean_distance = (data.assign(centres)[1].sqrt() * weights).sum(dim=1)
    return lloyd(centres[mean_distance.argmin()][None], KMEANS_ITERATIONS)[0]


def median_steps(data: WeightedPoints, centres: torch.Tensor, kept: int) -> torch.Tensor:
    """MEDIAN_STEPS Weiszfeld steps: each centre (but the ``kept`` first) moves towards the weighted median of the
    points it owns, lowering the mean distance (what the eye sums up) where Lloyd lowers the squared one."""
    k = centres.shape[0]
    movable = (torch.arange(k, device=centres.device) >= kept)[None, :, None]
    centres = centres[None]
    for _ in range(MEDIAN_STEPS):
        owner, distance = data.assign(centres)
        means, mass = data.means(data.points, data.weights / distance.sqrt().clamp(min=1e-4), owner, k)
        centres = torch.where(movable & (mass[..., None] > 0), means, centres)
    return centres[0]


def fit_palette(rgb: torch.Tensor, weights: torch.Tensor, k: int, seed: int, keep: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, WeightedPoints]:
    """The palette (sRGB ``[k', 3]``, k' <= k) for colours ``rgb`` weighted by their pixel counts, and the
    fine histogram it was refined on.

    k-means runs on a HISTOGRAM_BITS histogram, the median steps on one with a bit more per channel (finer
    colours move the medians noticeably: mean dE 1.21 -> 1.19 at K=16). Each palette colour is then the
    median-weighted mean sRGB of the colours it owns; kept colours stay exact.
    """
    kept = 0 if keep is None else keep.shape[0]
    fine_rgb, fine_weights = colour_histogram(rgb, weights, HISTOGRAM_BITS + 1)
    coarse = WeightedPoints.of(*colour_histogram(fine_rgb, fine_weights, HISTOGRAM_BITS))  # same as from rgb
    k = min(k, coarse.points.shape[0] + kept)
    fixed = coarse.points.new_zeros((0, 3)) if keep is None else perceptual(keep)
    centres = kmeans(coarse, k, seed, fixed)
    fine = WeightedPoints.of(fine_rgb, fine_weights)
    centres = median_steps(fine, centres, kept)
    owner, distance = fine.assign(centres[None])
    colours, owned = fine.means(fine_rgb, fine.weights / distance.sqrt().clamp(min=1e-4), owner, k)
    colours, owned = colours[0], owned[0]
    if kept:
        colours[:kept] = keep
    return colours[(owned > 0) | (torch.arange(k, device=rgb.device) < kept)], fine


def mean_error(data: WeightedPoints, palette_rgb: torch.Tensor) -> float:
    """Mean perceptual distance from the weighted colours to their nearest palette colour."""
    distance = data.assign(perceptual(palette_rgb)[None])[1].sqrt()
    return float((distance * data.weights).sum() / data.weights.sum())


def extract_palette(image: torch.Tensor, mask: torch.Tensor | None = None, colours: int = 16, seed: int = 0,
                    keep: Palette | None = None, name: str = "extracted",
                    distinct: DistinctColours | None = None) -> Palette:
    """A palette of at most ``colours`` colours for a whole batch, transparent pixels left out.

    ``colours`` = 0 chooses the size: the intended palette of the images (see intended.py), or from the
    colours alone when only ``distinct`` is given (see automatic_palette). ``keep`` colours are always in it. The
    result is ordered dark to light, so the same input and seed give the same palette in the same order.
    ``distinct``: the batch's distinct colours, when already found (``image`` and ``mask`` then only serve the
    intended palette).
    """
    if colours < 0 or colours > MAX_COLOURS:
        raise InputError(f"colour count must be 0 (automatic) to {MAX_COLOURS}, got {colours}")
    distinct = distinct or distinct_colours(image, mask)
    if float(distinct.counts.sum()) == 0:
        raise InputError("every pixel is transparent: there are no colours to build a palette from")
    kept = keep.tensor(device=distinct.rgb.device) if keep else None
    kept_count = 0 if kept is None else kept.shape[0]
    if colours and kept_count > colours:
        raise InputError(f"{kept_count} colours to keep do not fit in a palette of {colours}")
    if colours:
        palette_rgb, _ = fit_palette(distinct.rgb, distinct.counts, colours, seed, kept)
    elif image is not None:
        from .intended import intended_palette  # it builds on this module's k-means

        palette_rgb = intended_palette(image, mask, seed, kept)
    else:
        palette_rgb = automatic_palette(distinct, seed, kept)
    return sorted_palette(name, palette_rgb)


def automatic_palette(distinct: DistinctColours, seed: int, kept: torch.Tensor | None) -> torch.Tensor:
    """The palette when nobody says how many colours: art with at most AUTO_K_MAX distinct colours keeps exactly
    its colours. Otherwise (soft edges, noise, gradients) the smallest K whose mean error is within AUTO_K_MARGIN
    (about one just-noticeable difference) of what AUTO_K_MAX colours achieve, found by bisection: beyond it,
    extra colours only chase noise nobody sees."""
    present = distinct.rgb[distinct.counts > 0]
    colours = present if kept is None else torch.cat([kept, present])
    if len(torch.unique(packed_rgb(colours))) <= AUTO_K_MAX:
        return colours
    kept_count = 0 if kept is None else kept.shape[0]
    low, high = max(1, kept_count), max(AUTO_K_MAX, kept_count)
    palette_rgb, fine = fit_palette(distinct.rgb, distinct.counts, high, seed, kept)
    target = mean_error(fine, palette_rgb) + AUTO_K_MARGIN
    while low < high:
        middle = (low + high) // 2
        candidate, _ = fit_palette(distinct.rgb, distinct.counts, middle, seed, kept)
        if mean_error(fine, candidate) <= target:
            high, palette_rgb = middle, candidate
        else:
            low = middle + 1
    return palette_rgb


def sorted_palette(name: str, rgb: torch.Tensor) -> Palette:
    """8-bit colours, each once, dark to light (OKLab lightness; ties keep their order)."""
    palette = Palette.from_tensor(name, rgb)
    unique = list(dict.fromkeys(palette.colours))
    lightness = srgb_to_oklab(torch.tensor(unique, dtype=torch.float32) / 255)[:, 0].tolist()
    order = sorted(range(len(unique)), key=lambda i: (lightness[i], i))
    return Palette(name, tuple(unique[i] for i in order))
