"""V3 ComfyUI nodes of DGX-Pixels: one module per domain, each listing its nodes in NODES."""
from typing_extensions import override

from comfy_api.latest import ComfyExtension, io

from . import alpha, character, export, outputs, palettes, pixel, poses, prompts, routes, sheets, terrain, tiling

NODE_MODULES = (alpha, character, export, outputs, palettes, pixel, poses, prompts, sheets, terrain, tiling)
routes.register()  # the REST job API joins ComfyUI's server


class DgxPixelsExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [node for module in NODE_MODULES for node in module.NODES]


async def comfy_entrypoint() -> DgxPixelsExtension:
    return DgxPixelsExtension()
