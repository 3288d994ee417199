"""The payload container: exact round trips, random-looking output, clean failures."""
import os

import numpy as np
import pytest

from exypno.payload import Layout, PayloadError, seal_bytes, unseal_bytes

LAYOUT = Layout(capacity=255 * 12 + 7, nsym=32)


def test_round_trip_keeps_name_and_bytes():
    data = os.urandom(1000)
    blob = seal_bytes(data, "/home/alice/secret report.pdf", "correct horse", LAYOUT)
    assert len(blob) == LAYOUT.capacity
    assert unseal_bytes(blob, "correct horse", LAYOUT) == ("secret report.pdf", data)


def test_compressible_files_fit_beyond_the_raw_capacity():
    text = b"all work and no play makes jack a dull boy\n" * 200  # 8.8 KB, compresses well
    assert len(text) > LAYOUT.max_file_bytes
    blob = seal_bytes(text, "jack.txt", "pw", LAYOUT)
    assert unseal_bytes(blob, "pw", LAYOUT)[1] == text


def test_empty_file_round_trips():
    assert unseal_bytes(seal_bytes(b"", "empty", "pw", LAYOUT), "pw", LAYOUT) == ("empty", b"")


def test_too_large_is_refused_with_the_capacity():
    with pytest.raises(PayloadError, match="carries"):
        seal_bytes(os.urandom(LAYOUT.data_bytes), "big.bin", "pw", LAYOUT)


def test_output_looks_random_and_differs_each_time():
    data = b"\0" * 2000
    a, b = seal_bytes(data, "zeros", "pw", LAYOUT), seal_bytes(data, "zeros", "pw", LAYOUT)
    assert a != b
    bits = np.unpackbits(np.frombuffer(a, np.uint8))
    assert abs(bits.mean() - 0.5) < 0.02
    counts = np.bincount(np.frombuffer(a, np.uint8), minlength=256)
    assert counts.max() < 40  # no byte value stands out (3 KB: ~12 each)


def test_wrong_passphrase_and_no_payload_are_reported():
    blob = seal_bytes(b"hello", "h.txt", "right", LAYOUT)
    with pytest.raises(PayloadError, match="wrong passphrase"):
        unseal_bytes(blob, "wrong", LAYOUT)
    with pytest.raises(PayloadError, match="nothing sealed"):
        unseal_bytes(os.urandom(LAYOUT.capacity), "right", LAYOUT)


def test_errors_within_the_ecc_are_corrected_even_in_bursts():
    data = os.urandom(500)
    blob = bytearray(seal_bytes(data, "d", "pw", LAYOUT))
    # A burst of 150 consecutive damaged bytes: interleaving spreads it over the 12 codewords
    # (12-13 per word, under the 16 that 32 parity bytes correct).
    for i in range(100, 250):
        blob[i] ^= 0xFF
    assert unseal_bytes(bytes(blob), "pw", LAYOUT)[1] == data


def test_damage_beyond_the_ecc_is_reported_not_guessed():
    data = os.urandom(500)
    blob = bytearray(seal_bytes(data, "d", "pw", LAYOUT))
    rng = np.random.default_rng(0)
    n = LAYOUT.codewords
    for i in rng.choice(n * 255, size=n * 20, replace=False):  # ~20 errors per codeword: over the limit
        blob[i] ^= 0x5A
    with pytest.raises(PayloadError):
        unseal_bytes(bytes(blob), "pw", LAYOUT)
