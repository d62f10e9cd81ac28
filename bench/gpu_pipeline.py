#!/usr/bin/env python3
"""The nodes' post-processing pipeline on the device ComfyUI would use, stage by stage.

Batches of 1, 16 and 64 frames at 1024x1024 (as a sampler emits them) go through Background to Alpha -> grid
detection (one grid locked for the batch) -> downscale -> palette extraction -> palette application -> sheet
assembly. Each stage is timed on its own (CUDA-synchronised; the median of --repeats runs after a
warm-up), with the peak device memory, the bytes the stage must at least read and write, the time those bytes take
at the device's memory bandwidth (--bandwidth), so the distance from the hardware's limit shows, and how many times
the stage makes the host wait for the device (the same count for a batch of 1 and of 64: none is per frame). The
same runs on the CPU for the ratio. The first lines name the card, driver, torch and CUDA.

    $(python3 -m dgx_pixels host python) bench/gpu_pipeline.py                   # every device here
    $(python3 -m dgx_pixels host python) bench/gpu_pipeline.py --device cuda --bandwidth 273   # DGX Spark GB10
    $(python3 -m dgx_pixels host python) bench/gpu_pipeline.py --tiny --json     # seconds, for a smoke test

The frames are made here: a 64x64 sprite of 12 colours blown up 16x on a flat backdrop, with a little noise, so
every stage has real work (a backdrop to flood, a grid to find, colours to fit).
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dgx_pixels.image.background import background_to_alpha  # noqa: E402
from dgx_pixels.palette.apply import apply_palette  # noqa: E402
from dgx_pixels.palette.extract import extract_palette  # noqa: E402
from dgx_pixels.pixel.cells import SAMPLES_PER_AXIS  # noqa: E402
from dgx_pixels.pixel.downscale import downscale  # noqa: E402
from dgx_pixels.pixel.grid import detect_grid  # noqa: E402
from dgx_pixels.sheets.assemble import assemble_sheet, frames_from_batches  # noqa: E402
from dgx_pixels.sheets.frames import parse_tag_spec  # noqa: E402

FLOAT = 4  # bytes of a float32 value

# Tensor operations that make the host wait for the device: values read back, or a result whose size depends on them.
HOST_READS = {"tolist", "item", "cpu", "numpy", "__bool__", "__int__", "__float__", "__index__", "nonzero",
              "argwhere", "unique", "unique_consecutive", "masked_select", "bincount", "repeat_interleave"}


class HostReads(TorchFunctionMode):
    """Counts the device-to-host round trips of the torch code run inside it, by operation (boolean-mask indexing
    counts too: its result's size is read back). The same count on any device, so a CPU run shows what a GPU run
    would wait for."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in HOST_READS or (name == "__getitem__" and boolean_index(args[1])):
            self.count += 1
        return func(*args, **(kwargs or {}))


def boolean_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(part, torch.Tensor) and part.dtype == torch.bool for part in parts)


def made_frames(count: int, size: int, cell: int, seed: int = 3) -> torch.Tensor:
    """``[count, size, size, 3]``: sprites of 12 colours, ``cell`` px per sprite pixel, on a green backdrop."""
    generator = torch.Generator().manual_seed(seed)
    native = size // cell
    colours = torch.rand(12, 3, generator=generator) * 0.8 + 0.1
    frames = []
    for number in range(count):
        ys, xs = torch.meshgrid(torch.arange(native), torch.arange(native), indexing="ij")
        body = ((xs - native / 2) / (native * 0.3)) ** 2 + ((ys - native * 0.55) / (native * 0.4)) ** 2 <= 1
        index = torch.randint(0, 12, (native // 4, native // 4), generator=generator)
        index = index.repeat_interleave(4, 0).repeat_interleave(4, 1)[:native, :native]
        sprite = torch.where(body[..., None], colours[index], torch.tensor([0.1, 0.8, 0.3]))
        sprite = sprite.roll(number % 3, dims=1)  # frames differ a little
        frames.append(sprite.repeat_interleave(cell, 0).repeat_interleave(cell, 1))
    batch = torch.stack(frames)
    return (batch + torch.randn(batch.shape, generator=generator) * 0.01).clamp(0, 1)


def stages(frames: int, size: int, cell: int):
    """(name, run(state) -> state, bytes read and written at the least) for each stage, in order."""
    pixels, native = frames * size * size, frames * (size // cell) ** 2
    tags = parse_tag_spec(f"walk:{frames}@100ms")
    return [
        ("background to alpha", lambda s: {**s, "mask": background_to_alpha(s["image"])[0]},
         pixels * (3 + 1) * FLOAT),
        ("grid (locked)", lambda s: {**s, "grids": detect_grid(s["image"], s["mask"], lock=True)},
         pixels * (3 + 1) * FLOAT),
        ("downscale", lambda s: {**s, **dict(zip(("native", "native_mask"),
                                                 downscale(s["image"], s["mask"], grids=s["grids"])[:2]))},
         native * SAMPLES_PER_AXIS ** 2 * (3 + 1) * FLOAT + native * 4 * FLOAT),  # each cell is read at a 5x5 lattice
        ("palette extract", lambda s: {**s, "palette": extract_palette(s["native"], s["native_mask"], 16)},
         native * 4 * FLOAT),
        ("palette apply", lambda s: {**s, "painted": apply_palette(s["native"], s["palette"], s["native_mask"])},
         native * (4 + 3) * FLOAT),
        ("sheet", lambda s: {**s, "sheet": assemble_sheet(frames_from_batches([s["painted"]], [s["native_mask"]]),
                                                          tags)},
         native * 2 * 4 * FLOAT),
    ]


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_pipeline(device: torch.device, frames: int, size: int, cell: int, repeats: int) -> dict:
    image = made_frames(frames, size, cell).to(device)
    steps = stages(frames, size, cell)
    timings: dict[str, list[float]] = {name: [] for name, _, _ in steps}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    host_reads: dict[str, int] = {}
    for run in range(repeats + 1):  # the first run warms up (kernels, caches), counts host reads, and is not timed
        state = {"image": image}
        for name, stage, _ in steps:
            if not run:
                with HostReads() as reads:
                    state = stage(state)
                host_reads[name] = reads.count
                continue
            synchronise(device)
            started = time.perf_counter()
            state = stage(state)
            synchronise(device)
            timings[name].append(time.perf_counter() - started)
    peak = (torch.cuda.max_memory_allocated(device) if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"device": str(device), "frames": frames, "size": size, "peak_bytes": peak,
            "stages": [{"stage": name, "median_s": statistics.median(timings[name]), "bytes": moved,
                        "host_reads": host_reads[name]} for name, _, moved in steps]}


def describe_machine() -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
            "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["card"] = torch.cuda.get_device_name(0)
        info["capability"] = ".".join(map(str, torch.cuda.get_device_capability(0)))
        smi = shutil.which("nvidia-smi")
        if smi:
            result = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"],
                                    capture_output=True, text=True)
            info["driver"] = result.stdout.strip()
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("all", "cpu", "cuda"), default="all")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--size", type=int, default=1024, help="frame width and height (default 1024)")
    parser.add_argument("--cell", type=int, default=16, help="frame pixels per sprite pixel (default 16)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--bandwidth", type=float, default=0.0,
                        help="the device's memory bandwidth in GB/s, for the bound (e.g. 273 for a DGX Spark)")
    parser.add_argument("--tiny", action="store_true", help="2 frames of 128x128, one repeat: a smoke test")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = parser.parse_args()
    if args.tiny:
        args.batches, args.size, args.cell, args.repeats = [2], 128, 8, 1
    devices = [torch.device("cpu")] if args.device in ("all", "cpu") else []
    if args.device in ("all", "cuda"):
        if not torch.cuda.is_available():
            if args.device == "cuda":
                raise SystemExit("no CUDA device: torch.cuda.is_available() is False")
        else:
            devices.append(torch.device("cuda"))
    torch.set_grad_enabled(False)
    report = {"machine": describe_machine(), "runs": [run_pipeline(device, frames, args.size, args.cell, args.repeats)
                                                      for device in devices for frames in args.batches]}
    if args.json:
        print(json.dumps(report))
        return
    machine = report["machine"]
    print(" ".join(f"{key}={value}" for key, value in machine.items()))
    for run in report["runs"]:
        total = sum(stage["median_s"] for stage in run["stages"])
        print(f"\n{run['device']}: {run['frames']} frames of {run['size']}x{run['size']}, peak "
              f"{run['peak_bytes'] / 2 ** 20:.0f} MiB, whole pipeline {total * 1000:.1f} ms "
              f"({total * 1000 / run['frames']:.2f} ms per frame)")
        for stage in run["stages"]:
            bound = stage["bytes"] / (args.bandwidth * 1e9) if args.bandwidth else 0.0
            distance = f"  {stage['median_s'] / bound:7.1f}x the bandwidth bound" if bound else ""
            print(f"  {stage['stage']:20} {stage['median_s'] * 1000:9.2f} ms  {stage['bytes'] / 2 ** 20:9.1f} MiB "
                  f"moved  {stage['host_reads']:3} host reads{distance}")


if __name__ == "__main__":
    main()
