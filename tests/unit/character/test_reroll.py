"""Re-rolls: only failing strips are drawn again, each try with its own fixed seed; the best try per strip goes into
the final run."""
from __future__ import annotations

from dgx_pixels.character.reroll import TRY_PROJECT, Rerolls, job_name, parse_seeds, reroll_seed

PARAMS = {"seed": 3, "strip_seeds": "", "strips": "", "project": "/games/knight", "asset_name": "hero",
          "anchor": "none"}


def report(**failing: int) -> dict:
    return {"passed": not any(failing.values()),
            "strips": {name: {"passed": not count, "failing_frames": count} for name, count in failing.items()},
            "frames": [{"strip": name, "label": f"{name} 1"} for name in failing]}


def test_only_failing_strips_are_drawn_again_with_new_seeds():
    rerolls = Rerolls(PARAMS)
    rerolls.record("try1", 1, report(idle_E=0, walk_E=2, attack_E=1))
    assert rerolls.failing() == ["walk_E", "attack_E"]
    retry = rerolls.retry_params("walk_E", 2, "/runs/try1/reference.png")
    assert retry["strips"] == "walk_E" and retry["strip_seeds"] == f"walk_E={reroll_seed(3, 'walk_E', 2)}"
    assert retry["project"] == TRY_PROJECT and retry["asset_name"] == "hero-walk_E-try2"
    assert retry["reference"] == "/runs/try1/reference.png"
    assert job_name("walk_E", 2) == "walk_E-try2" and job_name("walk_E", 1) == "try1"
    assert reroll_seed(3, "walk_E", 2) not in (3, reroll_seed(3, "walk_E", 3), reroll_seed(3, "attack_E", 2))


def test_the_final_run_uses_each_strips_best_try():
    rerolls = Rerolls({**PARAMS, "strip_seeds": "idle_E=11"})
    rerolls.record("try1", 1, report(idle_E=0, walk_E=2, attack_E=1))
    rerolls.record("walk_E-try2", 2, report(walk_E=0))
    rerolls.record("attack_E-try2", 2, report(attack_E=3))
    assert rerolls.failing() == ["attack_E"] and rerolls.rerolled
    assert rerolls.best("walk_E").job == "walk_E-try2" and rerolls.best("attack_E").job == "try1"
    final = rerolls.final_params(None)
    assert parse_seeds(final["strip_seeds"]) == {"idle_E": 11, "walk_E": reroll_seed(3, "walk_E", 2)}
    assert final["strips"] == "" and final["project"] == "/games/knight" and "reference" not in final
    summary = rerolls.summary()
    assert summary["passed"] is False
    assert summary["strips"]["walk_E"]["chosen"] == {"try": 2, "job": "walk_E-try2",
                                                      "seed": reroll_seed(3, "walk_E", 2), "failing_frames": 0}
    assert [t["job"] for t in summary["strips"]["attack_E"]["tries"]] == ["try1", "attack_E-try2"]


def test_nothing_to_draw_again_when_every_strip_passes():
    rerolls = Rerolls(PARAMS)
    rerolls.record("try1", 1, report(idle_E=0, walk_E=0))
    assert rerolls.failing() == [] and not rerolls.rerolled
    assert rerolls.summary()["passed"] is True
