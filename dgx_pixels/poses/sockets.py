"""Sockets and hitboxes of a posed frame, from its OpenPose keypoints: what a game attaches a weapon, a hat or a
hurtbox to, with no hand work.

Sockets (points, frame pixels): ``head`` (the middle of the visible face points), ``hand_r`` / ``hand_l`` (the palm:
past the wrist along the forearm by HAND_REACH of its length, where a grip sits), ``foot_r`` / ``foot_l`` (the
ankles). R/L are the character's own right and left, as in OpenPose.
Hitboxes: ``body`` (every joint, padded by BODY_PAD of the torso length for the flesh around the bones) and
``head`` (a square around the head socket, HEAD_HALF of the torso length each way). The torso (neck to the middle
of the hips) is the one length every pose keeps, lying or leaping.
"""
from __future__ import annotations

import numpy as np

from ..sheets.sockets import Hitbox, Socket
from .rig import JOINT_INDEX

HAND_REACH = 0.3
BODY_PAD = 0.25
HEAD_HALF = 0.4
FACE = ("nose", "r_eye", "l_eye", "r_ear", "l_ear")


def _joint(keypoints: np.ndarray, name: str) -> np.ndarray:
    return keypoints[JOINT_INDEX[name]].astype(np.float64)


def pose_marks(keypoints: np.ndarray, visible: np.ndarray) -> tuple[tuple[Socket, ...], tuple[Hitbox, ...]]:
    """One frame's ``[18, 2]`` keypoints (pixels, x right, y down) and ``[18]`` visibility -> its sockets and
    hitboxes in the same pixels."""
    face = [_joint(keypoints, name) for name in FACE if visible[JOINT_INDEX[name]]]
    neck = _joint(keypoints, "neck")
    head = np.mean(face, axis=0) if face else _joint(keypoints, "nose")
    hips = (_joint(keypoints, "r_hip") + _joint(keypoints, "l_hip")) / 2
    torso = max(1.0, float(np.linalg.norm(neck - hips)))
    sockets = [Socket("head", *(round(float(v), 2) for v in head))]
    for side in ("r", "l"):
        wrist, elbow = _joint(keypoints, f"{side}_wrist"), _joint(keypoints, f"{side}_elbow")
        hand = wrist + HAND_REACH * (wrist - elbow)
        sockets.append(Socket(f"hand_{side}", round(float(hand[0]), 2), round(float(hand[1]), 2)))
    for side in ("r", "l"):
        ankle = _joint(keypoints, f"{side}_ankle")
        sockets.append(Socket(f"foot_{side}", round(float(ankle[0]), 2), round(float(ankle[1]), 2)))
    shown = keypoints[np.asarray(visible, dtype=bool)].astype(np.float64)
    pad = BODY_PAD * torso
    low, high = shown.min(axis=0) - pad, shown.max(axis=0) + pad
    half = HEAD_HALF * torso
    boxes = (Hitbox("body", *(round(float(v), 2) for v in (low[0], low[1], high[0] - low[0], high[1] - low[1]))),
             Hitbox("head", *(round(float(v), 2) for v in (head[0] - half, head[1] - half, 2 * half, 2 * half))))
    return tuple(sockets), boxes
