"""The live report of a LoRA training run: one short text a step, ``step 12/300 loss 0.1234``. The Train Pixel LoRA
node sends it as ComfyUI's progress text; clients read the step and the loss back from it."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

REPORT_LENGTH = 80  # characters: a longer text is no report of ours
_REPORT = re.compile(r"step (\d{1,9})/(\d{1,9}) loss (\S{1,24})")


@dataclass(frozen=True)
class TrainingStep:
    """Step ``step`` of ``total`` (1-based) and its loss (None when it is not a finite number)."""

    step: int
    total: int
    loss: float | None

    def text(self) -> str:
        loss = "nan" if self.loss is None else f"{self.loss:.4g}"
        return f"step {self.step}/{self.total} loss {loss}"


def training_step(step: int, total: int, loss: float) -> TrainingStep:
    """The report of a step as the trainer gives it (a loss that is NaN or infinite is kept as None)."""
    return TrainingStep(step, total, loss if math.isfinite(loss) else None)


def parse_training_step(text: str) -> TrainingStep | None:
    """The step a report names, or None for any other text (another node's progress text, or garbage)."""
    if not isinstance(text, str) or len(text) > REPORT_LENGTH:
        return None
    match = _REPORT.fullmatch(text.strip())
    if match is None:
        return None
    step, total = int(match[1]), int(match[2])
    if not 0 < step <= total:
        return None
    try:
        loss = float(match[3])
    except ValueError:
        return None
    return TrainingStep(step, total, loss if math.isfinite(loss) else None)


def tenth(step: TrainingStep) -> int:
    """Which tenth of the run the step falls in, 0 (the first step of a long run) to 10 (the last step): a log
    shows one line a tenth."""
    return step.step * 10 // step.total
