"""The soft-decision inner code: IRA LDPC codes, encoded by a running XOR, decoded by belief propagation."""
import numpy as np
import pytest

from exypno.payload.ldpc import Blocks, IraCode


def test_codewords_satisfy_every_check_and_are_systematic(rng):
    code = IraCode(2048, 1024)
    info = rng.integers(0, 2, (3, 1024), dtype=np.uint8)
    words = code.encode(info)
    assert words.shape == (3, 2048)
    assert (words[:, :1024] == info).all()
    for w in words:
        assert not code.syndrome(w).any()
    assert code.syndrome(words[0] ^ np.eye(1, 2048, 1500, dtype=np.uint8)[0]).any()  # one flipped bit shows


def test_the_code_is_the_same_for_sender_and_receiver():
    a, b = IraCode(1024, 600).h, IraCode(1024, 600).h
    assert (a != b).nnz == 0
    assert IraCode(1024, 600).h.max() == 1  # no edge twice (it would cancel mod 2)


def test_soft_decisions_decode_far_more_wrong_bits_than_hard_ones(rng):
    """BPSK through Gaussian noise at 11% raw bit errors: a rate-1/2 code of 4096 bits comes back exactly."""
    code = IraCode(4096, 2048)
    info = rng.integers(0, 2, 2048, dtype=np.uint8)
    word = code.encode(info)
    sigma = 0.8
    received = (2.0 * word - 1) + rng.normal(0, sigma, word.shape)
    llr = 2 * received / sigma**2
    assert 0.08 < ((llr > 0) != word).mean() < 0.15
    got, converged = code.decode(llr)
    assert converged and (got == info).all()


def test_noise_does_not_converge(rng):
    code = IraCode(4096, 2457)
    _, converged = code.decode(rng.normal(0, 20, 4096))
    assert not converged


def test_blocks_carry_a_bit_string_and_pad_it_with_random_bits(rng):
    blocks = Blocks(IraCode(1024, 512), 3)
    bits = rng.integers(0, 2, 1000, dtype=np.uint8)
    coded = blocks.encode(bits, rng)
    assert coded.shape == (3072,)
    got, converged = blocks.decode(np.where(coded == 1, 8.0, -8.0))
    assert converged.all() and (got[:1000] == bits).all()


def test_rate_must_be_between_zero_and_one():
    with pytest.raises(ValueError):
        IraCode(100, 100)
