"""LoRA training on the tiny test models, on the CPU. On the SD1.5-layout one: the shipped train_pixel_lora workflow
and `dgx-pixels train` train end to end; the loss goes down; the saved LoRA has the trainer's keys, loads with the
core LoRA loader by name and changes a fixed-seed image of a generation workflow. On the SDXL-layout one: the shipped
workflow trains, and the LoRA has the trainer's keys for every weight of the SDXL UNet, no others, and loads with the
core loader, every key matched.

Training reports each step live: its step and loss as the node's progress text, and ComfyUI's progress; `dgx-pixels
train --json` carries them as progress events with the step and the loss.

Measured on a shared 2-core CPU, fp32 without gradient checkpointing: a training step of the tiny SDXL-layout model
takes 1.2-1.8 s at 16x16 with rank 1 (its test's setting) and about 2.3 s at 64x64 with rank 4 (the SD1.5 tests'
setting, where the SD1.5 one takes about 0.23 s). The SDXL test takes about 40 s, most of it starting the server and
loading the model's full-size text encoders.

ComfyUI's trainer draws each step's noise level at random (seeded by the training seed), so single-step losses jump
by 10x. The loss going down is shown against a run with the same seed that cannot learn (the smallest learning rate):
both see the same noise at every step, so their first losses agree and the learning run's later losses are lower."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open

from dgx_pixels.library.folder import CHECKOUT_WORKFLOWS
from dgx_pixels.remote.client.replies import progress_text
from dgx_pixels.remote.params import ApiWorkflow
from dgx_pixels.training.progress import parse_training_step
from comfy_server import ComfyError, ComfyServer
from paths import REPO
from pixel_art import blow_up, true_sprite, uniform_cuts
from tiny_checkpoint import CHECKPOINT_NAME
from tiny_sdxl import CHECKPOINT_NAME as SDXL_CHECKPOINT_NAME

# 64x64 training images (8x8 latents), few steps, fp32 without gradient checkpointing: small work for a CPU.
STEPS = 60
TINY_TRAINING = {"checkpoint": CHECKPOINT_NAME, "resolution": 64, "steps": STEPS, "rank": 4, "learning_rate": 0.002,
                 "batch_size": 1, "seed": 5, "precision": "fp32", "Train LoRA.lora_dtype": "fp32",
                 "Train LoRA.gradient_checkpointing": False}


@pytest.fixture(scope="module")
def trainer(comfy):
    return comfy


def made_set(folder, count: int = 4):
    """``count`` 16x12 sprites blown up 3x (each a different random sprite), one with a caption file."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(count):
        rgb, mask = true_sprite(16, 12, seed=seed)
        image, big_mask = blow_up(rgb, mask, uniform_cuts(16, 3), uniform_cuts(12, 3))
        alpha = ((1 - big_mask[0].numpy()) * 255).astype(np.uint8)
        rgba = np.dstack([(image[0].numpy() * 255).astype(np.uint8), alpha])
        Image.fromarray(rgba, "RGBA").save(folder / f"hero_{seed}.png")
    (folder / "hero_0.txt").write_text("a hero facing right")
    return folder


def shipped_node(title: str) -> str:
    return ApiWorkflow.load(CHECKOUT_WORKFLOWS / "api" / "train_pixel_lora.json").node_id(title)


def saved_lora(server, outputs, title="Save LoRA"):
    ui = outputs[shipped_node(title)]
    ref = ui["loras"][0]
    return server.base_dir / "output" / ref["subfolder"] / ref["filename"], ui["dgx_loss"][0]


def train(server, name: str, **values) -> tuple[dict, float]:
    workflow = ApiWorkflow.load(CHECKOUT_WORKFLOWS / "api" / "train_pixel_lora.json")
    resolved = workflow.resolve({**TINY_TRAINING, "lora_name": name, "trigger": name, **values})
    prompt = workflow.bind(resolved, {"dataset": "training/made"})  # as the client binds its upload
    started = time.monotonic()
    outputs = server.run(prompt, timeout=900)
    return outputs, time.monotonic() - started


def test_the_shipped_workflow_trains_a_lora_whose_loss_goes_down(trainer):
    made_set(trainer.base_dir / "input" / "training" / "made")
    outputs, seconds = train(trainer, "madestyle")
    path, loss = saved_lora(trainer, outputs)
    # Live: every step's progress text, then its progress, from the trainer's node, with the loss it recorded.
    node = shipped_node("Train LoRA")
    texts = [progress_text(message) for message in trainer.last_texts]
    reports = [parse_training_step(text) for origin, text in texts if origin == node]
    print(f"\nlive reports: {len(reports)}, first {reports[0].text()!r}, last {reports[-1].text()!r}")
    assert [(report.step, report.total) for report in reports] == [(step, STEPS) for step in range(1, STEPS + 1)]
    assert [report.loss for report in reports] == pytest.approx(loss["values"], rel=1e-3)
    progress = [(p["value"], p["max"]) for p in trainer.last_progress if p["node"] == node]
    assert progress == [(step, STEPS) for step in range(1, STEPS + 1)]
    _, frozen = saved_lora(trainer, train(trainer, "frozen", learning_rate=0.0000001)[0])
    # Per step, the learning run's loss over the frozen run's (the same noise level): below 1 once it learns.
    ratios = np.array(loss["values"]) / np.array(frozen["values"])
    first, last = np.exp(np.log(ratios[:10]).mean()), np.exp(np.log(ratios[-20:]).mean())
    print(f"\ntrained {STEPS} steps in {seconds:.1f} s (server time, model load included); loss over the frozen "
          f"run's at the same noise: {first:.3f} over the first 10 steps, {last:.3f} over the last 20 (geometric "
          f"means)\nlearning: {[round(v, 4) for v in loss['values']]}\nfrozen:   "
          f"{[round(v, 4) for v in frozen['values']]}")
    assert path.name == "madestyle.safetensors" and loss["steps"] == STEPS
    assert last < 0.9 and last < first
    with safe_open(str(path), "pt") as lora:
        keys = set(lora.keys())
        assert json.loads(lora.metadata()["dgx_pixels.loss"])["steps"] == STEPS
        assert lora.metadata()["dgx_pixels.trigger"] == "madestyle"
        up = [k for k in keys if k.endswith(".lora_up.weight")]
        assert up and all(k.startswith("diffusion_model.") for k in keys)
        assert {k.replace("lora_up", "lora_down") for k in up} <= keys
        assert any(float(lora.get_tensor(k).abs().max()) > 0 for k in up), "the LoRA learned nothing"
    graph = next(ui for ui in outputs.values() if ui.get("images"))["images"][0]
    assert trainer.fetch(graph).size == (840, 520)


def test_an_interrupt_stops_the_training_at_its_next_step(trainer):
    """The stop button (POST /interrupt) ends a long training run within a step of its first live report."""
    made_set(trainer.base_dir / "input" / "training" / "made")
    workflow = ApiWorkflow.load(CHECKOUT_WORKFLOWS / "api" / "train_pixel_lora.json")
    prompt = workflow.bind(workflow.resolve({**TINY_TRAINING, "steps": 400, "lora_name": "stopped"}),
                           {"dataset": "training/made"})
    earlier = trainer.last_texts

    def interrupt_at_the_first_report():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (trainer.last_texts is earlier or not trainer.last_texts):
            time.sleep(0.05)
        trainer.post_json("/interrupt", {})

    stopper = threading.Thread(target=interrupt_at_the_first_report, daemon=True)
    stopper.start()
    with pytest.raises(ComfyError) as stopped:
        trainer.run(prompt, timeout=600)
    stopper.join()
    reports = [parse_training_step(progress_text(message)[1]) for message in trainer.last_texts]
    print(f"\ninterrupted after {len(reports)} of 400 steps")
    assert stopped.value.event.get("type") == "execution_interrupted"
    assert 1 <= len(reports) < 20 and reports[-1].step == len(reports)
    assert not (trainer.base_dir / "output" / "loras" / "stopped.safetensors").exists()


def test_a_saved_workflow_on_the_core_trainer_still_trains_and_saves(trainer):
    """Workflows saved before Train Pixel LoRA name ComfyUI's TrainLoraNode under the same title: they train as
    they did, without live reports (the trainer's sampler was put back after the runs above, the interrupted one
    too)."""
    made_set(trainer.base_dir / "input" / "training" / "made")
    workflow = ApiWorkflow.load(CHECKOUT_WORKFLOWS / "api" / "train_pixel_lora.json")
    prompt = workflow.bind(workflow.resolve({**TINY_TRAINING, "steps": 3, "lora_name": "corestyle"}),
                           {"dataset": "training/made"})
    prompt[shipped_node("Train LoRA")]["class_type"] = "TrainLoraNode"
    path, loss = saved_lora(trainer, trainer.run(prompt, timeout=900))
    assert path.name == "corestyle.safetensors" and loss["steps"] == 3
    assert trainer.last_texts == [] and not any(p["node"] == shipped_node("Train LoRA")
                                                for p in trainer.last_progress)


def generate(server, lora_strength: float) -> np.ndarray:
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CHECKPOINT_NAME}},
        "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1],
                                                      "lora_name": "madestyle.safetensors",
                                                      "strength_model": lora_strength, "strength_clip": 0.0}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "madestyle, hero"}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "blurry"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "KSampler", "inputs": {
            "model": ["2", 0], "positive": ["3", 0], "negative": ["4", 0], "latent_image": ["5", 0], "seed": 7,
            "steps": 2, "cfg": 5.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": f"lora{lora_strength}"}},
    }
    outputs = server.run(prompt)
    return np.asarray(server.fetch(outputs["8"]["images"][0]).convert("RGB"), dtype=np.float32)


def test_the_trained_lora_loads_by_name_with_the_core_loader_and_changes_the_image(trainer):
    if not (trainer.base_dir / "output" / "loras" / "madestyle.safetensors").exists():
        pytest.skip("needs the LoRA trained by the test above")
    without, with_lora = generate(trainer, 0.0), generate(trainer, 1.0)
    print(f"\nmean pixel change from the LoRA at a fixed seed: {np.abs(with_lora - without).mean():.2f} levels")
    assert np.abs(with_lora - without).mean() > 1.0
    assert "lora key not loaded" not in trainer.log()


def test_a_folder_with_nothing_usable_stops_the_run_with_one_line(trainer):
    folder = trainer.base_dir / "input" / "training" / "unusable"
    folder.mkdir(parents=True)
    Image.new("RGB", (1, 1)).save(folder / "dot.png")
    (folder / "notes.md").write_text("# not an image")
    workflow = ApiWorkflow.load(CHECKOUT_WORKFLOWS / "api" / "train_pixel_lora.json")
    prompt = workflow.bind(workflow.resolve({**TINY_TRAINING, "lora_name": "never"}), {"dataset": "training/unusable"})
    error = trainer.execution_error(prompt)
    assert "Pixel Art Training Set" in error["exception_message"]
    assert "dot.png: too small: 1x1" in error["exception_message"] and "notes.md: not an image file" in \
        error["exception_message"]
    assert not (trainer.base_dir / "output" / "loras" / "never.safetensors").exists()


def test_train_command_trains_downloads_and_a_generation_workflow_uses_the_lora_by_name(trainer, tmp_path):
    art = made_set(tmp_path / "my art", count=3)
    (art / "notes.md").write_text("not an image: ignored")
    options = [f"--set={key}={value}" for key, value in TINY_TRAINING.items() if key != "steps"]
    started = time.monotonic()
    command = [sys.executable, "-m", "dgx_pixels", "train", str(art), "--name", "cmdstyle", "--trigger", "cmdstyle",
               "--steps", "6", "--server", trainer.url, "-o", str(tmp_path / "run"), "--json", *options]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr + done.stdout
    print(f"\ndgx-pixels train --json, 6 steps: {time.monotonic() - started:.1f} s\n{done.stderr}")
    # The step and the loss, live: progress events of the trainer's node, every step in order, each with its loss.
    events = [json.loads(line) for line in done.stdout.splitlines()]
    trained = [e for e in events if e["event"] == "progress" and "loss" in e]
    assert trained and all(e["node"] == "Train LoRA" and e["text"].startswith(f"step {e['step'][0]}/6 ")
                            for e in trained)
    steps = [e["step"][0] for e in trained]
    assert steps == sorted(steps) and set(steps) == set(range(1, 7))
    assert all(isinstance(e["loss"], float) and e["loss"] > 0 for e in trained)
    # The log (stderr is no terminal): a line a tenth of the steps, the last one's loss among them.
    assert f"train Train LoRA: step 6/6 loss {trained[-1]['text'].split()[-1]}" in done.stderr
    # The run, resumed once finished, trains nothing again and says where the LoRA is and how to use it.
    explained = subprocess.run([sys.executable, "-m", "dgx_pixels", "train", "--resume", str(tmp_path / "run"), "-q"],
                               cwd=REPO, capture_output=True, text=True, timeout=300)
    assert explained.returncode == 0, explained.stderr + explained.stdout
    assert (tmp_path / "run" / "train" / "save-lora.safetensors").exists()
    assert (tmp_path / "run" / "train" / "loss-graph.png").exists()
    assert "--lora cmdstyle" in explained.stdout and "loss" in explained.stdout
    assert (trainer.base_dir / "output" / "loras" / "cmdstyle.safetensors").exists()
    # A generation workflow takes it by name (no suffix), through the same parameter as any LoRA.
    command = [sys.executable, "-m", "dgx_pixels", "generate", "items", "--item", "sword", "--lora", "cmdstyle",
               "--set", f"checkpoint={CHECKPOINT_NAME}", "--set", "width=64", "--set", "height=64", "--steps", "2",
               "--server", trainer.url, "-o", str(tmp_path / "items"), "-q"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr + done.stdout
    manifest = json.loads((tmp_path / "items" / "manifest.json").read_text())
    assert manifest["jobs"][0]["params"]["lora"] == "cmdstyle.safetensors"


@pytest.fixture(scope="module")
def sdxl_trainer(host, tiny_sdxl_models, tmp_path_factory) -> ComfyServer:
    server = ComfyServer(host, tmp_path_factory.mktemp("sdxl-training-base"),
                         models={"checkpoints": [tiny_sdxl_models["checkpoints"]]})
    try:
        yield server.start()
    finally:
        server.stop()


def trainer_keys(checkpoint) -> set[str]:
    """The keys ComfyUI's trainer writes for the UNet of ``checkpoint``: a LoRA pair and its alpha for every weight
    matrix and convolution, a difference for every 1-D weight (the norms) and for every bias."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    keys = set()
    for key, tensor in state.items():
        if not key.startswith("model.diffusion_model."):
            continue
        module, kind = key[len("model."):].rsplit(".", 1)
        if kind == "bias":
            keys.add(f"{module}.diff_b")
        elif tensor.dim() >= 2:
            keys |= {f"{module}.lora_up.weight", f"{module}.lora_down.weight", f"{module}.alpha"}
        else:
            keys.add(f"{module}.diff")
    return keys


def test_the_shipped_workflow_trains_an_sdxl_lora_that_loads_on_the_sdxl_model(sdxl_trainer, tiny_sdxl_models):
    """The tiny SDXL-layout model, two steps at the smallest training size (16x16 images, 2x2 latents), rank 1: the
    LoRA has the trainer's keys for every weight of the SDXL UNet and no others (the ADM size embedding, ten-block
    transformers with linear projections, 2048-wide cross-attention among them) and loads with the core loader,
    every key matched."""
    made_set(sdxl_trainer.base_dir / "input" / "training" / "made")
    started = time.monotonic()
    # Two steps, not one: the core loss graph scales by the loss range, which a single step leaves at zero.
    outputs, seconds = train(sdxl_trainer, "sdxlstyle", checkpoint=SDXL_CHECKPOINT_NAME, resolution=16, steps=2,
                             rank=1)
    path, loss = saved_lora(sdxl_trainer, outputs)
    print(f"\nSDXL: two training steps in a run of {seconds:.1f} s (server time, model load and caption encoding "
          f"included)")
    assert path.name == "sdxlstyle.safetensors" and loss["steps"] == 2
    with safe_open(str(path), "pt") as lora:
        shapes = {key: tuple(lora.get_slice(key).get_shape()) for key in lora.keys()}
    assert set(shapes) == trainer_keys(tiny_sdxl_models["checkpoints"])
    blocks = "diffusion_model.input_blocks"
    assert shapes["diffusion_model.label_emb.0.0.lora_down.weight"] == (1, 2816)  # ADM: pooled clip_g + sizes
    assert shapes[f"{blocks}.7.1.transformer_blocks.9.attn2.to_k.lora_down.weight"] == (1, 2048)
    assert shapes[f"{blocks}.7.1.proj_in.lora_down.weight"] == (1, 320)  # linear, not a 1x1 convolution
    assert {key.split(".")[5] for key in shapes if key.startswith(f"{blocks}.8.1.transformer_blocks.")} == \
        {str(block) for block in range(10)}
    log_before = len(sdxl_trainer.log())
    sdxl_trainer.run({
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": SDXL_CHECKPOINT_NAME}},
        "2": {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["1", 0], "lora_name": path.name,
                                                               "strength_model": 1.0}},
        "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}},
    })
    assert "2" in sdxl_trainer.last_executed
    assert "lora key not loaded" not in sdxl_trainer.log()[log_before:]
    print(f"trained, checked and loaded in {time.monotonic() - started:.1f} s")
