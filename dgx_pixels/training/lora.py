"""Saving a trained LoRA under its name: one file, written atomically (a crash or an interrupted save never leaves a
half-written LoRA that a generation would load), with what it was trained on in its safetensors metadata."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import torch
from safetensors.torch import save_file

from ..common.errors import InputError
from ..common.files import atomic_path
from ..export.paths import check_name

LORA_SUFFIX = ".safetensors"


def lora_file_name(name: str) -> str:
    """``mystyle`` -> ``mystyle.safetensors`` (the name generation workflows take), the name checked first."""
    return check_name(name.removesuffix(LORA_SUFFIX), "LoRA name") + LORA_SUFFIX


def loss_figures(losses: list[float]) -> dict:
    """First, last and best loss, and the median of the first and last tenth of the steps: each step draws its noise
    level at random, so single losses jump tenfold and a mean follows the few loudest steps."""
    if not losses:
        raise InputError("the loss map is empty: the training ran no step")
    tenth = max(1, len(losses) // 10)
    return {"steps": len(losses), "first": losses[0], "last": losses[-1], "min": min(losses),
            "first_tenth_median": statistics.median(losses[:tenth]),
            "last_tenth_median": statistics.median(losses[-tenth:])}


def save_lora(folder: str | Path, name: str, weights: dict[str, torch.Tensor], metadata: dict[str, str]) -> Path:
    """Write ``weights`` as ``<folder>/<name>.safetensors`` atomically, replacing an older LoRA of that name."""
    if not weights:
        raise InputError("the LoRA holds no weights")
    path = Path(folder) / lora_file_name(name)
    tensors = {key: value.detach().contiguous().cpu() for key, value in weights.items()}
    text = {key: value if isinstance(value, str) else json.dumps(value) for key, value in metadata.items()}
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary), metadata=text)
    return path
