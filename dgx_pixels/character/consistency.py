"""How consistent a character's frames are with its anchor, measured on native pixel art (after the grid, palette
and baseline lock).

Every frame is compared with the anchor (a reference image of the character; without one, the first frame), and
with the best of several anchor frames when there are several. Four scores, each reading one way a model drifts:

- **silhouette** (0..1, 1 = the same shape): intersection over union of the two opaque shapes standing on one
  baseline, centred, the anchor also mirrored (a frame may face the other way) and nudged up to ``SHIFT`` pixels
  sideways. A limb in another place, a cape that grew, a shape that is not the character lower it.
- **height / width drift** (native pixels, signed: + is bigger than the anchor): the opaque box against the
  anchor's. A character drawn bigger or smaller (a grown head, shorter legs) shows here first.
- **palette distance** (0 = the same colours; 100 x distance in the perceptual OKLab of ``palette.space``): per
  colour cluster (each distinct colour; raw art is reduced to MAX_CLUSTERS) holding at least MIN_SHARE of either
  sprite, the distance to the other sprite's nearest colour; the worst cluster counts. A recoloured cape or
  another skin tone raises it; the same colours in other places (a new pose) do not.
- **detail distance** (0 = alike; same units): how differently colours meet inside the sprite. Every pair of
  neighbouring opaque pixels of different colours is an edge (outline against armour, armour against cape, a
  shading step); each edge colour pair is matched with the other sprite's nearest pair, weighted by how common it
  is, both ways, and the difference in edge density (edges per neighbouring pair) is added. It ignores where
  details sit, so a new pose keeps it low, while another character's features, or a blurred, detail-less
  drawing, raise it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch

from ..common.errors import InputError
from ..palette.distinct import distinct_colours
from ..palette.space import nearest_index, perceptual
from ..sheets.frames import Frame
from .thresholds import Thresholds

SHIFT = 2  # sideways nudge (native pixels) the silhouette comparison allows for centring by box
MAX_CLUSTERS = 32  # colour clusters per frame: a locked palette has fewer; raw art is reduced to these
MAX_PAIRS = 128  # edge colour pairs per frame kept for the detail score (the most frequent)
MIN_SHARE = 0.02  # colour clusters smaller than this share of a sprite's pixels (eyes, specks) do not count
UNITS = 100.0  # distances are reported as 100 x perceptual OKLab distance


@dataclass(frozen=True)
class Sprite:
    """What the scores read from one RGBA frame."""
    opaque: torch.Tensor  # [h, w] bool, cropped to the opaque box
    size: tuple[int, int]  # (width, height) of the opaque box; (0, 0) when empty
    colours: torch.Tensor  # [K, 3] perceptual OKLab cluster centres
    weights: torch.Tensor  # [K] share of opaque pixels
    pairs: torch.Tensor  # [P, 2, 3] the two colours of each edge pair
    pair_weights: torch.Tensor  # [P] share of edges
    edge_density: float


@dataclass(frozen=True)
class FrameScore:
    position: int
    label: str  # walk_E 3
    strip: str  # the strip (tag) it belongs to
    silhouette: float
    height_drift: int
    width_drift: int
    palette: float
    detail: float
    reference: int  # which anchor frame it was compared with
    failures: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class Report:
    frames: list[FrameScore]
    thresholds: Thresholds
    anchor: str  # what the frames were compared with
    strips: dict[str, int] = field(default_factory=dict)  # strip -> failing frames

    @property
    def passed(self) -> bool:
        return all(score.passed for score in self.frames)

    @property
    def failing_strips(self) -> list[str]:
        return [name for name, failing in self.strips.items() if failing]

    def to_dict(self) -> dict:
        return {"passed": self.passed, "anchor": self.anchor, "thresholds": asdict(self.thresholds),
                "strips": {name: {"passed": not failing, "failing_frames": failing}
                           for name, failing in self.strips.items()},
                "failing_strips": self.failing_strips,
                "frames": [{**asdict(score), "failures": list(score.failures), "passed": score.passed}
                           for score in self.frames]}

    def table(self) -> str:
        header = f"{'frame':<16}{'silhouette':>11}{'height':>8}{'width':>7}{'palette':>9}{'detail':>8}  result"
        lines = [f"compared with {self.anchor}", header]
        for score in self.frames:
            verdict = "ok" if score.passed else "FAIL: " + "; ".join(score.failures)
            lines.append(f"{score.label:<16}{score.silhouette:>11.2f}{score.height_drift:>+8d}"
                         f"{score.width_drift:>+7d}{score.palette:>9.1f}{score.detail:>8.1f}  {verdict}")
        summary = ", ".join(f"{name} {'ok' if not failing else f'FAIL ({failing} frames)'}"
                            for name, failing in self.strips.items())
        lines.append(f"strips: {summary}")
        lines.append("PASSED" if self.passed else f"FAILED: draw again {', '.join(self.failing_strips)}")
        return "\n".join(lines)


def _clusters(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Opaque pixels ``[n, 3]`` -> cluster centres ``[K, 3]`` (perceptual), weights ``[K]`` and each pixel's
    cluster. Distinct 8-bit colours are the clusters; beyond MAX_CLUSTERS the most frequent ones become centres and
    the rest join the nearest (one k-means step)."""
    found = distinct_colours(rgb[None, None])
    points, counts = perceptual(found.rgb.double()), found.counts.double()
    if points.shape[0] <= MAX_CLUSTERS:
        return points, counts / counts.sum(), found.spread(torch.arange(points.shape[0])).reshape(-1)
    top = counts.argsort(descending=True)[:MAX_CLUSTERS]
    member = nearest_index(points, points[top])
    centres = torch.zeros(len(top), 3, dtype=torch.float64).index_add_(0, member, points * counts[:, None])
    totals = torch.zeros(len(top), dtype=torch.float64).index_add_(0, member, counts)
    centres = centres / totals[:, None]
    return centres, totals / totals.sum(), nearest_index(perceptual(rgb.double()), centres)


def measure(frame: torch.Tensor) -> Sprite:
    """The features of one RGBA frame ``[h, w, 4]`` (alpha >= 0.5 is opaque)."""
    if frame.ndim != 3 or frame.shape[-1] != 4:
        raise InputError(f"a frame must be RGBA [height, width, 4], got {list(frame.shape)}")
    frame = frame.detach().float().cpu()
    opaque = frame[..., 3] >= 0.5
    empty = torch.zeros(0, 3, dtype=torch.float64)
    if not bool(opaque.any()):
        return Sprite(opaque[:0, :0], (0, 0), empty, empty[:, 0], empty.reshape(0, 2, 3), empty[:, 0], 0.0)
    rows, columns = opaque.any(dim=1).nonzero()[:, 0], opaque.any(dim=0).nonzero()[:, 0]
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1
    opaque, rgb = opaque[y0:y1, x0:x1], frame[y0:y1, x0:x1, :3]
    colours, weights, labels = _clusters(rgb[opaque])
    grid = torch.full(opaque.shape, -1, dtype=torch.long)
    grid[opaque] = labels
    neighbours = torch.cat([torch.stack([grid[:, :-1].reshape(-1), grid[:, 1:].reshape(-1)], dim=1),
                            torch.stack([grid[:-1].reshape(-1), grid[1:].reshape(-1)], dim=1)])
    neighbours = neighbours[(neighbours >= 0).all(dim=1)]
    edges = neighbours[neighbours[:, 0] != neighbours[:, 1]].sort(dim=1).values
    density = edges.shape[0] / max(1, neighbours.shape[0])
    if edges.shape[0]:
        keys, counts = torch.unique(edges[:, 0] * colours.shape[0] + edges[:, 1], return_counts=True)
        order = counts.argsort(descending=True)[:MAX_PAIRS]
        keys, counts = keys[order], counts[order].double()
        pairs = torch.stack([colours[keys // colours.shape[0]], colours[keys % colours.shape[0]]], dim=1)
        pair_weights = counts / counts.sum()
    else:
        pairs, pair_weights = empty.reshape(0, 2, 3), empty[:, 0]
    return Sprite(opaque, (x1 - x0, y1 - y0), colours, weights, pairs, pair_weights, density)


def _nearest(x: torch.Tensor, y: torch.Tensor, cost) -> torch.Tensor:
    """For each item of ``x``, its cost to the nearest item of ``y`` (1.0 when ``y`` is empty)."""
    if y.shape[0] == 0:
        return torch.ones(x.shape[0], dtype=torch.float64)
    return cost(x, y).amin(dim=1)


def _colour_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.cdist(x, y)


def _pair_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Edge pairs match in either order: half the colour distance of the better pairing."""
    straight = (x[:, None, 0] - y[None, :, 0]).norm(dim=-1) + (x[:, None, 1] - y[None, :, 1]).norm(dim=-1)
    crossed = (x[:, None, 0] - y[None, :, 1]).norm(dim=-1) + (x[:, None, 1] - y[None, :, 0]).norm(dim=-1)
    return torch.minimum(straight, crossed) / 2


def palette_distance(frame: Sprite, anchor: Sprite) -> float:
    """The worst-matched colour cluster: over every cluster holding at least MIN_SHARE of either sprite, the
    distance to the other sprite's nearest colour; the largest."""
    worst = 0.0
    for mine, theirs, weights in ((frame.colours, anchor.colours, frame.weights),
                                  (anchor.colours, frame.colours, anchor.weights)):
        significant = mine[weights >= MIN_SHARE]
        if significant.shape[0]:
            worst = max(worst, float(_nearest(significant, theirs, _colour_cost).max()))
    return UNITS * worst


def detail_distance(frame: Sprite, anchor: Sprite) -> float:
    """How far each sprite's edge colour pairs are from the other's nearest, weighted by how common they are and
    averaged both ways, plus the difference in edge density."""
    if frame.pairs.shape[0] == 0 and anchor.pairs.shape[0] == 0:
        return 0.0
    ways = [float((weights * _nearest(mine, theirs, _pair_cost)).sum())
            for mine, theirs, weights in ((frame.pairs, anchor.pairs, frame.pair_weights),
                                          (anchor.pairs, frame.pairs, anchor.pair_weights)) if mine.shape[0]]
    return UNITS * (sum(ways) / len(ways) + abs(frame.edge_density - anchor.edge_density))


def silhouette_overlap(frame: Sprite, anchor: Sprite) -> float:
    """Best IoU of the two shapes on one baseline and centred, the anchor as it is or mirrored, nudged sideways."""
    if frame.size == (0, 0) or anchor.size == (0, 0):
        return 1.0 if frame.size == anchor.size else 0.0
    height = max(frame.size[1], anchor.size[1])
    width = max(frame.size[0], anchor.size[0]) + 2 * SHIFT

    def placed(shape: torch.Tensor, dx: int = 0) -> torch.Tensor:
        canvas = torch.zeros(height, width, dtype=torch.bool)
        h, w = shape.shape
        left = (width - w) // 2 + dx
        canvas[height - h:, left:left + w] = shape
        return canvas

    target = placed(frame.opaque)
    best = 0.0
    for shape in (anchor.opaque, anchor.opaque.flip(1)):
        for dx in range(-SHIFT, SHIFT + 1):
            moved = placed(shape, dx)
            best = max(best, float((target & moved).sum()) / float((target | moved).sum()))
    return best


def score_frames(frames: torch.Tensor, anchors: torch.Tensor, tags: list[Frame] | None = None,
                 thresholds: Thresholds = Thresholds(), anchor_name: str = "the anchor",
                 strip_names: list[str] | None = None) -> Report:
    """Score RGBA ``frames`` ``[N, h, w, 4]`` against RGBA ``anchors`` ``[M, h', w', 4]`` at the same pixel scale.

    ``tags`` name the frames (tag and number) and group them into strips; ``strip_names`` (one per frame) overrides
    the grouping (per-frame strips)."""
    if frames.ndim != 4 or frames.shape[-1] != 4 or frames.shape[0] == 0:
        raise InputError(f"frames must be an RGBA batch [frames, height, width, 4], got {list(frames.shape)}")
    if anchors.ndim != 4 or anchors.shape[-1] != 4 or anchors.shape[0] == 0:
        raise InputError(f"the anchor must be an RGBA batch [images, height, width, 4], got {list(anchors.shape)}")
    if tags and len(tags) != frames.shape[0]:
        raise InputError(f"{len(tags)} frame tags for {frames.shape[0]} frames; give one tag per frame")
    references = [measure(anchor) for anchor in anchors]
    scores, strips = [], {}
    for position, frame in enumerate(frames):
        sprite = measure(frame)
        overlaps = [silhouette_overlap(sprite, reference) for reference in references]
        best = max(range(len(references)), key=overlaps.__getitem__)
        reference = references[best]
        tag = tags[position] if tags else None
        label = f"{tag.tag} {tag.index + 1}" if tag else f"frame {position + 1}"
        strip = strip_names[position] if strip_names else (tag.tag if tag else "all")
        score = FrameScore(position, label, strip, round(overlaps[best], 4), sprite.size[1] - reference.size[1],
                           sprite.size[0] - reference.size[0], round(palette_distance(sprite, reference), 2),
                           round(detail_distance(sprite, reference), 2), best)
        score = FrameScore(**{**asdict(score), "failures": thresholds.failures(score)})
        scores.append(score)
        strips[strip] = strips.get(strip, 0) + (not score.passed)
    return Report(scores, thresholds, anchor_name, strips)
