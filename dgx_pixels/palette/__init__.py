"""Palettes: the PALETTE value, the perceptual space, extraction, application with dithering, files and built-ins."""
