"""The pipeline's device path: no stage makes the host wait once per frame, and where the CPU takes its own
route (numpy's sort) it gives the device route's result bit for bit."""
from __future__ import annotations

import importlib.util
import warnings

import pytest
import torch

from dgx_pixels.palette.distinct import packed_rgb, sorted_keys
from paths import REPO


def load_pipeline():
    spec = importlib.util.spec_from_file_location("gpu_pipeline", REPO / "bench" / "gpu_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pipeline = load_pipeline()


def reads_per_stage(frames: int, device: torch.device, counter) -> dict[str, int]:
    """Run the pipeline once on ``frames`` made frames; ``counter()`` is a context manager whose ``count`` says
    how often the stage made the host wait."""
    state = {"image": pipeline.made_frames(frames, 64, 4).to(device)}
    counts = {}
    with torch.no_grad():
        for name, stage, _ in pipeline.stages(frames, 64, 4):
            with counter() as reads:
                state = stage(state)
            counts[name] = reads.count
    return counts


def test_no_stage_reads_back_from_the_device_once_per_frame():
    one, five = (reads_per_stage(frames, torch.device("cpu"), pipeline.HostReads) for frames in (1, 5))
    assert one == five
    assert all(count > 0 for count in one.values())  # the counter sees the reads that are there


def test_the_host_read_counter_sees_each_kind_of_read():
    values = torch.arange(6.0)
    with pipeline.HostReads() as reads:
        values.tolist(), values[0].item(), bool(values[1] > 0), int(values[2]), values[values > 2], values.nonzero()
    assert reads.count == 6


def test_the_cpu_sort_of_colour_keys_equals_the_device_sort_bit_for_bit():
    frames = pipeline.made_frames(3, 64, 4)
    keys = torch.cat([packed_rgb(frames).reshape(-1), packed_rgb(frames.flip(0) * 0.5).reshape(-1)])
    assert torch.equal(sorted_keys(keys), torch.sort(keys).values)


class SyncWarnings:
    """CUDA's sync debug mode, counting the synchronising calls it warns about."""

    def __enter__(self):
        self.caught = warnings.catch_warnings(record=True)
        self.records = self.caught.__enter__()
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        return self

    def __exit__(self, *exc):
        torch.cuda.set_sync_debug_mode("default")
        self.caught.__exit__(*exc)

    @property
    def count(self) -> int:
        return sum("synchronizing" in str(record.message) for record in self.records)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_gpu_the_synchronising_calls_do_not_grow_with_the_batch():
    device = torch.device("cuda")
    reads_per_stage(1, device, SyncWarnings)  # warm-up: first calls initialise kernels and caches
    assert reads_per_stage(1, device, SyncWarnings) == reads_per_stage(5, device, SyncWarnings)
