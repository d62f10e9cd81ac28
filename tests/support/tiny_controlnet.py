"""Build a deterministic random-weight ControlNet that ComfyUI loads for the tiny checkpoint (tests only).

Run with the host's Python: ``python tests/support/tiny_controlnet.py --comfyui DIR --out tiny_controlnet.safetensors``.
It has the tiny UNet's shape (see tiny_checkpoint.py) plus the hint encoder for a 3-channel image; its zero
convolutions are random instead of zero, so the hint image visibly changes what the sampler makes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

SEED = 20251012
FORMAT_VERSION = "3"
# Gains over a plain random start, so the hint image's shape shows clearly in a two-step 64 px image: the hint
# encoder keeps its signal through its eight layers, and the zero convolutions pass it on strongly.
ZERO_CONV_GAIN = 30.0
HINT_GAIN = 2.0


def build_state_dict(comfyui: Path) -> dict:
    sys.path.insert(0, str(comfyui))
    import torch
    from comfy.cli_args import args

    args.cpu = True  # builds anywhere; must be set before comfy.model_management is imported
    import comfy.ops
    from comfy.cldm.cldm import ControlNet

    torch.manual_seed(SEED)
    net = ControlNet(
        image_size=32, in_channels=4, model_channels=320, hint_channels=3, num_res_blocks=[1], channel_mult=[1],
        num_heads=8, num_head_channels=-1, use_spatial_transformer=True, transformer_depth=[1], context_dim=768,
        use_linear_in_transformer=False, transformer_depth_middle=-1, legacy=False,
        operations=comfy.ops.manual_cast,
    )
    generator = torch.Generator().manual_seed(SEED)
    state = {}
    for name, tensor in net.state_dict().items():
        if not tensor.is_floating_point():
            state[name] = tensor
        elif name.endswith(".weight") and tensor.ndim == 1 or "norm" in name and name.endswith(".weight"):
            state[name] = torch.ones_like(tensor)
        elif name.endswith(".bias"):
            state[name] = torch.zeros_like(tensor)
        else:
            fan_in = max(1, tensor[0].numel()) if tensor.ndim > 1 else tensor.numel()
            gain = (ZERO_CONV_GAIN if "zero_convs" in name or "middle_block_out" in name
                    else HINT_GAIN if name.startswith("input_hint_block") else 1.0)
            state[name] = torch.randn(tensor.shape, generator=generator) * gain * (1.0 / fan_in) ** 0.5
    return {f"control_model.{name}": tensor.to(torch.float16).contiguous() for name, tensor in state.items()}


def build(comfyui: Path, out: Path) -> Path:
    from safetensors.torch import save_file

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    save_file(build_state_dict(comfyui), str(tmp), metadata={"dgx_pixels_tiny": FORMAT_VERSION})
    tmp.replace(out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parsed = parser.parse_args()
    print(build(parsed.comfyui, parsed.out))
