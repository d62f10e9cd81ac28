"""Pixel-perfect downscale: one colour and one alpha decision per grid cell.

Each cell is read at a K x K lattice of points inside its central part (cells.py), then reduced:
- majority: the most common colour (coarsely binned), averaged over the samples close to it;
- median: per-channel median;
- k-centroid: two-means over the samples, the larger cluster's mean (keeps thin details crisp);
- centre: the sample nearest the cell centre.
Alpha is the share of transparent samples against a threshold: binary, the same rule for every frame.
"""
from __future__ import annotations

import torch

from ..common.errors import InputError
from ..image.ops import check_image, check_mask
from .cells import gather_cells
from .grid import GridSet, detect_grid

REDUCERS = ("majority", "median", "k-centroid", "centre")
MAJORITY_BINS = 12  # per channel
MAJORITY_TOLERANCE = 0.12  # samples this close (max over channels) to the winning bin count as its colour


def reduce_cells(samples: torch.Tensor, reducer: str) -> torch.Tensor:
    """``[..., S, C]`` samples -> ``[..., C]`` one colour per cell."""
    if reducer == "median":
        return samples.median(dim=-2).values
    if reducer == "centre":
        return samples[..., samples.shape[-2] // 2, :]
    if reducer == "majority":
        bins = (samples * (MAJORITY_BINS - 1)).round()
        codes = bins @ torch.tensor([MAJORITY_BINS ** 2, MAJORITY_BINS, 1.0], dtype=samples.dtype,
                                    device=samples.device)[:samples.shape[-1]]
        # the sample whose bin is most common (ties: the first such sample) is the reference colour
        same = codes[..., :, None] == codes[..., None, :]  # [..., S, S]
        winner = same.sum(-1, dtype=torch.int16).argmax(-1, keepdim=True)
        reference = torch.take_along_dim(samples, winner[..., None], dim=-2)
        close = ((samples - reference).abs().amax(-1) <= MAJORITY_TOLERANCE).to(samples.dtype)  # [..., S]
        return (close[..., None, :] @ samples).squeeze(-2) / close.sum(-1, keepdim=True)
    if reducer == "k-centroid":
        lo = samples.amin(-2, keepdim=True)
        hi = samples.amax(-2, keepdim=True)
        centres = torch.cat([lo, hi], dim=-2)  # [..., 2, C]
        for _ in range(4):
            distance = (samples[..., :, None, :] - centres[..., None, :, :]).square().sum(-1)  # [..., S, 2]
            members = torch.nn.functional.one_hot(distance.argmin(-1), 2).to(samples.dtype)  # [..., S, 2]
            counts = members.sum(-2)  # [..., 2]
            sums = torch.einsum("...sk,...sc->...kc", members, samples)
            centres = torch.where(counts[..., None] > 0, sums / counts[..., None].clamp(min=1), centres)
        bigger = counts.argmax(-1, keepdim=True)[..., None].expand(*counts.shape[:-1], 1, samples.shape[-1])
        return torch.take_along_dim(centres, bigger, dim=-2).squeeze(-2)
    raise InputError(f"reducer must be one of {', '.join(REDUCERS)}, got {reducer!r}")


def downscale(
    image: torch.Tensor,
    mask: torch.Tensor | None = None,
    grids: GridSet | None = None,
    reducer: str = "majority",
    alpha_threshold: float = 0.5,
    **detect_options,
) -> tuple[torch.Tensor, torch.Tensor, GridSet]:
    """Native-resolution IMAGE ``[B, ny, nx, 3]`` and MASK ``[B, ny, nx]`` (binary), and the grids used.

    Without ``grids`` the grid is detected first (``detect_options`` go to ``detect_grid``). A cell is
    transparent when more than ``alpha_threshold`` of its samples are.
    """
    image = check_image(image)
    mask = check_mask(mask, image)
    if reducer not in REDUCERS:
        raise InputError(f"reducer must be one of {', '.join(REDUCERS)}, got {reducer!r}")
    if not 0.0 <= alpha_threshold <= 1.0:
        raise InputError(f"alpha threshold must be between 0 and 1, got {alpha_threshold}")
    if grids is None:
        grids = detect_grid(image, mask, **detect_options)
    batch, height, width, _ = image.shape
    if not grids.locked and len(grids.grids) != batch:
        raise InputError(f"the grid holds {len(grids.grids)} frames but the batch has {batch} images")
    colours, alphas = [], []
    see_through = float(mask.amax()) > 0  # an opaque batch needs no alpha samples
    for index in range(batch):
        grid = grids.for_image(index)
        if grid.input_size != (width, height):
            raise InputError(f"the grid was found on a {grid.input_size[0]}x{grid.input_size[1]} image but this "
                             f"image is {width}x{height}; detect the grid on the same images")
        if not grid.found and grid.native_size == (width, height):
            colours.append(image[index, ..., :3])
            alphas.append((mask[index] > alpha_threshold).to(image.dtype))
            continue
        colours.append(reduce_cells(gather_cells(image[index, ..., :3], grid.cuts_x, grid.cuts_y), reducer))
        if not see_through:
            alphas.append(image.new_zeros(colours[-1].shape[:2]))
            continue
        transparent = gather_cells(mask[index, ..., None], grid.cuts_x, grid.cuts_y).squeeze(-1).mean(-1)
        alphas.append((transparent > alpha_threshold).to(image.dtype))
    return torch.stack(colours).clamp(0, 1), torch.stack(alphas), grids
