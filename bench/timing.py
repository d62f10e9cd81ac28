"""Timing shared by the benchmark scripts."""
from __future__ import annotations

import time


def best_of(action, repeats=3):
    """(the fastest of ``repeats`` runs of ``action`` in seconds, the last run's result)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result
