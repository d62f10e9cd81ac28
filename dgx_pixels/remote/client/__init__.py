"""Queue DGX-Pixels workflows on one or more ComfyUI servers from Python, and get files back.

::

    from dgx_pixels.remote.client import Client, Job

    client = Client(servers=["http://127.0.0.1:8188"])
    result = client.run_sync("tiny_txt2img.json", {"prompt": "a knight", "steps": 4}, out_dir="out")
    print(result.files[0].path, result.seed)

    async with Client(servers=["http://gpu1:8188", "http://gpu2:8188"]) as client:
        jobs = [Job.create("character_sprite_sheet", {"prompt": p}) for p in prompts]
        batch = await client.run_batch(jobs, out_dir="out/heroes")

Each job's inputs are uploaded (``/upload/image``), its prompt queued (``/prompt``; ``node_errors`` are checked even
on a 200, because ComfyUI queues a prompt with a failing output and silently drops that output), its progress
followed over the websocket, and its output files downloaded (``/view``). Everything about a batch is recorded in
``<out_dir>/manifest.json``, rewritten atomically as jobs move on: parameters, seed, prompt id, server, and each
output file with its sha256.

Exactly once: every job gets its prompt id before it is queued, and the id is in the manifest first. When a
server's connection drops, the client reconnects with backoff and asks the server (``/queue``, ``/history``) about
each of its jobs: still queued -> keep following; finished -> take the result; unknown (the server restarted) ->
queue it again, under a new id recorded before it is sent. A job is never queued again once the server has
reported it finished, even when the server dies before its outputs are downloaded (the files wait on the server's
disk; ``resume`` fetches them). Cancelling a batch (Ctrl-C in the sync calls) deletes its queued prompts on the
servers, interrupts the running ones, and leaves a manifest that ``resume`` continues.
"""
from __future__ import annotations

from .records import (BadReply, BatchResult, ClientError, Event, EventKind, Job, JobFailed, JobRecord, JobResult,
                      JobState, OutputFile, PromptRejected, ServerError, ServerUnreachable)

__all__ = ["BadReply", "BatchResult", "Client", "ClientError", "Event", "EventKind", "Job", "JobFailed", "JobRecord",
           "JobResult", "JobState", "OutputFile", "PromptRejected", "ServerError", "ServerUnreachable"]


def __getattr__(name: str):
    # The Client (and aiohttp under it) loads on first use: commands that never talk to a server start faster.
    if name == "Client":
        from .api import Client

        return Client
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
