"""What GPU a machine has and whether a Python's torch can use it: the card and driver from nvidia-smi, the CUDA
version and architectures torch was built for, from that Python (asked in a subprocess, so this module needs no
torch itself). ``host run`` decides GPU or CPU from it and ``doctor`` reports it."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field

TORCH_PROBE = """
import json
report = {}
try:
    import torch
except Exception as err:
    report["error"] = f"{type(err).__name__}: {err}"
else:
    report["version"] = torch.__version__
    report["cuda"] = torch.version.cuda
    report["arch"] = torch.cuda.get_arch_list() if torch.version.cuda else []
    try:
        report["available"] = torch.cuda.is_available()
    except Exception as err:
        report["available"], report["cuda_error"] = False, f"{type(err).__name__}: {err}"
print(json.dumps(report))
"""


@dataclass(frozen=True)
class Card:
    name: str
    driver: str
    compute_capability: str  # "12.1" -> sm_121

    @property
    def arch(self) -> str:
        return "sm_" + self.compute_capability.replace(".", "")


@dataclass(frozen=True)
class TorchReport:
    version: str = ""  # empty: torch does not import
    cuda: str | None = None  # the CUDA torch was built for; None: a CPU-only build
    arch: tuple[str, ...] = ()  # e.g. sm_90, sm_120, compute_120 (PTX)
    available: bool = False
    error: str = ""


@dataclass(frozen=True)
class GpuReport:
    cards: tuple[Card, ...] = ()
    smi_error: str = ""
    torch: TorchReport = field(default_factory=TorchReport)

    def supports(self, card: Card) -> bool:
        """Whether torch has code for the card: its own architecture, or PTX of an older one it can compile."""
        major_minor = int(card.compute_capability.replace(".", ""))
        for arch in self.torch.arch:
            kind, _, number = arch.partition("_")
            if not number.isdigit():
                continue
            if arch == card.arch or (kind == "compute" and int(number) <= major_minor):
                return True
            if kind == "sm" and int(number) // 10 == major_minor // 10 and int(number) <= major_minor:
                return True  # same major architecture: binary compatible with a later minor
        return False

    def cpu_reason(self) -> str:
        """Why sampling would run on the CPU, and how to fix it; empty when the GPU is usable."""
        if self.torch.available:
            return ""
        if not self.torch.version:
            return f"torch does not import ({self.torch.error}); run `dgx-pixels host setup`"
        if not self.cards:
            return ("no NVIDIA GPU found (nvidia-smi " + (self.smi_error or "lists none") + "): ComfyUI runs on the "
                    "CPU, where every DGX-Pixels node works but sampling takes minutes per image")
        card = self.cards[0]
        if self.torch.cuda is None:
            return (f"the GPU ({card.name}) is there but torch {self.torch.version} is a CPU-only build; install a "
                    "CUDA build: `dgx-pixels host setup --torch torch==2.14.1 torchvision==0.29.1` (on a DGX Spark "
                    "PyPI's aarch64 wheel is the CUDA 13 build)")
        if not self.supports(card):
            return (f"torch {self.torch.version} (CUDA {self.torch.cuda}) has no code for {card.name} "
                    f"({card.arch}; it has {', '.join(self.torch.arch) or 'none'}); install a torch built for it")
        return (f"torch {self.torch.version} (CUDA {self.torch.cuda}) cannot reach the GPU ({card.name}, driver "
                f"{card.driver}): " + (self.torch.error or "the driver may be older than the CUDA torch needs; "
                                      "update the NVIDIA driver, or check `nvidia-smi`"))


def nvidia_cards() -> tuple[tuple[Card, ...], str]:
    """(the NVIDIA cards nvidia-smi lists, why none could be listed)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return (), "is not installed (no NVIDIA driver)"
    try:
        result = subprocess.run([smi, "--query-gpu=name,driver_version,compute_cap", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return (), f"did not answer ({err})"
    if result.returncode != 0:
        return (), f"failed: {(result.stderr or result.stdout).strip()[:200]}"
    cards = []
    for line in result.stdout.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) == 3:
            cards.append(Card(*parts))
    return tuple(cards), "" if cards else "lists no GPU"


def torch_report(python: str) -> TorchReport:
    try:
        result = subprocess.run([python, "-c", TORCH_PROBE], capture_output=True, text=True, timeout=120)
        data = json.loads(result.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as err:
        return TorchReport(error=f"cannot run {python}: {err}")
    if "error" in data:
        return TorchReport(error=data["error"])
    return TorchReport(data["version"], data["cuda"], tuple(data["arch"]), bool(data["available"]),
                       data.get("cuda_error", ""))


def probe(python: str) -> GpuReport:
    cards, smi_error = nvidia_cards()
    return GpuReport(cards, smi_error, torch_report(python))
