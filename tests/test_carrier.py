"""Bits in pixels: the keyed slot order, repetition voting, and the sender's refinement against the decoder."""
import numpy as np
import torch

from exypno.nets import StegoModel
from exypno.nets.models import NetConfig
from exypno.payload.carrier import STEP_FRACTION, BitCarrier, keyed_order


def test_keyed_order_is_a_permutation_fixed_by_the_seed():
    a, b, c = keyed_order(1000, bytes(32)), keyed_order(1000, bytes(32)), keyed_order(1000, bytes(31) + b"\x01")
    assert sorted(a.tolist()) == list(range(1000))
    assert (a == b).all()
    assert (a != c).mean() > 0.9


def _carrier(repeat=1) -> BitCarrier:
    torch.manual_seed(0)
    model = StegoModel(NetConfig(secret_channels=1, width=16, blocks=(1, 1, 1), levels=1)).eval()
    with torch.no_grad():  # an untrained decoder barely looks at its input: make it sensitive, as training does
        model.decoder.net.head.weight.mul_(200.0)
    return BitCarrier(model, repeat=repeat, margin=1.0)


def test_read_sums_the_repeated_slots():
    carrier = _carrier(repeat=3)
    order = np.arange(12)
    logits = np.array([1, 1, -5, -1, -1, -1, 2, -1, 0.5, -3, 4, 0], dtype=np.float32)
    assert carrier.read(logits, order, 4).tolist() == [0, 0, 1, 1]


def test_capacity_follows_the_grid_and_the_repetition():
    assert _carrier().slots(33, 20) == 32 * 20
    assert _carrier(repeat=4).capacity_bits(32, 20) == 32 * 20 // 4


def test_refinement_makes_even_an_untrained_decoder_read_the_bits(rng):
    """The sender's refinement alone (no training) brings a small payload through 8-bit rounding."""
    carrier = _carrier(repeat=2)
    cover = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    order = keyed_order(carrier.slots(32, 32), bytes(32))
    bits = rng.integers(0, 2, 40).astype(np.uint8)
    stego, info = carrier.embed(cover, bits, order, steps=300, generator=rng)
    assert stego.dtype == np.uint8 and stego.shape == cover.shape
    assert info["wrong_bits"] == 0
    assert (carrier.read(carrier.logits(stego), order, len(bits)) == bits).all()
    # A different passphrase's order reads noise.
    other = keyed_order(carrier.slots(32, 32), b"\x07" * 32)
    assert (carrier.read(carrier.logits(stego), other, len(bits)) != bits).mean() > 0.2


def test_a_refinement_step_moves_a_few_values_by_one_level(rng):
    """Sparse steps on the 8-bit grid: each changes at most ``STEP_FRACTION`` of the values, by one level."""
    carrier = _carrier()
    cover = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    order = keyed_order(carrier.slots(32, 32), bytes(32))
    seen = []

    def accept(stego):
        seen.append(stego)
        return len(seen) == 3, None

    stego, info = carrier.embed(cover, rng.integers(0, 2, 40).astype(np.uint8), order, steps=5, generator=rng,
                                accept=accept)
    assert info == {"refine_steps": 2, "accepted": True}
    assert (stego == seen[-1]).all()
    for before, after in zip(seen, seen[1:]):
        change = np.abs(after.astype(int) - before)
        assert change.max() == 1
        assert 0 < (change > 0).sum() <= STEP_FRACTION * change.size


def test_a_bit_block_model_has_one_slot_per_square_and_reads_its_mean():
    torch.manual_seed(0)
    model = StegoModel(NetConfig(secret_channels=2, width=16, blocks=(1, 1, 1), levels=1)).eval()
    carrier = BitCarrier(model, block=4)
    assert carrier.region(34, 21) == (32, 20)
    assert carrier.grid(34, 21) == (2, 8, 5)
    assert carrier.slots(34, 21) == 80
    stego = np.random.default_rng(0).integers(0, 256, (32, 20, 3), dtype=np.uint8)
    full = BitCarrier(model).logits(stego).reshape(2, 32, 20)
    pooled = carrier.logits(stego).reshape(2, 8, 5)
    assert np.allclose(pooled[1, 2, 3], full[1, 8:12, 12:16].mean(), atol=1e-5)


def test_votes_are_the_sums_the_hard_decisions_come_from():
    carrier = _carrier(repeat=2)
    logits = np.array([1, -3, 2, 2, -1, 0.5], dtype=np.float32)
    order = np.array([5, 4, 0, 1, 2, 3])
    assert carrier.votes(logits, order, 3).tolist() == [-0.5, -2, 4]
    assert carrier.read(logits, order, 3).tolist() == [0, 0, 1]
