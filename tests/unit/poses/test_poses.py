"""Pose batches: counts and tags as requested, cycles that loop, motions that do what their names say, custom
keyframed animations, per-frame prompts and seeds."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dgx_pixels.poses import prompts
from dgx_pixels.poses.batch import PoseBatch, build_pose_batch
from dgx_pixels.poses.library import BUILTIN_ANIMATIONS, DEFAULT_ANIMATIONS
from dgx_pixels.poses.parser import parse_custom_animations, resolve_animations
from dgx_pixels.poses.rig import (ANKLE_HEIGHT, NEUTRAL, PARAMETER_NAMES, mirror_pose, resolve_directions, skeleton_3d,
                                  view_pitch)
from dgx_pixels.sheets.frames import DIRECTIONS_8
from dgx_pixels.common.errors import InputError
from dgx_pixels.sheets.frames import Frame, parse_tag_spec, tag_runs, tag_spec
from dgx_pixels.poses.rig import JOINT_INDEX

J = JOINT_INDEX
CYCLES = [name for name, animation in BUILTIN_ANIMATIONS.items() if animation.cyclic]


def build(animations: str, directions: str = "right", size: tuple[int, int] = (256, 256), custom: str = "",
          frames: int = 0) -> PoseBatch:
    return build_pose_batch(resolve_animations(animations, custom, frames),
                            resolve_directions(directions), *size)


def frames_of(batch: PoseBatch, tag: str) -> np.ndarray:
    return np.stack([points for frame, points in zip(batch.frames, batch.keypoints) if frame.tag == tag])


# ---------------------------------------------------------------------------------------------- counts and tags
@pytest.mark.parametrize("directions,expected", [("side", ("E", "W")), ("right", ("E",)), ("4", ("S", "E", "N", "W")),
                                                 ("8", ("S", "SE", "E", "NE", "N", "NW", "W", "SW"))])
def test_counts_and_tags_match_the_request(directions, expected):
    batch = build("idle:3, walk, attack:5@60ms pingpong", directions)
    counts = {"idle": 3, "walk": 8, "attack": 5}
    assert len(batch) == sum(counts.values()) * len(expected)
    assert batch.keypoints.shape == (len(batch), 18, 2) and batch.visible.shape == (len(batch), 18)
    runs = tag_runs(batch.frames)
    assert [run.name for run in runs] == [f"{a}_{d}" for a in counts for d in expected]
    for run in runs:
        animation = run.name.rsplit("_", 1)[0]
        assert run.end - run.start + 1 == counts[animation]
        members = batch.frames[run.start:run.end + 1]
        assert [f.index for f in members] == list(range(counts[animation]))
    attack = [f for f in batch.frames if f.animation == "attack"]
    assert {(f.duration_ms, f.loop) for f in attack} == {(60, "pingpong")}
    idle = [f for f in batch.frames if f.animation == "idle"]
    assert {(f.duration_ms, f.loop) for f in idle} == {(150, "forward")}
    # The text form of the tags reads back as the same frames (Slice Sprite Sheet takes it).
    assert parse_tag_spec(tag_spec(batch.frames)) == [replace(f, sockets=(), hitboxes=(), space=(0, 0))
                                                      for f in batch.frames]


def test_frame_counts_default_then_override():
    defaults = {a.name: a.frames for a in resolve_animations(DEFAULT_ANIMATIONS)}
    assert defaults == {"idle": 4, "walk": 8, "run": 8, "attack": 6, "jump": 8, "hurt": 4, "death": 8}
    assert [a.frames for a in resolve_animations("idle, walk:3", frames_per_animation=5)] == [5, 3]
    loops = {a.name: a.loop for a in resolve_animations(DEFAULT_ANIMATIONS)}
    assert loops == {"idle": "forward", "walk": "forward", "run": "forward", "attack": "once", "jump": "once",
                     "hurt": "once", "death": "once"}


@pytest.mark.parametrize("spec,message", [
    ("", "no animations"), ("idle, wlak", "did you mean walk"), ("walk, walk", "listed twice"),
    ("walk:0", "frame count"), ("walk:99", "frame count"), ("walk@fast", "duration"), ("walk sideways", "loop mode"),
    ("walk!", "is not like"),
])
def test_bad_animation_lists_say_what_is_wrong(spec, message):
    with pytest.raises(InputError, match=message):
        resolve_animations(spec)


def test_directions_and_limits():
    assert resolve_directions("s, ne") == ("S", "NE")
    for bad in ("", "up", "S,S"):
        with pytest.raises(InputError):
            resolve_directions(bad)
    assert view_pitch(("E", "W")) == 0 and view_pitch(("S", "E")) > 0
    with pytest.raises(InputError, match="limit"):
        build("idle:64, walk:64, run:64", "8")
    with pytest.raises(InputError, match="too small"):
        build("idle", size=(8, 64))
    with pytest.raises(InputError, match="frames per animation"):
        resolve_animations("idle", frames_per_animation=65)


def test_batches_are_deterministic():
    first, second = build(DEFAULT_ANIMATIONS, "8"), build(DEFAULT_ANIMATIONS, "8")
    assert np.array_equal(first.keypoints, second.keypoints) and np.array_equal(first.visible, second.visible)


def test_the_character_keeps_its_size_whatever_else_is_in_the_batch():
    alone, together = build("idle", "4"), build(DEFAULT_ANIMATIONS, "4")
    assert np.allclose(frames_of(alone, "idle_S"), frames_of(together, "idle_S"))


# ---------------------------------------------------------------------------------------------------- loops
def step_sizes(frames: np.ndarray) -> tuple[np.ndarray, float]:
    """Mean joint movement between consecutive frames, and from the last frame back to the first (pixels)."""
    steps = np.linalg.norm(np.diff(frames, axis=0), axis=-1).mean(-1)
    return steps, float(np.linalg.norm(frames[0] - frames[-1], axis=-1).mean())


@pytest.mark.parametrize("name", CYCLES)
@pytest.mark.parametrize("directions", ["side", "8"])
def test_cycles_flow_from_the_last_frame_back_into_the_first(name, directions):
    batch = build(name, directions)
    for direction in resolve_directions(directions):
        steps, wrap = step_sizes(frames_of(batch, f"{name}_{direction}"))
        assert 0.5 * steps.min() <= wrap <= 1.5 * steps.max(), (direction, steps, wrap)


def test_cycles_hold_at_other_frame_counts_and_death_does_not_loop():
    for count in (3, 5, 12):
        steps, wrap = step_sizes(frames_of(build(f"walk:{count}"), "walk_E"))
        assert wrap <= 1.5 * steps.max()
    assert not BUILTIN_ANIMATIONS["death"].cyclic
    steps, wrap = step_sizes(frames_of(build("death"), "death_E"))
    assert wrap > 3 * steps.max(), "dying ends lying down, far from where it started"


def test_keyframes_are_hit_exactly():
    for animation in BUILTIN_ANIMATIONS.values():
        for key in animation.keyframes:
            pose = animation.pose_at(key.time)
            expected = {**NEUTRAL, **key.pose}
            assert all(abs(pose[name] - expected[name]) < 1e-9 for name in PARAMETER_NAMES)


# -------------------------------------------------------------------------------------- motions read as named
def height_of(points: np.ndarray) -> float:
    return float(points[:, 1].max() - points[:, 1].min())


def test_walk_alternates_the_legs_with_the_arms_opposite():
    walk = frames_of(build("walk"), "walk_E")  # facing E: forward is +x
    assert walk[0, J["r_ankle"], 0] > walk[0, J["l_ankle"], 0], "contact: right foot ahead"
    assert walk[4, J["l_ankle"], 0] > walk[4, J["r_ankle"], 0], "second contact: left foot ahead"
    assert walk[0, J["l_wrist"], 0] > walk[0, J["r_wrist"], 0], "the arm opposite the front leg swings forward"
    # Passing poses: the feet pass each other with one foot lifted; the body is higher than at contact.
    for passing, contact in ((2, 0), (6, 4)):
        ankles = walk[passing, [J["r_ankle"], J["l_ankle"]]]
        assert abs(ankles[0, 0] - ankles[1, 0]) < abs(walk[contact, J["r_ankle"], 0] - walk[contact, J["l_ankle"], 0])
        assert abs(ankles[0, 1] - ankles[1, 1]) > 5, "one foot lifted"
        assert walk[passing, J["neck"], 1] < walk[contact, J["neck"], 1], "up in the passing pose (y grows down)"


def test_run_has_a_flight_phase_and_leans_forward():
    batch = build("run, idle")
    run, idle = frames_of(batch, "run_E"), frames_of(batch, "idle_E")
    ground = idle[:, [J["r_ankle"], J["l_ankle"]], 1].max()
    lowest_foot = run[:, [J["r_ankle"], J["l_ankle"]], 1].max(axis=1)
    assert (lowest_foot < ground - 3).any(), "both feet off the ground in some frame"
    assert (run[:, J["neck"], 0] > run[:, [J["r_hip"], J["l_hip"]], 0].mean(1)).all(), "leaning forward"
    stride = np.ptp(run[..., 0], axis=1).mean()
    assert stride > 1.3 * np.ptp(frames_of(build("walk"), "walk_E")[..., 0], axis=1).mean(), "longer strides"


def test_attack_winds_up_above_the_head_then_strikes_forward():
    attack = frames_of(build("attack"), "attack_E")
    wrist, elbow, neck = attack[:, J["r_wrist"]], attack[:, J["r_elbow"]], attack[:, J["neck"]]
    wind_up = int(np.argmin(wrist[:, 0] - neck[:, 0]))
    strike = int(np.argmax(wrist[:, 0] - neck[:, 0]))
    assert wrist[wind_up, 0] < neck[wind_up, 0], "weapon hand drawn back behind the head"
    assert elbow[wind_up, 1] < attack[wind_up, J["nose"], 1], "elbow raised above the head"
    assert 0 < wind_up < strike, "ready, then the wind-up, then the strike"
    arm_length = np.linalg.norm(wrist[strike] - attack[strike, J["r_shoulder"]])
    assert wrist[strike, 0] - attack[strike, J["r_shoulder"], 0] > 0.9 * arm_length, "arm thrust straight ahead"


def test_jump_crouches_rises_and_lands():
    jump = frames_of(build("jump"), "jump_E")
    feet = jump[:, [J["r_ankle"], J["l_ankle"]], 1].max(axis=1)
    apex = int(np.argmin(feet))
    assert feet[0] - feet[apex] > 0.15 * height_of(jump[0]), "the feet leave the ground well"
    assert 0 < apex < len(jump) - 1
    assert height_of(jump[1]) < 0.85 * height_of(jump[0]), "a crouch before the take-off"


def test_idle_breathes_gently_and_hurt_recoils():
    idle = frames_of(build("idle"), "idle_E")
    movement = np.linalg.norm(idle - idle[0], axis=-1).max()
    assert 1.0 < movement < 0.08 * height_of(idle[0])
    assert idle[2, J["neck"], 1] < idle[0, J["neck"], 1], "chest up when breathing in"
    hurt = frames_of(build("hurt"), "hurt_E")
    assert hurt[0, J["nose"], 0] < hurt[0, J["r_hip"], 0], "thrown back on the hit (facing +x)"
    assert hurt[1, J["nose"], 0] > hurt[1, J["r_hip"], 0], "then doubled over"


def test_death_ends_lying_on_the_ground():
    batch = build("death, idle", "8")
    for direction in DIRECTIONS_8:
        death, idle = frames_of(batch, f"death_{direction}"), frames_of(batch, f"idle_{direction}")
        assert height_of(death[-1]) < 0.5 * height_of(idle[0]), direction
    side = frames_of(build("death"), "death_E")
    assert height_of(side[-1]) < 0.2 * height_of(side[0]), "flat on the ground in profile"


# ------------------------------------------------------------------------------------------------ the rig
def test_mirrored_pose_swaps_sides_and_turns():
    pose = {"r_arm": 40, "l_knee": 20, "twist": 15, "lean": 5}
    assert mirror_pose(pose) == {"l_arm": 40, "r_knee": 20, "twist": -15, "lean": 5}
    points, _ = skeleton_3d(pose)
    mirrored, _ = skeleton_3d(mirror_pose(pose))
    swap = [J[n.replace("r_", "#").replace("l_", "r_").replace("#", "l_")] for n in J]
    assert np.allclose(points[swap] * [-1, 1, 1], mirrored, atol=1e-9)


def test_neutral_figure_stands_on_the_ground_one_body_tall():
    points, normals = skeleton_3d({})
    assert abs(points[:, 1].min() - ANKLE_HEIGHT) < 1e-9
    assert 0.9 < points[:, 1].max() < 1.0
    assert points[J["r_shoulder"], 0] > 0 > points[J["l_shoulder"], 0], "right is +x in the rig"
    assert np.allclose(np.linalg.norm(normals[[J["nose"], J["r_ear"]]], axis=-1), 1.0)


# ------------------------------------------------------------------------------------------- custom animations
CUSTOM = '''
# a friendly wave
wave: 6 @120ms pingpong "waving hello"
0    r_arm=160 r_arm_out=25 r_elbow=20 "hand up"
0.5  r_arm=160 r_arm_out=25 r_elbow=80
1    r_arm=160 r_arm_out=25 r_elbow=20

march: 4
0    r_leg=30 l_leg=-10 l_arm=30
0.5  mirror "other foot"
'''


def test_custom_animations_from_keyframes():
    wave, march = parse_custom_animations(CUSTOM)
    assert (wave.name, wave.frames, wave.duration_ms, wave.loop, wave.phrase) == ("wave", 6, 120, "pingpong",
                                                                                  "waving hello")
    assert not wave.cyclic and march.cyclic
    assert march.keyframes[1].pose["l_leg"] == 30 and march.keyframes[1].pose["r_arm"] == 30
    assert march.keyframes[1].phrase == "other foot"
    batch = build("idle:2", "side", custom=CUSTOM)
    assert [run.name for run in tag_runs(batch.frames)] == ["idle_E", "idle_W", "wave_E", "wave_W", "march_E",
                                                            "march_W"]
    waving = frames_of(batch, "wave_E")
    assert (waving[:, J["r_wrist"], 1] < waving[:, J["nose"], 1]).all(), "the hand is up all along"
    assert np.allclose(waving[0], waving[-1]), "keyframe 1 repeats keyframe 0"
    # A custom animation may replace a built-in one.
    replaced = resolve_animations("walk", "walk: 2\n0 r_arm=90\n0.5 l_arm=90")[0]
    assert replaced.frames == 2 and len(replaced.keyframes) == 2


@pytest.mark.parametrize("text,message", [
    ("0 r_arm=90", "before any animation header"),
    ("wave:\n0 r_amr=90", "did you mean r_arm"),
    ("wave:\n0 r_arm=up", "needs a number"),
    ("wave:\n0.5 r_arm=90\n0.2 r_arm=10", "must increase"),
    ("wave:\n0.2 r_arm=90", "first keyframe must be at time 0"),
    ("wave:\n0 r_arm=90\n1.5 r_arm=10", "outside 0..1"),
    ("wave:\n0 r_arm=90\n1 r_arm=1\n", ""),
    ("wave:", "no keyframes"),
    ("wave_E:\n0 r_arm=9", "ends in a direction"),
    ("wave: sideways\n0 r_arm=9", "loop mode"),
    ("wave:\n0 mirror", "needs a keyframe before it"),
    ("wave:\n0 r_arm=1\nwave:\n0 r_arm=2", "defined twice"),
    ("wave:\nhello", "expected an animation header"),
])
def test_custom_animation_errors_name_the_line(text, message):
    if not message:
        assert parse_custom_animations(text)[0].keyframes[-1].time == 1.0
        return
    with pytest.raises(InputError, match=message):
        parse_custom_animations(text)


# ------------------------------------------------------------------------------------------ prompts and seeds
def test_frame_prompts_fill_the_template_per_frame():
    batch = build("walk:2, death:2", "side")
    texts = prompts.frame_prompts("a knight", batch.frames, batch.actions, batch.details)
    assert texts[0] == ("a knight, right side view, walking, contact pose, front heel down, legs apart, pixel art "
                        "sprite, plain background")
    assert texts[2].startswith("a knight, left side view, walking, contact pose")
    assert "lying motionless on the back" in texts[-1]
    custom = prompts.frame_prompts("a knight", batch.frames, batch.actions, batch.details,
                                   "{character} | {animation} {frame}/{frames} | {direction} | {action}",
                                   prompts.parse_phrases("walk: striding\nE: facing right\n# a comment"))
    assert custom[:3] == ["a knight | walk 1/2 | facing right | striding", "a knight | walk 2/2 | facing right | "
                          "striding", "a knight | walk 1/2 | left side | striding"]
    # Empty fields leave no doubled commas behind.
    assert prompts.frame_prompts("", batch.frames[:1], [""], [""])[0] == ("right side view, pixel art sprite, "
                                                                           "plain background")


def test_direction_words_follow_the_seen_side():
    assert prompts.DIRECTION_WORDS["E"] == "right side" and prompts.DIRECTION_WORDS["S"] == "front"
    assert set(prompts.DIRECTION_WORDS) == set(DIRECTIONS_8)


@pytest.mark.parametrize("template,message", [("{character} {colour}", "unknown field"), ("{pose", "unbalanced")])
def test_template_errors(template, message):
    with pytest.raises(InputError, match=message):
        prompts.frame_prompts("x", [Frame("idle", 0)], ["idle"], [""], template)


def test_phrase_errors():
    with pytest.raises(InputError, match="line 2"):
        prompts.parse_phrases("walk: striding\nno colon here")


def test_sheet_prompt_lists_the_cells():
    batch = build("idle:1", "4")
    text = prompts.sheet_prompt("a knight", batch.frames, batch.actions, 4, 1)
    assert text.startswith("a knight, character sheet, 4 poses in a grid of 4 by 1: front view standing idle")
    assert "back view standing idle, relaxed" in text
    with pytest.raises(InputError, match="unknown field"):
        prompts.sheet_prompt("a knight", batch.frames, batch.actions, 4, 1, "{pose}")


def test_seed_policies():
    frames = build("idle:2, walk:2", "side").frames
    assert prompts.frame_seeds(7, frames) == [7] * 8
    assert prompts.frame_seeds(7, frames, "new seed per frame") == list(range(7, 15))
    assert prompts.frame_seeds(7, frames, "new seed per animation") == [7] * 4 + [8] * 4
    assert prompts.frame_seeds(prompts.MAX_SEED, frames[:2], "new seed per frame") == [prompts.MAX_SEED, 0]
    with pytest.raises(InputError, match="seed policy"):
        prompts.frame_seeds(7, frames, "random")
    with pytest.raises(InputError, match="outside"):
        prompts.frame_seeds(-1, frames)


# ------------------------------------------------------------------------------------------------- command line
def test_command_renders_sheets_frames_and_keypoints(tmp_path, capsys):
    import json

    from PIL import Image

    from dgx_pixels.cli import main as cli

    custom = tmp_path / "custom.txt"
    custom.write_text(CUSTOM, encoding="utf-8")
    out = tmp_path / "skeletons"
    assert cli.main(["poses", "render", "--animations", "walk:4, idle:2", "--directions", "4", "--size", "96x128",
                     "--custom", str(custom), "--each", "--seed", "5", "--seed-policy", "new seed per frame",
                     "-o", str(out)]) == 0
    assert Image.open(out / "walk.png").size == (4 * 96, 4 * 128)
    assert Image.open(out / "wave.png").size == (6 * 96, 4 * 128)
    assert Image.open(out / "idle_N" / "01.png").size == (96, 128)
    data = json.loads((out / "poses.json").read_text())
    assert (data["width"], data["height"], len(data["joints"])) == (96, 128, 18)
    frames = data["frames"]
    assert len(frames) == (4 + 2 + 6 + 4) * 4 and frames[0]["tag"] == "walk_S" and frames[0]["seed"] == 5
    assert frames[-1]["seed"] == 5 + len(frames) - 1
    nose = frames[0]["pose_keypoints_2d"][:3]
    assert nose[2] == 1.0 and 0 < nose[0] < 96
    back = next(f for f in frames if f["tag"] == "walk_N")
    assert back["pose_keypoints_2d"][:3] == [0.0, 0.0, 0.0], "hidden keypoints are written as OpenPose does"
    assert "walk.png" in capsys.readouterr().out


def test_command_lists_animations_and_parameters(capsys):
    from dgx_pixels.cli import main as cli

    assert cli.main(["poses", "list"]) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in BUILTIN_ANIMATIONS)
    assert "r_elbow" in printed and "lift the whole body" in printed


def test_command_errors_are_clear(tmp_path, capsys):
    from dgx_pixels.cli import main as cli

    assert cli.main(["poses", "render", "--animations", "dance", "-o", str(tmp_path / "x")]) == 2
    assert "no animation called 'dance'" in capsys.readouterr().err
    assert cli.main(["poses", "render", "--size", "big", "-o", str(tmp_path / "x")]) == 2
    assert "--size 'big' is not a size like 64x64 or 64 (a square)" in capsys.readouterr().err
    assert cli.main(["poses", "list", "--custom", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
