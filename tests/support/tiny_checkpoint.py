"""Build a deterministic random-weight checkpoint that ComfyUI loads as SD1.5, for offline generation tests.

Run with the host's Python (it imports ComfyUI's own model classes so the keys match what ComfyUI expects):

    python tests/support/tiny_checkpoint.py --comfyui DIR --out tiny_sd15.safetensors

What ComfyUI needs to detect SD1.5 and still run fast on a CPU:
- UNet: model_channels 320, context_dim 768, conv proj_in (use_linear_in_transformer False); one level
  (channel_mult [1], num_res_blocks [1], transformer_depth [1], output depth [0, 0]) and no middle block.
- Text encoder: ComfyUI always builds a full CLIP-L (its config is fixed), so all of it is stored, initialised:
  missing weights would stay uninitialised and give NaN (an all-black image reported as a success).
- VAE: ``first_stage_model.taesd_encoder/decoder.*`` keys make ComfyUI use the tiny TAESD autoencoder.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SEED = 20251011
FORMAT_VERSION = "1"
# The names the host tests give the tiny models in a server's model folders.
CHECKPOINT_NAME = "dgx_pixels_tiny_sd15.safetensors"
LORA_NAME = "dgx_pixels_tiny_lora.safetensors"


def build_state_dict(comfyui: Path) -> dict:
    sys.path.insert(0, str(comfyui))
    import torch
    from comfy.cli_args import args

    args.cpu = True  # builds anywhere, GPU or not; must be set before comfy.model_management is imported
    import comfy.ops
    from comfy.clip_model import CLIPTextModel
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel
    from comfy.taesd.taesd import TAESD

    torch.manual_seed(SEED)
    unet = UNetModel(
        image_size=32, in_channels=4, out_channels=4, model_channels=320, num_res_blocks=[1], channel_mult=[1],
        num_heads=8, num_head_channels=-1, use_spatial_transformer=True, transformer_depth=[1], context_dim=768,
        use_linear_in_transformer=False, transformer_depth_middle=-2, transformer_depth_output=[0, 0],
        legacy=False, operations=comfy.ops.manual_cast,
    )
    config = json.loads((comfyui / "comfy" / "sd1_clip_config.json").read_text())
    clip = CLIPTextModel(config, dtype=torch.float32, device="cpu", operations=comfy.ops.manual_cast)
    vae = TAESD()

    state = {}
    for prefix, module in (("model.diffusion_model.", unet), ("cond_stage_model.transformer.", clip),
                           ("first_stage_model.", vae)):
        for name, tensor in module.state_dict().items():
            state[prefix + name] = tensor
    generator = torch.Generator().manual_seed(SEED)
    for name, tensor in state.items():
        if not tensor.is_floating_point():
            continue
        if name.endswith(".weight") and tensor.ndim == 1 or "norm" in name and name.endswith(".weight"):
            state[name] = torch.ones_like(tensor)  # layer/group norm scales
        elif name.endswith(".bias") or name.endswith("vae_shift"):
            state[name] = torch.zeros_like(tensor)
        elif name.endswith("vae_scale"):
            state[name] = torch.ones_like(tensor)
        else:
            fan_in = max(1, tensor[0].numel()) if tensor.ndim > 1 else tensor.numel()
            std = 0.02 if "embedding" in name else (1.0 / fan_in) ** 0.5
            state[name] = torch.randn(tensor.shape, generator=generator) * std
    return {name: tensor.to(torch.float16).contiguous() for name, tensor in state.items()}


# Attention projections of the tiny UNet's one transformer block (ComfyUI's `lora_unet_` key form) and their input
# widths: attn2's keys and values read the 768-wide text context.
LORA_TARGETS = {f"input_blocks_1_1_transformer_blocks_0_{attn}_{proj}": 768 if attn == "attn2" and proj != "to_q"
                else 320 for attn in ("attn1", "attn2") for proj in ("to_q", "to_k", "to_v")}


def build_lora_state_dict(rank: int = 4) -> dict:
    """A small LoRA for the tiny UNet: real keys that ComfyUI's LoraLoader applies (a visible change)."""
    import torch

    generator = torch.Generator().manual_seed(SEED + 1)
    state = {}
    for target, fan_in in LORA_TARGETS.items():
        state[f"lora_unet_{target}.lora_down.weight"] = torch.randn(rank, fan_in, generator=generator) * 0.2
        state[f"lora_unet_{target}.lora_up.weight"] = torch.randn(320, rank, generator=generator) * 0.2
        state[f"lora_unet_{target}.alpha"] = torch.tensor(float(rank))
    return {name: tensor.to(torch.float16).contiguous() for name, tensor in state.items()}


def _save(state: dict, out: Path) -> Path:
    from safetensors.torch import save_file

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    save_file(state, str(tmp), metadata={"dgx_pixels_tiny": FORMAT_VERSION})
    tmp.replace(out)
    return out


def build(comfyui: Path, out: Path) -> Path:
    return _save(build_state_dict(comfyui), out)


def build_lora(out: Path) -> Path:
    return _save(build_lora_state_dict(), out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--lora", type=Path, help="also write a tiny LoRA for it here")
    args = parser.parse_args()
    print(build(args.comfyui, args.out))
    if args.lora:
        print(build_lora(args.lora))
