"""The perceptual colour space palettes are fitted and matched in: OKLab with chroma scaled like CIEDE2000."""
from __future__ import annotations

import torch

# The perceptual space: OKLab with chroma scaled up and compressed (see perceptual()).
CHROMA_SCALE = 4.0
CHROMA_KNEE = 30.0


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
    """The space palettes are fitted and matched in: OKLab lightness, and OKLab's a/b scaled so that chroma C
    becomes CHROMA_SCALE * ln(1 + CHROMA_KNEE * C) / CHROMA_KNEE (hue kept).

    OKLab packs chroma into a narrow range next to lightness, and CIEDE2000 (like the eye) tells greyish colours
    apart far more easily than two saturated ones (its chroma weight 1 / (1 + 0.045 C)); scaling chroma up and
    compressing it logarithmically mimics both, so that Euclidean distances here follow CIEDE2000 closely
    (palette benchmark, K=16: mean dE 1.27 in plain OKLab with chroma x2 -> about 1.20).
    """
    lab = srgb_to_oklab(rgb)
    chroma = torch.linalg.vector_norm(lab[..., 1:], dim=-1, keepdim=True).clamp(min=1e-9)
    scale = CHROMA_SCALE * torch.log1p(CHROMA_KNEE * chroma) / (CHROMA_KNEE * chroma)
    return torch.cat([lab[..., :1], lab[..., 1:] * scale], dim=-1)


def nearest_index(points: torch.Tensor, palette_points: torch.Tensor) -> torch.Tensor:
    """Index of the nearest palette colour for every point ``[..., 3]`` (chunked: bounded memory)."""
    flat = points.reshape(-1, 3)
    norms = palette_points.square().sum(dim=1)
    out = torch.empty(flat.shape[0], dtype=torch.long, device=points.device)
    chunk = 1 << 18
    for start in range(0, flat.shape[0], chunk):
        # |p - c|^2 = |p|^2 - 2 p.c + |c|^2; |p|^2 is the same for every c
        scores = torch.addmm(norms[None], flat[start:start + chunk], palette_points.T, alpha=-2)
        out[start:start + chunk] = scores.argmin(dim=1)
    return out.reshape(points.shape[:-1])
