"""The live training report: the text each step sends, read back; anything else (another node's text, garbage from
a server) reads as no report."""
from __future__ import annotations

import math

import pytest

from dgx_pixels.training.progress import REPORT_LENGTH, TrainingStep, parse_training_step, tenth, training_step


@pytest.mark.parametrize("step, total, loss, text", [
    (12, 300, 0.123456, "step 12/300 loss 0.1235"),
    (1, 1, 12.5, "step 1/1 loss 12.5"),
    (3000, 3000, 0.000012345, "step 3000/3000 loss 1.234e-05"),
])
def test_a_step_reads_back_from_its_text(step, total, loss, text):
    report = training_step(step, total, loss)
    assert report.text() == text
    back = parse_training_step(text)
    assert (back.step, back.total) == (step, total) and back.loss == pytest.approx(loss, rel=1e-3)


def test_a_loss_that_is_no_number_is_kept_as_none():
    assert training_step(4, 10, math.nan) == TrainingStep(4, 10, None)
    assert training_step(4, 10, math.inf).text() == "step 4/10 loss nan"
    assert parse_training_step("step 4/10 loss nan") == TrainingStep(4, 10, None)
    assert parse_training_step("step 4/10 loss inf") == TrainingStep(4, 10, None)


@pytest.mark.parametrize("text", [
    "", "width: 64, height: 64", "step 0/10 loss 0.1", "step 11/10 loss 0.1", "step 1/0 loss 0.1",
    "step 1/10 loss zero", "step 1/10 loss 0.1 extra", "step -1/10 loss 0.1", "step 1/10 loss " + "9" * 30,
    "step 1234567890/1234567890 loss 1", "step 1/10 loss 0.1" + " " * REPORT_LENGTH, None, b"step 1/2 loss 1",
])
def test_other_texts_are_no_report(text):
    assert parse_training_step(text) is None


def test_tenths_run_from_the_first_step_to_the_last():
    assert [tenth(TrainingStep(step, 100, 0.1)) for step in (1, 9, 10, 55, 99, 100)] == [0, 0, 1, 5, 9, 10]
    assert [tenth(TrainingStep(step, 3, 0.1)) for step in (1, 2, 3)] == [3, 6, 10]
