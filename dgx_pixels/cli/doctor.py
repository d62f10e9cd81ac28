"""``dgx-pixels doctor``: check this machine and its ComfyUI host, and say how to fix what is wrong."""
from __future__ import annotations

import argparse
from pathlib import Path

SYMBOLS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "info": "    "}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check the GPU, torch, ComfyUI, the pack, models, export roots, disk and memory",
        description="Each finding says what was found and, where something is wrong, the fix. Exit code 1 when "
                    "a check fails.")
    parser.add_argument("--start", action="store_true",
                        help="start a throwaway ComfyUI from the host to check that the pack loads (10-30 s)")
    parser.add_argument("--server", metavar="URL", help="check a running ComfyUI instead: does it serve our nodes")
    parser.add_argument("--models-dir", type=Path, help="ComfyUI's models folder (default: the host's)")
    parser.add_argument("--json", action="store_true", help="the findings as a JSON list, for scripts")
    parser.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from ..host.doctor import FAIL, as_json, examine

    findings = examine(args.server, args.start, args.models_dir)
    if args.json:
        print(as_json(findings))
    else:
        width = max(len(finding.check) for finding in findings)
        for finding in findings:
            print(f"{SYMBOLS[finding.status]} {finding.check:{width}}  {finding.detail}")
            if finding.fix:
                print(f"     {'':{width}}  -> {finding.fix}")
    return 1 if any(finding.status == FAIL for finding in findings) else 0
