"""Fixtures: the provisioned ComfyUI host, the tiny offline checkpoint, and a real ComfyUI server per session."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import tiny_checkpoint
import tiny_sdxl
from comfy_server import ComfyServer
from dgx_pixels.host import provision as hostlib
from redis_server import broker  # noqa: F401 (the queue tests' redis-server fixture)

TINY_CHECKPOINT_NAME = tiny_checkpoint.CHECKPOINT_NAME
TINY_LORA_NAME = tiny_checkpoint.LORA_NAME


SERVER_TEST_FOLDERS = {"host", "browser"}


def pytest_collection_modifyitems(items):
    """Tests under host/ and browser/ run against a real ComfyUI server, and others need the provisioned host:
    ``-m "not host"`` leaves all of them out (what runs from a source archive with only the package's needs)."""
    for item in items:
        in_folder = SERVER_TEST_FOLDERS & set(item.path.relative_to(Path(__file__).parent).parts[:1])
        if in_folder or "host" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.host)


@pytest.fixture(scope="session")
def host() -> hostlib.Host:
    found = hostlib.load_host()
    if found is None:
        pytest.fail(
            "no ComfyUI host is provisioned, so the host tests cannot run. Provision one with `make host` "
            "(clones the official ComfyUI) or `python3 -m dgx_pixels host setup --comfyui /path/to/ComfyUI` "
            "(an existing ComfyUI folder, or a git URL / local git repository)."
        )
    return found


@pytest.fixture(scope="session")
def tiny_checkpoint_path(host) -> Path:
    """Built once per machine and cached beside the host (about 280 MB, about 5 s)."""
    path = hostlib.cache_dir() / "test-models" / f"v{tiny_checkpoint.FORMAT_VERSION}" / TINY_CHECKPOINT_NAME
    if not path.exists() or not path.with_name(TINY_LORA_NAME).exists():
        subprocess.run([host.python, tiny_checkpoint.__file__, "--comfyui", host.comfyui, "--out", str(path),
                        "--lora", str(path.with_name(TINY_LORA_NAME))], check=True)
    return path


@pytest.fixture(scope="session")
def tiny_lora_path(tiny_checkpoint_path) -> Path:
    return tiny_checkpoint_path.with_name(TINY_LORA_NAME)


@pytest.fixture(scope="session")
def tiny_sdxl_models(host) -> dict[str, Path]:
    """The tiny SDXL checkpoint, OpenPose ControlNet and LoRA (the real SDXL layout), by the model folder each goes
    in; built once per machine beside the SD1.5 one (3 MB in all, about 15 s)."""
    folder = hostlib.cache_dir() / "test-models" / f"v{tiny_sdxl.FORMAT_VERSION}"
    paths = {"checkpoints": folder / tiny_sdxl.CHECKPOINT_NAME, "controlnet": folder / tiny_sdxl.CONTROLNET_NAME,
             "loras": folder / tiny_sdxl.LORA_NAME}
    if not all(path.exists() for path in paths.values()):
        subprocess.run([host.python, tiny_sdxl.__file__, "--comfyui", host.comfyui, "--out", str(folder)],
                       check=True)
    return paths


@pytest.fixture(scope="session")
def comfy(host, tiny_checkpoint_path, tmp_path_factory) -> ComfyServer:
    server = ComfyServer(host, tmp_path_factory.mktemp("comfy-base"),
                         models={"checkpoints": [tiny_checkpoint_path],
                                 "loras": [tiny_checkpoint_path.with_name(TINY_LORA_NAME)]})
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright; fails (not skips) when it is missing, saying how to install it. One per
    module: Playwright's sync API keeps its event loop running in the test thread while it is open, so later tests
    could not start one of their own (asyncio.run)."""
    import frontend as browserlib
    from playwright.sync_api import sync_playwright

    executable = browserlib.chromium_path()
    if executable is None:
        pytest.fail("Chromium is not installed: `apt-get install chromium` (Debian's package; .ci/run does this)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=browserlib.CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
