"""Timings of the pose core on this machine: build the poses and draw the OpenPose skeletons of every built-in
animation for the side, 4 and 8 direction sets (best of 3; on the GPU too when torch sees one).

    python bench/bench_poses.py        (with the host venv's Python, from the repository root)
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dgx_pixels.poses import openpose  # noqa: E402
from dgx_pixels.poses.batch import build_pose_batch  # noqa: E402
from dgx_pixels.poses.library import DEFAULT_ANIMATIONS  # noqa: E402
from dgx_pixels.poses.parser import resolve_animations  # noqa: E402
from dgx_pixels.poses.rig import resolve_directions  # noqa: E402
from timing import best_of  # noqa: E402


def main() -> None:
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    animations = resolve_animations(DEFAULT_ANIMATIONS)
    for directions, size in (("side", 512), ("4", 512), ("8", 512), ("8", 1024)):
        seconds, batch = best_of(lambda: build_pose_batch(
            animations, resolve_directions(directions), size, size))
        points, shown = torch.from_numpy(batch.keypoints).float(), torch.from_numpy(batch.visible)
        line = f"{directions:>4} {size}x{size} {len(batch):4} frames: poses {seconds:.2f} s"
        for device in devices:
            def draw():
                image = openpose.render_skeletons(points, shown, size, size, device=device)
                if device == "cuda":
                    torch.cuda.synchronize()
                return image
            seconds, _ = best_of(draw)
            line += f", drawing on {device} {seconds:.2f} s ({seconds / len(batch) * 1000:.1f} ms a frame)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
