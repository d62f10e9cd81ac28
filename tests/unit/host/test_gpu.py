"""Whether torch can use the card, and the reason given when it cannot (made reports: no GPU here)."""
from __future__ import annotations

from dgx_pixels.host.gpu import Card, GpuReport, TorchReport

GB10 = Card("NVIDIA GB10", "580.95.05", "12.1")
SPARK_TORCH = TorchReport("2.14.1+cu130", "13.0", ("sm_80", "sm_90", "sm_100", "sm_120"), False)


def test_a_card_runs_code_of_its_own_major_architecture_or_older_ptx():
    assert GpuReport((GB10,), torch=SPARK_TORCH).supports(GB10)  # sm_120 code runs on compute capability 12.1
    old = TorchReport("2.4.0+cu121", "12.1", ("sm_80", "sm_86", "sm_90"), False)
    assert not GpuReport((GB10,), torch=old).supports(GB10)
    ptx = TorchReport("2.4.0+cu121", "12.1", ("sm_90", "compute_90"), False)
    assert GpuReport((GB10,), torch=ptx).supports(GB10)
    ampere = Card("NVIDIA A10", "550.00", "8.6")
    assert not GpuReport((ampere,), torch=TorchReport("x", "12.1", ("sm_90",), False)).supports(ampere)


def test_every_reason_to_run_on_the_cpu_names_its_fix():
    assert GpuReport((GB10,), torch=TorchReport("2.14.1", "13.0", ("sm_120",), True)).cpu_reason() == ""
    cpu_build = GpuReport((GB10,), torch=TorchReport("2.14.1+cpu", None, (), False)).cpu_reason()
    assert "CPU-only build" in cpu_build and "host setup --torch" in cpu_build
    too_old = GpuReport((GB10,), torch=TorchReport("2.4.0", "12.1", ("sm_80", "sm_90"), False)).cpu_reason()
    assert "has no code for NVIDIA GB10 (sm_121" in too_old
    driver = GpuReport((GB10,), torch=SPARK_TORCH).cpu_reason()
    assert "driver 580.95.05" in driver and "update the NVIDIA driver" in driver
    no_gpu = GpuReport((), "is not installed (no NVIDIA driver)", SPARK_TORCH).cpu_reason()
    assert no_gpu.startswith("no NVIDIA GPU found") and "CPU" in no_gpu
    assert "does not import" in GpuReport(torch=TorchReport(error="ModuleNotFoundError: torch")).cpu_reason()
