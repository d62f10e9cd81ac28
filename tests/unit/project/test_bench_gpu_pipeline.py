"""The device pipeline benchmark keeps running: its smallest form, on the CPU, reports every stage."""
from __future__ import annotations

import json
import subprocess
import sys

from paths import REPO


def test_the_pipeline_benchmark_runs_at_tiny_sizes_and_reports_every_stage():
    result = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_pipeline.py"), "--tiny", "--device", "cpu",
                             "--json"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["machine"]["torch"] and "threads" in report["machine"]
    (run,) = report["runs"]
    assert run["device"] == "cpu" and run["frames"] == 2 and run["peak_bytes"] > 0
    assert [stage["stage"] for stage in run["stages"]] == ["background to alpha", "grid (locked)", "downscale",
                                                           "palette extract", "palette apply", "sheet"]
    assert all(stage["median_s"] > 0 and stage["bytes"] > 0 for stage in run["stages"])
