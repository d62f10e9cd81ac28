"""When a frame counts as consistent with the anchor (kept apart from the scores, which need torch, so the command
line can show the defaults without loading it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """When a frame counts as consistent. Defaults allow a new pose of the same character (a walk or attack frame
    against a standing anchor) and catch a different size, other colours or another character."""
    min_silhouette: float = 0.5
    max_height_drift: float = 3.0
    max_width_drift: float = 12.0
    max_palette_distance: float = 10.0
    max_detail_distance: float = 10.0

    def failures(self, score) -> tuple[str, ...]:
        found = []
        if score.silhouette < self.min_silhouette:
            found.append(f"silhouette {score.silhouette:.2f} < {self.min_silhouette:g}")
        if abs(score.height_drift) > self.max_height_drift:
            found.append(f"height {score.height_drift:+d} px beyond {self.max_height_drift:g}")
        if abs(score.width_drift) > self.max_width_drift:
            found.append(f"width {score.width_drift:+d} px beyond {self.max_width_drift:g}")
        if score.palette > self.max_palette_distance:
            found.append(f"palette {score.palette:.1f} > {self.max_palette_distance:g}")
        if score.detail > self.max_detail_distance:
            found.append(f"detail {score.detail:.1f} > {self.max_detail_distance:g}")
        return tuple(found)
