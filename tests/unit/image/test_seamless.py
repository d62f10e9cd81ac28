"""Wrap-around convolutions for seamless tiles."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dgx_pixels.image import seamless
from dgx_pixels.common.errors import InputError


def conv() -> torch.nn.Conv2d:
    torch.manual_seed(0)
    return torch.nn.Conv2d(3, 4, 3, padding=1)


def test_wrapped_conv_equals_a_convolution_of_the_tiled_input():
    layer = conv()
    x = torch.rand(2, 3, 8, 10)
    wrapped = seamless.wrapping_conv(layer, "both")
    tiled = x.repeat(1, 1, 3, 3)
    expected = F.conv2d(tiled, layer.weight, layer.bias)[:, :, 7:15, 9:19]
    assert torch.allclose(wrapped(x), expected, atol=1e-5)


def test_one_axis_wraps_and_the_other_stays_zero_padded():
    layer = conv()
    x = torch.rand(1, 3, 6, 6)
    out = seamless.wrapping_conv(layer, "x")(x)
    reference = layer(x)
    assert torch.allclose(out[:, :, :, 1:-1], reference[:, :, :, 1:-1], atol=1e-5)  # interior columns match
    assert not torch.allclose(out[:, :, :, 0], reference[:, :, :, 0])  # edge columns see the other side


def test_the_original_layer_is_untouched():
    layer = conv()
    x = torch.rand(1, 3, 6, 6)
    before = layer(x)
    seamless.wrapping_conv(layer, "both")
    assert torch.equal(layer(x), before)
    assert seamless.wrapping_conv(layer, "both").weight is layer.weight


def test_bad_axes_are_refused():
    with pytest.raises(InputError, match="axes"):
        seamless.wrapping_conv(conv(), "diagonal")


def test_padded_convolutions_skips_unpadded_layers():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.Conv2d(3, 3, 1))
    assert [name for name, _ in seamless.padded_convolutions(model)] == ["0"]


def test_wrap_difference_is_zero_for_a_periodic_image():
    x = torch.linspace(0, 6.283, 17)[:-1]
    wave = (torch.sin(x)[None, :] + torch.cos(x)[:, None]).unsqueeze(0).unsqueeze(-1).expand(1, 16, 16, 3)
    assert seamless.wrap_difference(wave).item() < 0.5
    assert seamless.wrap_difference(torch.arange(16.0).view(1, 1, 16, 1).expand(1, 16, 16, 3), "x").item() == 15
