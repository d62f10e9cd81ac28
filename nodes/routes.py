"""The REST job API (dgx_pixels.remote.rest) on ComfyUI's own server: its routes join the server's when the pack
loads. Jobs run through the client against this same server (its loopback address), their files are kept in
ComfyUI's temp folder (emptied when ComfyUI starts), and image parameters name files in its input folder."""
from __future__ import annotations

from pathlib import Path

import folder_paths
import server

from ..dgx_pixels.remote.rest import add_routes
from ..dgx_pixels.remote.service import JobService, images_in

JOBS_FOLDER = "dgx-pixels-jobs"
WILDCARDS = ("", "0.0.0.0", "::")
_service: list[JobService] = []  # made on first use, when the server knows its port


def own_url(prompt_server) -> str:
    """This server as a client on this machine reaches it."""
    address = getattr(prompt_server, "address", "") or ""
    host = "127.0.0.1" if address in WILDCARDS else address
    return f"http://{f'[{host}]' if ':' in host else host}:{prompt_server.port}"


def service() -> JobService:
    if not _service:
        images = images_in(Path(folder_paths.get_input_directory()), "ComfyUI's input folder")
        _service.append(JobService([own_url(server.PromptServer.instance)],
                                   Path(folder_paths.get_temp_directory()) / JOBS_FOLDER, images,
                                   delete_forgotten=True, keep_finished=100))
    return _service[0]


def register() -> None:
    prompt_server = getattr(server.PromptServer, "instance", None)
    if prompt_server is not None:  # None when the nodes are loaded without a server (tools, tests)
        add_routes(prompt_server.routes, service)
