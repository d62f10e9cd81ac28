"""DGX-Pixels for ComfyUI: pixel-art game assets (true pixel grids, palettes, sprite sheets, Bevy export)."""
from .nodes import comfy_entrypoint

WEB_DIRECTORY = "./web/js"

__all__ = ["comfy_entrypoint", "WEB_DIRECTORY"]
