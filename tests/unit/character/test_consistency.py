"""The consistency scores on synthetic frames with known changes: each change raises the score that reads it,
identical frames score perfect, a new pose of the same character passes; the report and its picture."""
from __future__ import annotations

import pytest
import torch

from characters import CAPE, knight, wizard
from dgx_pixels.character.consistency import score_frames
from dgx_pixels.character.thresholds import Thresholds
from dgx_pixels.character.report import MARKS, at_frame_scale, picture, with_alpha
from dgx_pixels.common.errors import InputError
from dgx_pixels.image.ops import nearest_upscale
from dgx_pixels.sheets.frames import Frame

DEFAULTS = Thresholds()
CASES = {
    "identical": knight(),
    "shifted limb": knight(arm_out=5),
    "recoloured cape": knight(cape=(40, 80, 200)),
    "grown head": knight(head=12),
    "different character": wizard(),
    "walking": knight(step=2),
}


@pytest.fixture(scope="module")
def scores():
    report = score_frames(torch.stack(list(CASES.values())), knight()[None])
    return dict(zip(CASES, report.frames))


def test_identical_frames_score_perfect(scores):
    score = scores["identical"]
    assert (score.silhouette, score.height_drift, score.width_drift, score.palette, score.detail) == (1.0, 0, 0, 0, 0)
    assert score.passed


def test_a_shifted_limb_lowers_the_silhouette_only(scores):
    score = scores["shifted limb"]
    assert score.silhouette < 0.9
    assert (score.height_drift, score.palette) == (0, 0)
    assert score.width_drift == 5  # the arm reaches 5 px further out
    assert score.detail < 3, "the same colours meet in the same ways"
    strict = score_frames(CASES["shifted limb"][None], knight()[None], thresholds=Thresholds(min_silhouette=0.9))
    assert [f.split()[0] for f in strict.frames[0].failures] == ["silhouette"]


def test_a_recoloured_cape_raises_the_palette_distance_only(scores):
    score = scores["recoloured cape"]
    assert score.palette > DEFAULTS.max_palette_distance
    assert (score.silhouette, score.height_drift, score.width_drift) == (1.0, 0, 0)
    assert score.detail < 3
    assert [f.split()[0] for f in score.failures] == ["palette"]


def test_a_grown_head_shows_as_height_drift(scores):
    score = scores["grown head"]
    assert score.height_drift == 4 and score.width_drift == 0
    assert score.palette == 0 and score.detail < 3
    assert [f.split()[0] for f in score.failures] == ["height"]


def test_a_different_character_fails_on_detail_and_palette(scores):
    score = scores["different character"]
    assert score.detail > DEFAULTS.max_detail_distance
    assert score.detail == max(s.detail for s in scores.values())
    assert score.palette > DEFAULTS.max_palette_distance
    assert score.silhouette == min(s.silhouette for s in scores.values())
    assert not score.passed


def test_a_new_pose_of_the_same_character_passes(scores):
    score = scores["walking"]
    assert score.passed and score.palette == 0 and score.detail < 3


def test_a_frame_facing_the_other_way_matches_the_mirrored_anchor():
    report = score_frames(knight(arm_out=3).flip(1)[None], knight(arm_out=3)[None])
    assert report.frames[0].silhouette == 1.0 and report.passed


def test_each_frame_is_compared_with_its_closest_anchor_frame():
    anchors = torch.stack([knight(), knight(step=2)])
    report = score_frames(torch.stack([knight(step=2), knight()]), anchors)
    assert [(f.reference, f.silhouette) for f in report.frames] == [(1, 1.0), (0, 1.0)]


def test_the_report_groups_frames_into_strips_and_names_the_failing_ones():
    frames = torch.stack([knight(), knight(step=2), knight(), knight(cape=CAPE[::-1])])
    tags = [Frame("idle", 0, direction="E"), Frame("idle", 1, direction="E"), Frame("walk", 0, direction="E"),
            Frame("walk", 1, direction="E")]
    report = score_frames(frames, knight()[None], tags)
    assert report.strips == {"idle_E": 0, "walk_E": 1}
    assert report.failing_strips == ["walk_E"] and not report.passed
    table = report.table()
    assert "walk_E 2" in table and "FAIL: palette" in table and table.endswith("FAILED: draw again walk_E")
    data = report.to_dict()
    assert data["strips"]["walk_E"] == {"passed": False, "failing_frames": 1}
    assert data["frames"][3]["failures"][0].startswith("palette")
    names = score_frames(frames, knight()[None], tags, strip_names=["a", "a", "b", "c"])
    assert names.strips == {"a": 0, "b": 0, "c": 1}


def test_the_picture_frames_failing_frames_in_red():
    frames = torch.stack([knight(), knight(head=12)])
    report = score_frames(frames, knight()[None], [Frame("idle", 0, direction="E"), Frame("idle", 1, direction="E")])
    marked = picture(frames, knight()[None], report)
    zoom = 96 // 44  # frames 44 px tall are zoomed twice
    width, height = (28 + 2) * zoom, (44 + 2) * zoom  # each cell has a one-pixel frame
    assert marked.shape == (2 * height, 2 * width, 4)  # the anchor's row, then the strip's
    colour = [tuple(round(v, 2) for v in marked[y, x, :3].tolist()) for y, x in ((0, 0), (height, 0), (height, width))]
    assert colour == [tuple(round(v, 2) for v in MARKS[m]) for m in ("anchor", "passed", "failed")]


def test_a_reference_drawn_at_generation_size_is_brought_to_the_frames_scale():
    sprite = knight()
    blown_up = nearest_upscale(sprite[None], 8)
    native = at_frame_scale(blown_up, (28, 44))
    assert native.shape == (1, 44, 28, 4)
    assert torch.equal(native[0, ..., 3] > 0.5, sprite[..., 3] > 0.5)
    report = score_frames(sprite[None], native)
    assert report.frames[0].silhouette == 1.0 and report.frames[0].palette < 1
    assert at_frame_scale(sprite[None], (28, 44)) is not None


def test_an_opaque_picture_on_a_plain_backdrop_gets_a_shape():
    sprite = knight()
    alpha = sprite[..., 3:]
    on_white = sprite[..., :3] * alpha + (1 - alpha)
    rgba = with_alpha(on_white[None], None)
    assert torch.equal(rgba[0, ..., 3] > 0.5, alpha[..., 0] > 0.5)


def test_bad_inputs_are_named():
    with pytest.raises(InputError, match="RGBA batch"):
        score_frames(knight(), knight()[None])
    with pytest.raises(InputError, match="3 frame tags for 1 frames"):
        score_frames(knight()[None], knight()[None], [Frame("idle", i) for i in range(3)])
