"""Synthetic native pixel-art characters with known changes, for the consistency scores: a knight (head, armour,
red cape, arms, legs, a dark outline) drawn with one thing changed at a time, and a different character."""
from __future__ import annotations

import numpy as np
import torch

OUTLINE = (26, 26, 36)
SKIN = (240, 192, 144)
HAIR = (107, 58, 30)
ARMOUR = (184, 192, 204)
ARMOUR_SHADE = (127, 136, 150)
CAPE = (192, 32, 48)
BELT = (224, 176, 48)
LEGS = (48, 58, 112)
BOOTS = (90, 60, 40)
EYE = (20, 20, 30)


def _outlined(canvas: np.ndarray, opaque: np.ndarray) -> np.ndarray:
    """Add a one-pixel outline around the opaque shape; returns RGBA uint8."""
    grown = opaque.copy()
    grown[1:] |= opaque[:-1]
    grown[:-1] |= opaque[1:]
    grown[:, 1:] |= opaque[:, :-1]
    grown[:, :-1] |= opaque[:, 1:]
    rgba = np.zeros((*opaque.shape, 4), np.uint8)
    rgba[grown, :3] = OUTLINE
    rgba[opaque, :3] = canvas[opaque]
    rgba[grown, 3] = 255
    return rgba


def _paint(canvas, opaque, y0, y1, x0, x1, colour):
    canvas[y0:y1, x0:x1] = colour
    opaque[y0:y1, x0:x1] = True


def knight(width: int = 28, height: int = 44, arm_out: int = 0, cape: tuple = CAPE, head: int = 8,
           step: int = 0) -> torch.Tensor:
    """The knight as RGBA ``[height, width, 4]`` floats, feet on the bottom row but one. ``arm_out`` swings the
    right arm out sideways by that many pixels (a shifted limb); ``cape`` recolours the cape; ``head`` is the
    head's height in pixels (8: as drawn); ``step`` spreads the legs (a walking pose)."""
    canvas = np.zeros((height, width, 3), np.uint8)
    opaque = np.zeros((height, width), bool)
    cx, ground = width // 2, height - 2
    legs_top = ground - 12
    body_top = legs_top - 12
    head_top = body_top - head
    _paint(canvas, opaque, body_top + 1, legs_top + 6, cx - 7, cx - 3, cape)  # cape behind the left side
    _paint(canvas, opaque, legs_top, ground - 2, cx - 4 - step, cx - 1 - step, LEGS)
    _paint(canvas, opaque, legs_top, ground - 2, cx + 1 + step, cx + 4 + step, LEGS)
    _paint(canvas, opaque, ground - 2, ground, cx - 5 - step, cx - 1 - step, BOOTS)
    _paint(canvas, opaque, ground - 2, ground, cx + 1 + step, cx + 5 + step, BOOTS)
    _paint(canvas, opaque, body_top, legs_top, cx - 5, cx + 5, ARMOUR)
    _paint(canvas, opaque, body_top + 2, legs_top - 2, cx + 1, cx + 4, ARMOUR_SHADE)
    _paint(canvas, opaque, legs_top - 2, legs_top - 1, cx - 5, cx + 5, BELT)
    _paint(canvas, opaque, body_top + 1, body_top + 11, cx - 8, cx - 5, ARMOUR)  # left arm
    _paint(canvas, opaque, body_top + 1, body_top + 11, cx + 5 + arm_out, cx + 8 + arm_out, ARMOUR)  # right arm
    if arm_out:
        _paint(canvas, opaque, body_top + 1, body_top + 3, cx + 5, cx + 5 + arm_out, ARMOUR)  # the shoulder
    _paint(canvas, opaque, head_top, body_top, cx - 4, cx + 4, SKIN)
    _paint(canvas, opaque, head_top, head_top + 2, cx - 4, cx + 4, HAIR)
    canvas[head_top + head // 2, cx - 2] = EYE
    canvas[head_top + head // 2, cx + 1] = EYE
    return torch.from_numpy(_outlined(canvas, opaque)).float() / 255


ROBE = (96, 48, 140)
ROBE_SHADE = (64, 30, 100)
GREEN_SKIN = (120, 190, 90)
STAFF = (150, 110, 60)
ORB = (90, 220, 240)


def wizard(width: int = 28, height: int = 44) -> torch.Tensor:
    """A different character on the same canvas: a green-skinned wizard in a flared purple robe and a pointed hat,
    holding a staff with a glowing orb."""
    canvas = np.zeros((height, width, 3), np.uint8)
    opaque = np.zeros((height, width), bool)
    cx, ground = width // 2, height - 2
    for row in range(ground - 22, ground):  # the robe flares out towards the ground
        half = 3 + (row - (ground - 22)) // 3
        _paint(canvas, opaque, row, row + 1, cx - half, cx + half, ROBE if row % 4 else ROBE_SHADE)
    _paint(canvas, opaque, ground - 29, ground - 22, cx - 3, cx + 3, GREEN_SKIN)
    for row in range(ground - 38, ground - 29):  # the hat narrows to a point
        half = max(1, (row - (ground - 38)) // 2 + 1)
        _paint(canvas, opaque, row, row + 1, cx - half, cx + half, ROBE_SHADE)
    _paint(canvas, opaque, ground - 30, ground - 29, cx - 6, cx + 6, ROBE_SHADE)  # the hat's brim
    _paint(canvas, opaque, ground - 30, ground, cx + 9, cx + 10, STAFF)
    _paint(canvas, opaque, ground - 33, ground - 30, cx + 8, cx + 11, ORB)
    canvas[ground - 26, cx - 1] = EYE
    canvas[ground - 26, cx + 1] = EYE
    return torch.from_numpy(_outlined(canvas, opaque)).float() / 255
