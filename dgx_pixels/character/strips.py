"""Strips: a character drawn one animation x direction at a time, all of its frames in one image.

A model draws frames far more alike when they share one image (one noise field, one prompt, one pass through the
attention layers) than when each frame is sampled on its own with a prompt of its own. A strip lays an animation's
frames out as a grid of equal cells, ``columns`` wide and as many rows as the frames need; the cell is the generation
size divided into ``columns`` x ``rows`` (a full strip is about a megapixel for SDXL), and every strip of a character
uses the same cell, so the character is drawn at one scale everywhere. One OpenPose guide of the same layout holds
each cell's skeleton, and one identity prompt names the character, the view and the animation. Frames are cut out by
the known layout, never by guessing shapes.

An anchor (a reference image of the character: an approved frame or the user's own drawing) can stand in a column
of its own on the left of every strip, fitted into a cell at the size and on the ground line the skeletons use. The
canvas is then inpainted with that column kept (its mask is 0 there), so the model copies the character it sees.

The per-frame layout draws every frame alone (its own image, its key pose in the prompt), as before strips.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..common.errors import InputError
from ..image.background import background_to_alpha
from ..poses import prompts
from ..poses.batch import BODY_HEIGHT, GROUND_LINE, PoseBatch, build_pose_batch
from ..poses.openpose import tile_images
from ..poses.plan import render, resolve
from ..poses.rig import view_pitch
from ..sheets.frames import Frame, tag_runs
from ..sheets.slice import slice_grid

STRIP_LAYOUTS = ("strips", "per-frame")
CELL_MULTIPLE = 8  # the latent grid: cells on it are cut cleanly, and the canvas is a size the VAE keeps
MIN_CELL = 16
BACKGROUND = (1.0, 1.0, 1.0)  # the plain backdrop the prompt asks for; Background to Alpha removes it
ANCHOR_MAX_WIDTH = 0.9  # of a cell: the anchor never touches the neighbouring cell


@dataclass(frozen=True)
class Strip:
    """One image to draw: frames ``positions`` of the pose batch in a ``columns`` x ``rows`` grid."""
    name: str  # the animation tag (walk_E), or tag-number (walk_E-3) for a single frame
    positions: tuple[int, ...]
    columns: int
    rows: int
    prompt: str
    seed: int


@dataclass(frozen=True)
class StripPlan:
    """Every frame of a character, planned as strips (the CHARACTER_STRIPS value between the nodes)."""
    batch: PoseBatch  # every frame of the character, skeletons at cell size
    strips: tuple[Strip, ...]  # the strips to draw, in batch order
    cell: tuple[int, int]  # (width, height)
    skeletons: torch.Tensor  # [N, cell_h, cell_w, 3] for the whole batch
    anchor: torch.Tensor | None  # [cell_h, cell_w, 4] RGBA: the anchor fitted into a cell
    layout: str

    @property
    def names(self) -> list[str]:
        return [strip.name for strip in self.strips]

    @property
    def anchor_width(self) -> int:
        return self.cell[0] if self.anchor is not None else 0

    def strip_size(self, strip: Strip) -> tuple[int, int]:
        return strip.columns * self.cell[0], strip.rows * self.cell[1]

    def canvas_size(self, strip: Strip) -> tuple[int, int]:
        width, height = self.strip_size(strip)
        return self.anchor_width + width, height

    def frames(self) -> list[Frame]:
        """The tags of the drawn strips' frames, in the order ``cut`` gives them."""
        return [self.batch.frames[p] for strip in self.strips for p in strip.positions]

    def guide(self, strip: Strip) -> torch.Tensor:
        """The OpenPose guide of a canvas ``[1, H, W, 3]``: black under the anchor, a skeleton per cell."""
        cells = tile_images(self.skeletons[list(strip.positions)], strip.columns, strip.rows)
        column = cells.new_zeros(cells.shape[0], self.anchor_width, 3)
        return torch.cat([column, cells], dim=1)[None]

    def background(self, strip: Strip) -> torch.Tensor:
        """The strip's part of the canvas before drawing ``[1, H, w, 3]``: the plain backdrop."""
        width, height = self.strip_size(strip)
        colour = torch.tensor(BACKGROUND, device=self.skeletons.device)
        return colour.expand(1, height, width, 3).clone()

    def anchor_column(self, strip: Strip) -> torch.Tensor:
        """The anchor on the backdrop, once per row of the strip ``[1, H, cell_w, 3]`` (0 px wide without one)."""
        height = self.strip_size(strip)[1]
        if self.anchor is None:
            return self.skeletons.new_zeros(1, height, 0, 3)
        colour = torch.tensor(BACKGROUND, device=self.anchor.device)
        alpha = self.anchor[..., 3:]
        cell = self.anchor[..., :3] * alpha + colour * (1 - alpha)
        return cell.repeat(strip.rows, 1, 1)[None]

    def mask(self, strip: Strip) -> torch.Tensor:
        """What to draw ``[1, H, W]``: 1 over the strip, 0 over the anchor column (kept as it is)."""
        width, height = self.canvas_size(strip)
        mask = torch.ones(1, height, width, device=self.skeletons.device)
        mask[..., :self.anchor_width] = 0
        return mask

    def cut(self, strip: Strip, canvas: torch.Tensor) -> torch.Tensor:
        """A drawn canvas ``[1, H, W, C]`` (or ``[H, W, C]``) -> its frames ``[F, cell_h, cell_w, 3]``, cell by cell
        in reading order; the anchor column and empty cells are left out."""
        image = canvas[0] if canvas.ndim == 4 else canvas
        expected = self.canvas_size(strip)
        if (image.shape[1], image.shape[0]) != expected:
            raise InputError(f"strip {strip.name}: the drawn image is {image.shape[1]}x{image.shape[0]} but its "
                             f"canvas is {expected[0]}x{expected[1]}; draw at the canvas size")
        region = image[:, self.anchor_width:, :3]
        rgba = torch.cat([region, torch.ones_like(region[..., :1])], dim=-1)
        cells = slice_grid(rgba, self.cell, strip.columns, strip.rows, skip_empty=False)
        return torch.stack([crop[..., :3] for crop, _ in cells[:len(strip.positions)]])


def cell_size(width: int, height: int, columns: int, rows: int, layout: str) -> tuple[int, int]:
    """The frame cell: the generation size split into ``columns`` x ``rows`` (strips) or whole (per-frame), on the
    latent grid."""
    if layout not in STRIP_LAYOUTS:
        raise InputError(f"layout must be one of {', '.join(STRIP_LAYOUTS)}, got {layout!r}")
    if columns < 1 or rows < 1:
        raise InputError(f"a strip needs at least one column and one row, got {columns}x{rows}")
    split = (columns, rows) if layout == "strips" else (1, 1)
    cell = tuple(side // parts // CELL_MULTIPLE * CELL_MULTIPLE for side, parts in zip((width, height), split))
    if min(cell) < MIN_CELL:
        raise InputError(f"a {width}x{height} image split into {split[0]}x{split[1]} cells gives {cell[0]}x{cell[1]} "
                         f"cells; each must be at least {MIN_CELL}x{MIN_CELL}: use a larger size or fewer "
                         "columns and rows")
    return cell


def parse_strip_seeds(text: str, names: list[str], default: int) -> dict[str, int]:
    """Seeds per strip from ``walk_E=123, attack_W=7`` (others keep ``default``)."""
    seeds = dict.fromkeys(names, default)
    for entry in (part.strip() for part in re.split(r"[,;\n]", text or "")):
        if not entry:
            continue
        name, separator, value = entry.partition("=")
        name = name.strip()
        if not separator or not value.strip().isdigit() or int(value) > prompts.MAX_SEED:
            raise InputError(f"strip seeds entry {entry!r} is not like 'walk_E=123'")
        seeds[_known(name, names, "strip seeds")] = int(value)
    return seeds


def select_strips(text: str, names: list[str]) -> list[str]:
    """The strips named in ``walk_E, attack_W`` (empty or ``all``: every strip), in plan order."""
    wanted = [part.strip() for part in re.split(r"[,;\s]+", text or "") if part.strip()]
    if not wanted or wanted == ["all"]:
        return list(names)
    chosen = {_known(name, names, "strips") for name in wanted}
    return [name for name in names if name in chosen]


def _known(name: str, names: list[str], what: str) -> str:
    if name in names:
        return name
    hint = difflib.get_close_matches(name, names, n=1)
    raise InputError(f"{what}: no strip called {name!r}" + (f" (did you mean {hint[0]}?)" if hint else "")
                     + f"; this character's strips: {', '.join(names)}")


def fit_anchor(anchor: torch.Tensor, cell: tuple[int, int], body_height: float, ground: float) -> torch.Tensor:
    """An anchor image ``[H, W, 4]`` (RGBA; an opaque picture has its plain backdrop taken away) -> one cell
    ``[cell_h, cell_w, 4]``: the character scaled to ``body_height`` pixels (narrower than the cell), its feet on the
    ``ground`` row, centred. Enlarging keeps hard pixel edges; shrinking averages."""
    if anchor.ndim != 3 or anchor.shape[-1] != 4:
        raise InputError(f"the anchor must be one RGBA image [height, width, 4], got {list(anchor.shape)}")
    rgb, alpha = anchor[..., :3], anchor[..., 3]
    if bool((alpha >= 0.5).all()) and min(anchor.shape[:2]) >= 2:
        transparent, _ = background_to_alpha(rgb[None], (1 - alpha)[None])
        alpha = 1 - transparent[0]
    opaque = alpha >= 0.5
    if not bool(opaque.any()):
        raise InputError("the anchor image has no visible pixels (it is fully transparent)")
    rows, columns = opaque.any(dim=1).nonzero()[:, 0], opaque.any(dim=0).nonzero()[:, 0]
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1
    sprite = torch.cat([rgb, alpha[..., None]], dim=-1)[y0:y1, x0:x1]
    cell_w, cell_h = cell
    scale = min(body_height / (y1 - y0), ANCHOR_MAX_WIDTH * cell_w / (x1 - x0), ground / (y1 - y0))
    size = (max(1, round((y1 - y0) * scale)), max(1, round((x1 - x0) * scale)))
    planar = sprite.permute(2, 0, 1)[None]
    if scale >= 1:
        resized = F.interpolate(planar, size=size, mode="nearest-exact")
    else:
        premultiplied = torch.cat([planar[:, :3] * planar[:, 3:], planar[:, 3:]], dim=1)
        averaged = F.interpolate(premultiplied, size=size, mode="area")
        cover = averaged[:, 3:]
        resized = torch.cat([averaged[:, :3] / cover.clamp(min=1e-6), (cover >= 0.5).to(cover.dtype)], dim=1)
    resized = resized[0].permute(1, 2, 0)
    out = anchor.new_zeros(cell_h, cell_w, 4)
    top = max(0, min(cell_h - size[0], round(ground) - size[0]))
    left = (cell_w - size[1]) // 2
    out[top:top + size[0], left:left + size[1]] = resized
    return out


def plan_strips(character: str, animations: str, directions: str, width: int, height: int, *, columns: int = 4,
                rows: int = 2, layout: str = STRIP_LAYOUTS[0], frames_per_animation: int = 0,
                custom_animations: str = "", template: str = prompts.STRIP_TEMPLATE, phrases: str = "",
                seed: int = 0, strip_seeds: str = "", select: str = "", anchor: torch.Tensor | None = None,
                device=None) -> StripPlan:
    """The strips of a character: every animation x direction (or every frame, per-frame) with its layout, prompt
    and seed, the skeletons at cell size, and the anchor fitted into a cell. ``select`` limits what is drawn
    (the rest of the plan, the scale of the skeletons included, stays the same)."""
    cell = cell_size(width, height, columns, rows, layout)
    chosen, facing = resolve(animations, custom_animations, directions, frames_per_animation)
    batch = build_pose_batch(chosen, facing, *cell)
    if not 0 <= seed <= prompts.MAX_SEED:
        raise InputError(f"seed {seed} is outside 0..{prompts.MAX_SEED}")
    phrase_map = prompts.parse_phrases(phrases)
    groups = []
    for run in tag_runs(batch.frames):
        positions = tuple(range(run.start, run.end + 1))
        if layout == "strips":
            groups.append((run.name, positions))
        else:
            groups.extend((f"{run.name}-{number}", (position,)) for number, position in enumerate(positions, 1))
    names = [name for name, _ in groups]
    seeds = parse_strip_seeds(strip_seeds, names, seed)
    drawn = set(select_strips(select, names))
    ground = GROUND_LINE["side" if view_pitch(batch.directions) == 0 else "top-down"] * cell[1]
    fitted = None if anchor is None else fit_anchor(anchor.to(device) if device else anchor, cell,
                                                    BODY_HEIGHT * cell[1], ground)
    strips = []
    for name, positions in groups:
        if name not in drawn:
            continue
        count = len(positions)
        strip_columns = min(count, columns) if layout == "strips" else 1
        strip_rows = math.ceil(count / strip_columns)
        first = positions[0]
        text = prompts.strip_prompt(character, batch.frames[first], batch.actions[first], batch.details[first],
                                    count, strip_columns, strip_rows, template, phrase_map, fitted is not None)
        strips.append(Strip(name, positions, strip_columns, strip_rows, text, seeds[name]))
    return StripPlan(batch, tuple(strips), cell, render(batch, device), fitted, layout)
