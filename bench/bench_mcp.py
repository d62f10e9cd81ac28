#!/usr/bin/env python3
"""What the MCP server costs per call, and whether its memory stays flat over a long session.

Round trip: the same calls through the official SDK's client over stdio and over streamable HTTP, against
``dgx-pixels mcp`` and, in the same run, against the SDK's floor (a minimal MCPServer on the same SDK with one
``echo`` tool, started by this script); beside them the tools' own work called in-process. Per call: ``echo`` on
the floor server (the protocol alone), ``list_workflows`` and ``list_project_assets`` on ours; the overhead is
ours minus the work done in-process, and ours minus the floor says what our server adds to the SDK.

Soak: ``--calls`` tool calls over stdio, as an assistant's session makes them: list the workflows and palettes,
look at the project's assets, clean up and recolour a small image (torch on the CPU), a tool error (bad
arguments), and every ``--job-every`` calls a job of the cleanup workflow on a real ComfyUI started here (no model
needed) whose files are then read as resources. The server process's RSS is sampled after the warm-up and every
``--every`` calls.

    $(python3 -m dgx_pixels host python) bench/bench_mcp.py                 # writes artifacts/mcp/bench.json
    ... bench/bench_mcp.py --calls 200 --rounds 200 --job-every 10 --no-comfy
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))

MIB = 1024 * 1024
TOKEN = "bench-token"
# Our timed tools: the library with every parameter (a 20 KB answer), and a small answer from a little work.
OUR_CALLS = {"list_workflows": {}, "list_project_assets": {"project": "game"}}


# ---------------------------------------------------------------------------------------------------- floor server
def floor_server(port: int | None) -> None:
    """The SDK's floor: one tool that returns its argument."""
    from mcp.server import MCPServer

    server = MCPServer("floor", log_level="WARNING")

    @server.tool(description="Returns its text.")
    def echo(text: str) -> str:
        return text

    if port is None:
        server.run("stdio")
        return
    import uvicorn

    from dgx_pixels.mcp.server import HTTP_PATH, BearerToken

    app = BearerToken(server.streamable_http_app(streamable_http_path=HTTP_PATH, host="127.0.0.1"), TOKEN)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# ---------------------------------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {timeout} s")


def server_commands(comfy_url: str, root: Path) -> dict[str, list[str]]:
    return {"ours": [sys.executable, "-m", "dgx_pixels", "mcp", "--server", comfy_url, "--root", str(root)],
            "floor": [sys.executable, str(Path(__file__).resolve()), "--floor-server"]}


def stdio_client(command: list[str]):
    from mcp import Client, StdioServerParameters

    return Client(StdioServerParameters(command=command[0], args=command[1:], cwd=str(ROOT)),
                  read_timeout_seconds=600)


class HttpServer:
    """A server command run with ``--http PORT`` (the token in the environment) and a client for it."""

    def __init__(self, command: list[str]):
        self.port = free_port()
        self.process = subprocess.Popen([*command, "--http", str(self.port)], cwd=ROOT,
                                        env={**os.environ, "DGX_PIXELS_MCP_TOKEN": TOKEN},
                                        stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)

    def client(self):
        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client

        self.http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=600)
        return Client(streamable_http_client(f"http://127.0.0.1:{self.port}/mcp", http_client=self.http),
                      read_timeout_seconds=600)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def server_process(command: list[str]) -> psutil.Process:
    """The stdio server the SDK's client started: our child running ``command``."""
    for child in psutil.Process().children(recursive=True):
        try:
            if child.cmdline()[1:len(command)] == command[1:]:
                return child
        except psutil.Error:
            continue
    raise SystemExit(f"no child process runs {' '.join(command)}")


def rss_mib(process: psutil.Process) -> float:
    return round(process.memory_info().rss / MIB, 1)


# ---------------------------------------------------------------------------------------------------- round trip
async def timed(call, rounds: int, warmup: int = 20) -> dict:
    for _ in range(warmup):
        await call()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
            "n": rounds}


async def round_trips(client, calls: dict[str, dict], rounds: int) -> dict:
    """``calls``: tool -> arguments, each timed ``rounds`` times."""
    timings = {}
    for tool, arguments in calls.items():
        async def call():
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, result.content

        timings[tool] = await timed(call, rounds)
    return timings


def in_process(root: Path, rounds: int) -> dict:
    """The work of our timed tools without MCP: the functions the tools call."""
    from dgx_pixels.mcp.local import project_assets
    from dgx_pixels.mcp.server import Settings, Studio
    from dgx_pixels.remote.service import JobService

    studio = Studio(Settings([], [root], root / "runs"))

    async def workflows():
        JobService.workflows()

    async def assets():
        project_assets(studio, "game")

    return {"list_workflows": asyncio.run(timed(workflows, rounds)),
            "list_project_assets": asyncio.run(timed(assets, rounds))}


async def measure_transport(make_client, calls: dict[str, dict], rounds: int) -> dict:
    started = time.perf_counter()
    async with make_client() as client:
        connected = (time.perf_counter() - started) * 1000
        result = await round_trips(client, calls, rounds)
    return {**result, "connect_ms": round(connected, 1)}


# ---------------------------------------------------------------------------------------------------- soak
def soak_inputs(root: Path) -> None:
    from dgx_pixels.image import io as imageio
    from pixel_art import blow_up, true_sprite, uniform_cuts

    import numpy as np

    rgb, _ = true_sprite(20, 16, seed=11, alpha=False)
    image, _ = blow_up(rgb, np.zeros((16, 20), np.float32), uniform_cuts(20, 4.0), uniform_cuts(16, 4.0),
                       noise=0.01)
    imageio.save_png(root / "art.png", image[0])
    (root / "game").mkdir()
    (root / "game" / "Cargo.toml").write_text('[package]\nname = "game"\n\n[dependencies]\nbevy = "0.19"\n')


def soak_calls(with_jobs: bool, job_every: int):
    """The n-th call of the session: (tool, arguments, expect an error)."""
    cycle = [("list_workflows", {}, False), ("list_palettes", {}, False),
             ("list_project_assets", {"project": "game"}, False),
             ("cleanup_image", {"image": "art.png", "output": "out/clean.png", "colours": 8}, False),
             ("apply_palette", {"image": "art.png", "output": "out/pico.png", "palette": "PICO-8"}, False),
             ("cleanup_image", {"image": "/etc/passwd", "output": "out/x.png"}, True),
             ("generate_tiles", {"prompt": "moss", "tiles": 0}, True)]

    def call(number: int):
        if with_jobs and number % job_every == job_every - 1:
            return ("run_workflow", {"workflow": "cleanup_existing_art",
                                     "parameters": {"image": "art.png", "colours": 8,
                                                    "asset_name": f"soak{number}"}}, False)
        return cycle[number % len(cycle)]

    return call


async def soak(command: list[str], calls: int, every: int, warmup: int, next_call) -> dict:
    samples, jobs, resources = [], 0, 0
    started = time.monotonic()
    async with stdio_client(command) as client:
        process = server_process(command)
        for number in range(warmup + calls):
            if number == warmup:
                started = time.monotonic()
                samples.append({"calls": 0, "rss_mib": rss_mib(process)})
            tool, arguments, error = next_call(number)
            result = await client.call_tool(tool, arguments)
            assert result.is_error == error, (tool, result.content)
            if tool == "run_workflow":
                links = [block for block in result.content if block.type == "resource_link"]
                assert links, result.content
                for link in links:  # the assistant looks at what came back
                    await client.read_resource(str(link.uri))
                jobs, resources = jobs + (number >= warmup), resources + len(links) * (number >= warmup)
            done = number + 1 - warmup
            if done > 0 and (done % every == 0 or done == calls):
                samples.append({"calls": done, "rss_mib": rss_mib(process),
                                "seconds": round(time.monotonic() - started, 2)})
                print(f"  {done:4d} calls  {samples[-1]['seconds']:7.1f} s  server RSS {samples[-1]['rss_mib']} MiB",
                      flush=True)
    rss = [s["rss_mib"] for s in samples]
    half = next(s["rss_mib"] for s in samples if s["calls"] >= calls // 2)
    return {"calls": calls, "warmup_calls": warmup, "jobs": jobs, "resources_read": resources,
            "seconds": samples[-1]["seconds"],
            "rss_mib": {"start": rss[0], f"at_{calls // 2}": half, "end": rss[-1], "max": max(rss),
                        "growth": round(rss[-1] - rss[0], 1), "growth_second_half": round(rss[-1] - half, 1)},
            "samples": samples}


# ---------------------------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="timed calls per measurement (default: 200)")
    parser.add_argument("--calls", type=int, default=200, help="tool calls in the soak (default: 200)")
    parser.add_argument("--warmup", type=int, default=20, help="soak calls before the first sample (default: 20)")
    parser.add_argument("--every", type=int, default=25, help="sample the RSS every N calls (default: 25)")
    parser.add_argument("--job-every", type=int, default=10, help="one ComfyUI job every N soak calls (default: 10)")
    parser.add_argument("--no-comfy", action="store_true", help="no ComfyUI: the soak has no jobs")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "mcp" / "bench.json")
    parser.add_argument("--floor-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--http", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_server:
        floor_server(args.http)
        return 0

    comfy = None
    if not args.no_comfy:
        from comfy_server import ComfyServer
        from dgx_pixels.host import provision as hostlib

        comfy = ComfyServer(hostlib.require_host(), Path(tempfile.mkdtemp(prefix="dgx-bench-mcp-comfy-"))).start()
    try:
        with tempfile.TemporaryDirectory(prefix="dgx-bench-mcp-") as folder:
            root = Path(folder)
            soak_inputs(root)
            commands = server_commands(comfy.url if comfy else "http://127.0.0.1:9", root)
            report = {"sdk": f"mcp {version('mcp')}", "cpu_count": os.cpu_count(),
                      "python": sys.version.split()[0], "round_trip": {}}
            report["round_trip"]["in_process"] = in_process(root, args.rounds)
            for name, command in commands.items():
                calls = (OUR_CALLS if name == "ours" else {"echo": {"text": "hello"}})
                print(f"round trips: {name} over stdio", flush=True)
                report["round_trip"][f"{name} stdio"] = asyncio.run(
                    measure_transport(lambda: stdio_client(command), calls, args.rounds))
                print(f"round trips: {name} over streamable HTTP", flush=True)
                server = HttpServer(command)
                try:
                    report["round_trip"][f"{name} http"] = asyncio.run(
                        measure_transport(server.client, calls, args.rounds))
                finally:
                    server.stop()
            print(f"soak: {args.calls} tool calls over stdio", flush=True)
            report["soak"] = asyncio.run(soak(commands["ours"], args.calls, args.every, args.warmup,
                                              soak_calls(comfy is not None, args.job_every)))
    finally:
        if comfy is not None:
            comfy.stop()
    trips = report["round_trip"]
    for transport in ("stdio", "http"):
        ours, floor = trips[f"ours {transport}"], trips[f"floor {transport}"]
        report[f"overhead {transport}"] = {
            f"{tool} {what}_ms": round(ours[tool]["median_ms"] - base, 3)
            for tool in OUR_CALLS for what, base in (("minus in-process", trips["in_process"][tool]["median_ms"]),
                                                     ("minus floor echo", floor["echo"]["median_ms"]))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "soak"}, indent=1))
    print(json.dumps({k: v for k, v in report["soak"].items() if k != "samples"}, indent=1))
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
