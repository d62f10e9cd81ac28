"""The PALETTE value: an ordered, named list of 8-bit sRGB colours."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..common.errors import InputError

if TYPE_CHECKING:
    import torch

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

    def tensor(self, device=None, dtype=None) -> torch.Tensor:
        """``[K, 3]`` sRGB in 0..1 (float32 unless ``dtype`` says otherwise)."""
        import torch  # here, so listing and converting palette files needs no torch

        return torch.tensor(self.colours, dtype=dtype or torch.float32, device=device) / 255.0

    @classmethod
    def from_tensor(cls, name: str, rgb: torch.Tensor) -> "Palette":
        values = (rgb.clamp(0, 1) * 255).round().long().tolist()
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
