"""Palettes as data, and the colour maths on them: OKLab, k-means++ extraction, nearest-colour mapping, dithering,
swaps and validation. Batched torch on the tensors' device; no ComfyUI.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .errors import InputError

DITHERS = ("none", "bayer 2", "bayer 4", "bayer 8", "floyd-steinberg", "atkinson")
HISTOGRAM_BITS = 6  # per channel, for the weighted colour histogram k-means runs on
KMEANS_ITERATIONS = 16
CHROMA_WEIGHT = 2.0
KMEANS_RESTARTS = 6  # k-means++ starts differ; the best of a few is kept
AUTO_K_MAX = 32
AUTO_K_ERROR = 0.025  # mean OKLab distance a palette may leave when its size is chosen automatically
MAX_COLOURS = 256


@dataclass(frozen=True)
class Palette:
    """An ordered list of sRGB colours (0..255 ints) with a name: the PALETTE type."""

    name: str
    colours: tuple[tuple[int, int, int], ...]

    def __post_init__(self):
        if not self.colours:
            raise InputError(f"palette {self.name!r} has no colours")
        if len(self.colours) > MAX_COLOURS:
            raise InputError(f"palette {self.name!r} has {len(self.colours)} colours; at most {MAX_COLOURS}")

    def __len__(self) -> int:
        return len(self.colours)

    def hex(self) -> list[str]:
        return ["#%02x%02x%02x" % colour for colour in self.colours]

    def tensor(self, device=None, dtype=torch.float32) -> torch.Tensor:
        """``[K, 3]`` sRGB in 0..1."""
        return torch.tensor(self.colours, dtype=dtype, device=device) / 255.0

    @classmethod
    def from_tensor(cls, name: str, rgb: torch.Tensor) -> "Palette":
        values = (rgb.clamp(0, 1) * 255).round().to(torch.int64).tolist()
        return cls(name, tuple(tuple(v) for v in values))

    @classmethod
    def from_hex(cls, name: str, codes: list[str]) -> "Palette":
        colours = []
        for code in codes:
            code = code.strip().lstrip("#")
            if len(code) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in code):
                raise InputError(f"palette {name!r}: {code!r} is not a hex colour like #1d2b53")
            colours.append(tuple(int(code[i:i + 2], 16) for i in (0, 2, 4)))
        return cls(name, tuple(colours))


# ------------------------------------------------------------------------------------------------------ OKLab
def srgb_to_oklab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in 0..1 ``[..., 3]`` -> OKLab ``[..., 3]`` (Björn Ottosson's matrices)."""
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055).clamp(min=0) ** 2.4)
    m1 = torch.tensor([[0.4122214708, 0.5363325363, 0.0514459929],
                       [0.2119034982, 0.6806995451, 0.1073969566],
                       [0.0883024619, 0.2817188376, 0.6299787005]], dtype=rgb.dtype, device=rgb.device)
    m2 = torch.tensor([[0.2104542553, 0.7936177850, -0.0040720468],
                       [1.9779984951, -2.4285922050, 0.4505937099],
                       [0.0259040371, 0.7827717662, -0.8086757660]], dtype=rgb.dtype, device=rgb.device)
    lms = linear @ m1.T
    return torch.sign(lms) * lms.abs().pow(1 / 3) @ m2.T


def perceptual(rgb: torch.Tensor) -> torch.Tensor:
    """The space palettes are fitted and matched in: OKLab with its chroma axes stretched by CHROMA_WEIGHT.

    OKLab packs chroma into a narrow range next to lightness; stretching it brings distances closer to how
    CIEDE2000 (and the eye) rates colour differences in pixel art (measured on the palette benchmark).
    """
    return srgb_to_oklab(rgb) * torch.tensor([1.0, CHROMA_WEIGHT, CHROMA_WEIGHT], dtype=rgb.dtype, device=rgb.device)


# ------------------------------------------------------------------------------------------------ extraction
def opaque_pixels(image: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``[N, 3]`` RGB of every pixel of the batch that is not transparent."""
    rgb = image[..., :3].reshape(-1, 3)
    if mask is None or not bool((mask >= 0.5).any()):
        return rgb
    return rgb[mask.reshape(-1) < 0.5]


def colour_codes(rgb: torch.Tensor, bits: int = HISTOGRAM_BITS) -> torch.Tensor:
    """Each colour's histogram bin: ``bits`` per channel, packed into one integer."""
    bins = ((rgb * 255 + 0.5).to(torch.int32).clamp(0, 255) >> (8 - bits))
    return (bins[..., 0] << (2 * bits)) | (bins[..., 1] << bits) | bins[..., 2]


@dataclass(frozen=True)
class DistinctColours:
    """The distinct 8-bit colours of an image batch: found once, used to fit a palette and to map to it."""

    rgb: torch.Tensor  # [U, 3] sRGB 0..1
    counts: torch.Tensor  # [U] opaque pixels of each colour
    inverse: torch.Tensor  # [B, H, W] each pixel's colour


def distinct_colours(image: torch.Tensor, mask: torch.Tensor | None = None) -> DistinctColours:
    codes = colour_codes(image[..., :3].float(), 8)
    distinct, inverse = torch.unique(codes.reshape(-1), return_inverse=True)
    if mask is None:
        counts = torch.bincount(inverse, minlength=len(distinct))
    else:
        counts = torch.bincount(inverse, weights=(mask.reshape(-1) < 0.5).to(torch.float32), minlength=len(distinct))
    rgb = torch.stack([(distinct >> 16) & 255, (distinct >> 8) & 255, distinct & 255], dim=1).to(torch.float32) / 255
    return DistinctColours(rgb, counts.to(torch.float32), inverse.reshape(codes.shape))


def colour_histogram(rgb: torch.Tensor, weights: torch.Tensor, bits: int = HISTOGRAM_BITS
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted colours binned at ``bits`` per channel: (mean sRGB of each used bin ``[M, 3]``, weights ``[M]``)."""
    codes = colour_codes(rgb, bits).long()
    used, slot = torch.unique(codes, return_inverse=True)
    mass = torch.zeros(len(used), dtype=rgb.dtype, device=rgb.device).index_add_(0, slot, weights)
    sums = torch.zeros(len(used), 3, dtype=rgb.dtype, device=rgb.device).index_add_(0, slot, rgb * weights[:, None])
    keep = mass > 0
    return sums[keep] / mass[keep, None], mass[keep]


def kmeans(points: torch.Tensor, weights: torch.Tensor, k: int, seed: int, fixed: torch.Tensor | None = None
           ) -> torch.Tensor:
    """Weighted k-means++ in the points' space; ``fixed`` centres (kept colours) take part but never move."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    fixed = points.new_zeros((0, points.shape[1])) if fixed is None else fixed
    free = k - fixed.shape[0]
    centres = fixed
    if centres.shape[0] == 0:
        centres = points[weights.argmax()][None]  # the most common colour seeds deterministically
        free -= 1
    nearest = torch.cdist(points, centres).min(dim=1).values.square() if centres.shape[0] else None
    for _ in range(max(0, free)):
        chance = (weights * nearest).cpu()
        if chance.sum() <= 0:
            break  # fewer distinct colours than k
        pick = torch.multinomial(chance / chance.sum(), 1, generator=generator).item()
        centres = torch.cat([centres, points[pick][None]])
        nearest = torch.minimum(nearest, (points - points[pick]).square().sum(dim=1))
    movable = torch.arange(centres.shape[0], device=points.device) >= fixed.shape[0]
    previous = None
    for _ in range(KMEANS_ITERATIONS):
        owner = torch.cdist(points, centres).argmin(dim=1)
        if previous is not None and torch.equal(owner, previous):
            break  # converged
        previous = owner
        mass = torch.zeros(centres.shape[0], dtype=points.dtype, device=points.device).index_add_(0, owner, weights)
        sums = torch.zeros_like(centres).index_add_(0, owner, points * weights[:, None])
        moved = sums / mass.clamp(min=1e-12)[:, None]
        centres = torch.where((movable & (mass > 0))[:, None], moved, centres)
    return centres


def squared_error(points: torch.Tensor, weights: torch.Tensor, centres: torch.Tensor) -> float:
    return float((torch.cdist(points, centres).min(dim=1).values.square() * weights).sum())


def mean_error(points: torch.Tensor, weights: torch.Tensor, centres: torch.Tensor) -> float:
    return float((torch.cdist(points, centres).min(dim=1).values * weights).sum() / weights.sum())


def extract_palette(image: torch.Tensor, mask: torch.Tensor | None = None, colours: int = 16, seed: int = 0,
                    keep: Palette | None = None, name: str = "extracted",
                    distinct: DistinctColours | None = None) -> Palette:
    """A palette of ``colours`` colours for a whole batch (OKLab k-means++), transparent pixels left out.

    ``colours`` = 0 chooses the size: the smallest K (up to AUTO_K_MAX) whose mean OKLab error is at most
    AUTO_K_ERROR (about one just-noticeable difference), found by bisection. ``keep`` colours are always in it.
    The result is ordered dark to light, so the same input gives the same palette in the same order.
    """
    if colours < 0 or colours > MAX_COLOURS:
        raise InputError(f"colour count must be 0 (automatic) to {MAX_COLOURS}, got {colours}")
    distinct = distinct or distinct_colours(image, mask)
    if distinct.counts.sum() == 0:
        raise InputError("every pixel is transparent: there are no colours to build a palette from")
    rgb, counts = colour_histogram(distinct.rgb, distinct.counts)
    lab = perceptual(rgb)
    kept = perceptual(keep.tensor(device=lab.device)) if keep else None
    kept_count = 0 if kept is None else kept.shape[0]
    if colours and kept_count > colours:
        raise InputError(f"{kept_count} colours to keep do not fit in a palette of {colours}")

    def solve(k: int) -> torch.Tensor:
        k = min(k, lab.shape[0] + kept_count)
        tries = [kmeans(lab, counts, k, seed * KMEANS_RESTARTS + r, kept) for r in range(KMEANS_RESTARTS)]
        return min(tries, key=lambda centres: squared_error(lab, counts, centres))

    if colours:
        centres = solve(colours)
    else:
        low, high = max(1, kept_count), max(AUTO_K_MAX, kept_count)
        centres = solve(high)
        while low < high:
            middle = (low + high) // 2
            candidate = solve(middle)
            if mean_error(lab, counts, candidate) <= AUTO_K_ERROR:
                high, centres = middle, candidate
            else:
                low = middle + 1
        centres = solve(high) if centres.shape[0] != high else centres
    # Each centre becomes the mean sRGB of the colours it owns (exact for kept colours).
    owner = torch.cdist(lab, centres).argmin(dim=1)
    mass = torch.zeros(centres.shape[0], device=lab.device).index_add_(0, owner, counts)
    sums = torch.zeros(centres.shape[0], 3, device=lab.device).index_add_(0, owner, rgb * counts[:, None])
    palette_rgb = sums / mass.clamp(min=1e-12)[:, None]
    if kept is not None:
        palette_rgb[:kept_count] = keep.tensor(device=lab.device)
    palette_rgb = palette_rgb[(mass > 0) | (torch.arange(len(mass), device=lab.device) < kept_count)]
    palette = Palette.from_tensor(name, palette_rgb)
    unique = list(dict.fromkeys(palette.colours))
    order = sorted(range(len(unique)), key=lambda i: (srgb_to_oklab(torch.tensor(unique[i]) / 255.0)[0].item(), i))
    return Palette(name, tuple(unique[i] for i in order))


# --------------------------------------------------------------------------------------------------- mapping
BAYER_2 = torch.tensor([[0, 2], [3, 1]], dtype=torch.float32)


def bayer_matrix(size: int) -> torch.Tensor:
    """Thresholds in (0, 1) of the ``size`` x ``size`` Bayer matrix (size 2, 4 or 8)."""
    matrix = BAYER_2
    while matrix.shape[0] < size:
        matrix = torch.cat([torch.cat([4 * matrix, 4 * matrix + 2], 1), torch.cat([4 * matrix + 3, 4 * matrix + 1], 1)])
    return (matrix + 0.5) / matrix.numel()


def palette_spread(lab: torch.Tensor) -> float:
    """Typical distance between neighbouring palette colours: how far an ordered dither nudges a pixel."""
    if lab.shape[0] < 2:
        return 0.0
    distance = torch.cdist(lab, lab) + torch.eye(lab.shape[0], device=lab.device) * 1e9
    return float(distance.min(dim=1).values.median())


def nearest_index(lab: torch.Tensor, palette_lab: torch.Tensor) -> torch.Tensor:
    """Index of the nearest palette colour for every pixel ``[..., 3]`` (chunked: bounded memory)."""
    flat = lab.reshape(-1, 3)
    out = torch.empty(flat.shape[0], dtype=torch.long, device=lab.device)
    chunk = 1 << 18
    for start in range(0, flat.shape[0], chunk):
        out[start:start + chunk] = torch.cdist(flat[start:start + chunk], palette_lab).argmin(dim=1)
    return out.reshape(lab.shape[:-1])


def nearest_by_colour(distinct: DistinctColours, palette_lab: torch.Tensor) -> torch.Tensor:
    """Nearest palette index for every pixel, decided once per distinct colour (images hold far fewer colours
    than pixels), then spread back to the pixels."""
    return nearest_index(perceptual(distinct.rgb), palette_lab)[distinct.inverse]


def error_diffusion(lab: torch.Tensor, palette_lab: torch.Tensor, method: str, strength: float) -> torch.Tensor:
    """Floyd-Steinberg or Atkinson on ``[B, H, W, 3]`` OKLab; returns palette indices ``[B, H, W]``.

    Pixel (y, x) only depends on pixels with a smaller x + 2y, so each such anti-diagonal is processed at once
    (W + 2H vector steps, batched over frames) instead of pixel by pixel.
    """
    if method == "floyd-steinberg":
        spread = [(0, 1, 7 / 16), (1, -1, 3 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16)]
    else:
        spread = [(0, 1, 1 / 8), (0, 2, 1 / 8), (1, -1, 1 / 8), (1, 0, 1 / 8), (1, 1, 1 / 8), (2, 0, 1 / 8)]
    batch, height, width, _ = lab.shape
    work = lab.clone()
    index = torch.zeros(batch, height, width, dtype=torch.long, device=lab.device)
    rows = torch.arange(height, device=lab.device)
    for step in range(width + 2 * (height - 1)):
        columns = step - 2 * rows
        valid = (columns >= 0) & (columns < width)
        ys, xs = rows[valid], columns[valid]
        pixels = work[:, ys, xs]  # [B, n, 3]
        chosen = torch.cdist(pixels, palette_lab[None].expand(batch, -1, -1)).argmin(dim=-1)
        index[:, ys, xs] = chosen
        error = (pixels - palette_lab[chosen]) * strength
        for dy, dx, weight in spread:
            ty, tx = ys + dy, xs + dx
            inside = (ty < height) & (tx >= 0) & (tx < width)
            work[:, ty[inside], tx[inside]] += error[:, inside] * weight
    return index


def palette_indices(image: torch.Tensor, palette: Palette, dither: str = "none", strength: float = 1.0,
                    distinct: DistinctColours | None = None) -> torch.Tensor:
    """``[B, H, W]``: for every pixel, the index of its palette colour (nearest in OKLab), optionally dithered.

    ``strength`` scales the dither (0..1). ``distinct``: the image's distinct colours, when already found.
    """
    if dither not in DITHERS:
        raise InputError(f"dither must be one of {', '.join(DITHERS)}, got {dither!r}")
    if not 0.0 <= strength <= 1.0:
        raise InputError(f"dither strength must be between 0 and 1, got {strength}")
    rgb = image[..., :3].float()
    palette_lab = perceptual(palette.tensor(device=rgb.device))
    if dither.startswith("bayer") and strength > 0:
        size = int(dither.split()[1])
        thresholds = bayer_matrix(size).to(rgb.device)
        height, width = rgb.shape[1:3]
        tiled = thresholds.repeat(math.ceil(height / size), math.ceil(width / size))[:height, :width]
        # nudge lightness by up to half the palette's typical step either way
        nudge = (tiled - 0.5) * palette_spread(palette_lab) * strength
        lab = perceptual(rgb)
        lab = lab + torch.stack([nudge, torch.zeros_like(nudge), torch.zeros_like(nudge)], dim=-1)
        return nearest_index(lab, palette_lab)
    if dither in ("floyd-steinberg", "atkinson") and strength > 0:
        return error_diffusion(perceptual(rgb), palette_lab, dither, strength)
    return nearest_by_colour(distinct or distinct_colours(image), palette_lab)


def apply_palette(image: torch.Tensor, palette: Palette, mask: torch.Tensor | None = None, dither: str = "none",
                  strength: float = 1.0) -> torch.Tensor:
    """Every pixel -> its palette colour; one palette for the whole batch; transparent pixels unchanged."""
    index = palette_indices(image, palette, dither, strength)
    mapped = palette.tensor(device=image.device)[index].to(image.dtype)
    if mask is not None:
        mapped = torch.where(mask[..., None] >= 0.5, image[..., :3], mapped)
    return mapped


def swap_palette(image: torch.Tensor, source: Palette, target: Palette, mask: torch.Tensor | None = None
                 ) -> torch.Tensor:
    """Recolour by index: every pixel takes the target colour at the index of its nearest source colour."""
    if len(target) < len(source):
        raise InputError(f"the target palette {target.name!r} has {len(target)} colours but the source "
                         f"{source.name!r} has {len(source)}; a swap maps colour i to colour i")
    index = nearest_index(perceptual(image[..., :3].float()), perceptual(source.tensor(device=image.device)))
    mapped = target.tensor(device=image.device)[index].to(image.dtype)
    if mask is not None:
        mapped = torch.where(mask[..., None] >= 0.5, image[..., :3], mapped)
    return mapped


@dataclass(frozen=True)
class PaletteReport:
    colour_count: int  # distinct colours among opaque pixels
    off_palette: int  # opaque pixels not exactly on a palette colour
    pixels: int

    def summary(self, palette: Palette) -> str:
        verdict = "all on palette" if self.off_palette == 0 else f"{self.off_palette} off-palette pixel(s)"
        return (f"{self.colour_count} colour(s) used of {len(palette)} in {palette.name}; {verdict} "
                f"({self.pixels} opaque pixels)")


def validate(image: torch.Tensor, palette: Palette, mask: torch.Tensor | None = None) -> PaletteReport:
    pixels = (opaque_pixels(image, mask) * 255).round().long()
    codes = (pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]
    allowed = torch.tensor([(r << 16) | (g << 8) | b for r, g, b in palette.colours], device=codes.device)
    return PaletteReport(int(codes.unique().numel()), int((~torch.isin(codes, allowed)).sum()), int(codes.numel()))


def swatches(palette: Palette, cell: int = 16, columns: int = 8) -> torch.Tensor:
    """A swatch image ``[1, H, W, 3]``: one ``cell``-sized square per colour, ``columns`` per row."""
    count = len(palette)
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    grid = torch.zeros(rows * columns, 3)
    grid[:count] = palette.tensor()
    grid = grid.reshape(rows, columns, 3)
    return grid.repeat_interleave(cell, 0).repeat_interleave(cell, 1)[None]
