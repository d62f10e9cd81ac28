"""The REST job API that ComfyUI serves with this pack loaded, under ``/dgx-pixels/v1/`` (and ``/api/dgx-pixels/v1/``,
as ComfyUI mirrors every route): the shipped workflows by name with named parameters, over plain HTTP and JSON.

    GET  /dgx-pixels/v1/workflows                  the library and each workflow's parameters
    GET  /dgx-pixels/v1/workflows/{name}           one workflow (404 when the library has none of that name)
    POST /dgx-pixels/v1/jobs                       {"workflow": NAME, "parameters": {...}, "name": ""} -> 201 job
    GET  /dgx-pixels/v1/jobs                       every job this server remembers
    GET  /dgx-pixels/v1/jobs/{id}[?wait=S]         state, progress, files (wait: up to S s for the job to finish)
    GET  /dgx-pixels/v1/jobs/{id}/files            its files, each with a download URL
    GET  /dgx-pixels/v1/jobs/{id}/files/{name}     one file
    POST /dgx-pixels/v1/jobs/{id}/cancel           stop it (removed from the queue, or interrupted)

Errors are ``{"error": message}`` with 400 (bad request: the message is the one ``dgx-pixels run`` prints), 404
(no such workflow, job or file), 413 (body over 1 MB), 429 (too many jobs waiting). Each route is a thin layer over
``JobService``; the jobs run through the client against this same server.
"""
from __future__ import annotations

import json
from typing import Callable

from aiohttp import web

from ..common.errors import InputError
from .service import PRIVATE_FILE_KEYS, Busy, JobNotFound, JobService

PREFIX = "/dgx-pixels/v1"
BODY_LIMIT = 1 << 20  # bytes of a request body
START_KEYS = {"workflow", "parameters", "name"}
MAX_WAIT = 60.0  # seconds a status request may wait for its job


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def read_body(request: web.Request) -> dict:
    """The request's JSON object, refused (InputError) when it is not one or over BODY_LIMIT."""
    if request.content_length is not None and request.content_length > BODY_LIMIT:
        raise web.HTTPRequestEntityTooLarge(max_size=BODY_LIMIT, actual_size=request.content_length)
    data = await request.content.read(BODY_LIMIT + 1)
    if len(data) > BODY_LIMIT:
        raise web.HTTPRequestEntityTooLarge(max_size=BODY_LIMIT, actual_size=len(data))
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise InputError("the request body is not JSON; send {\"workflow\": NAME, \"parameters\": {...}}") from None
    if not isinstance(body, dict):
        raise InputError(f"the request body must be a JSON object, got a {type(body).__name__}")
    unknown = set(body) - START_KEYS
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(sorted(str(k)[:40] for k in unknown))}; a job takes "
                         f"{', '.join(sorted(START_KEYS))}")
    return body


def file_list(job) -> list[dict]:
    return [{**{k: v for k, v in f.items() if k not in PRIVATE_FILE_KEYS},
             "url": f"{PREFIX}/jobs/{job.id}/files/{f['name']}"} for f in job.files]


def add_routes(routes: web.RouteTableDef, service: Callable[[], JobService]) -> None:
    """Add the routes to ``routes``; ``service()`` gives the job service (made on first use)."""

    def guarded(handler):
        async def route(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except InputError as err:
                return error(400, str(err))
            except JobNotFound as err:
                return error(404, str(err))
            except Busy as err:
                return error(429, str(err))
            except web.HTTPRequestEntityTooLarge:
                return error(413, f"the request body is over {BODY_LIMIT:,} bytes")
        return route

    @routes.get(f"{PREFIX}/workflows")
    @guarded
    async def workflows(request: web.Request) -> web.Response:
        return web.json_response({"workflows": JobService.workflows()})

    @routes.get(PREFIX + "/workflows/{name}")
    @guarded
    async def workflow(request: web.Request) -> web.Response:
        try:
            return web.json_response(JobService.workflow(request.match_info["name"]))
        except InputError as err:
            return error(404, str(err))

    @routes.post(f"{PREFIX}/jobs")
    @guarded
    async def start(request: web.Request) -> web.Response:
        body = await read_body(request)
        job = service().start(body.get("workflow"), body.get("parameters"), body.get("name", ""))
        return web.json_response({"job": job.status()}, status=201, headers={"Location": f"{PREFIX}/jobs/{job.id}"})

    @routes.get(f"{PREFIX}/jobs")
    @guarded
    async def listing(request: web.Request) -> web.Response:
        return web.json_response({"jobs": service().listing()})

    @routes.get(PREFIX + "/jobs/{id}")
    @guarded
    async def status(request: web.Request) -> web.Response:
        job = service().get(request.match_info["id"])
        wait = request.query.get("wait")
        if wait is not None:
            try:
                seconds = float(wait)
            except ValueError:
                raise InputError(f"wait must be a number of seconds, got {wait[:40]!r}") from None
            if not 0 <= seconds <= MAX_WAIT:
                raise InputError(f"wait must be from 0 to {MAX_WAIT:g} seconds, got {wait[:40]}")
            job = await service().wait(job.id, seconds)
        return web.json_response({"job": {**job.status(), "files": file_list(job)}})

    @routes.get(PREFIX + "/jobs/{id}/files")
    @guarded
    async def files(request: web.Request) -> web.Response:
        return web.json_response({"files": file_list(service().get(request.match_info["id"]))})

    @routes.get(PREFIX + "/jobs/{id}/files/{name}")
    @guarded
    async def one_file(request: web.Request) -> web.StreamResponse:
        found = service().file(request.match_info["id"], request.match_info["name"])
        return web.FileResponse(found["path"], headers={"Content-Type": found["mime"]})

    @routes.post(PREFIX + "/jobs/{id}/cancel")
    @guarded
    async def cancel(request: web.Request) -> web.Response:
        job = await service().cancel(request.match_info["id"])
        return web.json_response({"job": job.status()})
