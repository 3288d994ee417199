import pytest
import torch

from exypno.nets import PRESETS, NetConfig, StegoModel, count_parameters, gmac_per_megapixel
from exypno.nets.base import BaseNetwork
from exypno.nets.layers import SameConv2d


def test_paper_base_network_structure():
    bn = BaseNetwork(3)
    assert len(bn.branches) == 3
    for branch, (filters, kernel) in zip(bn.branches, [(32, 4), (64, 5), (128, 6)]):
        assert len(branch.convs) == 5
        assert all(isinstance(c, SameConv2d) for c in branch.convs)
        assert {c.out_channels for c in branch.convs} == {filters}
        assert {c.kernel_size for c in branch.convs} == {(kernel, kernel)}
    assert [c.kernel_size[0] for c in bn.merge] == [6, 5, 4]
    assert {c.in_channels for c in bn.merge} == {224}
    assert {c.out_channels for c in bn.merge} == {32}
    assert bn(torch.zeros(1, 3, 9, 11)).shape == (1, 96, 9, 11)


def test_paper_preset_heads_and_parameter_count():
    model = StegoModel(PRESETS["paper"])
    assert model.compressor.net.head.kernel_size == (1, 1)
    assert model.compressor.net.head.out_channels == 3  # secret tensor: the secret's size
    assert model.encoder.net.base.branches[0].convs[0].in_channels == 6  # concat(cover, secret tensor)
    assert model.encoder.net.head.out_channels == 3
    assert model.decoder.net.head.out_channels == 3
    n = count_parameters(model)
    assert 9.5e6 <= n <= 10.5e6, n  # the paper says "about 9.5 M"; exactly 10,244,265 with biases


def test_paper_preset_any_size():
    model = StegoModel(PRESETS["paper"])
    c, s = torch.rand(1, 3, 13, 10), torch.rand(1, 3, 13, 10)
    with torch.no_grad():
        stego = model.hide(c, s)
        assert stego.shape == c.shape
        assert model.reveal(stego).shape == s.shape


@pytest.mark.parametrize("cover_ch, secret_ch", [(3, 3), (2, 2), (3, 4), (1, 3)])
def test_channel_counts_are_parameters(cover_ch, secret_ch):
    for preset in ("haar",):
        cfg = NetConfig(preset=preset, cover_channels=cover_ch, secret_channels=secret_ch, width=8, blocks=(1, 1, 1))
        model = StegoModel(cfg)
        c, s = torch.rand(2, cover_ch, 16, 24), torch.rand(2, secret_ch, 16, 24)
        stego = model.hide(c, s)
        assert stego.shape == c.shape
        assert model.reveal(stego).shape == s.shape
        assert model.compressor(s).shape == s.shape


def test_haar_encoder_starts_near_identity():
    model = StegoModel(PRESETS["haar"])
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert (model.hide(c, s) - c).abs().max() < 0.05


def test_default_preset_is_over_50x_cheaper_than_the_paper():
    paper = gmac_per_megapixel(StegoModel(PRESETS["paper"]), 32)
    fast = gmac_per_megapixel(StegoModel(PRESETS["haar"]), 32)
    assert 9000 < paper < 11000
    assert paper / fast >= 50


def test_gradients_reach_all_three_nets():
    model = StegoModel(NetConfig(width=8, blocks=(1, 1, 1)))
    c, s = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    stego = model.hide(c, s)
    loss = (stego - c).pow(2).mean() + (model.reveal(stego) - s).pow(2).mean()
    loss.backward()
    for net in (model.compressor, model.encoder, model.decoder):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_lattice_features_are_periodic_and_cost_nothing_when_absent():
    from exypno.nets.models import LatticeFeatures

    f = LatticeFeatures((0.04, 0.01))
    x = torch.randn(2, 3, 4, 5)
    assert f.channels(3) == 15 and f(x).shape == (2, 15, 4, 5)
    shifted = f(x + 0.04)
    assert torch.allclose(shifted[:, 3:], f(x)[:, 3:], atol=1e-4)  # the fine part sees x modulo each period
    assert torch.equal(LatticeFeatures(())(x), x)
    plain = StegoModel(NetConfig())
    assert count_parameters(plain) == 858_704  # the shipped default's architecture is untouched
    assert not any("modulator" in k or "demodulator" in k for k in plain.state_dict())


def test_the_lattice_code_moves_each_value_by_at_most_half_a_period_and_reads_back_what_it_wrote():
    from exypno.nets.lattice import LatticeCode

    code = LatticeCode(1 / 64, span=64.0, mu=1000.0)
    x = torch.randn(4, 2, 32, 16, dtype=torch.float64) * 3
    v = torch.randn_like(x) * torch.randn_like(x).exp()  # heavy-tailed, like a sound's spectrum
    v[0, 0, 0, 0] = 500.0  # beyond the span: clips to it
    symbols = code.compand(v)
    assert symbols.abs().max() <= 1 and torch.allclose(code.expand(symbols)[v.abs() < 64], v[v.abs() < 64])
    assert code.expand(symbols)[0, 0, 0, 0].item() == pytest.approx(64.0)
    stego = code.write(x, symbols)
    assert (stego - x).abs().max() <= code.period / 2 + 1e-12
    assert ((stego - x).std() * 12**0.5 / code.period - 1).abs() < 0.05  # uniform over the period, whatever is sent
    assert torch.allclose(code.read(stego), symbols, atol=1e-9)
    noisy = code.read(stego + 3e-5 * torch.randn_like(stego))  # the 16-bit file's noise in grid units
    assert (noisy - symbols).std() < 5e-3 and (noisy - symbols).abs().max() < 0.05  # no wrap from +1 to -1


def test_a_qim_model_starts_as_its_code_and_its_trunks_learn():
    config = NetConfig(cover_channels=2, secret_channels=2, width=8, blocks=(1, 1, 1), lattice=(1 / 64,), qim=(64.0, 1000.0))
    model = StegoModel(config)
    assert not any("modulator" in k or "carry" in k for k in model.state_dict())  # no learnt modem
    cover, secret = torch.randn(2, 2, 16, 8), torch.randn(2, 2, 16, 8)
    stego = model.hide(cover, secret)
    assert (stego - cover).abs().max() <= 1 / 128 + 1e-6
    assert torch.allclose(model.reveal(stego), secret, rtol=1e-3, atol=1e-3)  # zero heads: the code alone
    loss = (model.reveal(stego + 1e-4 * torch.randn_like(stego)) - secret).pow(2).mean()
    loss.backward()
    for net in (model.compressor, model.encoder, model.decoder):
        assert net.net.head.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="a secret of as many channels as the cover or a picture"):
        StegoModel(NetConfig(cover_channels=3, secret_channels=2, lattice=(1 / 64,), qim=(64.0, 1000.0)))


def test_a_qim_model_carries_a_picture_on_a_sounds_grid_as_luma_and_half_width_chroma():
    from exypno.nets.lattice import pack_picture, unpack_picture

    torch.manual_seed(0)
    flat_rows = torch.rand(2, 3, 16, 1).repeat(1, 1, 1, 9)  # no detail along a row: 4:2:2 loses nothing
    packed = pack_picture(flat_rows)
    assert packed.shape == (2, 2, 16, 9) and packed.abs().max() <= 0.5 + 1e-6
    assert torch.allclose(unpack_picture(packed), flat_rows, atol=1e-5)
    config = NetConfig(cover_channels=2, secret_channels=3, width=8, blocks=(1, 1, 1), lattice=(1 / 128,), qim=(0.5, 0.0))
    model = StegoModel(config)
    cover, picture = torch.randn(2, 2, 16, 8), torch.rand(2, 3, 16, 8)
    stego = model.hide(cover, picture)
    assert (stego - cover).abs().max() <= 1 / 256 + 1e-6
    # the code alone, to float32's rounding of values some 500 periods from zero
    assert torch.allclose(model.reveal(stego), unpack_picture(pack_picture(picture)), atol=1e-3)


def test_a_lattice_model_keeps_its_periods_in_its_card(tmp_path):
    from exypno.nets.files import load_model, save_model

    config = NetConfig(cover_channels=2, secret_channels=2, width=8, blocks=(1, 1, 1), lattice=(0.04, 0.02))
    model = StegoModel(config)
    save_model(model, tmp_path / "m.safetensors", card={"pairing": "audio-in-audio", "spectrogram": "block"})
    loaded_model, _ = load_model(tmp_path / "m.safetensors")
    assert loaded_model.config == config
    x = torch.randn(1, 2, 16, 8)
    with torch.no_grad():
        assert torch.equal(loaded_model.hide(x, x), model.hide(x, x))
    assert NetConfig.from_dict({"preset": "haar"}).lattice == ()  # a card without one (seal.json) has none
    qim = NetConfig(cover_channels=2, secret_channels=2, lattice=(1 / 64,), qim=(64.0, 1000.0))
    assert NetConfig.from_dict(qim.to_dict()) == qim
