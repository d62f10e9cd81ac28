"""A node's progress text (ComfyUI's binary websocket message): read with its bounds, carried on the running job's
progress events, shown by the progress view and written into --json events with the step and the loss."""
from __future__ import annotations

import io
import json
import struct

import pytest

from dgx_pixels.cli.events import JsonEvents
from dgx_pixels.cli.progress import ProgressView
from dgx_pixels.remote.client.records import Event, EventKind, JobRecord
from dgx_pixels.remote.client.replies import NODE_ID_BYTES, PROGRESS_TEXT_LENGTH, progress_text
from dgx_pixels.remote.client.server import Attempt, Server, Settings


def frame(node: str, text: str | bytes, event: int = 3) -> bytes:
    """What ComfyUI's send_progress_text sends: the event type, then the node id's length, the node id, the text."""
    text = text.encode() if isinstance(text, str) else text
    return struct.pack(">I", event) + struct.pack(">I", len(node.encode())) + node.encode() + text


def test_the_node_and_its_text_are_read():
    assert progress_text(frame("5", "step 12/300 loss 0.1234")) == ("5", "step 12/300 loss 0.1234")
    assert progress_text(frame("7:3", "")) == ("7:3", "")
    assert progress_text(bytearray(frame("5", "ok"))) == ("5", "ok")


@pytest.mark.parametrize("message", [
    b"", b"\0\0\0\3", frame("5", "a preview", event=1), frame("5", "x", event=4),
    struct.pack(">II", 3, 50) + b"short",  # a node id longer than the message
    struct.pack(">II", 3, NODE_ID_BYTES + 1) + b"5" * (NODE_ID_BYTES + 1),
    "text, not bytes",
])
def test_other_or_malformed_messages_are_ignored(message):
    assert progress_text(message) is None


def test_the_text_is_one_bounded_line_of_printable_characters():
    _, text = progress_text(frame("5", "\x1b[2J\x1b]0;owned\x07step 1/2\nloss\t0.5\r"))
    assert "\x1b" not in text and "\x07" not in text and text == "[2J ]0;owned step 1/2 loss 0.5"
    _, text = progress_text(frame("5", "x" * 10_000_000))
    assert text == "x" * PROGRESS_TEXT_LENGTH
    _, text = progress_text(frame("5", b"\xff\xfe loss \xc3"))
    assert text == "\ufffd\ufffd loss \ufffd"


def following(*prompt_ids: str) -> tuple[Server, list[Event]]:
    """A server's websocket dispatch following jobs (one per prompt id) of a two-node workflow."""
    events = []
    server = Server("http://gpu:8188", None, "me", Settings())
    for prompt_id in prompt_ids:
        job = JobRecord(name=f"job-{prompt_id}", workflow="train", params={}, prompt_id=prompt_id)
        server.attempts[prompt_id] = Attempt(job, server, 2, {"5": "Train LoRA"},
                                             lambda kind, job, url, **info: events.append(Event(kind, job, url,
                                                                                                **info)))
    return server, events


def ws(server: Server, kind: str, **data) -> None:
    server._dispatch(json.dumps({"type": kind, "data": data}))


def test_the_text_rides_on_the_running_jobs_next_progress_event():
    server, events = following("p1", "p2")
    ws(server, "executing", node="5", prompt_id="p1")
    server._dispatch_progress_text(frame("5", "step 1/3 loss 0.5"))
    ws(server, "progress", value=1, max=3, node="5", prompt_id="p1")
    server._dispatch_progress_text(frame("9", "another node's text"))  # no job runs node 9: dropped
    server._dispatch_progress_text(frame("5", "step 2/3 loss 0.25"))
    ws(server, "progress", value=2, max=3, node="5", prompt_id="p1")
    progress = [(e.job.name, e.node, e.step, e.text) for e in events if e.kind == EventKind.PROGRESS]
    assert progress == [("job-p1", "Train LoRA", None, ""), ("job-p1", "Train LoRA", (1, 3), "step 1/3 loss 0.5"),
                        ("job-p1", "Train LoRA", (2, 3), "step 2/3 loss 0.25")]
    ws(server, "executing", node="6", prompt_id="p1")  # the next node starts without text
    assert events[-1].text == "" and server.attempts["p2"].text == ""


def test_json_events_carry_the_step_and_the_loss():
    stream = io.StringIO()
    events = JsonEvents(stream, "train")
    job = JobRecord(name="train", workflow="train", params={})
    for text in ("", "step 2/3 loss 0.25", "step 2/3 loss 0.25", "Pixel grid 8x8"):
        events.job_event(Event(EventKind.PROGRESS, job, "http://gpu", fraction=0.5, node="Train LoRA", step=(2, 3),
                               text=text), out_dir=None)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("text") for line in lines] == [None, "step 2/3 loss 0.25", "Pixel grid 8x8"]  # no repeat
    assert lines[1]["step"] == [2, 3] and lines[1]["loss"] == 0.25 and "loss" not in lines[2]


def training_events(job: JobRecord, total: int):
    for step in range(1, total + 1):
        yield Event(EventKind.PROGRESS, job, "http://gpu", fraction=step / total / 2, node="Train LoRA",
                    step=(step, total), text=f"step {step}/{total} loss {1 / step:.4g}")


def test_the_view_shows_step_and_loss_on_a_terminal():
    view = ProgressView(1, None, stream=io.StringIO(), live=True)
    job = JobRecord(name="train", workflow="train", params={})
    for event in training_events(job, 300):
        view(event)
    assert "Train LoRA: step 300/300 loss 0.003333" in view.lines()[0]


def test_a_log_gets_one_line_a_tenth_of_the_steps():
    stream = io.StringIO()
    view = ProgressView(1, None, stream=stream, live=False)
    job = JobRecord(name="train", workflow="train", params={})
    for event in training_events(job, 300):
        view(event)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "train Train LoRA: step 1/300 loss 1" and lines[-1].startswith("train Train LoRA: step 300/300")
    assert [line.split()[4] for line in lines] == [f"{step}/300" for step in (1, *range(30, 301, 30))]
