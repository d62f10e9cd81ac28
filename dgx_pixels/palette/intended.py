"""Intended-palette recovery: the colours the artist meant, from art at its own size that noise, texture and soft
edges have spread into many near-duplicates.

The palette explains every opaque pixel with as few colours as it can (see ``intended_palette``): a pixel is
explained when it is within EXPLAIN_TOLERANCE (on every sRGB channel) of a palette colour, a few noisy ones within
STRAY_TOLERANCE. A small detail of a
colour of its own (an eye, a highlight) is not, so it keeps its entry however few pixels it has. Run on art at its
own size (after grid recovery), where each cell has already voted: a stray detail smaller than a cell never
reaches the palette.
"""
from __future__ import annotations

import torch

from .builtin import BUILTIN_NAMES, builtin_palette
from .distinct import distinct_colours
from .palette import Palette

EXPLAIN_TOLERANCE = 14 / 255  # within this on every channel a pixel is its palette colour (noise, texture, JPEG)
# Noise has tails: a few pixels may stray further, though never so far that they could be a detail of their own
STRAY_TOLERANCE = 2 * EXPLAIN_TOLERANCE
STRAY_SHARE = 0.01
MAX_CANDIDATES = 256  # entries before each is tried away: a bound on the work for any input
# A recovered palette is a built-in one when each colour is this close to a built-in colour of its own (a recovered
# colour is the mean of its noisy pixels, so it lies close to what was drawn), and it has at least
# MIN_SNAP_COLOURS: by chance, a random colour lands this close to one of a 64-colour palette's about 1 time in 12.
SNAP_TOLERANCE = EXPLAIN_TOLERANCE
MIN_SNAP_COLOURS = 3


def intended_palette(image: torch.Tensor, mask: torch.Tensor | None, seed: int = 0,
                     keep: torch.Tensor | None = None) -> torch.Tensor:
    """sRGB ``[k, 3]``: the fewest colours that explain every opaque pixel of the batch ``[B, H, W, 3]``.

    Colours are taken most common first, each a new entry unless within EXPLAIN_TOLERANCE of one (the most common
    colour of a noisy cloud is its intended colour); each entry then moves to the mean of what it owns. Entries
    go again, rarest first, while the rest still explain every pixel (cells that noise or a soft edge
    moved off their colour).
    ``seed`` is unused: the result is deterministic."""
    rgb = image[..., :3].to(torch.float32)
    opaque = torch.ones(rgb.shape[:3], dtype=torch.bool, device=rgb.device) if mask is None else mask < 0.5
    distinct = distinct_colours(rgb, mask)
    present = distinct.counts > 0
    colours, counts = distinct.rgb[present], distinct.counts[present]
    order = counts.argsort(descending=True)
    colours, counts = colours[order], counts[order]
    fixed = [] if keep is None else list(keep.to(rgb.device))
    entries = list(fixed)
    uncovered = torch.ones(len(colours), dtype=torch.bool, device=colours.device)
    for entry in entries:
        uncovered &= (colours - entry).abs().amax(-1) > EXPLAIN_TOLERANCE
    while bool(uncovered.any()) and len(entries) < MAX_CANDIDATES:
        entry = colours[int(uncovered.nonzero()[0])]  # the most common colour no entry covers yet
        entries.append(entry)
        uncovered &= (colours - entry).abs().amax(-1) > EXPLAIN_TOLERANCE
    palette = settled(torch.stack(entries), len(fixed), colours, counts)
    owned = owners(palette, colours, counts)
    alive = torch.ones(len(palette), dtype=torch.bool, device=palette.device)
    for index in owned.argsort().tolist():  # rarest first; at most MAX_CANDIDATES trials
        if index < len(fixed):
            continue
        alive[index] = False
        if not alive.any() or not fits(rgb, opaque, palette[alive]):
            alive[index] = True
    return palette[alive]


def settled(palette: torch.Tensor, fixed: int, colours: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Each entry but the ``fixed`` first moved to the count-weighted mean of the colours nearest to it."""
    nearest = (colours[:, None] - palette[None]).abs().amax(-1).argmin(-1)
    mass = torch.zeros(len(palette), dtype=counts.dtype, device=counts.device).index_add_(0, nearest, counts)
    sums = torch.zeros_like(palette).index_add_(0, nearest, colours * counts[:, None].to(colours.dtype))
    means = torch.where(mass[:, None] > 0, sums / mass.clamp(min=1e-12)[:, None].to(sums.dtype), palette)
    means[:fixed] = palette[:fixed]
    return means[(mass > 0) | (torch.arange(len(palette), device=palette.device) < fixed)]


def owners(palette: torch.Tensor, colours: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """``[k]``: the pixels nearest to each entry."""
    nearest = (colours[:, None] - palette[None]).abs().amax(-1).argmin(-1)
    return torch.zeros(len(palette), dtype=counts.dtype, device=counts.device).index_add_(0, nearest, counts)


def fits(rgb: torch.Tensor, opaque: torch.Tensor, palette: torch.Tensor) -> bool:
    """Every opaque pixel within STRAY_TOLERANCE of a palette colour, and all but STRAY_SHARE of them within
    EXPLAIN_TOLERANCE."""
    error = torch.full(rgb.shape[:3], float("inf"), device=rgb.device)
    for colour in palette:  # one entry at a time: memory stays that of the image, whatever the palette size
        error = torch.minimum(error, (rgb - colour).abs().amax(-1))
    error = error[opaque]
    strays = float((error > EXPLAIN_TOLERANCE).sum())
    return bool((error <= STRAY_TOLERANCE).all()) and strays <= STRAY_SHARE * len(error)


def matching_builtin(palette: Palette) -> Palette | None:
    """The built-in palette that ``palette`` (recovered colours) was drawn with, when one explains them all: every
    colour within SNAP_TOLERANCE (on every channel) of a built-in colour of its own (no two on one). Returns that
    palette's matched colours, in the recovered order and named after it; the closest when several fit."""
    recovered = palette.tensor()
    if len(recovered) < MIN_SNAP_COLOURS:
        return None
    best, best_error = None, float("inf")
    for name in BUILTIN_NAMES:
        builtin = builtin_palette(name)
        distance = (recovered[:, None] - builtin.tensor()[None]).abs().amax(-1)  # [recovered, built-in]
        error, nearest = distance.min(dim=1)
        if float(error.max()) > SNAP_TOLERANCE or len(set(nearest.tolist())) < len(nearest):
            continue
        if float(error.mean()) < best_error:
            best_error = float(error.mean())
            best = Palette(f"{builtin.name} ({len(nearest)} of {len(builtin)})",
                           tuple(builtin.colours[index] for index in nearest.tolist()))
    return best
