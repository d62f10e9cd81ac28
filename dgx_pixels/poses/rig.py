"""The stick-figure rig: pose parameters, a 3D COCO-18 skeleton, and its projection per facing direction."""
from __future__ import annotations

import math
import re

import numpy as np

from ..common.errors import InputError
from ..sheets.frames import DIRECTIONS_8

# The rig's joints, in the COCO-18 order OpenPose draws them in.
JOINTS = ("nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist", "r_hip", "r_knee",
          "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear")
JOINT_INDEX = {name: index for index, name in enumerate(JOINTS)}

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
