"""What every DGX-Pixels node shares: ids, menu category, devices, progress, interrupts and input errors."""
from __future__ import annotations

import contextlib

import torch

import comfy.model_management
import comfy.utils

from ..dgx_pixels.image import ops as imageops
from ..dgx_pixels.common.errors import InputError, describe_os_error

NODE_PREFIX = "DGXPixels"
CATEGORY = "DGX-Pixels"


def node_id(name: str) -> str:
    """Stable, prefixed node id (``DGXPixels<Name>``); workflows and API clients depend on it never changing."""
    return NODE_PREFIX + name


def compute_device() -> torch.device:
    return comfy.model_management.get_torch_device()


def to_compute(tensor: torch.Tensor | None) -> torch.Tensor | None:
    return None if tensor is None else tensor.to(compute_device())


def to_output(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.to(comfy.model_management.intermediate_device())


def check_interrupt() -> None:
    comfy.model_management.throw_exception_if_processing_interrupted()


def progress_bar(total: int) -> comfy.utils.ProgressBar:
    return comfy.utils.ProgressBar(total)


@contextlib.contextmanager
def user_errors(node_name: str):
    """Turn an InputError from the core, or a file the system refused, into a clear error naming the node
    (ComfyUI shows it to the user)."""
    try:
        yield
    except InputError as err:
        raise ValueError(f"{node_name}: {err}") from None
    except OSError as err:
        raise ValueError(f"{node_name}: {describe_os_error(err)}") from None


def image_and_mask(image: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The IMAGE and its MASK on the compute device, checked (an absent mask means fully opaque)."""
    image = imageops.check_image(to_compute(image))
    return image, imageops.check_mask(to_compute(mask), image)
