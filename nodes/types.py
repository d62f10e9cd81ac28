"""The custom types DGX-Pixels nodes pass between them (ids are stable: saved workflows name them)."""
from comfy_api.latest import io

GRID = io.Custom("DGXPIXELS_GRID")  # dgx_pixels.pixel.grid.GridSet: the pixel grid found on a batch
PALETTE = io.Custom("DGXPIXELS_PALETTE")  # dgx_pixels.palette.palette.Palette
SHEET = io.Custom("DGXPIXELS_SHEET")  # dgx_pixels.sheets.layout.SheetLayout
FRAMES = io.Custom("DGXPIXELS_FRAMES")  # list of dgx_pixels.sheets.frames.Frame, one per image of a batch
STRIPS = io.Custom("DGXPIXELS_STRIPS")  # dgx_pixels.character.strips.StripPlan: a character planned as strips
TERRAIN = io.Custom("DGXPIXELS_TERRAIN")  # dgx_pixels.terrain.plan.TerrainPlan: a terrain set planned tile by tile
