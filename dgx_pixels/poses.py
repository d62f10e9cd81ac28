"""Procedural character poses: a keyframed animation library on a small COCO-18 rig, projected per direction.

A pose is a set of named angles (``PARAMETERS``) applied to a stick figure one body-height tall in 3D
(right, up, forward). Animations are keyframes of poses over a cycle 0..1, interpolated smoothly; a cycle (no
keyframe at 1) wraps, so its last frame flows back into its first. Each frame is projected for a facing direction:
straight from the side for platformers (E, W), or seen slightly from above for top-down games (4 or 8
directions). The projections of a whole batch share one scale and one ground line, so the character keeps its size
from frame to frame. Everything is deterministic.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import InputError
from .frames import DIRECTIONS_8, LOOP_ALIASES, Frame, tag_runs
from .openpose import JOINT_INDEX, JOINTS, stroke_sizes

# ------------------------------------------------------------------------------------------------------ the rig
# Pose parameters: name -> (neutral value, what it does). Angles in degrees, offsets in body heights.
PARAMETERS: dict[str, tuple[float, str]] = {
    "rise": (0.0, "lift the whole body off the ground (jumps)"),
    "advance": (0.0, "move the body forward (lunges)"),
    "lean": (0.0, "bend the upper body forward (negative: backward)"),
    "twist": (0.0, "turn the shoulders to the character's right (right shoulder back)"),
    "side_bend": (0.0, "bend the upper body towards the character's right"),
    "breath": (0.0, "chest expansion, 0 to 1 (raises the shoulders and head)"),
    "fall": (0.0, "tip the whole body backwards around the hips (90: lying on the back, turned to lie across "
                  "the view)"),
    "spin": (0.0, "turn the whole body (after any fall) to the character's right, around the hips"),
    "head_nod": (0.0, "look down (negative: up)"),
    "head_turn": (0.0, "turn the head to the character's right"),
    "head_tilt": (0.0, "tilt the head towards the right shoulder"),
    "r_arm": (0.0, "right arm swing forward from hanging (90: pointing ahead, 180: straight up)"),
    "r_arm_out": (10.0, "right arm raised sideways, away from the body"),
    "r_elbow": (12.0, "right elbow bend"),
    "l_arm": (0.0, "left arm swing forward"),
    "l_arm_out": (10.0, "left arm raised sideways"),
    "l_elbow": (12.0, "left elbow bend"),
    "r_leg": (0.0, "right thigh swing forward (negative: back)"),
    "r_leg_out": (3.0, "right leg spread sideways"),
    "r_knee": (3.0, "right knee bend"),
    "l_leg": (0.0, "left thigh swing forward"),
    "l_leg_out": (3.0, "left leg spread sideways"),
    "l_knee": (3.0, "left knee bend"),
}
PARAMETER_NAMES = tuple(PARAMETERS)
NEUTRAL = {name: value for name, (value, _) in PARAMETERS.items()}
NON_NEGATIVE = ("rise", "breath", "r_elbow", "l_elbow", "r_knee", "l_knee")  # elbows and knees bend one way

# Body proportions in body heights (ground to the top of the head), a slightly stylised game hero.
ANKLE_HEIGHT = 0.045
SHIN, THIGH = 0.235, 0.235
HIP_HALF = 0.06
TORSO = 0.30
SHOULDER_HALF = 0.115
UPPER_ARM, FOREARM = 0.165, 0.15
PELVIS_TWIST = 0.3  # share of the shoulder twist the hips follow
# Head keypoints from the neck, in the head's own frame (right, up, forward), and the way each faces.
HEAD_POINTS = {"nose": (0.0, 0.095, 0.055), "r_eye": (0.03, 0.12, 0.045), "l_eye": (-0.03, 0.12, 0.045),
               "r_ear": (0.062, 0.105, -0.005), "l_ear": (-0.062, 0.105, -0.005)}
# Which way each face point faces (yaw from forward, degrees) and how far it may turn from the camera before it
# is hidden (the cosine of the angle between its normal and the view): the nose shows in profile, the far eye and
# ear do not, both ears show from the front and from the back.
HEAD_NORMALS = {"nose": (0.0, -0.5), "r_eye": (30.0, -0.15), "l_eye": (-30.0, -0.15), "r_ear": (100.0, -0.3),
                "l_ear": (-100.0, -0.3)}
VISIBLE_ABOVE = np.array([HEAD_NORMALS[name][1] if name in HEAD_NORMALS else -np.inf for name in JOINTS])


def _pitch(deg: float) -> np.ndarray:
    """Rotation about the right axis that swings a hanging (downward) vector forward."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, s], [0, -s, c]])


def _roll(deg: float) -> np.ndarray:
    """Rotation about the forward axis that swings a hanging vector towards the character's right."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _yaw(deg: float) -> np.ndarray:
    """Rotation about the up axis that turns the forward vector towards the character's right."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


DOWN = np.array([0.0, -1.0, 0.0])
FORWARD = np.array([0.0, 0.0, 1.0])


def _limb(swing: float, spread: float, side: int) -> np.ndarray:
    """Direction of a limb segment hanging down, spread out to ``side`` (+1 right), then swung forward by
    ``swing`` (the spread keeps pointing outwards whether the limb hangs or is raised)."""
    return _pitch(swing) @ _roll(side * spread) @ DOWN


def skeleton_3d(pose: dict[str, float], extra_spin: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Joint positions ``[18, 3]`` (right, up, forward; body heights, the lowest joint on the ground) and the
    outward normals ``[18, 3]`` of the face points (zero for the body joints). ``extra_spin`` adds to the pose's
    spin (see ``settling_spin``)."""
    p = {**NEUTRAL, **pose}
    points = np.zeros((len(JOINTS), 3))
    normals = np.zeros((len(JOINTS), 3))

    def put(name: str, value: np.ndarray) -> None:
        points[JOINT_INDEX[name]] = value

    hips = np.array([0.0, ANKLE_HEIGHT + SHIN + THIGH, p["advance"]])
    torso = _yaw(p["twist"]) @ _roll(-p["side_bend"]) @ _pitch(-p["lean"])
    pelvis = _yaw(p["twist"] * PELVIS_TWIST)
    neck = hips + torso @ np.array([0.0, TORSO * (1 + 0.05 * p["breath"]), 0.0])
    put("neck", neck)
    for side, prefix in ((1, "r_"), (-1, "l_")):
        shoulder = neck + torso @ np.array([side * SHOULDER_HALF, 0.0, 0.0])
        swing, spread, bend = p[prefix + "arm"], p[prefix + "arm_out"] + 3 * p["breath"], max(0.0, p[prefix + "elbow"])
        elbow = shoulder + UPPER_ARM * (torso @ _limb(swing, spread, side))
        put(prefix + "shoulder", shoulder)
        put(prefix + "elbow", elbow)
        put(prefix + "wrist", elbow + FOREARM * (torso @ _limb(swing + bend, spread, side)))
        hip = hips + pelvis @ np.array([side * HIP_HALF, 0.0, 0.0])
        swing, spread, bend = p[prefix + "leg"], p[prefix + "leg_out"], max(0.0, p[prefix + "knee"])
        knee = hip + THIGH * (pelvis @ _limb(swing, spread, side))
        put(prefix + "hip", hip)
        put(prefix + "knee", knee)
        put(prefix + "ankle", knee + SHIN * (pelvis @ _limb(swing - bend, spread, side)))
    # The head keeps facing ahead when the shoulders twist (eyes on the target); it leans and bends with them.
    head = pelvis @ _roll(-p["side_bend"]) @ _pitch(-p["lean"]) @ _yaw(p["head_turn"]) @ _roll(-p["head_tilt"]) \
        @ _pitch(-p["head_nod"])
    for name, offset in HEAD_POINTS.items():
        put(name, neck + head @ np.array(offset))
        normals[JOINT_INDEX[name]] = head @ _yaw(HEAD_NORMALS[name][0]) @ FORWARD
    whole_body = _yaw(p["spin"] + extra_spin) @ _pitch(p["fall"])
    points = hips + (points - hips) @ whole_body.T
    normals = normals @ whole_body.T
    points[:, 1] += ANKLE_HEIGHT - points[:, 1].min() + p["rise"]
    return points, normals


# ------------------------------------------------------------------------------------------------- directions
DIRECTION_SETS = {"side": ("E", "W"), "right": ("E",), "4": ("S", "E", "N", "W"), "8": DIRECTIONS_8}
DIRECTION_SET_HELP = ("side: E and W (platformers); right: E only (flip it in the game for W); 4: S, E, N, W; "
                      "8: S, SE, E, NE, N, NW, W, SW (top-down)")
SIDE_VIEW = frozenset({"E", "W"})
TOP_DOWN_PITCH = 25.0  # degrees the top-down camera looks down; side views look straight on
_AZIMUTH = {name: 45.0 * index for index, name in enumerate(DIRECTIONS_8)}  # degrees from S towards E


def resolve_directions(value: str) -> tuple[str, ...]:
    """A direction set name (side, right, 4, 8) or a comma list of compass points (``S, E``)."""
    text = (value or "").strip()
    if text.lower() in DIRECTION_SETS:
        return DIRECTION_SETS[text.lower()]
    names = [part.strip().upper() for part in re.split(r"[,;\s]+", text) if part.strip()]
    unknown = [name for name in names if name not in DIRECTIONS_8]
    if not names or unknown:
        raise InputError(f"directions {value!r}: use side, right, 4 or 8, or compass points like 'S, E' "
                         f"(one of {', '.join(DIRECTIONS_8)})")
    if len(set(names)) != len(names):
        raise InputError(f"directions {value!r} names a direction twice")
    return tuple(names)


def view_pitch(directions: tuple[str, ...]) -> float:
    """Side-view sets (only E and W) are seen straight on; any other set from slightly above."""
    return 0.0 if set(directions) <= SIDE_VIEW else TOP_DOWN_PITCH


def facing_vectors(direction: str) -> tuple[np.ndarray, np.ndarray]:
    """The character's forward and right vectors on the ground (east, north) when facing ``direction``."""
    azimuth = math.radians(_AZIMUTH[direction])
    forward = np.array([math.sin(azimuth), -math.cos(azimuth)])  # S faces the camera, which looks north
    right = np.array([forward[1], -forward[0]])
    return forward, right


def settling_spin(pose: dict[str, float], direction: str) -> float:
    """Extra spin that turns a falling body to lie across the view: a body lying along the line of sight shows as
    a short blob, across it as a body lying down. Grows with the fall (none standing, all of it at 90 degrees)."""
    fall = min(max({**NEUTRAL, **pose}["fall"] / 90.0, 0.0), 1.0)
    if fall == 0.0:
        return 0.0
    # Compass heading (clockwise from north) of the line from the hips to the head once fallen backwards.
    heading = (180.0 - _AZIMUTH[direction]) + 180.0 + {**NEUTRAL, **pose}["spin"]
    off_across = heading % 180.0 - 90.0  # 0: lying east-west, across the view
    return -off_across * fall * fall


def project(points: np.ndarray, normals: np.ndarray, direction: str, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """3D joints -> screen ``[18, 2]`` (x right, y up; body heights; the ground point under the hips at the
    origin) and visibility ``[18]`` (face points turned away from the camera are hidden)."""
    forward, right = facing_vectors(direction)
    east = points[:, 0] * right[0] + points[:, 2] * forward[0]
    north = points[:, 0] * right[1] + points[:, 2] * forward[1]
    tilt = math.radians(pitch)
    screen = np.stack([east, points[:, 1] * math.cos(tilt) + north * math.sin(tilt)], axis=-1)
    normal_north = normals[:, 0] * right[1] + normals[:, 2] * forward[1]
    towards_camera = -normal_north * math.cos(tilt) + normals[:, 1] * math.sin(tilt)
    visible = towards_camera > VISIBLE_ABOVE
    return screen, visible


# ------------------------------------------------------------------------------------------------- animations
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


_MIRROR_NEGATE = ("twist", "side_bend", "spin", "head_turn", "head_tilt")


def mirror_pose(pose: dict[str, float]) -> dict[str, float]:
    """The same pose on the other side: right and left swap, turns and tilts reverse."""
    mirrored = {}
    for name, value in pose.items():
        if name.startswith("r_"):
            mirrored["l_" + name[2:]] = value
        elif name.startswith("l_"):
            mirrored["r_" + name[2:]] = value
        else:
            mirrored[name] = -value if name in _MIRROR_NEGATE else value
    return mirrored


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


# ----------------------------------------------------------------------------------------- custom animation text
_NAME = r"[A-Za-z][A-Za-z0-9_-]*"
_HEADER = re.compile(rf"^(?P<name>{_NAME})\s*:(?P<rest>.*)$")
_KEYFRAME = re.compile(r"^(?P<time>[0-9]*\.?[0-9]+)(?:\s+(?P<rest>.*))?$")
_TOKEN = re.compile(r'"[^"]*"|\S+')
_DURATION = re.compile(r"^@(?P<value>[0-9]*\.?[0-9]+)(?P<unit>ms|s|fps)?$", re.IGNORECASE)


def parse_duration(text: str, where: str) -> int:
    """``@120ms``, ``@0.1s``, ``@12fps`` or ``@120`` (ms) -> whole milliseconds."""
    match = _DURATION.match(text)
    if not match or not float(match["value"]) > 0:
        raise InputError(f"{where}: duration {text!r} is not a positive time like @80ms, @0.1s or @12fps")
    value, unit = float(match["value"]), (match["unit"] or "ms").lower()
    return max(1, round({"ms": value, "s": value * 1000.0, "fps": 1000.0 / value}[unit]))


def _check_name(name: str, where: str) -> str:
    head, _, tail = name.rpartition("_")
    if head and tail.upper() in DIRECTIONS_8:
        raise InputError(f"{where}: the animation name {name!r} ends in a direction ({tail}); directions are added "
                         "to the tags by the batch, so pick another name")
    return name


def _frame_count(text: str, where: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_FRAMES_PER_ANIMATION:
        raise InputError(f"{where}: frame count {text!r} is not a whole number from 1 to {MAX_FRAMES_PER_ANIMATION}")
    return int(text)


def _loop_mode(text: str, where: str) -> str:
    mode = LOOP_ALIASES.get(text.lower())
    if mode is None:
        raise InputError(f"{where}: {text!r} is not a loop mode (forward, reverse, pingpong, once)")
    return mode


def _pose_value(token: str, where: str) -> tuple[str, float]:
    name, _, text = token.partition("=")
    if name not in PARAMETERS:
        close = difflib.get_close_matches(name, PARAMETER_NAMES, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else f"; known: {', '.join(PARAMETER_NAMES)}"
        raise InputError(f"{where}: unknown pose parameter {name!r}{hint}")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: {token!r} needs a number after '=', like {name}=30") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: {token!r} is not a finite number")
    return name, value


def parse_custom_animations(text: str) -> list[Animation]:
    """Animations defined as keyframes in text. An animation starts with a header line, then one line per
    keyframe::

        wave: 6 @120ms pingpong "waving one hand"
        0    r_arm=160 r_arm_out=25 r_elbow=20 "hand up"
        0.5  r_arm=160 r_arm_out=25 r_elbow=80
        1    r_arm=160 r_arm_out=25 r_elbow=20

    Header: ``name:`` then, in any order, a frame count, ``@duration``, a loop mode and a quoted phrase for the
    prompt. Keyframe: a time from 0 to 1, ``parameter=value`` pairs (unset ones stay neutral; see PARAMETERS),
    ``mirror`` to start from the previous keyframe with right and left swapped, and a quoted phrase. A keyframe at
    time 1 ends the animation there; without one the last keyframe flows back into the first (a cycle). ``#``
    starts a comment.
    """
    animations: list[Animation] = []
    current: dict | None = None

    def finish() -> None:
        if current is None:
            return
        where = f"custom animation {current['name']!r} (line {current['line']})"
        if not current["keys"]:
            raise InputError(f"{where} has no keyframes; add lines like '0 r_arm=90' below its header")
        if current["keys"][0].time != 0.0:
            raise InputError(f"{where}: the first keyframe must be at time 0")
        animations.append(Animation(current["name"], tuple(current["keys"]), current["frames"],
                                    current["duration"], current["loop"], current["phrase"]))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"custom animations line {number} {line!r}"
        header = _HEADER.match(line)
        if header:
            finish()
            name = _check_name(header["name"], where)
            if any(a.name == name for a in animations):
                raise InputError(f"{where}: the animation {name!r} is defined twice")
            current = {"name": name, "line": number, "keys": [], "frames": 8, "duration": 100, "loop": "forward",
                       "phrase": name}
            for token in _TOKEN.findall(header["rest"]):
                if token.startswith('"'):
                    current["phrase"] = token.strip('"').strip()
                elif token.startswith("@"):
                    current["duration"] = parse_duration(token, where)
                elif token.isdigit():
                    current["frames"] = _frame_count(token, where)
                else:
                    current["loop"] = _loop_mode(token, where)
            continue
        keyframe = _KEYFRAME.match(line)
        if not keyframe:
            raise InputError(f"{where}: expected an animation header like 'wave: 6 @120ms' or a keyframe like "
                             "'0.5 r_arm=90 r_elbow=30'")
        if current is None:
            raise InputError(f"{where}: a keyframe before any animation header; start with a line like 'wave:'")
        time = float(keyframe["time"])
        keys = current["keys"]
        if not 0.0 <= time <= 1.0:
            raise InputError(f"{where}: keyframe time {time:g} is outside 0..1")
        if keys and time <= keys[-1].time:
            raise InputError(f"{where}: keyframe times must increase (after {keys[-1].time:g})")
        if keys and keys[-1].time == 1.0:
            raise InputError(f"{where}: nothing may follow the keyframe at time 1")
        pose: dict[str, float] = {}
        phrase = ""
        for token in _TOKEN.findall(keyframe["rest"] or ""):
            if token.startswith('"'):
                phrase = token.strip('"').strip()
            elif token.lower() == "mirror":
                if not keys:
                    raise InputError(f"{where}: 'mirror' needs a keyframe before it to mirror")
                pose.update(mirror_pose({**NEUTRAL, **keys[-1].pose}))
            else:
                name, value = _pose_value(token, where)
                pose[name] = value
        keys.append(Keyframe(time, pose, phrase))
    finish()
    return animations


# ---------------------------------------------------------------------------------------------- animation sets
_ENTRY = re.compile(rf"^(?P<name>{_NAME})(?:\s*:\s*(?P<count>\S+?))?(?:\s*(?P<duration>@\S+))?(?:\s+(?P<loop>\S+))?$")


def available_animations(custom_text: str = "") -> dict[str, Animation]:
    """Built-in animations, with custom ones added (a custom one with a built-in name replaces it)."""
    return {**BUILTIN_ANIMATIONS, **{a.name: a for a in parse_custom_animations(custom_text or "")}}


def resolve_animations(spec: str, custom_text: str = "", frames_per_animation: int = 0) -> list[Animation]:
    """The animations of a batch, in order, from a list like ``idle, walk:8@90ms, attack once``.

    Each entry names a built-in or custom animation, optionally with ``:count``, ``@duration`` and a loop mode.
    Without a count, ``frames_per_animation`` (when above 0) or the animation's own count is used. Custom
    animations that the list does not name are added after it.
    """
    custom = parse_custom_animations(custom_text or "")
    library = {**BUILTIN_ANIMATIONS, **{a.name: a for a in custom}}
    if frames_per_animation and not 1 <= frames_per_animation <= MAX_FRAMES_PER_ANIMATION:
        raise InputError(f"frames per animation {frames_per_animation} is outside 1..{MAX_FRAMES_PER_ANIMATION} "
                         "(0 uses each animation's own count)")
    entries = [part.strip() for part in re.split(r"[,;\n]", spec or "") if part.strip()]
    chosen: list[Animation] = []
    for number, entry in enumerate(entries, start=1):
        where = f"animation entry {number} {entry!r}"
        match = _ENTRY.match(entry)
        if not match:
            raise InputError(f"{where} is not like 'walk', 'walk:8' or 'walk:8@90ms pingpong'")
        name = match["name"]
        if name not in library:
            close = difflib.get_close_matches(name, list(library), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InputError(f"{where}: no animation called {name!r}{hint}; built in: "
                             f"{', '.join(BUILTIN_ANIMATIONS)}; define others in the custom animations")
        if any(a.name == name for a in chosen):
            raise InputError(f"{where}: {name!r} is listed twice")
        animation = library[name]
        frames = (_frame_count(match["count"], where) if match["count"]
                  else frames_per_animation or animation.frames)
        duration = parse_duration(match["duration"], where) if match["duration"] else animation.duration_ms
        loop = _loop_mode(match["loop"], where) if match["loop"] else animation.loop
        chosen.append(replace(animation, frames=frames, duration_ms=duration, loop=loop))
    for animation in custom:
        if all(a.name != animation.name for a in chosen):
            frames = frames_per_animation or animation.frames
            chosen.append(replace(animation, frames=frames))
    if not chosen:
        raise InputError(f"no animations: list some, e.g. '{DEFAULT_ANIMATIONS}'")
    return chosen


# ------------------------------------------------------------------------------------------------- pose batches
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
    return PoseBatch(frames, actions, details, keypoints, np.concatenate([shown for _, shown in groups]),
                     width, height, tuple(directions))


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
