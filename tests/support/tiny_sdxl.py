"""Build tiny random-weight models with the real SDXL layout, for offline tests: a checkpoint ComfyUI detects as
SDXL, an OpenPose ControlNet for it and an SDXL-keyed LoRA.

Run with the host's Python (it uses ComfyUI's own model classes and its own SDXL save conversion, so every key name
and shape is what ComfyUI writes when it saves an SDXL checkpoint):

    python tests/support/tiny_sdxl.py --comfyui DIR --out DIR

What makes ComfyUI detect SDXL (``comfy.supported_models.SDXL.unet_config``), and how it stays small:
- UNet: model_channels 320, linear transformer projections, transformer depth [0, 0, 2, 2, 10, 10] (three levels of
  two blocks), context_dim 2048 (clip_l's 768 + clip_g's 1280), ADM input 2816 (clip_g's pooled 1280 + six 256-wide
  size/crop embeddings). Detection never reads channel_mult, so every level keeps 320 channels ([1, 1, 1]); there is
  no middle block and no transformer in the output blocks.
- Text encoders: both, in SDXL's own file layout (clip_l as ``conditioner.embedders.0.transformer.*``, clip_g as
  OpenCLIP ``conditioner.embedders.1.model.*``). ComfyUI always builds them at full size (clip_g alone has 694 M
  weights), so every weight is stored: missing ones would stay uninitialised.
- VAE: ``first_stage_model.taesd_*`` keys make ComfyUI use the tiny TAESD autoencoder (its architecture is the same
  for SD1.5 and SDXL; the SDXL latent scale comes from the model config).
- Size on disk: each tensor is a strided window into one of a few small random pools (one per weight scale), saved as
  a pickled checkpoint, which stores every pool once: a few MB for about 1 G weights. ComfyUI loads it with
  ``torch.load(weights_only=True)`` and copies every window into its own full-size parameters.
- ControlNet: ComfyUI's ControlNet on the same UNet layout (so it is detected as SDXL too, ADM input included) with a
  3-channel hint encoder for OpenPose skeletons; its zero convolutions are strong instead of zero, so the skeletons
  visibly steer a two-step image.
- LoRA: kohya-style keys for the UNet's attention (``lora_unet_*``) and both text encoders (``lora_te1_*`` clip_l,
  ``lora_te2_*`` clip_g), as SDXL LoRAs name them.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

FORMAT_VERSION = "1"
SEED = 20260115
CHECKPOINT_NAME = "dgx_pixels_tiny_sdxl.ckpt"
CONTROLNET_NAME = "dgx_pixels_tiny_sdxl_openpose.pth"
LORA_NAME = "dgx_pixels_tiny_sdxl_lora.safetensors"

UNET_CONFIG = {
    "use_checkpoint": False, "image_size": 32, "out_channels": 4, "use_spatial_transformer": True, "legacy": False,
    "num_classes": "sequential", "adm_in_channels": 2816, "in_channels": 4, "model_channels": 320,
    "num_res_blocks": [2, 2, 2], "transformer_depth": [0, 0, 2, 2, 10, 10], "channel_mult": [1, 1, 1],
    "transformer_depth_middle": -2, "use_linear_in_transformer": True, "context_dim": 2048,
    "transformer_depth_output": [0] * 9, "use_temporal_attention": False, "use_temporal_resblock": False,
}
# Strides of a window along each dimension but the last (1): rows of a matrix are the pool shifted by a prime, so
# neighbouring rows and channels differ.
ROW_STRIDE = 13
CHANNEL_STRIDES = (31, 11, 3)
ZERO_CONV_GAIN = 30.0  # as tests/support/tiny_controlnet.py: the hint shows clearly in a two-step image
HINT_GAIN = 2.0


def _comfy(comfyui: Path):
    sys.path.insert(0, str(comfyui))
    from comfy.cli_args import args

    args.cpu = True  # builds anywhere; must be set before comfy.model_management is imported
    import comfy.model_management  # noqa: F401


def _strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(shape) == 0:
        return ()
    if len(shape) == 1:
        return (1,)
    if len(shape) == 2:
        return (ROW_STRIDE, 1)
    return (*CHANNEL_STRIDES[-(len(shape) - 1):], 1) if len(shape) <= 4 else tuple([1] * len(shape))


def _span(shape: tuple[int, ...]) -> int:
    return 1 + sum((size - 1) * stride for size, stride in zip(shape, _strides(shape)))


def _scale(name: str, shape: tuple[int, ...], gain: float = 1.0) -> float | None:
    """The standard deviation of a weight: None for ones (norm scales: every 1-D weight here is one), 0 for zeros
    (biases, the VAE shift)."""
    leaf = name.rsplit(".", 1)[-1]
    if "bias" in leaf or leaf == "vae_shift":
        return 0.0
    if len(shape) <= 1:
        return None
    if "embedding" in name:
        return 0.02
    return gain / math.sqrt(math.prod(shape[1:]))


def windows(shapes: dict[str, tuple[tuple[int, ...], float | None]], seed: int) -> dict:
    """Tensors for ``{name: (shape, std)}`` (std None: ones, 0: zeros): windows into one random pool per std."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    constants = {None: torch.ones(1, dtype=torch.float16), 0.0: torch.zeros(1, dtype=torch.float16)}
    spans: dict[float, int] = {}
    for shape, std in shapes.values():
        if std not in constants:
            spans[std] = max(spans.get(std, 0), _span(shape))
    slack = 4096  # room for a random start per tensor
    pools = {std: (torch.randn(span + slack, generator=generator) * std).to(torch.float16)
             for std, span in sorted(spans.items())}
    state = {}
    for name, (shape, std) in shapes.items():
        if std in constants:
            state[name] = constants[std].as_strided(shape, [0] * len(shape))
            continue
        pool = pools[std]
        start = int(torch.randint(0, pool.numel() - _span(shape) + 1, (1,), generator=generator))
        state[name] = pool.as_strided(shape, _strides(shape), start)
    return state


def checkpoint_layout() -> tuple[dict, dict]:
    """Every key of the tiny SDXL checkpoint as ComfyUI saves an SDXL checkpoint: the weights' shapes and scales,
    and the integer tensors (position ids) as they are."""
    import torch
    import comfy.supported_models
    from comfy.sdxl_clip import SDXLClipModel
    from comfy.taesd.taesd import TAESD

    config = comfy.supported_models.SDXL(dict(UNET_CONFIG))
    with torch.device("meta"):
        model = config.get_model({}, device="meta")
        clip = SDXLClipModel(device="meta", dtype=torch.float16)
        vae = TAESD()
    saved = model.state_dict_for_saving(clip.state_dict(), vae.state_dict())
    return {name: (tuple(t.shape), _scale(name, tuple(t.shape))) for name, t in saved.items()
            if t.is_floating_point()}, {name: t for name, t in saved.items() if not t.is_floating_point()}


def build_checkpoint(out: Path) -> Path:
    shapes, integers = checkpoint_layout()
    state = windows(shapes, SEED)
    state.update({name: tensor.clone() for name, tensor in integers.items()})  # position ids
    return _save_pickled({"state_dict": state}, out)


def build_controlnet(out: Path) -> Path:
    import torch
    import comfy.ops
    from comfy.cldm.cldm import ControlNet

    config = {k: v for k, v in UNET_CONFIG.items() if k not in ("out_channels", "transformer_depth_output")}
    config.update(transformer_depth_middle=-1, num_head_channels=64, hint_channels=3)
    with torch.device("meta"):
        net = ControlNet(**config, device="meta", operations=comfy.ops.manual_cast)
    shapes = {}
    for name, tensor in net.state_dict().items():
        shape = tuple(tensor.shape)
        gain = (ZERO_CONV_GAIN if "zero_convs" in name or "middle_block_out" in name
                else HINT_GAIN if name.startswith("input_hint_block") else 1.0)
        shapes[f"control_model.{name}"] = (shape, _scale(name, shape, gain))
    return _save_pickled(windows(shapes, SEED + 1), out)


def lora_targets() -> dict[str, tuple[int, int]]:
    """kohya LoRA key -> (out, in) of the weight it changes: the first transformer block of each UNet level that
    has one, and the first layer of each text encoder."""
    targets = {}
    for block in (4, 5, 7, 8):
        for attn in ("attn1", "attn2"):
            for proj in ("to_q", "to_k", "to_v", "to_out_0"):
                fan_in = 2048 if attn == "attn2" and proj in ("to_k", "to_v") else 320
                targets[f"lora_unet_input_blocks_{block}_1_transformer_blocks_0_{attn}_{proj}"] = (320, fan_in)
    for encoder, width in (("te1", 768), ("te2", 1280)):
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            targets[f"lora_{encoder}_text_model_encoder_layers_0_self_attn_{proj}"] = (width, width)
    return targets


def build_lora(out: Path, rank: int = 4) -> Path:
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(SEED + 2)
    state = {}
    for target, (fan_out, fan_in) in lora_targets().items():
        state[f"{target}.lora_down.weight"] = torch.randn(rank, fan_in, generator=generator) * 0.2
        state[f"{target}.lora_up.weight"] = torch.randn(fan_out, rank, generator=generator) * 0.2
        state[f"{target}.alpha"] = torch.tensor(float(rank))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    save_file({k: v.to(torch.float16).contiguous() for k, v in state.items()}, str(tmp),
              metadata={"dgx_pixels_tiny": FORMAT_VERSION, "ss_base_model_version": "sdxl_base_v1-0"})
    tmp.replace(out)
    return out


def _save_pickled(data: dict, out: Path) -> Path:
    import torch

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save(data, tmp)
    tmp.replace(out)
    return out


def build_all(comfyui: Path, folder: Path) -> list[Path]:
    _comfy(comfyui)
    return [build_checkpoint(folder / CHECKPOINT_NAME), build_controlnet(folder / CONTROLNET_NAME),
            build_lora(folder / LORA_NAME)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for the three files")
    parsed = parser.parse_args()
    for path in build_all(parsed.comfyui, parsed.out):
        print(path)
