"""DGX-Pixels core: pixel, palette, sheet and export logic that never imports ComfyUI.

The ComfyUI nodes in ``nodes/`` are thin wrappers over these modules; the ``dgx-pixels`` command and the
API client use them directly.
"""

__version__ = "0.1.0"
