"""The payload container: exact round trips, random-looking output, clean failures."""
import os

import numpy as np
import pytest

from exypno.payload import Keys, Layout, NoPayloadError, PayloadError, seal_bytes, unseal_bytes

LAYOUT = Layout(capacity=255 * 12 + 7, nsym=32)
KEYS = Keys.derive("password", os.urandom(16))


def test_round_trip_keeps_name_and_bytes():
    data = os.urandom(1000)
    blob = seal_bytes(data, "/home/alice/secret report.pdf", KEYS, LAYOUT, "png")
    assert len(blob) == LAYOUT.capacity
    assert unseal_bytes(blob, KEYS, LAYOUT, "png") == ("secret report.pdf", data)


def test_compressible_files_fit_beyond_the_raw_capacity():
    text = b"all work and no play makes jack a dull boy\n" * 200  # 8.8 KB, compresses well
    assert len(text) > LAYOUT.max_file_bytes
    blob = seal_bytes(text, "jack.txt", KEYS, LAYOUT, "png")
    assert unseal_bytes(blob, KEYS, LAYOUT, "png")[1] == text


def test_empty_file_round_trips():
    assert unseal_bytes(seal_bytes(b"", "empty", KEYS, LAYOUT, "png"), KEYS, LAYOUT, "png") == ("empty", b"")


def test_too_large_is_refused_with_the_capacity():
    with pytest.raises(PayloadError, match="carries"):
        seal_bytes(os.urandom(LAYOUT.data_bytes), "big.bin", KEYS, LAYOUT, "png")


def test_output_looks_random_and_differs_each_time():
    data = b"\0" * 2000
    a, b = seal_bytes(data, "zeros", KEYS, LAYOUT, "png"), seal_bytes(data, "zeros", KEYS, LAYOUT, "png")
    assert a != b
    bits = np.unpackbits(np.frombuffer(a, np.uint8))
    assert abs(bits.mean() - 0.5) < 0.02
    counts = np.bincount(np.frombuffer(a, np.uint8), minlength=256)
    assert counts.max() < 40  # no byte value stands out (3 KB: ~12 each)


def test_wrong_passphrase_and_no_payload_are_reported():
    salt = os.urandom(16)
    blob = seal_bytes(b"hello", "h.txt", Keys.derive("right passphrase", salt), LAYOUT, "png")
    with pytest.raises(NoPayloadError, match="wrong passphrase"):
        unseal_bytes(blob, Keys.derive("wrong passphrase", salt), LAYOUT, "png")
    with pytest.raises(NoPayloadError, match="nothing sealed"):
        unseal_bytes(os.urandom(LAYOUT.capacity), Keys.derive("right passphrase", salt), LAYOUT, "png")
    with pytest.raises(NoPayloadError):  # the same key, another salt
        unseal_bytes(blob, Keys.derive("right passphrase", os.urandom(16)), LAYOUT, "png")
    with pytest.raises(NoPayloadError):  # the mode is bound into the authenticated data
        unseal_bytes(blob, Keys.derive("right passphrase", salt), LAYOUT, "robust")


def test_errors_within_the_ecc_are_corrected_even_in_bursts():
    data = os.urandom(500)
    blob = bytearray(seal_bytes(data, "d", KEYS, LAYOUT, "png"))
    # A burst of 150 consecutive damaged bytes: interleaving spreads it over the 12 codewords
    # (12-13 per word, under the 16 that 32 parity bytes correct).
    for i in range(100, 250):
        blob[i] ^= 0xFF
    assert unseal_bytes(bytes(blob), KEYS, LAYOUT, "png")[1] == data


def test_damage_beyond_the_ecc_is_reported_not_guessed():
    data = os.urandom(500)
    blob = bytearray(seal_bytes(data, "d", KEYS, LAYOUT, "png"))
    rng = np.random.default_rng(0)
    n = LAYOUT.codewords
    for i in rng.choice(n * 255, size=n * 20, replace=False):  # ~20 errors per codeword: over the limit
        blob[i] ^= 0x5A
    with pytest.raises(PayloadError):  # every codeword is beyond repair: nothing tells it from random bytes
        unseal_bytes(bytes(blob), KEYS, LAYOUT, "png")


def _sealed_with(method: int, packed: bytes, size: int) -> bytes:
    """A frame whose body holds ``packed`` (compressed by ``method``) declared as ``size`` bytes: what only a
    holder of the key, crafting it, could write."""
    import struct

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from exypno.payload import container as c

    plain = struct.pack(">H", 1) + b"z" + struct.pack(">Q", size) + packed
    aead = AESGCM(KEYS.aead)
    head = struct.pack(">BBBBBB2xI", c.VERSION, 1, KEYS.kdf.log2_n, KEYS.kdf.r, KEYS.kdf.p, method, len(plain))
    frame = aead.encrypt(c.NONCES[0], head, c.HEADER_AD + b"png") + aead.encrypt(c.NONCES[1], plain, c.BODY_AD + b"png")
    big = Layout(capacity=255 * 40, nsym=16)
    return c._encode(frame + bytes(big.data_bytes - len(frame)), big), big


@pytest.mark.parametrize("method", [1, 2, 3])
def test_a_body_that_inflates_past_its_declared_size_is_refused(method):
    from exypno.payload.container import METHODS

    bomb = METHODS[method][1](bytes(4_000_000))  # 4 MB of zeros, a few KB packed
    blob, layout = _sealed_with(method, bomb, 1000)
    with pytest.raises(PayloadError, match="size does not match"):
        unseal_bytes(blob, KEYS, layout, "png")
    blob, layout = _sealed_with(method, bomb, 4_000_000)  # as declared: it comes back
    assert unseal_bytes(blob, KEYS, layout, "png") == ("z", bytes(4_000_000))


@pytest.mark.parametrize("method", [1, 2, 3])
def test_a_corrupt_compressed_body_is_a_clean_error(method):
    blob, layout = _sealed_with(method, b"\x00garbage, not a compressed stream" * 3, 100)
    with pytest.raises(PayloadError, match="does not decompress"):
        unseal_bytes(blob, KEYS, layout, "png")


def test_passphrases_are_compared_in_nfc_and_short_ones_refused():
    from exypno.payload.container import check_passphrase

    salt = os.urandom(16)
    assert Keys.derive("caf\u00e9 au lait", salt) == Keys.derive("cafe\u0301 au lait", salt)
    with pytest.raises(PayloadError, match="at least 8"):
        check_passphrase("abc")
    check_passphrase("abc", weak=True)
    with pytest.raises(PayloadError, match="empty"):
        check_passphrase("", weak=True)
