"""A character's frames planned from text: animations x directions x frames, each with its prompt, its seed and its
OpenPose skeleton. The pose node and ``dgx-pixels poses render`` both make exactly this."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from . import openpose, prompts
from .batch import PoseBatch, build_pose_batch
from .parser import resolve_animations
from .rig import resolve_directions


@dataclass(frozen=True)
class FramePlan:
    batch: PoseBatch
    prompts: list[str]
    seeds: list[int]
    skeletons: torch.Tensor  # [N, H, W, 3]: the OpenPose drawing of every frame

    def records(self, keypoints: bool = False) -> list[dict]:
        """Per frame: its tag fields, prompt and seed (and the OpenPose ``pose_keypoints_2d`` list when asked)."""
        batch = self.batch
        records = []
        for position, (frame, text, seed) in enumerate(zip(batch.frames, self.prompts, self.seeds)):
            record = {**frame.to_dict(), "tag": frame.tag, "prompt": text, "seed": seed}
            if keypoints:
                record["pose_keypoints_2d"] = [
                    value for (x, y), shown in zip(batch.keypoints[position].tolist(), batch.visible[position])
                    for value in ((round(x, 2), round(y, 2), 1.0) if shown else (0.0, 0.0, 0.0))]
            records.append(record)
        return records


def resolve(animations: str, custom_animations: str, directions: str, frames_per_animation: int = 0):
    """The animations and facing directions named in text."""
    return (resolve_animations(animations, custom_animations, frames_per_animation),
            resolve_directions(directions))


def render(batch: PoseBatch, device=None) -> torch.Tensor:
    """Every frame's OpenPose skeleton ``[N, H, W, 3]`` at the batch's frame size."""
    return openpose.render_skeletons(torch.from_numpy(batch.keypoints).float(), torch.from_numpy(batch.visible),
                                     batch.width, batch.height, device=device)


def plan_frames(character: str, animations: str, directions: str, width: int, height: int, *,
                frames_per_animation: int = 0, custom_animations: str = "", template: str = prompts.DEFAULT_TEMPLATE,
                phrases: str = "", seed: int = 0, seed_policy: str = prompts.SEED_POLICIES[0],
                device=None) -> FramePlan:
    chosen, facing = resolve(animations, custom_animations, directions, frames_per_animation)
    batch = build_pose_batch(chosen, facing, width, height)
    texts = prompts.frame_prompts(character, batch.frames, batch.actions, batch.details, template,
                                  prompts.parse_phrases(phrases))
    return FramePlan(batch, texts, prompts.frame_seeds(seed, batch.frames, seed_policy), render(batch, device))
