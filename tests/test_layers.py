import pytest
import torch

from exypno.nets.layers import GaussianNoise, SameConv2d, haar, inverse_haar, quantize_8bit, same_padding


@pytest.mark.parametrize("k, expected", [(1, (0, 0)), (3, (1, 1)), (4, (1, 2)), (5, (2, 2)), (6, (2, 3))])
def test_keras_same_padding_puts_the_extra_pixel_after(k, expected):
    assert same_padding(k) == expected


@pytest.mark.parametrize("k", [4, 5, 6])
@pytest.mark.parametrize("size", [(7, 9), (8, 8), (1, 5)])
def test_same_conv_keeps_size(k, size):
    conv = SameConv2d(2, 3, k)
    assert conv(torch.zeros(1, 2, *size)).shape == (1, 3, *size)


def test_even_kernel_alignment_matches_keras():
    # Keras "same": out[i] = sum_k w[k] * x[i + k - before]. A delta at k = before copies the input.
    for k in (4, 6):
        before, _ = same_padding(k)
        conv = SameConv2d(1, 1, k, bias=False)
        with torch.no_grad():
            conv.weight.zero_()
            conv.weight[0, 0, before, before] = 1
        x = torch.arange(30.0).reshape(1, 1, 5, 6)
        assert torch.equal(conv(x), x)
        with torch.no_grad():  # the last tap looks (k - 1 - before) pixels ahead, zero past the edge
            conv.weight.zero_()
            conv.weight[0, 0, before, k - 1] = 1
        shift = k - 1 - before
        expected = torch.zeros_like(x)
        expected[..., : 6 - shift] = x[..., shift:]
        assert torch.equal(conv(x), expected)


def test_haar_is_orthonormal_and_invertible():
    x = torch.rand(2, 3, 8, 12)
    y = haar(x)
    assert y.shape == (2, 12, 4, 6)
    assert torch.allclose(inverse_haar(y), x, atol=1e-6)
    assert torch.allclose(y.pow(2).sum(), x.pow(2).sum(), rtol=1e-5)


def test_haar_ll_band_is_twice_the_block_mean():
    x = torch.rand(1, 1, 4, 4)
    ll = haar(x)[:, :1]
    mean = torch.nn.functional.avg_pool2d(x, 2)
    assert torch.allclose(ll, 2 * mean, atol=1e-6)


def test_quantize_rounds_to_png_values_with_straight_through_gradient():
    x = torch.tensor([-0.2, 0.0, 0.3, 0.50001, 1.4], requires_grad=True)
    q = quantize_8bit(x)
    assert torch.equal(q * 255, torch.round(q * 255))
    assert q.min() >= 0 and q.max() <= 1
    q.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]  # clamped values get no gradient


def test_gaussian_noise_only_in_training():
    layer = GaussianNoise(0.1)
    x = torch.zeros(4, 3, 8, 8)
    assert layer(x).abs().sum() > 0
    layer.eval()
    assert torch.equal(layer(x), x)
