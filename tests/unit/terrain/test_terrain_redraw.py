"""Redraws: only the failing tiles get new seeds (a failing full tile: its base tile), the others keep theirs, and
every try is listed with its verdict."""
from __future__ import annotations

from dgx_pixels.character.reroll import parse_seeds, reroll_seed
from dgx_pixels.terrain.plan import plan_terrain
from dgx_pixels.terrain.redraw import Redraws, try_name


def report(plan, failing: list[int]) -> dict:
    return {"passed": not failing, "failing_tiles": failing, "pairs_failing": 2 * len(failing),
            **plan.describe()}


def test_failing_tiles_and_the_bases_of_failing_full_tiles_get_new_seeds():
    plan = plan_terrain("corner 16", "grass", "dirt", 16, 64, variants=1)
    redraws = Redraws({"seed": 7, "tile_seeds": "3=11", "order": "corner 16"})
    redraws.record(1, report(plan, [5, 15]))  # a transition and the full dirt tile (the B base)
    assert not redraws.passed
    second = redraws.next_params(2)
    seeds = parse_seeds(second["tile_seeds"])
    assert seeds == {"3": 11, "5": reroll_seed(7, "5", 2), "b": reroll_seed(7, "b", 2)}
    assert second["order"] == "corner 16" and second["seed"] == 7
    redraws.record(2, report(plan, [5]))
    third = parse_seeds(redraws.next_params(3)["tile_seeds"])
    assert third["5"] == reroll_seed(7, "5", 3) != seeds["5"] and third["b"] == seeds["b"]
    redraws.record(3, report(plan, []))
    summary = redraws.summary()
    assert redraws.passed and summary["passed"] and summary["final"]["passed"]
    assert [(t["try"], t["job"], t["failing_tiles"]) for t in summary["tries"]] == [
        (1, "try1", [5, 15]), (2, "try2", [5]), (3, "try3", [])]
    assert summary["tries"][0]["tile_seeds"] == "3=11" and try_name(4) == "try4"
