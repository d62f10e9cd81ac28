"""OpenPose skeleton rendering: the annotator's limbs, colours and stroke sizes; joints inside the frame; left and
right sides that swap with the facing."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dgx_pixels.poses import openpose
from dgx_pixels.poses.batch import PoseBatch, build_pose_batch
from dgx_pixels.poses.library import DEFAULT_ANIMATIONS
from dgx_pixels.poses.parser import resolve_animations
from dgx_pixels.poses.rig import resolve_directions
from dgx_pixels.common.errors import InputError
from dgx_pixels.poses.openpose import COLOURS, LIMBS
from dgx_pixels.poses.rig import JOINT_INDEX

# The OpenPose body annotator's tables (draw_bodypose): 1-based keypoint pairs of the 17 drawn limbs, and the 18
# colours (RGB) of keypoints and limbs.
ANNOTATOR_LIMB_SEQ = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13],
                      [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18]]
ANNOTATOR_COLOURS = [[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0],
                     [0, 255, 0], [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255],
                     [0, 0, 255], [85, 0, 255], [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85]]


def batch_for(animations: str, directions: str, width: int = 512, height: int = 512) -> PoseBatch:
    return build_pose_batch(resolve_animations(animations), resolve_directions(directions),
                            width, height)


def rendered(batch: PoseBatch) -> np.ndarray:
    images = openpose.render_skeletons(torch.from_numpy(batch.keypoints).float(), torch.from_numpy(batch.visible),
                                       batch.width, batch.height)
    return (images * 255).round().to(torch.uint8).numpy()


def in_ellipse(point: np.ndarray, a: np.ndarray, b: np.ndarray, half_width: float) -> bool:
    centre, along = (a + b) / 2, b - a
    length = max(np.linalg.norm(along), 1e-6)
    unit = along / length
    d = point - centre
    return (d @ unit / max(length / 2, 0.5)) ** 2 + ((d[1] * unit[0] - d[0] * unit[1]) / half_width) ** 2 <= 1.0


def test_tables_are_the_annotators():
    assert [[a + 1, b + 1] for a, b in LIMBS] == ANNOTATOR_LIMB_SEQ
    assert [list(c) for c in COLOURS] == ANNOTATOR_COLOURS
    assert openpose.limb_colour(0) == (153, 0, 0) and openpose.limb_colour(1) == (153, 51, 0)
    assert openpose.stroke_sizes(512, 512) == (4.0, 4.0)
    assert openpose.stroke_sizes(1024, 768) == (6.0, 6.0)
    assert openpose.stroke_sizes(64, 64) == (1.0, 1.0)


@pytest.mark.parametrize("animations,directions", [("idle, attack", "4"), ("walk, run", "side"), ("jump", "8")])
def test_limb_midpoints_have_the_limb_colour_and_joints_their_own(animations, directions):
    batch = batch_for(animations, directions)
    images = rendered(batch)
    stick, radius = openpose.stroke_sizes(batch.width, batch.height)
    checked_limbs, checked_joints = set(), set()
    for image, points, shown in zip(images, batch.keypoints, batch.visible):
        centres = np.round(points)
        for limb, (a, b) in enumerate(LIMBS):
            if not (shown[a] and shown[b]):
                continue
            mid = np.round((points[a] + points[b]) / 2)
            covered = any(shown[j] and np.sum((mid - points[j]) ** 2) <= (radius + 1) ** 2
                          for j in range(len(COLOURS)))
            covered |= any(shown[c] and shown[d] and in_ellipse(mid, points[c], points[d], stick + 1)
                           for c, d in LIMBS[limb + 1:])
            if not covered:
                assert tuple(image[int(mid[1]), int(mid[0])]) == openpose.limb_colour(limb), (limb, mid)
                checked_limbs.add(limb)
        for joint in range(len(COLOURS)):
            later = [j for j in range(joint + 1, len(COLOURS))
                     if shown[j] and np.sum((points[joint] - points[j]) ** 2) <= (2 * radius + 1) ** 2]
            x, y = centres[joint].astype(int)
            if shown[joint] and not later:
                assert tuple(image[y, x]) == COLOURS[joint], (joint, x, y)
                checked_joints.add(joint)
    assert len(checked_limbs) >= 12 and len(checked_joints) >= 14


def reference_drawing(points: np.ndarray, shown: np.ndarray, width: int, height: int) -> np.ndarray:
    """An independent drawing of the annotator's recipe with Pillow: each limb a filled ellipse polygon (1 degree
    steps, as cv2.ellipse2Poly makes it) in its 60 % colour, later over earlier, then filled joint circles."""
    from PIL import Image, ImageDraw

    stick, radius = openpose.stroke_sizes(width, height)
    picture = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(picture)
    angles = np.radians(np.arange(360))
    for limb, (a, b) in enumerate(LIMBS):
        if not (shown[a] and shown[b]):
            continue
        centre, along = (points[a] + points[b]) / 2, points[b] - points[a]
        half = max(np.linalg.norm(along) / 2, 0.5)
        theta = np.arctan2(along[1], along[0])
        xs = centre[0] + half * np.cos(angles) * np.cos(theta) - stick * np.sin(angles) * np.sin(theta)
        ys = centre[1] + half * np.cos(angles) * np.sin(theta) + stick * np.sin(angles) * np.cos(theta)
        draw.polygon(list(zip(xs, ys)), fill=openpose.limb_colour(limb))
    for joint, (x, y) in enumerate(points):
        if shown[joint]:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=COLOURS[joint])
    return np.asarray(picture)


def found_nearby(image: np.ndarray, other: np.ndarray, reach: int) -> np.ndarray:
    """Per pixel: does ``other`` have this pixel's colour of ``image`` within ``reach`` pixels?"""
    padded = np.pad(other, ((reach, reach), (reach, reach), (0, 0)))
    height, width = image.shape[:2]
    return np.any([(padded[reach + dy:reach + dy + height, reach + dx:reach + dx + width] == image).all(-1)
                   for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)], axis=0)


def test_drawing_matches_an_independent_drawing_of_the_annotators_recipe():
    """Same shapes, colours and stacking order: rasterisers differ along outlines (Pillow's polygons come out a
    pixel fuller), so nearly every drawn pixel's colour is within a pixel in the other drawing; the few that are
    not are slivers where two limbs nearly coincide (side views)."""
    batch = batch_for("walk:4, attack:3", "4", 512, 512)
    for image, points, shown in zip(rendered(batch), batch.keypoints, batch.visible):
        reference = reference_drawing(points, shown, batch.width, batch.height)
        drawn = (image > 0).any(-1) | (reference > 0).any(-1)
        assert (image == reference).all(-1)[drawn].mean() > 0.8
        for one, other in ((image, reference), (reference, image)):
            assert found_nearby(one, other, 1)[drawn].mean() > 0.99
            assert found_nearby(one, other, 2)[drawn].mean() > 0.994


def test_only_black_limb_and_joint_colours_are_drawn():
    batch = batch_for("walk:4, death:4", "8", 256, 384)
    images = rendered(batch)
    allowed = {(0, 0, 0), *COLOURS, *(openpose.limb_colour(i) for i in range(len(LIMBS)))}
    packed = images.astype(np.int32) @ np.array([1 << 16, 1 << 8, 1])
    found = {(int(c) >> 16, (int(c) >> 8) & 255, int(c) & 255) for c in np.unique(packed)}
    assert found <= allowed
    assert (images.reshape(len(images), -1, 3) == 0).all(-1).mean(-1).min() > 0.8, "mostly black background"


@pytest.mark.parametrize("size", [(64, 64), (512, 512), (768, 512), (320, 640)])
@pytest.mark.parametrize("directions", ["side", "4", "8"])
def test_every_joint_of_every_built_in_pose_is_inside_the_frame(size, directions):
    width, height = size
    batch = batch_for(DEFAULT_ANIMATIONS, directions, width, height)
    radius = openpose.stroke_sizes(width, height)[1]
    xs, ys = batch.keypoints[..., 0], batch.keypoints[..., 1]
    assert xs.min() >= radius and xs.max() <= width - 1 - radius
    assert ys.min() >= radius and ys.max() <= height - 1 - radius
    # Big enough to use: a standing figure fills over half the frame height.
    standing = batch.keypoints[0]
    assert np.ptp(standing[:, 1]) > 0.45 * height or width < height


def test_facing_east_and_west_mirror_with_the_near_side_swapped():
    east, west = batch_for("walk, attack", "right"), batch_for("walk, attack", "W")
    width = east.width
    assert np.allclose(west.keypoints[..., 0], width - 1 - east.keypoints[..., 0], atol=1e-6)
    assert np.allclose(west.keypoints[..., 1], east.keypoints[..., 1], atol=1e-6)
    right_face = [JOINT_INDEX["r_eye"], JOINT_INDEX["r_ear"]]
    left_face = [JOINT_INDEX["l_eye"], JOINT_INDEX["l_ear"]]
    assert east.visible[:, right_face].all() and not east.visible[:, left_face].any()
    assert west.visible[:, left_face].all() and not west.visible[:, right_face].any()
    # The images: the body is an exact mirror, the face shows the other eye and ear.
    east_images, west_images = rendered(east), rendered(west)
    assert (east_images[:, :, ::-1] == west_images).all(-1).mean() > 0.995
    for colour, should_show in ((COLOURS[16], (True, False)), (COLOURS[17], (False, True))):
        shows = [(images == colour).all(-1).any(axis=(1, 2)).all() for images in (east_images, west_images)]
        assert tuple(shows) == should_show


def test_front_and_back_views_put_the_right_shoulder_on_opposite_sides():
    batch = batch_for("idle:1", "4")
    right, left = JOINT_INDEX["r_shoulder"], JOINT_INDEX["l_shoulder"]
    by_direction = {frame.direction: points for frame, points in zip(batch.frames, batch.keypoints)}
    assert by_direction["S"][right, 0] < by_direction["S"][left, 0], "facing the viewer: right side on the left"
    assert by_direction["N"][right, 0] > by_direction["N"][left, 0], "seen from behind: right side on the right"
    shown = {frame.direction: visible for frame, visible in zip(batch.frames, batch.visible)}
    nose, ears = JOINT_INDEX["nose"], [JOINT_INDEX["r_ear"], JOINT_INDEX["l_ear"]]
    assert shown["S"][nose] and shown["S"][ears].all()
    assert not shown["N"][nose] and shown["N"][ears].all()


def test_hidden_joints_and_their_limbs_are_not_drawn():
    points = torch.tensor([[[32.0, 10], [32, 20], [24, 20], [20, 30], [18, 40], [40, 20], [44, 30], [46, 40],
                            [28, 40], [28, 50], [28, 60], [36, 40], [36, 50], [36, 60], [30, 8], [34, 8], [27, 9],
                            [37, 9]]])
    shown = torch.ones(1, 18, dtype=torch.bool)
    shown[0, 0] = False  # the nose: no nose joint, no neck-nose limb, no nose-eye limbs
    image = (openpose.render_skeletons(points, shown, 64, 64) * 255).round().to(torch.uint8).numpy()[0]
    for colour in (COLOURS[0], openpose.limb_colour(12), openpose.limb_colour(13), openpose.limb_colour(15)):
        assert not (image == colour).all(-1).any()
    assert (image == COLOURS[16]).all(-1).any()


def test_render_checks_its_input_and_draws_in_chunks():
    with pytest.raises(InputError, match=r"\[frames, 18, 2\]"):
        openpose.render_skeletons(torch.zeros(1, 17, 2), torch.ones(1, 17, dtype=torch.bool), 64, 64)
    with pytest.raises(InputError, match="NaN"):
        openpose.render_skeletons(torch.full((1, 18, 2), float("nan")), torch.ones(1, 18, dtype=torch.bool), 64, 64)
    with pytest.raises(InputError, match="too small"):
        openpose.render_skeletons(torch.zeros(1, 18, 2), torch.ones(1, 18, dtype=torch.bool), 4, 64)
    batch = batch_for("walk:4", "4", 64, 64)  # chunks of N frames, whose faces are hidden in all of them
    points, shown = torch.from_numpy(batch.keypoints).float(), torch.from_numpy(batch.visible)
    whole = openpose.render_skeletons(points, shown, 64, 64)
    old = openpose.MAX_PIXELS_PER_PASS
    try:
        openpose.MAX_PIXELS_PER_PASS = 4 * 64 * 64
        chunked = openpose.render_skeletons(points, shown, 64, 64)
    finally:
        openpose.MAX_PIXELS_PER_PASS = old
    assert torch.equal(whole, chunked)
    assert openpose.render_skeletons(points[:0], shown[:0], 64, 64).shape == (0, 64, 64, 3)


def test_tiling():
    images = torch.arange(5, dtype=torch.float32).view(5, 1, 1, 1).expand(5, 2, 3, 1)
    assert openpose.grid_layout(5) == (3, 2) and openpose.grid_layout(5, 8) == (5, 1)
    grid = openpose.tile_images(images, 3, 2)
    assert grid.shape == (4, 9, 1)
    assert grid[0, ::3, 0].tolist() == [0, 1, 2] and grid[2, ::3, 0].tolist() == [3, 4, 0]
    rows = openpose.tile_rows(images, [[0, 1], [2, 3, 4]])
    assert rows.shape == (4, 9, 1) and rows[0, ::3, 0].tolist() == [0, 1, 0] and rows[2, ::3, 0].tolist() == [2, 3, 4]
    with pytest.raises(InputError):
        openpose.grid_layout(0)
