"""Headless Chromium (Debian's, driven by Playwright) on a real ComfyUI server's frontend.

Never downloads a browser: it launches /usr/bin/chromium. Requests that leave the loopback interface are blocked
(the frontend asks the internet for release notes). Screenshots go to ``artifacts/browser/``.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse
from paths import ARTIFACTS as TEST_ARTIFACTS

ARTIFACTS = TEST_ARTIFACTS / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _block_outside(route) -> None:
    host = urlparse(route.request.url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        route.continue_()
    else:
        route.abort()


def open_comfy(browser, server, viewport=(1400, 900)):
    """A page with ComfyUI's frontend loaded, our extension's setup() done, and no first-run dialogs."""
    server.post_json("/settings/Comfy.TutorialCompleted", True)
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.route("**/*", _block_outside)
    page.console_messages = []
    page.on("console", lambda msg: page.console_messages.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: page.console_messages.append(f"pageerror: {err}"))
    page.goto(server.url, wait_until="domcontentloaded")
    page.wait_for_function("() => window.app && window.app.graph && window.__dgxPixelsLoaded === true",
                           timeout=60_000)
    return page


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
