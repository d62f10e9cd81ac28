"""Palette maths: OKLab, extraction, mapping, dithering patterns, swaps, validation, swatches."""
from __future__ import annotations

import pytest
import torch

from dgx_pixels.palette.apply import apply_palette, swap_palette
from dgx_pixels.palette.distinct import distinct_colours, packed_rgb
from dgx_pixels.palette.dither import error_diffusion
from dgx_pixels.palette.extract import extract_palette
from dgx_pixels.palette.report import swatches, validate
from dgx_pixels.palette.space import srgb_to_oklab
from dgx_pixels.palette.palette import Palette
from dgx_pixels.common.errors import InputError
from dgx_pixels.palette.builtin import BUILTIN_NAMES, builtin_palette

BW = Palette("bw", ((0, 0, 0), (255, 255, 255)))


def test_oklab_reference_values():
    lab = srgb_to_oklab(torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    assert torch.allclose(lab[0], torch.tensor([1.0, 0.0, 0.0]), atol=1e-3)
    assert torch.allclose(lab[1], torch.zeros(3), atol=1e-6)
    assert torch.allclose(lab[2], torch.tensor([0.6280, 0.2249, 0.1258]), atol=1e-3)  # Ottosson's red


def blobs(seed: int = 0) -> torch.Tensor:
    """A batch whose pixels are 6 colours plus a little noise."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[0.1, 0.1, 0.2], [0.9, 0.2, 0.2], [0.2, 0.8, 0.3], [0.2, 0.3, 0.9], [0.95, 0.9, 0.5],
                            [0.6, 0.4, 0.1]])
    index = torch.randint(0, 6, (2, 32, 32), generator=generator)
    return (centres[index] + torch.randn(2, 32, 32, 3, generator=generator) * 0.01).clamp(0, 1)


def test_extraction_finds_the_colours_is_deterministic_and_never_exceeds_k():
    image = blobs()
    first = extract_palette(image, colours=6, seed=3)
    assert first == extract_palette(image, colours=6, seed=3)
    assert len(first) == 6
    mapped = apply_palette(image, first)
    assert (mapped - image).abs().max() < 0.06
    assert len(extract_palette(image, colours=4)) <= 4


def test_automatic_size_stops_at_the_real_colour_count():
    assert len(extract_palette(blobs(1), colours=0)) == 6


def test_kept_colours_are_in_the_palette_and_transparent_pixels_are_not():
    image = blobs(2)
    mask = torch.zeros(2, 32, 32)
    image[:, :8] = torch.tensor([1.0, 0.0, 1.0])  # magenta, but transparent
    mask[:, :8] = 1
    palette = extract_palette(image, mask, colours=8, keep=Palette("k", ((0, 0, 0),)))
    assert (0, 0, 0) in palette.colours
    assert (255, 0, 255) not in palette.colours


def test_distinct_colours_count_opaque_pixels_and_spread_back_to_every_pixel():
    generator = torch.Generator().manual_seed(3)
    image = torch.randint(0, 5, (2, 9, 7, 3), generator=generator).float() / 4
    mask = (torch.rand(2, 9, 7, generator=generator) > 0.6).float()
    distinct = distinct_colours(image, mask)
    codes = packed_rgb(image)
    reference, inverse = torch.unique(codes.reshape(-1), return_inverse=True)
    opaque = torch.bincount(inverse, weights=(mask.reshape(-1) < 0.5).float(), minlength=len(reference))
    # the same colour seen opaque and transparent may appear twice; only opaque pixels count
    by_colour = dict.fromkeys(reference.tolist(), 0.0)
    for key, count in zip(packed_rgb(distinct.rgb).tolist(), distinct.counts.tolist()):
        by_colour[key] += count
    assert list(by_colour.values()) == opaque.tolist()
    # spreading each distinct colour's own index back gives every pixel its own colour
    spread = distinct.spread(torch.arange(len(distinct.rgb)))
    assert torch.equal(packed_rgb(distinct.rgb)[spread], codes)


def test_one_and_256_colour_palettes():
    image = torch.rand(1, 40, 40, 3, generator=torch.Generator().manual_seed(4))
    assert len(extract_palette(image, colours=1)) == 1
    big = extract_palette(image, colours=256)
    assert 200 <= len(big) <= 256
    assert validate(apply_palette(image, big), big).off_palette == 0
    with pytest.raises(InputError, match="at most 256"):
        Palette("huge", tuple((i % 256, i // 256, 0) for i in range(257)))


def test_fully_transparent_input_is_a_clear_error():
    with pytest.raises(InputError, match="every pixel is transparent"):
        extract_palette(torch.rand(1, 4, 4, 3), torch.ones(1, 4, 4))


def test_bayer_dither_of_flat_grey_matches_its_lightness():
    grey = torch.full((1, 64, 64, 3), 0.5)
    lightness = float(srgb_to_oklab(torch.tensor([0.5, 0.5, 0.5]))[0])
    for size in (2, 4, 8):
        out = apply_palette(grey, BW, dither=f"bayer {size}")
        white = float(out[..., 0].mean())
        assert abs(white - lightness) <= 1 / size ** 2 + 1e-6
        tile = out[0, :size, :size, 0]
        assert torch.equal(out[0, size:2 * size, size:2 * size, 0], tile)  # the pattern repeats every matrix
    assert torch.equal(apply_palette(grey, BW, dither="bayer 4", strength=0.0),
                       apply_palette(grey, BW))


@pytest.mark.parametrize("method", ["floyd-steinberg", "atkinson"])
def test_error_diffusion_keeps_the_average(method):
    grey = torch.full((2, 48, 48, 3), 0.5)
    out = apply_palette(grey, BW, dither=method)
    lightness = float(srgb_to_oklab(torch.tensor([0.5, 0.5, 0.5]))[0])
    assert abs(float(out[..., 0].mean()) - lightness) < 0.06
    assert torch.equal(out[0], out[1])  # the same frame dithers the same way
    assert set(out.unique().tolist()) == {0.0, 1.0}


def test_floyd_steinberg_matches_the_sequential_algorithm():
    image = torch.rand(1, 7, 9, 3, generator=torch.Generator().manual_seed(5))
    palette = Palette("p", ((0, 0, 0), (255, 0, 0), (0, 0, 255), (255, 255, 255)))
    lab = srgb_to_oklab(image)
    pal = srgb_to_oklab(palette.tensor())
    expected = torch.zeros(7, 9, dtype=torch.long)
    work = lab[0].clone()
    for y in range(7):
        for x in range(9):
            index = int(((work[y, x] - pal) ** 2).sum(-1).argmin())
            expected[y, x] = index
            error = work[y, x] - pal[index]
            for dy, dx, weight in ((0, 1, 7 / 16), (1, -1, 3 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16)):
                if y + dy < 7 and 0 <= x + dx < 9:
                    work[y + dy, x + dx] += error * weight
    assert torch.equal(error_diffusion(lab, pal, "floyd-steinberg", 1.0)[0], expected)


def test_masked_pixels_are_left_alone():
    image = torch.full((1, 4, 4, 3), 0.3)
    mask = torch.zeros(1, 4, 4)
    mask[0, 0, 0] = 1
    out = apply_palette(image, BW, mask)
    assert torch.allclose(out[0, 0, 0], torch.tensor([0.3, 0.3, 0.3])) and out[0, 1, 1, 0] == 0


def test_swap_maps_by_index_and_validate_counts_off_palette_pixels():
    source = Palette("team red", ((200, 0, 0), (100, 0, 0)))
    target = Palette("team blue", ((0, 0, 200), (0, 0, 100)))
    image = source.tensor()[torch.tensor([[0, 1], [1, 0]])][None]
    swapped = swap_palette(image, source, target)
    assert torch.equal(swapped, target.tensor()[torch.tensor([[0, 1], [1, 0]])][None])
    report = validate(swapped, target)
    assert report.colour_count == 2 and report.off_palette == 0
    assert validate(image, target).off_palette == 4
    with pytest.raises(InputError, match="maps colour i to colour i"):
        swap_palette(image, source, Palette("one", ((0, 0, 0),)))


def test_builtin_library():
    expected = {"PICO-8": 16, "Game Boy DMG": 4, "Endesga 32": 32, "Endesga 64": 64, "DawnBringer 16": 16,
                "DawnBringer 32": 32, "AAP-64": 64, "Sweetie 16": 16, "Resurrect 64": 64, "CGA": 16, "C64": 16,
                "ZX Spectrum": 15}
    for name, count in expected.items():
        palette = builtin_palette(name)
        assert len(palette) == count and len(set(palette.colours)) == count, name
    assert "NES" in BUILTIN_NAMES and builtin_palette("pico-8").hex()[8] == "#ff004d"
    with pytest.raises(InputError, match="no built-in palette"):
        builtin_palette("Mystery 9")


def test_swatch_image_layout():
    image = swatches(builtin_palette("PICO-8"), cell=4, columns=8)
    assert image.shape == (1, 8, 32, 3)
    assert torch.allclose(image[0, 4, 0], torch.tensor([255, 0, 77]) / 255, atol=1e-6)
