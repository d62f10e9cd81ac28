"""Frame metadata shared by pose batches, sprite sheets and exports (the FRAMES type in ComfyUI).

A FRAMES value is a list of ``Frame``, one per image of a batch, in batch order. Consecutive frames with the same
``animation`` and ``direction`` form one animation tag in a sheet.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

LOOP_MODES = ("forward", "reverse", "pingpong", "once")
DIRECTIONS_8 = ("S", "SE", "E", "NE", "N", "NW", "W", "SW")


@dataclass(frozen=True)
class Frame:
    animation: str
    index: int
    duration_ms: int = 100
    direction: str = ""
    loop: str = "forward"

    @property
    def tag(self) -> str:
        """The animation tag name: ``walk`` or, with a direction, ``walk_E``."""
        return f"{self.animation}_{self.direction}" if self.direction else self.animation

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Frame":
        return cls(**{key: data[key] for key in ("animation", "index", "duration_ms", "direction", "loop")
                      if key in data})
