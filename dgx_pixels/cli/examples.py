"""Worked examples for every command's ``--help``, kept in one place so they read as one manual."""
from __future__ import annotations

import argparse

EXAMPLES = {
    "host setup": """
  dgx-pixels host setup                                   # ComfyUI at the tested commit, in ~/.cache/dgx-pixels
  dgx-pixels host setup --comfyui ~/ComfyUI               # your ComfyUI, with its own venv when it has one
  dgx-pixels host setup --comfyui ~/ComfyUI --python ~/ComfyUI/.venv/bin/python
  dgx-pixels host setup --torch torch==2.14.1 torchvision==0.29.1   # kept for later set-ups""",
    "host run": """
  dgx-pixels host run                                     # http://127.0.0.1:8188/ with DGX-Pixels loaded
  dgx-pixels host run --listen 0.0.0.0 --port 8190        # reachable from the local network
  dgx-pixels host run --cpu                               # on the CPU on purpose""",
    "host info": """
  dgx-pixels host info""",
    "host python": """
  $(dgx-pixels host python) -m pytest tests               # the host's Python, for scripts and make""",
    "doctor": """
  dgx-pixels doctor
  dgx-pixels doctor --start                               # also load the pack in a throwaway ComfyUI
  dgx-pixels doctor --server http://spark.local:8188 --json""",
    "models list": """
  dgx-pixels models list
  dgx-pixels models list --models-dir ~/ComfyUI/models""",
    "models download": """
  dgx-pixels models download sdxl-base pixel-art-xl
  dgx-pixels models download all --models-dir ~/ComfyUI/models""",
    "pixelize": """
  dgx-pixels pixelize ai_knight.png -o knight.png                  # the true pixel grid, at native size
  dgx-pixels pixelize frames/ -o native/ --lock --colours 16      # a folder: one grid and one palette for all
  dgx-pixels pixelize shot.png -o small.png --size 64x64 --palette PICO-8
  dgx-pixels pixelize ai_knight.png -o knight.png --colours 0      # and the artist's own colours, found""",
    "sheet": """
  dgx-pixels sheet frames/ -o hero.png --tags "idle:4@120ms, walk_E:6@80ms pingpong"
  dgx-pixels sheet f0.png f1.png f2.png -o hero.png --layout packed --padding 1 --trim""",
    "tileset": """
  dgx-pixels tileset tiles/ -o ground.png
  dgx-pixels tileset t*.png -o terrain.png --autotile "corner 16" --spacing 1""",
    "slice": """
  dgx-pixels slice poses.png -o frames/                           # each separate shape is a frame
  dgx-pixels slice sheet.png -o frames/ --by grid --grid-cell 32x32
  dgx-pixels slice generated.png -o frames/ --by background       # the flat backdrop separates them""",
    "export bevy": """
  dgx-pixels export bevy frames/ --project ~/games/knight --name hero --tags "idle:4, walk_E:6"
  dgx-pixels export bevy tiles/ --project ~/games/knight --name ground --tileset""",
    "export godot": """
  dgx-pixels export godot frames/ --project ~/games/knight --name hero --tags "idle:4, walk_E:6@80ms pingpong"
  dgx-pixels export godot tiles/ --project ~/games/knight --name grass --tileset --autotile "blob 47\"""",
    "export phaser": """
  dgx-pixels export phaser frames/ --project ~/games/web/public --name hero --tags "idle:4, attack:4 once\"""",
    "export pixi": """
  dgx-pixels export pixi frames/ --project ~/games/web/public --name hero --tags "idle:4, walk_E:6" --trim""",
    "export unity": """
  dgx-pixels export unity frames/ --project ~/games/KnightUnity --name hero --tags "idle:4, walk_E:6"
  dgx-pixels export unity frames/ --project ~/games/KnightUnity --name hero --pixels-per-unit 16""",
    "export ldtk": """
  dgx-pixels export ldtk tiles/ --project ~/games/levels --name grass --tileset --autotile "corner 16\"""",
    "export aseprite": """
  dgx-pixels export aseprite frames/ --project out --name hero --tags "idle:4, walk_E:6"
  dgx-pixels export aseprite frames/ --project out --name hero --form hash --frame-names aseprite --rgba""",
    "export recover": """
  dgx-pixels export recover ~/games/knight                        # finish an export a crash interrupted""",
    "export history": """
  dgx-pixels export history ~/games/knight                        # the kept previous versions""",
    "run": """
  dgx-pixels run cleanup_existing_art --set image=sprite.png -o out/
  dgx-pixels run tileset_seamless --set prompt="mossy stone floor" --set tiles=8 --server http://spark:8188
  dgx-pixels run my_workflow_api.json --list-params
  dgx-pixels run --resume out/manifest.json
  dgx-pixels run cleanup_existing_art --set image=sprite.png --bevy ~/games/knight   # the sheet exported here
  dgx-pixels run item_icons --set items="sword" --json   # NDJSON events on stdout for scripts, text on stderr""",
    "batch": """
  dgx-pixels batch prompts.txt --workflow item_icons -o icons/         # one job per line
  dgx-pixels batch heroes.yaml --server http://gpu1:8188 --server http://gpu2:8188
  dgx-pixels batch props.yaml --broker redis://queue-box:6379/0 --priority 7   # onto the studio queue""",
    "submit": """
  dgx-pixels submit character_sprite_sheet --set prompt="a knight" --count 20 --priority 7
  dgx-pixels submit --file props.yaml --submitter build-bot --batch-id props-v12   # broker: $DGX_PIXELS_BROKER
  dgx-pixels submit item_icons --set items="sword" --broker redis://queue-box:6379/0 --json""",
    "jobs": """
  dgx-pixels jobs                                                 # the latest batches, their jobs by state
  dgx-pixels jobs props-v12                                       # each job: state, progress, worker, error
  dgx-pixels jobs --submitter build-bot --limit 0 --json""",
    "fetch": """
  dgx-pixels fetch props-v12 -o out/props                         # what is done now; exit 4 if some are not
  dgx-pixels fetch props-v12 -o out/props --wait --timeout 3600
  dgx-pixels fetch props-v12/sword -o out/ --force""",
    "cancel": """
  dgx-pixels cancel props-v12                                     # every unfinished job of the batch
  dgx-pixels cancel props-v12/sword props-v12/shield""",
    "worker": """
  dgx-pixels worker --comfyui http://127.0.0.1:8188 --name spark-1   # the broker from $DGX_PIXELS_BROKER
  dgx-pixels worker --broker redis://queue-box:6379/0 --comfyui http://127.0.0.1:8190 --job-timeout 1800""",
    "palette list": """
  dgx-pixels palette list
  dgx-pixels palette list --dir ~/palettes""",
    "palette extract": """
  dgx-pixels palette extract frames/ -o hero.gpl --colours 12 --keep "#000000"
  dgx-pixels palette extract art.png -o art.hex --colours 0              # automatic size""",
    "palette apply": """
  dgx-pixels palette apply sprite.png -o out.png --palette PICO-8 --dither "bayer 4"
  dgx-pixels palette apply frames/ -o out/ --colours 16 --lock""",
    "palette convert": """
  dgx-pixels palette convert PICO-8 -o pico8.gpl
  dgx-pixels palette convert mine.pal -o mine.hex""",
    "generate character": """
  dgx-pixels generate character "a knight with a red cape" --animations "idle, walk, attack" --directions 4
  dgx-pixels generate character "a knight" --anchor hero.png --reroll 2 --bevy ~/games/knight""",
    "generate tiles": """
  dgx-pixels generate tiles "mossy stone floor" --tiles 8 --tile-size 32x32
  dgx-pixels generate tiles "lava" --export godot=~/games/godot_game --json      # another engine, NDJSON""",
    "generate items": """
  dgx-pixels generate items --item "iron sword" --item "health potion" --icon-size 32x32
  dgx-pixels generate items items.txt --colours 24""",
    "train": """
  dgx-pixels train art/ --name mystyle                    # a style LoRA: then generate ... --lora mystyle
  dgx-pixels train art/ --name mystyle --trigger mygame --steps 2000 --rank 16 --server http://spark:8188
  dgx-pixels train runs/hero/frames/ --name hero --character      # one character's approved frames""",
    "generate terrain": """
  dgx-pixels generate terrain grass dirt --order "blob 47" --tile-size 32 --name meadow
  dgx-pixels generate terrain grass dirt --order platformer --redraw 2      # failing tiles drawn again
  dgx-pixels generate terrain sand water --tile-a sand.png --tile-b water.png   # your own seamless tiles""",
    "poses list": """
  dgx-pixels poses list
  dgx-pixels poses list --custom my_animations.txt""",
    "poses render": """
  dgx-pixels poses render -o skeletons/ --animations "idle, walk:8" --directions 4 --size 512
  dgx-pixels poses render -o skeletons/ --each --character "a knight"     # every frame's OpenPose image""",
    "mcp": """
  dgx-pixels mcp --server http://spark.local:8188 --root ~/games/knight   # stdio: the assistant starts it
  dgx-pixels mcp --http 8765 --root ~/games/knight       # streamable HTTP on loopback; token: $DGX_PIXELS_MCP_TOKEN""",
    "check": """
  dgx-pixels check frames/ --anchor hero.png --picture check.png
  dgx-pixels check sheet_frames/*.png --min-silhouette 0.8""",
}


def attach_examples(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> None:
    """Give every command's help page its examples (raw, so the columns stay)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                attach_examples(child, (*path, name))
            return
    text = EXAMPLES.get(" ".join(path))
    if text:
        parser.epilog = "examples:" + text
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
