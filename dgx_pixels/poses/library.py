"""The animation library: keyframed poses over a cycle, and the built-in animations."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .rig import NEUTRAL, NON_NEGATIVE, PARAMETER_NAMES, mirror_pose


@dataclass(frozen=True)
class Keyframe:
    time: float
    pose: dict = field(default_factory=dict)
    phrase: str = ""


@dataclass(frozen=True)
class Animation:
    """Keyframes over 0..1. Without a keyframe at 1 the animation is a cycle: the last frame flows into the first.
    ``frames``, ``duration_ms`` and ``loop`` are the defaults a batch uses unless asked otherwise."""
    name: str
    keyframes: tuple[Keyframe, ...]
    frames: int = 8
    duration_ms: int = 100
    loop: str = "forward"
    phrase: str = ""

    @property
    def cyclic(self) -> bool:
        return self.keyframes[-1].time < 1.0

    def times(self, count: int) -> list[float]:
        if self.cyclic:
            return [i / count for i in range(count)]
        return [i / (count - 1) if count > 1 else 0.0 for i in range(count)]

    def pose_at(self, time: float) -> dict[str, float]:
        values = _interpolate([key.time for key in self.keyframes],
                              np.array([[{**NEUTRAL, **key.pose}[name] for name in PARAMETER_NAMES]
                                        for key in self.keyframes]), time, self.cyclic)
        pose = dict(zip(PARAMETER_NAMES, values.tolist()))
        for name in NON_NEGATIVE:
            pose[name] = max(0.0, pose[name])
        return pose

    def detail_at(self, time: float) -> str:
        """The phrase of the keyframe nearest to ``time`` (around the cycle for cycles)."""
        def distance(key: Keyframe) -> float:
            gap = abs(key.time - time)
            return min(gap, 1.0 - gap) if self.cyclic else gap
        return min(self.keyframes, key=distance).phrase


def _interpolate(times: list[float], values: np.ndarray, t: float, cyclic: bool) -> np.ndarray:
    """Cubic Hermite through the keyframes with finite-difference tangents; a cycle wraps around 1, an open
    animation eases out of its first and into its last keyframe."""
    count = len(times)
    if count == 1:
        return values[0]
    if cyclic:
        t = t % 1.0
        ext_times = [times[-1] - 1.0, *times, times[0] + 1.0, times[1 % count] + 1.0]
        ext_values = np.concatenate([values[-1:], values, values[:1], values[1 % count:1 % count + 1]])
        if t < times[0]:
            t += 1.0
        segment = max(i for i in range(1, count + 1) if ext_times[i] <= t)
    else:
        t = min(max(t, times[0]), times[-1])
        ext_times = [times[0], *times, times[-1]]
        ext_values = np.concatenate([values[:1], values, values[-1:]])
        segment = min(max(i for i in range(1, count + 1) if ext_times[i] <= t), count - 1)
    t0, t1 = ext_times[segment], ext_times[segment + 1]
    span = t1 - t0
    s = (t - t0) / span

    def tangent(i: int) -> np.ndarray:
        if not cyclic and (i == 1 or i == count):
            return np.zeros_like(values[0])
        return (ext_values[i + 1] - ext_values[i - 1]) / (ext_times[i + 1] - ext_times[i - 1])

    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return (h00 * ext_values[segment] + h10 * span * tangent(segment) + h01 * ext_values[segment + 1]
            + h11 * span * tangent(segment + 1))


def _stride(keys: list[tuple[float, dict, str]]) -> tuple[Keyframe, ...]:
    """A two-step cycle: the keyframes of the first half (0..0.5), then the same mirrored for the second half."""
    first = [Keyframe(time, pose, phrase) for time, pose, phrase in keys]
    return tuple(first + [Keyframe(time + 0.5, mirror_pose(pose), phrase) for time, pose, phrase in keys])


_STANCE = {"r_leg": 8, "l_leg": -6, "r_leg_out": 5, "l_leg_out": 5, "r_arm": 8, "l_arm": -4, "r_elbow": 20,
           "l_elbow": 15}
_IDLE = Animation("idle", (
    Keyframe(0.0, {**_STANCE, "breath": 0.0, "r_knee": 12, "l_knee": 10, "head_nod": 3}, "breathing out"),
    Keyframe(0.5, {**_STANCE, "breath": 1.0, "r_knee": 3, "l_knee": 3, "r_elbow": 26, "l_elbow": 21,
                   "head_nod": -2}, "breathing in"),
), frames=4, duration_ms=150, phrase="standing idle, relaxed")

_WALK = Animation("walk", _stride([
    (0.0, {"lean": 3, "r_leg": 24, "r_knee": 4, "l_leg": -20, "l_knee": 14, "r_arm": -22, "l_arm": 22,
           "r_elbow": 16, "l_elbow": 24}, "contact pose, front heel down, legs apart"),
    (0.125, {"lean": 4, "r_leg": 15, "r_knee": 20, "l_leg": -18, "l_knee": 32, "r_arm": -14, "l_arm": 14,
             "r_elbow": 16, "l_elbow": 22}, "down pose, weight on the front foot"),
    (0.25, {"lean": 3, "r_leg": 0, "r_knee": 5, "l_leg": 20, "l_knee": 50, "r_arm": -2, "l_arm": 2},
     "passing pose, back leg lifted past the standing leg"),
    (0.375, {"lean": 3, "r_leg": -14, "r_knee": 2, "l_leg": 26, "l_knee": 30, "r_arm": 12, "l_arm": -12,
             "r_elbow": 20, "l_elbow": 14}, "up pose, pushing off the back foot"),
]), frames=8, duration_ms=100, phrase="walking")

_RUN = Animation("run", _stride([
    (0.0, {"lean": 12, "r_leg": 30, "r_knee": 12, "l_leg": -28, "l_knee": 70, "r_arm": -40, "l_arm": 45,
           "r_elbow": 85, "l_elbow": 85}, "front foot touching down"),
    (0.125, {"lean": 13, "r_leg": 12, "r_knee": 38, "l_leg": -4, "l_knee": 110, "r_arm": -25, "l_arm": 30,
             "r_elbow": 90, "l_elbow": 90}, "weight on the bent front leg"),
    (0.25, {"lean": 14, "r_leg": -25, "r_knee": 8, "l_leg": 42, "l_knee": 95, "r_arm": 35, "l_arm": -35,
            "r_elbow": 85, "l_elbow": 85}, "pushing off, back leg extended, knee driving forward"),
    (0.375, {"lean": 12, "rise": 0.035, "r_leg": -32, "r_knee": 50, "l_leg": 45, "l_knee": 45, "r_arm": 45,
             "l_arm": -45, "r_elbow": 80, "l_elbow": 80}, "both feet off the ground, mid-stride"),
]), frames=8, duration_ms=80, phrase="running")

_READY = {"lean": 6, "r_leg": 14, "r_knee": 16, "l_leg": -12, "l_knee": 14, "r_arm": 35, "r_arm_out": 12,
          "r_elbow": 75, "l_arm": 20, "l_elbow": 60}
_LUNGE = {"advance": 0.04, "r_leg": 32, "r_knee": 30, "l_leg": -24, "l_knee": 8}
_ATTACK = Animation("attack", (
    Keyframe(0.0, _READY, "fighting stance, weapon ready"),
    Keyframe(1 / 3, {**_READY, "lean": -6, "twist": 20, "r_arm": 195, "r_arm_out": 20, "r_elbow": 70, "l_arm": 50,
                     "l_elbow": 30}, "wind-up, weapon arm drawn back behind the head"),
    Keyframe(0.5, {**_READY, **_LUNGE, "lean": 16, "twist": -22, "r_arm": 80, "r_arm_out": 5, "r_elbow": 4,
                   "l_arm": -25, "l_elbow": 20}, "strike, weapon arm swung forward, fully extended"),
    Keyframe(2 / 3, {**_READY, **_LUNGE, "lean": 20, "twist": -28, "r_arm": 35, "r_arm_out": -15, "r_elbow": 10,
                     "l_arm": -35, "l_elbow": 20}, "follow-through, weapon swung down across the body"),
), frames=6, duration_ms=80, loop="once", phrase="attacking")

_JUMP = Animation("jump", (
    Keyframe(0.0, _STANCE, "standing, about to jump"),
    Keyframe(0.14, {"lean": 28, "r_leg": 40, "l_leg": 44, "r_knee": 75, "l_knee": 80, "r_arm": -45, "l_arm": -40,
                    "r_elbow": 20, "l_elbow": 20}, "crouching to jump, knees bent, arms swung back"),
    Keyframe(0.28, {"lean": 4, "rise": 0.04, "r_leg": -8, "l_leg": -4, "r_knee": 2, "l_knee": 4, "r_arm": 150,
                    "l_arm": 145, "r_arm_out": 15, "l_arm_out": 15}, "jumping up, body stretched, arms raised"),
    Keyframe(0.5, {"lean": 8, "rise": 0.28, "r_leg": 50, "l_leg": 62, "r_knee": 85, "l_knee": 95, "r_arm": 110,
                   "l_arm": 105, "r_arm_out": 35, "l_arm_out": 35, "r_elbow": 30, "l_elbow": 30},
             "in the air at the top of the jump, knees tucked"),
    Keyframe(0.7, {"rise": 0.12, "r_leg": 18, "l_leg": 24, "r_knee": 22, "l_knee": 30, "r_arm": 130, "l_arm": 125,
                   "r_arm_out": 45, "l_arm_out": 45, "r_elbow": 20, "l_elbow": 20},
             "falling, legs reaching down to land, arms up"),
    Keyframe(0.85, {"lean": 22, "r_leg": 35, "l_leg": 38, "r_knee": 65, "l_knee": 70, "r_arm": 30, "l_arm": 25,
                    "r_arm_out": 25, "l_arm_out": 25, "r_elbow": 25, "l_elbow": 25}, "landing in a crouch"),
), frames=8, duration_ms=90, loop="once", phrase="jumping")

_HURT = Animation("hurt", (
    Keyframe(0.0, {"lean": -18, "side_bend": -12, "head_tilt": -15, "advance": -0.03, "head_nod": -25,
                   "r_leg": -6, "l_leg": 10, "r_knee": 12, "l_knee": 12, "r_arm": 30, "l_arm": 35, "r_arm_out": 35,
                   "l_arm_out": 35, "r_elbow": 40, "l_elbow": 40}, "hit, recoiling backwards"),
    Keyframe(0.35, {"lean": 24, "side_bend": 6, "head_nod": 25, "r_leg": 10, "l_leg": 10, "r_knee": 22,
                    "l_knee": 22, "r_arm": 25, "l_arm": 25, "r_arm_out": 5, "l_arm_out": 5, "r_elbow": 95,
                    "l_elbow": 95}, "doubled over in pain"),
    Keyframe(0.7, {"lean": 6, "head_nod": 8, "r_knee": 8, "l_knee": 8, "r_elbow": 30, "l_elbow": 30},
             "recovering from the hit"),
), frames=4, duration_ms=90, loop="once", phrase="hurt")

_DEATH = Animation("death", (
    Keyframe(0.0, {"lean": -15, "head_nod": -25, "r_knee": 8, "l_knee": 8, "r_arm": 35, "l_arm": 30,
                   "r_arm_out": 30, "l_arm_out": 30, "r_elbow": 35, "l_elbow": 35}, "struck, staggering back"),
    Keyframe(0.3, {"lean": -5, "head_nod": 20, "r_leg": 35, "l_leg": 30, "r_knee": 70, "l_knee": 65, "r_arm": 20,
                   "l_arm": 15, "r_arm_out": 20, "l_arm_out": 20, "r_elbow": 25, "l_elbow": 25},
             "knees buckling, collapsing"),
    Keyframe(0.6, {"fall": 50, "head_nod": 25, "r_leg": 45, "l_leg": 40, "r_knee": 60, "l_knee": 55,
                   "r_arm": 60, "l_arm": 55, "r_arm_out": 40, "l_arm_out": 40, "r_elbow": 25, "l_elbow": 25},
             "falling backwards"),
    Keyframe(1.0, {"fall": 90, "head_turn": 20, "r_leg": 6, "l_leg": 4, "r_knee": 10, "l_knee": 14,
                   "r_arm": 0, "l_arm": 0, "r_arm_out": 50, "l_arm_out": 45, "r_elbow": 10, "l_elbow": 15},
             "lying motionless on the back"),
), frames=8, duration_ms=120, loop="once", phrase="dying")

BUILTIN_ANIMATIONS: dict[str, Animation] = {a.name: a for a in (_IDLE, _WALK, _RUN, _ATTACK, _JUMP, _HURT, _DEATH)}
DEFAULT_ANIMATIONS = ", ".join(BUILTIN_ANIMATIONS)
MAX_FRAMES_PER_ANIMATION = 64
MAX_BATCH_FRAMES = 1024
