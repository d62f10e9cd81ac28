"""Generation tools: jobs of the shipped workflows on ComfyUI servers, with progress notifications, status and
cancelling, the export of their sheets into a Bevy project, and the resources that serve their files."""
from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, ResourceLink, TextContent
from pydantic import Field

from ..common.files import read_limited
from ..remote.results import check_export, export_sheet, returned_sheets
from ..common.errors import InputError
from ..remote.service import ACTIVE, JobNotFound, ServiceJob
from .server import Studio, tool_errors

URI_PREFIX = "dgx-pixels://jobs"
MAX_WAIT = 3600.0  # seconds a generate call waits before answering with the job still running
PROGRESS_INTERVAL = 0.25  # seconds between progress notifications (the last one is always sent)
RESOURCE_LIMIT = 256 << 20  # bytes of a file served as a resource
SUFFIX_MIME = {"png": "image/png", "json": "application/json"}

Prompt = Annotated[str, Field(min_length=1, max_length=2000, description="What to draw, in plain words.")]
Colours = Annotated[int | None, Field(ge=0, le=256, description="Palette size: colours in the whole set (0: "
                                                                "automatic, about 8 to 32). Default 16 (items 24).")]
Seed = Annotated[int | None, Field(ge=0, le=2**32 - 1, description="Random seed; the same seed and parameters draw "
                                                                   "the same result. Default: a new one per job.")]
Steps = Annotated[int | None, Field(ge=1, le=150, description="Sampling steps (more: slower, finer). Default 25.")]
AssetName = Annotated[str | None, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
                                        description="Asset name: file and folder names in the game (1-64 letters, "
                                                    "digits, _ or -).")]
BevyProject = Annotated[str | None, Field(max_length=4096, description="A Bevy game folder (with Cargo.toml) inside "
                                          "the allowed folders: the finished sheet is written into its assets/ "
                                          "(previous versions kept) and the Rust code to use it is returned.")]
Extra = Annotated[dict[str, str | int | float | bool] | None,
                  Field(max_length=64, description="Any other parameter of the workflow by name (see "
                                                   "list_workflows), e.g. {\"lora_strength\": 0.8}.")]
Wait = Annotated[bool, Field(description="true (default): answer when the job has finished, with progress "
                                         "notifications meanwhile; cancelling the call cancels the job. false: "
                                         "answer at once with the job id (follow it with job_status).")]
JobId = Annotated[str, Field(min_length=1, max_length=64, description="A job id from a generate call.")]
Size = Annotated[str | None, Field(pattern=r"^\d{1,4}x\d{1,4}$", description="Native size in pixels, WxH, e.g. "
                                                                             "32x32.")]


def file_uri(job: ServiceJob, name: str) -> str:
    return f"{URI_PREFIX}/{job.id}/{name}"


def job_result(studio: Studio, job: ServiceJob, export: dict | None = None) -> CallToolResult:
    """A job as a tool result: a summary line, a resource link per file, the export and its code."""
    status = job.status()
    for entry in status["files"]:
        entry["uri"] = file_uri(job, entry["name"])
        entry["path"] = next(f["path"] for f in job.files if f["name"] == entry["name"])
    structured = {"job": status}
    if job.state == "done":
        line = f"Job {job.id} ({job.workflow}) is done: {len(job.files)} files."
    elif job.state in ACTIVE:
        line = (f"Job {job.id} ({job.workflow}) is {job.state}, {job.fraction:.0%} done"
                + (f" ({job.node})" if job.node else "") + "; follow it with job_status.")
    else:
        line = f"Job {job.id} ({job.workflow}) {job.state}: {job.error}"
    content: list = [TextContent(type="text", text=line)]
    content += [ResourceLink(type="resource_link", uri=entry["uri"], name=entry["name"], mime_type=entry["mime"],
                             size=entry["bytes"], description=f"{entry['name']} of job {job.id} (node {entry['node']})")
                for entry in status["files"]]
    if export is not None:
        structured["export"] = export
        content.append(TextContent(type="text", text=f"Exported into {export['project']} as {export['asset_path']} "
                                                     f"({len(export['files'])} files). Rust code for Bevy:\n\n"
                                                     + export["snippet"]))
    return CallToolResult(content=content, structured_content=structured, is_error=job.state in ("failed",))


async def follow(ctx: Context, studio: Studio, job: ServiceJob, timeout: float) -> None:
    """Wait for the job, sending progress notifications (percent of the workflow's nodes and sampling steps); when
    the caller cancels the call, the job is cancelled on the server too."""
    loop = asyncio.get_running_loop()
    sent = [0.0]

    async def report(changed: ServiceJob) -> None:
        now = loop.time()
        if changed.state in ACTIVE and now - sent[0] < PROGRESS_INTERVAL:
            return
        sent[0] = now
        step = f" step {changed.step[0]}/{changed.step[1]}" if changed.step else ""
        await ctx.report_progress(round(changed.fraction * 100, 1), 100.0,
                                  f"{changed.state}: {changed.node}{step}".rstrip(": "))

    try:
        await studio.service.wait(job.id, timeout, report)
    except BaseException:
        if job.state in ACTIVE:
            with anyio.CancelScope(shield=True):
                await studio.service.cancel(job.id)
        raise


async def export_job(studio: Studio, job: ServiceJob, project: str, name: str | None) -> dict:
    """Write the job's sheet into a Bevy project (inside the allowed folders) and return what was written."""
    def write() -> dict:
        sheets = returned_sheets(job.files, studio.settings.out_dir)
        if not sheets:
            raise ToolError(f"job {job.id} returned no sheet to export (its workflow has no Save Sheet node)")
        done = export_sheet(sheets[0], "bevy", project, studio.settings.roots, name or "")
        return {"project": str(done.project), "asset_path": done.asset_path, "files": done.files,
                "history": done.history, "snippet": done.snippet, "warnings": done.warnings}

    with tool_errors():
        return await anyio.to_thread.run_sync(write)


async def start_and_answer(ctx: Context, studio: Studio, workflow: str, values: dict, wait: bool,
                           project: str | None, name: str | None) -> CallToolResult:
    with tool_errors():
        if project is not None:
            check_export("bevy", studio.path(project, "bevy_project"), studio.settings.roots)
        job = studio.service.start(workflow, {k: v for k, v in values.items() if v is not None})
    if not wait:
        return job_result(studio, job)
    await follow(ctx, studio, job, MAX_WAIT)
    export = None
    if job.state == "done" and project is not None:
        export = await export_job(studio, job, project, name)
    return job_result(studio, job, export)


def register(server, studio: Studio) -> None:
    @server.tool(structured_output=True,
                 description="The shipped workflows with their parameters (name, type, default, limits, help), "
                             "the ComfyUI servers jobs go to, and the folders paths must lie in.")
    def list_workflows() -> dict[str, Any]:
        with tool_errors():
            return {"workflows": studio.service.workflows(), "servers": studio.settings.servers,
                    "allowed_folders": [str(root) for root in studio.settings.roots]}

    @server.tool(description="Draw a game character as a tagged sprite sheet: every animation in every direction, "
                             "one palette, clean alpha, feet on one baseline. Runs on a ComfyUI GPU server (minutes; "
                             "progress is reported). Returns the sheet PNG and its metadata JSON as resources, and "
                             "with bevy_project writes them into the game and returns the Rust code.")
    async def generate_character(
            ctx: Context, prompt: Prompt,
            animations: Annotated[str | None, Field(max_length=500, description="Animations, e.g. 'idle, walk:8, "
                                                    "attack once' (name, optional :frames, optional loop mode). "
                                                    "Default 'idle, walk, attack'.")] = None,
            directions: Annotated[Literal["side", "right", "4", "8"] | None,
                                  Field(description="View directions: side (left+right), right, 4 or 8 compass "
                                                    "directions. Default side.")] = None,
            frames: Annotated[int | None, Field(ge=0, le=64, description="Frames per animation (0: each "
                                                                         "animation's usual count).")] = None,
            size: Size = None, colours: Colours = None, seed: Seed = None, steps: Steps = None,
            asset_name: AssetName = None, bevy_project: BevyProject = None, parameters: Extra = None,
            wait: Wait = True) -> CallToolResult:
        values = {"prompt": prompt, "animations": animations, "directions": directions, "frames": frames,
                  "size": size, "colours": colours, "seed": seed, "steps": steps, "asset_name": asset_name,
                  **(parameters or {})}
        return await start_and_answer(ctx, studio, "character_sprite_sheet", values, wait, bevy_project, asset_name)

    @server.tool(description="Draw seamless (wrap-around) tiles on one palette, laid out as a tileset with a seam "
                             "check per tile (Tiled .tsx and Bevy files on export). Runs on a ComfyUI GPU server.")
    async def generate_tiles(
            ctx: Context, prompt: Prompt,
            tiles: Annotated[int | None, Field(ge=1, le=64, description="How many tiles. Default 4.")] = None,
            tile_size: Size = None,
            axes: Annotated[Literal["both", "x", "y"] | None, Field(description="Wrap both ways (default) or "
                                                                                "along one axis.")] = None,
            colours: Colours = None, seed: Seed = None, steps: Steps = None, asset_name: AssetName = None,
            bevy_project: BevyProject = None, parameters: Extra = None, wait: Wait = True) -> CallToolResult:
        values = {"prompt": prompt, "tiles": tiles, "tile_size": tile_size, "axes": axes, "colours": colours,
                  "seed": seed, "steps": steps, "asset_name": asset_name, **(parameters or {})}
        return await start_and_answer(ctx, studio, "tileset_seamless", values, wait, bevy_project, asset_name)

    @server.tool(description="Draw one icon per item on a shared palette, packed into one atlas (inventory icons, "
                             "pickups). Runs on a ComfyUI GPU server.")
    async def generate_items(
            ctx: Context,
            items: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]],
                             Field(min_length=1, max_length=256, description="The items, one name each, e.g. "
                                                                             "['iron sword', 'health potion'].")],
            icon_size: Size = None, colours: Colours = None, seed: Seed = None, steps: Steps = None,
            asset_name: AssetName = None, bevy_project: BevyProject = None, parameters: Extra = None,
            wait: Wait = True) -> CallToolResult:
        values = {"items": "\n".join(item.replace("\n", " ") for item in items), "icon_size": icon_size,
                  "colours": colours, "seed": seed, "steps": steps, "asset_name": asset_name, **(parameters or {})}
        return await start_and_answer(ctx, studio, "item_icons", values, wait, bevy_project, asset_name)

    @server.tool(description="Run any shipped workflow by name with named parameters (list_workflows shows them), "
                             "e.g. cleanup_existing_art with {\"image\": \"art/knight.png\"} (image paths inside "
                             "the allowed folders).")
    async def run_workflow(
            ctx: Context, workflow: Annotated[str, Field(min_length=1, max_length=100)],
            parameters: Extra = None, bevy_project: BevyProject = None, wait: Wait = True) -> CallToolResult:
        name = (parameters or {}).get("asset_name")
        return await start_and_answer(ctx, studio, workflow, dict(parameters or {}), wait, bevy_project,
                                      name if isinstance(name, str) else None)

    @server.tool(description="A job's state (queued, running, done, failed, cancelled), progress (fraction 0-1, "
                             "node, sampling step) and files. wait_seconds (0-60) waits that long for it to finish.")
    async def job_status(ctx: Context, job_id: JobId, wait_seconds: Annotated[float, Field(ge=0, le=60)] = 0
                         ) -> CallToolResult:
        with tool_errors():
            job = studio.service.get(job_id)
        if wait_seconds:
            await follow(ctx, studio, job, wait_seconds)
        return job_result(studio, job)

    @server.tool(description="Cancel a job: removed from the server's queue, or interrupted while it runs. A "
                             "finished job is left as it is.")
    async def cancel_job(job_id: JobId) -> CallToolResult:
        with tool_errors():
            job = await studio.service.cancel(job_id)
        return job_result(studio, job)

    @server.tool(structured_output=True,
                 description="Write a finished job's sheet into a Bevy project inside the allowed folders: "
                             "assets/<sprites|tilesets|items>/<name>/ with the PNG, atlas, animations and Aseprite "
                             "JSON; previous versions are kept. Returns the files and the Rust code to paste.")
    async def export_to_bevy(job_id: JobId, project: Annotated[str, Field(min_length=1, max_length=4096)],
                             asset_name: AssetName = None) -> dict[str, Any]:
        with tool_errors():
            job = studio.service.get(job_id)
            if job.state != "done":
                raise ToolError(f"job {job.id} is {job.state}; only a finished job can be exported")
            studio.path(project, "project")
        return await export_job(studio, job, project, asset_name)

    for suffix, mime in SUFFIX_MIME.items():
        server.resource(f"{URI_PREFIX}/{{job_id}}/{{stem}}.{suffix}", name=f"job-{suffix}", mime_type=mime,
                        description=f"A {suffix.upper()} file a job made (the sheet, its metadata, "
                                    "reports)")(file_reader(studio, suffix))


def file_reader(studio: Studio, suffix: str):
    """The resource function for a job's files of one suffix (text for JSON, bytes for images)."""
    def read(job_id: str, stem: str) -> bytes | str:
        try:
            found = studio.service.file(job_id, f"{stem}.{suffix}")
            data = read_limited(found["path"], RESOURCE_LIMIT, "job file")
        except (JobNotFound, InputError) as err:
            raise ResourceNotFoundError(str(err)) from None
        return data.decode() if suffix == "json" else data

    return read
