"""Connected regions of a mask: the shapes of a sheet, the backdrop reachable from the border.

Labelling is a sequential scan: scipy's union-find labels a 768x768 winding shape in milliseconds, where repeated
neighbour passes on a tensor need thousands of rounds (seconds on a CPU, and a host sync per convergence check on
a GPU). So the mask, one byte per pixel, goes to the host, and what the caller needs (labels, boxes) comes back.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

SQUARE = np.ones((3, 3), bool)  # 8-connected neighbours
CROSS = ndimage.generate_binary_structure(2, 1)  # 4-connected neighbours


def label_array(mask: np.ndarray, connectivity: int = 8) -> tuple[np.ndarray, int]:
    """(labels ``[H, W]`` with 0 = background, the number of parts) of a bool mask."""
    return ndimage.label(mask, structure=SQUARE if connectivity == 8 else CROSS)
