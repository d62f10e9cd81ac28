"""Pixel grids: finding the true grid of upscaled or AI-drawn pixel art, and downscaling it to native size."""
