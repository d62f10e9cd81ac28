"""Pose batches: every animation in every direction, fitted into frames with one scale and one ground line."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..common.errors import InputError
from ..common.limits import check_batch_pixels
from ..sheets.frames import Frame, tag_runs
from .library import MAX_BATCH_FRAMES, Animation
from .openpose import stroke_sizes
from .rig import project, settling_spin, skeleton_3d, view_pitch
from .sockets import pose_marks

# One body height in frame heights, and where the ground is (from the top): every built-in animation fits
# (jumps and raised arms above, a body lying towards a top-down camera below), so batches of different
# animations draw the character at the same size.
BODY_HEIGHT = 0.67
GROUND_LINE = {"side": 0.9, "top-down": 0.845}


@dataclass(frozen=True)
class PoseBatch:
    """One pose per frame, in batch order: animations, then directions, then frames."""
    frames: list[Frame]
    actions: list[str]  # the animation's phrase, per frame
    details: list[str]  # the nearest keyframe's phrase, per frame
    keypoints: np.ndarray  # [N, 18, 2] pixels, x right, y down
    visible: np.ndarray  # [N, 18] bool
    width: int
    height: int
    directions: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.frames)


def build_pose_batch(animations: list[Animation], directions: tuple[str, ...], width: int,
                     height: int) -> PoseBatch:
    """Every animation in every direction, fitted into ``width`` x ``height`` frames with one scale and one ground
    line for the whole batch."""
    if width < 16 or height < 16:
        raise InputError(f"frame size {width}x{height} is too small for a skeleton; use at least 16x16")
    total = sum(a.frames for a in animations) * len(directions)
    if total > MAX_BATCH_FRAMES:
        raise InputError(f"{total} frames requested (animations x directions x frames); the limit is "
                         f"{MAX_BATCH_FRAMES}: use fewer animations, directions or frames")
    # The skeletons are drawn as one float32 batch of this size: refused before any is drawn.
    check_batch_pixels(total * width * height, f"{total} frames of {width}x{height}")
    pitch = view_pitch(directions)
    frames: list[Frame] = []
    actions: list[str] = []
    details: list[str] = []
    groups: list[tuple[np.ndarray, np.ndarray]] = []
    for animation in animations:
        times = animation.times(animation.frames)
        pose_list = [animation.pose_at(t) for t in times]
        for direction in directions:
            skeletons = [skeleton_3d(pose, settling_spin(pose, direction)) for pose in pose_list]
            screens, shown = zip(*(project(points, normals, direction, pitch) for points, normals in skeletons))
            groups.append((np.stack(screens), np.stack(shown)))
            for index, t in enumerate(times):
                frames.append(Frame(animation.name, index, animation.duration_ms, direction, animation.loop))
                actions.append(animation.phrase)
                details.append(animation.detail_at(t))
    ground = GROUND_LINE["side" if pitch == 0 else "top-down"]
    keypoints = _fit_to_frame(groups, width, height, ground)
    visible = np.concatenate([shown for _, shown in groups])
    frames = [replace(frame, sockets=sockets, hitboxes=hitboxes, space=(width, height))
              for frame, (sockets, hitboxes) in zip(frames, map(pose_marks, keypoints, visible))]
    return PoseBatch(frames, actions, details, keypoints, visible, width, height, tuple(directions))


def _fit_to_frame(groups: list[tuple[np.ndarray, np.ndarray]], width: int, height: int,
                  ground_line: float) -> np.ndarray:
    """Screen poses (body heights, y up) -> pixels. One scale for all: BODY_HEIGHT of the frame height, smaller
    only if some joint would leave the frame. Each animation/direction stays centred on the hips unless it would
    leave the frame sideways; then it moves in just enough."""
    margin = stroke_sizes(width, height)[1] + 1.0
    ground = height * ground_line
    left, right = margin, width - 1 - margin
    scale = BODY_HEIGHT * height
    for screens, _ in groups:
        xs, ys = screens[..., 0], screens[..., 1]
        if ys.max() > 0:
            scale = min(scale, (ground - margin) / ys.max())
        if ys.min() < 0:
            scale = min(scale, (height - 1 - margin - ground) / -ys.min())
        if xs.max() > xs.min():
            scale = min(scale, (right - left) / (xs.max() - xs.min()))
    centre = (width - 1) / 2
    pixels = []
    for screens, _ in groups:
        xs = screens[..., 0]
        low, high = (left - centre) / scale - xs.min(), (right - centre) / scale - xs.max()
        shift = min(max(0.0, low), high)
        pixels.append(np.stack([centre + scale * (xs + shift), ground - scale * screens[..., 1]], axis=-1))
    return np.concatenate(pixels)


def tag_rows(frames: list[Frame]) -> list[list[int]]:
    """Batch positions grouped into one row per animation tag (animation and direction), in batch order."""
    return [list(range(run.start, run.end + 1)) for run in tag_runs(frames)]
