"""The pixel-true training set on made cases with known truth: upscaled and AI-like sprites come back to the same
pixels, captions, buckets, duplicates, flips, and clear errors for folders that hold nothing usable."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.common.errors import InputError
from dgx_pixels.training import dataset
from pixel_art import blow_up, drifting_cuts, true_sprite, uniform_cuts

WHITE = (255, 255, 255)


def save_rgba(path, image, mask):
    rgb = (image[0].numpy() * 255).round().astype(np.uint8)
    alpha = ((1 - mask[0].numpy()) * 255).round().astype(np.uint8)
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(path)


def sprite_files(folder, cases: dict):
    """``cases``: file name -> (cuts_x, cuts_y, noise) of the same 16x12 sprite blown up."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb, mask = true_sprite(16, 12)
    for name, (cuts_x, cuts_y, noise) in cases.items():
        save_rgba(folder / name, *blow_up(rgb, mask, cuts_x, cuts_y, noise=noise))
    return rgb, mask


def expected_pixels(rgb, mask, factor):
    flat = np.where(mask[..., None] > 0.5, np.array(WHITE), rgb)
    return np.repeat(np.repeat(flat, factor, 0), factor, 1)


def as_bytes(image):
    return (image.numpy() * 255).round().astype(int)


def test_buckets_keep_the_area_and_the_latent_step():
    for resolution, step in ((1024, 64), (512, 32), (64, 8)):
        sizes = dataset.buckets(resolution)
        assert sizes[0] == (resolution, resolution)
        assert all(w % step == 0 and h % step == 0 and w * h <= resolution ** 2 for w, h in sizes)
        assert all(w * h >= 0.8 * resolution ** 2 for w, h in sizes)
    assert (1216, 832) in dataset.buckets(1024) and (832, 1216) in dataset.buckets(1024)
    with pytest.raises(InputError, match="multiple of 8"):
        dataset.buckets(1001)


def test_upscaled_and_ai_like_sprites_come_out_at_the_same_pixel_exact_upscale(tmp_path):
    drift = (drifting_cuts(16, 9.3, 0.12, seed=3), drifting_cuts(12, 9.3, 0.12, seed=4))
    rgb, mask = sprite_files(tmp_path / "upscaled", {"knight.png": (uniform_cuts(16, 3), uniform_cuts(12, 3), 0)})
    sprite_files(tmp_path / "ai", {"knight.png": (*drift, 0)})
    sprite_files(tmp_path / "native", {"knight.png": (uniform_cuts(16, 1), uniform_cuts(12, 1), 0)})
    sets = [dataset.prepare(tmp_path / name, resolution=64) for name in ("upscaled", "ai", "native")]
    bucket = sets[0].bucket
    factor = dataset.whole_factor((16, 12), bucket)
    assert factor >= 3
    for prepared in sets:
        assert prepared.bucket == bucket and prepared.images.shape == (1, bucket[1], bucket[0], 3)
        assert prepared.kept[0].native == (16, 12) and prepared.kept[0].factor == factor
        assert np.array_equal(as_bytes(prepared.images[0]), as_bytes(sets[0].images[0]))
    # The art sits centred, every art pixel one factor x factor block of its exact colour.
    top, left = (bucket[1] - 12 * factor) // 2, (bucket[0] - 16 * factor) // 2
    art = as_bytes(sets[1].images[0])[top:top + 12 * factor, left:left + 16 * factor]
    assert np.array_equal(art, expected_pixels(rgb, mask, factor))
    assert [prepared.kept[0].cell for prepared in sets] == [3.0, pytest.approx(9.3, abs=0.5), 1.0]


def test_noisy_ai_output_gets_the_same_blocks_within_its_noise(tmp_path):
    drift = (drifting_cuts(16, 9.3, 0.12, seed=3), drifting_cuts(12, 9.3, 0.12, seed=4))
    rgb, mask = sprite_files(tmp_path, {"knight.png": (*drift, 0.03)})
    prepared = dataset.prepare(tmp_path, resolution=64)
    factor = prepared.kept[0].factor
    top, left = (prepared.bucket[1] - 12 * factor) // 2, (prepared.bucket[0] - 16 * factor) // 2
    art = as_bytes(prepared.images[0])[top:top + 12 * factor, left:left + 16 * factor]
    blocks = art.reshape(12, factor, 16, factor, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()  # crisp blocks, no resampling
    assert np.abs(art - expected_pixels(rgb, mask, factor)).max() <= 8


def test_the_same_art_twice_is_kept_once(tmp_path):
    sprite_files(tmp_path, {"a.png": (uniform_cuts(16, 3), uniform_cuts(12, 3), 0),
                            "b.png": (uniform_cuts(16, 5), uniform_cuts(12, 5), 0.02)})
    prepared = dataset.prepare(tmp_path, resolution=64)
    assert [k.file for k in prepared.kept] == ["a.png"]
    assert prepared.dropped == [("b.png", "duplicate of a.png (the same art pixels)")]
    assert "dropped b.png: duplicate of a.png" in prepared.summary()


def test_captions_join_trigger_own_caption_and_sprite_type(tmp_path):
    sprite_files(tmp_path, {"red_knight_02.png": (uniform_cuts(16, 2), uniform_cuts(12, 2), 0)})
    rgb, mask = true_sprite(16, 12, seed=5)
    save_rgba(tmp_path / "slime.png", *blow_up(rgb, mask, uniform_cuts(16, 4), uniform_cuts(12, 4)))
    (tmp_path / "slime.txt").write_text("  a green   slime\n")
    prepared = dataset.prepare(tmp_path, resolution=64, trigger="mygame", sprite_type="character sprite")
    assert prepared.captions == ["mygame, red knight, character sprite", "mygame, a green slime, character sprite"]
    assert prepared.dropped == []  # the caption file is not reported as a stray file


def test_flips_add_mirrored_copies(tmp_path):
    sprite_files(tmp_path, {"knight.png": (uniform_cuts(16, 3), uniform_cuts(12, 3), 0)})
    prepared = dataset.prepare(tmp_path, resolution=64, flip=True)
    assert [k.flipped for k in prepared.kept] == [False, True]
    assert np.array_equal(as_bytes(prepared.images[1]), as_bytes(prepared.images[0])[:, ::-1])


def test_background_colour_replaces_transparency(tmp_path):
    rgb, mask = sprite_files(tmp_path, {"knight.png": (uniform_cuts(16, 3), uniform_cuts(12, 3), 0)})
    prepared = dataset.prepare(tmp_path, resolution=64, background="#ff00ff")
    pixels = as_bytes(prepared.images[0])
    assert tuple(pixels[0, 0]) == (255, 0, 255)
    assert set(map(tuple, pixels.reshape(-1, 3))) <= set(map(tuple, rgb.reshape(-1, 3))) | {(255, 0, 255)}


def test_the_set_shares_the_bucket_most_of_it_has(tmp_path):
    wide = np.zeros((8, 24, 3), np.uint8) + np.arange(24, dtype=np.uint8)[None, :, None] * 10
    for index in range(2):
        Image.fromarray(np.roll(wide, index, 1)).save(tmp_path / f"wide{index}.png")
    sprite_files(tmp_path, {"square.png": (uniform_cuts(16, 1), uniform_cuts(12, 1), 0)})
    prepared = dataset.prepare(tmp_path, resolution=64)
    assert prepared.bucket[0] > prepared.bucket[1]
    assert prepared.images.shape[0] == 3


def test_unusable_files_are_reported_and_the_rest_kept(tmp_path, monkeypatch):
    sprite_files(tmp_path, {"knight.png": (uniform_cuts(16, 3), uniform_cuts(12, 3), 0)})
    Image.new("RGB", (1, 1), (9, 9, 9)).save(tmp_path / "dot.png")
    Image.new("RGB", (300, 300), (9, 9, 9)).save(tmp_path / "huge.png")
    (tmp_path / "fake.png").write_text("not really a picture")
    (tmp_path / "notes.md").write_text("# my sprites")
    monkeypatch.setenv("DGX_PIXELS_MAX_PIXELS", str(200 * 200))
    prepared = dataset.prepare(tmp_path, resolution=64)
    reasons = dict(prepared.dropped)
    assert [k.file for k in prepared.kept] == ["knight.png"]
    assert reasons["notes.md"] == "not an image file"
    assert "too small: 1x1" in reasons["dot.png"]
    assert "300x300" in reasons["huge.png"] and "over the limit" in reasons["huge.png"]
    assert "not a readable image" in reasons["fake.png"]


def test_big_art_without_a_grid_and_art_bigger_than_the_bucket_are_dropped(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (600, 600, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "photo.png")
    Image.fromarray(noise[:100, :100]).save(tmp_path / "big.png")
    with pytest.raises(InputError) as err:
        dataset.prepare(tmp_path, resolution=64)
    assert "no usable training image" in str(err.value)
    assert "photo.png: no pixel grid found in 600x600" in str(err.value)
    assert "big.png: too large: 100x100 art pixels" in str(err.value)


def test_folders_with_nothing_usable_get_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        dataset.prepare(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images"):
        dataset.prepare(tmp_path / "empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "readme.txt").write_text("hello")
    with pytest.raises(InputError, match=r"no images .* it holds readme.txt"):
        dataset.prepare(tmp_path / "text")
    (tmp_path / "dot").mkdir()
    Image.new("RGB", (1, 1)).save(tmp_path / "dot" / "dot.png")
    with pytest.raises(InputError, match=r"dot.png: too small: 1x1"):
        dataset.prepare(tmp_path / "dot")
    with pytest.raises(InputError, match="hex colour"):
        dataset.prepare(tmp_path / "dot", background="white")


def test_loss_figures_are_medians_of_the_first_and_last_tenth():
    from dgx_pixels.training.lora import loss_figures

    figures = loss_figures([5.0, 0.4, 0.5, 90.0] + [0.3] * 12 + [0.1, 0.2, 40.0, 0.1])
    assert figures["steps"] == 20 and figures["min"] == 0.1
    assert figures["first_tenth_median"] == pytest.approx(2.7) and figures["last_tenth_median"] == pytest.approx(20.05)
    assert loss_figures([1.0] * 9 + [0.5] * 9 + [2.0, 0.1])["last_tenth_median"] == pytest.approx(1.05)
    with pytest.raises(InputError, match="ran no step"):
        loss_figures([])


def test_a_saved_lora_is_whole_and_carries_its_metadata(tmp_path):
    import torch
    from safetensors import safe_open

    from dgx_pixels.training.lora import save_lora

    path = save_lora(tmp_path, "mystyle", {"a.lora_up.weight": torch.ones(2, 2)}, {"dgx_pixels.trigger": "mine",
                                                                                  "dgx_pixels.loss": {"steps": 3}})
    assert path.name == "mystyle.safetensors" and [p.name for p in tmp_path.iterdir()] == ["mystyle.safetensors"]
    with safe_open(str(path), "pt") as lora:
        assert lora.metadata() == {"dgx_pixels.trigger": "mine", "dgx_pixels.loss": '{"steps": 3}'}
    with pytest.raises(InputError, match="LoRA name"):
        save_lora(tmp_path, "../escape", {"a": torch.ones(1)}, {})
    with pytest.raises(InputError, match="no weights"):
        save_lora(tmp_path, "empty", {}, {})
    assert [p.name for p in tmp_path.iterdir()] == ["mystyle.safetensors"]
