"""Palette nodes through /prompt: load (built-in and file), extract, apply, swap, validate, save."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image



@pytest.fixture
def sprite_name(comfy, tmp_path):
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "palette_sprite.png")
    return comfy.upload_image(tmp_path / "palette_sprite.png")


def colours_of(image: Image.Image) -> set:
    return {tuple(c) for c in np.asarray(image.convert("RGB")).reshape(-1, 3)}


def test_builtin_palette_applied_with_dither_stays_on_palette(comfy, sprite_name):
    outputs = comfy.run({
        "1": {"class_type": "LoadImage", "inputs": {"image": sprite_name}},
        "2": {"class_type": "DGXPixelsLoadPalette", "inputs": {"palette": "PICO-8"}},
        "3": {"class_type": "DGXPixelsApplyPalette", "inputs": {"image": ["1", 0], "palette": ["2", 0],
                                                                 "dither": "floyd-steinberg", "strength": 1.0}},
        "4": {"class_type": "DGXPixelsValidatePalette", "inputs": {"image": ["3", 0], "palette": ["2", 0],
                                                                    "fail_on_off_palette": True}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": "pico"}},
        "6": {"class_type": "SaveImage", "inputs": {"images": ["2", 1], "filename_prefix": "swatches"}},
    })
    pico = outputs["2"]["dgx_palette"][0]["colours"]
    assert len(pico) == 16 and pico[0] == "#000000"
    used = colours_of(comfy.fetch(outputs["5"]["images"][0]))
    assert used <= {tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)) for h in pico}
    assert "all on palette" in outputs["4"]["dgx_palette"][0]["note"]
    assert comfy.fetch(outputs["6"]["images"][0]).size == (128, 32)


def test_extract_then_swap_and_a_palette_file_from_the_folder(comfy, sprite_name):
    folder = comfy.base_dir / "models" / "palettes"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "team_blue.hex").write_text("".join(f"{i:02x}{i:02x}ff\n" for i in range(0, 256, 32)))
    spec = comfy.object_info("DGXPixelsLoadPalette")["DGXPixelsLoadPalette"]["input"]["required"]["palette"]
    assert "team_blue.hex" in spec[1]["options"]
    outputs = comfy.run({
        "1": {"class_type": "LoadImage", "inputs": {"image": sprite_name}},
        "2": {"class_type": "DGXPixelsExtractPalette", "inputs": {"image": ["1", 0], "colours": 8, "seed": 1,
                                                                   "keep": "#000000"}},
        "3": {"class_type": "DGXPixelsApplyPalette", "inputs": {"image": ["1", 0], "palette": ["2", 0],
                                                                 "dither": "none", "strength": 1.0}},
        "4": {"class_type": "DGXPixelsLoadPalette", "inputs": {"palette": "team_blue.hex"}},
        "5": {"class_type": "DGXPixelsPaletteSwap", "inputs": {"image": ["3", 0], "source": ["2", 0],
                                                                "target": ["4", 0]}},
        "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "swapped"}},
        "7": {"class_type": "DGXPixelsSavePalette", "inputs": {"palette": ["2", 0], "filename": "extracted",
                                                                "format": ".gpl"}},
    })
    extracted = outputs["2"]["dgx_palette"][0]["colours"]
    assert len(extracted) == 8 and "#000000" in extracted
    assert all(c[2] == 255 for c in colours_of(comfy.fetch(outputs["6"]["images"][0])))
    saved = (comfy.base_dir / "output" / "extracted.gpl").read_text()
    assert saved.startswith("GIMP Palette") and len(saved.splitlines()) == 4 + 8


def test_validate_can_stop_the_run_and_bad_files_are_named(comfy, sprite_name):
    error = comfy.execution_error({
        "1": {"class_type": "LoadImage", "inputs": {"image": sprite_name}},
        "2": {"class_type": "DGXPixelsLoadPalette", "inputs": {"palette": "Game Boy DMG"}},
        "3": {"class_type": "DGXPixelsValidatePalette", "inputs": {"image": ["1", 0], "palette": ["2", 0],
                                                                    "fail_on_off_palette": True}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},
    })
    assert "Validate Palette:" in error["exception_message"] and "off-palette pixel" in error["exception_message"]
    folder = comfy.base_dir / "models" / "palettes"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.gpl").write_text("GIMP Palette\n1 2\n")
    error = comfy.execution_error({
        "1": {"class_type": "DGXPixelsLoadPalette", "inputs": {"palette": "broken.gpl"}},
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 1]}},
    })
    assert "Load Palette:" in error["exception_message"] and "broken.gpl, line 2" in error["exception_message"]


def test_the_automatic_palette_names_and_snaps_to_the_built_in_palette_it_matches(comfy, tmp_path):
    pico = np.array([[0, 0, 0], [126, 37, 83], [255, 0, 77], [255, 163, 0], [41, 173, 255]])
    rng = np.random.default_rng(5)
    art = np.clip(pico[rng.integers(0, len(pico), (16, 16))] + rng.integers(-5, 6, (16, 16, 3)), 0, 255)
    Image.fromarray(art.astype(np.uint8)).save(tmp_path / "pico_art.png")
    name = comfy.upload_image(tmp_path / "pico_art.png")
    palettes = {}
    for snap in (False, True):
        outputs = comfy.run({
            "1": {"class_type": "LoadImage", "inputs": {"image": name}},
            "2": {"class_type": "DGXPixelsExtractPalette", "inputs": {"image": ["1", 0], "colours": 0, "seed": 0,
                                                                       "keep": "", "snap_to_builtin": snap}},
            "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 1]}},
        })
        palettes[snap] = outputs["2"]["dgx_palette"][0]
    assert "looks like PICO-8 (5 of 16)" in palettes[False]["note"]
    assert "snapped to PICO-8 (5 of 16)" in palettes[True]["note"]
    assert set(palettes[True]["colours"]) == {"#%02x%02x%02x" % tuple(c) for c in pico.tolist()}
    assert len(palettes[False]["colours"]) == 5 and palettes[False]["colours"] != palettes[True]["colours"]
