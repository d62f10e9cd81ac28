"""Consistent characters on real models: sprites per minute and consistency scores of the character workflow in its
three modes (per-frame, strips, strips + anchor), on a ComfyUI server that has the pack and the models.

    dgx-pixels host run &                                   # or any ComfyUI with the pack and the models
    python bench/bench_characters.py --server http://127.0.0.1:8188 [--anchor hero.png] [--out bench-characters]

Each mode draws the same character (prompt, animations, directions, seed) once; every mode is scored against one
reference (``--anchor``, else the first frame of the strips run), so the scores compare. It prints the card (GPU,
ComfyUI, torch), the model files' sha256 (read from ``--models-dir``, the host's models folder by default) and a
table, and writes everything to ``<out>/results.json``. Tiny test models give timings of the wiring, not of art.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dgx_pixels.character.reroll import consistency_files  # noqa: E402
from dgx_pixels.host import provision as hostlib  # noqa: E402
from dgx_pixels.library import definitions  # noqa: E402
from dgx_pixels.remote.client import Client  # noqa: E402
from dgx_pixels.remote.params import ApiWorkflow, parse_assignment  # noqa: E402

MODES = {"per-frame": {"layout": "per-frame"}, "strips": {"layout": "strips"}, "strips + anchor": {"layout": "strips"}}
NAME = "character"
MODEL_PARAMETERS = {"checkpoint": ("checkpoints", definitions.SDXL_CHECKPOINT),
                    "lora": ("loras", definitions.PIXEL_ART_LORA),
                    "controlnet": ("controlnet", definitions.OPENPOSE_CONTROLNET)}


def card(server: str) -> dict:
    with urllib.request.urlopen(f"{server.rstrip('/')}/system_stats", timeout=30) as answer:
        stats = json.loads(answer.read())
    system = stats.get("system", {})
    devices = [{"name": d.get("name"), "type": d.get("type"), "vram_gb": round((d.get("vram_total") or 0) / 2**30, 1)}
               for d in stats.get("devices", [])]
    return {"comfyui": system.get("comfyui_version"), "torch": system.get("pytorch_version"),
            "python": (system.get("python_version") or "").split()[0], "devices": devices}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def model_hashes(values: dict, models_dir: Path | None) -> dict:
    found = {}
    for parameter, (folder, default) in MODEL_PARAMETERS.items():
        name = values.get(parameter, default)
        path = models_dir / folder / name if models_dir else None
        found[name] = sha256(path) if path and path.is_file() else "not on this machine"
    return found


def summarise(scores: dict, seconds: float) -> dict:
    frames = scores["frames"]
    return {"seconds": round(seconds, 1), "frames": len(frames),
            "sprites_per_minute": round(len(frames) / seconds * 60, 2),
            "passed": f"{sum(f['passed'] for f in frames)}/{len(frames)}",
            "silhouette": round(statistics.mean(f["silhouette"] for f in frames), 3),
            "height_drift": round(statistics.mean(abs(f["height_drift"]) for f in frames), 2),
            "max_height_drift": max(abs(f["height_drift"]) for f in frames),
            "palette": round(statistics.mean(f["palette"] for f in frames), 2),
            "detail": round(statistics.mean(f["detail"] for f in frames), 2),
            "failing_strips": scores["failing_strips"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://127.0.0.1:8188")
    parser.add_argument("--out", type=Path, default=Path("bench-characters"))
    parser.add_argument("--anchor", type=Path, help="the anchor drawing (default: the strips run's first frame)")
    parser.add_argument("--prompt", default="a knight in silver armour with a red cape")
    parser.add_argument("--animations", default="idle, walk, attack")
    parser.add_argument("--directions", default="side")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--models-dir", type=Path, help="the server's models folder, to hash the model files")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                        help="any other parameter of the character workflow (width, steps, checkpoint...)")
    args = parser.parse_args()
    host = hostlib.load_host()
    models_dir = args.models_dir or (Path(host.comfyui) / "models" if host else None)
    workflow = ApiWorkflow.load("character_sprite_sheet")
    extra = dict(parse_assignment(text) for text in args.assignments)
    base = {**{k: workflow.parameter(k).coerce(v, workflow.name, from_text=True) for k, v in extra.items()},
            "prompt": args.prompt, "animations": args.animations, "directions": args.directions, "seed": args.seed}
    report = {"card": card(args.server), "models": model_hashes(base, models_dir), "parameters": base, "modes": {}}
    print(json.dumps({"card": report["card"], "models": report["models"]}, indent=1), flush=True)
    client = Client([args.server], request_timeout=120)
    anchor = args.anchor
    order = ["strips", "per-frame", "strips + anchor"]  # the strips run gives the default anchor
    for mode in order:
        values = {**base, **MODES[mode]}
        if mode == "strips + anchor":
            values["anchor"] = str(anchor)
        if anchor is not None:
            values["reference"] = str(anchor)
        started = time.monotonic()
        out_dir = args.out / mode.replace(" + ", "-")
        client.run_sync(workflow, values, out_dir=out_dir, name=NAME)
        seconds = time.monotonic() - started
        scores, reference = consistency_files(out_dir / "manifest.json", NAME)
        anchor = anchor or Path(reference)
        report["modes"][mode] = summarise(scores, seconds)
        print(f"{mode}: {report['modes'][mode]}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=1) + "\n")
    print("\n| mode | sprites/min | s | frames | passed | silhouette | height drift (mean/max px) | palette | "
          "detail |\n|---|---|---|---|---|---|---|---|---|")
    for mode in ("per-frame", "strips", "strips + anchor"):
        row = report["modes"][mode]
        print(f"| {mode} | {row['sprites_per_minute']} | {row['seconds']} | {row['frames']} | {row['passed']} | "
              f"{row['silhouette']} | {row['height_drift']}/{row['max_height_drift']} | {row['palette']} | "
              f"{row['detail']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
