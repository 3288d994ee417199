"""What a passphrase guess costs: one salted scrypt per guess and per stego, and what a wrong guess and a damaged
stego each say."""
import os
import time

import numpy as np
import pytest

from exypno.payload import container
from exypno.payload import seal as seal_module
from exypno.payload.carrier import legacy_order
from exypno.payload.container import DamagedPayloadError, Keys, NoPayloadError, OldFormat, PayloadError

from .conftest import smooth_photo


@pytest.fixture(scope="module")
def twins(sealed):
    """A second stego of the same cover, file and passphrase as ``sealed``."""
    stego, _ = seal_module.seal(sealed["cover"], sealed["data"], "x.bin", "password", mode="png")
    return sealed["stego"], stego


def _read(mode, stego, keys=None, passphrase="password"):
    """(salt, keys, logits) as the receiver has them."""
    h, w = stego.shape[:2]
    logits = mode.carrier.logits(stego[: mode.region(h, w)[0], : mode.region(h, w)[1]])
    salt = mode.read_salt(logits, mode.salt_slots(h, w))
    return salt, keys or Keys.derive(passphrase, salt), logits


def test_two_seals_with_one_passphrase_have_unrelated_salts_orders_and_keys(twins):
    mode = seal_module.load_mode("png")
    (salt_a, keys_a, logits_a), (salt_b, keys_b, _) = (_read(mode, s) for s in twins)
    assert salt_a != salt_b and keys_a.aead != keys_b.aead
    order_a, order_b = (mode.keyed_slots(96, 96, k) for k in (keys_a, keys_b))
    assert (order_a != order_b).mean() > 0.99
    # Stego A under the order and key that B's salt gives (the same passphrase): nothing, and no parity excess.
    with pytest.raises(NoPayloadError):
        seal_module._unseal_with(mode, twins[0], "password", keys=keys_b)
    rung = mode.rungs(96, 96)[0]
    n = rung.blocks.code.n
    excess = {name: rung.blocks.code.parity_excess(mode.llr(logits_a, mode.slot_order(rung, mode.salt_slots(96, 96),
                                                                                      mode.keyed_slots(96, 96, k)), rung)[:n])
              for name, k in (("own", keys_a), ("other", keys_b))}
    assert excess["own"] > 1.5 * seal_module.DAMAGED_EXCESS  # 0.085 to 0.12 on this small, smooth cover
    assert abs(excess["other"]) < seal_module.DAMAGED_EXCESS  # 0 +- 0.009 for one codeword


def test_an_attacker_pays_one_kdf_per_guess_and_per_stego(twins, monkeypatch):
    """The attacker's test of a guess (the parity of codeword 0 under the guessed order) needs the order, and
    the order needs the KDF of the guess with this stego's salt: 3 guesses on 2 stegos are 6 KDFs."""
    calls = []
    derive = container.Kdf.derive

    def counting(self, passphrase, salt, size):
        calls.append(salt)
        return derive(self, passphrase, salt, size)

    monkeypatch.setattr(container.Kdf, "derive", counting)
    for stego in twins:
        for guess in ("guess one", "guess two", "guess three"):
            with pytest.raises(NoPayloadError):
                seal_module.unseal(stego, guess, modes=["png"])
    assert len(calls) == 6 and len(set(calls)) == 2  # one KDF per (guess, stego); each stego its own salt
    assert seal_module.unseal(twins[1], "password", modes=["png"])[0] == "x.bin"


def test_the_real_kdf_is_scrypt_2_17_and_a_stego_records_it(monkeypatch):
    """The one test at the real cost: seal and unseal under scrypt N = 2^17 (about 0.8 s each here)."""
    assert (container.KDF.log2_n, container.KDF.r) == (17, 8)  # 128 MiB and ~0.8 s a guess, at least
    monkeypatch.delenv(container.TEST_ONLY_CHEAP_KDF)
    t = time.perf_counter()
    Keys.derive("correct horse", os.urandom(16))
    assert time.perf_counter() - t > 0.1  # 2^10 takes ~1 ms: this is the real one
    cover = smooth_photo(np.random.default_rng(11), 96, 96)
    stego, _ = seal_module.seal(cover, b"slow to guess", "s.txt", "correct horse", mode="png")
    assert seal_module.unseal(stego, "correct horse", modes=["png"]) == ("s.txt", b"slow to guess")
    monkeypatch.setenv(container.TEST_ONLY_CHEAP_KDF, "1")  # other parameters: another key, nothing here
    with pytest.raises(NoPayloadError):
        seal_module.unseal(stego, "correct horse", modes=["png"])


def test_a_short_passphrase_is_refused_unless_meant():
    cover = smooth_photo(np.random.default_rng(12), 96, 96)
    with pytest.raises(PayloadError, match="at least 8"):
        seal_module.seal(cover, b"x", "x", "abc", mode="png")
    stego, _ = seal_module.seal(cover, b"x", "x", "abc", mode="png", weak_passphrase=True)
    assert seal_module.unseal(stego, "abc", modes=["png"]) == ("x", b"x")


def test_damage_that_leaves_the_salt_readable_is_told_apart_from_a_wrong_passphrase(sealed, monkeypatch):
    """Under the right order, lightly damaged votes (noise of sigma 1) that do not decode still satisfy more
    parity checks than chance: DamagedPayloadError. The salt is read before any error correction, so this
    needs it to read right (here it is read from the undamaged stego); heavier damage misreads it, which gives
    another key, and unseal says NoPayloadError."""
    mode = seal_module.load_mode("png")
    salt = _read(mode, sealed["stego"])[0]
    rng = np.random.default_rng(0)
    heavy = np.clip(sealed["stego"] + rng.normal(0, 6, sealed["stego"].shape), 0, 255).astype(np.uint8)
    with pytest.raises(NoPayloadError):
        seal_module.unseal(heavy, "password", modes=["png"])
    light = np.clip(sealed["stego"] + rng.normal(0, 1, sealed["stego"].shape), 0, 255).astype(np.uint8)
    monkeypatch.setattr(seal_module.SealMode, "read_salt", lambda self, logits, slots: salt)
    try:  # the error correction may still fix this much; if not, damaged, never nothing
        assert seal_module.unseal(light, "password", modes=["png"]) == ("x.bin", sealed["data"])
    except DamagedPayloadError as e:
        assert "damaged beyond repair" in str(e)
    with pytest.raises(NoPayloadError):
        seal_module.unseal(light, "not the password", modes=["png"])


def test_a_stego_of_the_old_format_is_refused_by_name(sealed):
    """0.1.0 put the coded bits in an order from a fixed-salt scrypt of the passphrase alone."""
    mode = seal_module.load_mode("png")
    rung = mode.rungs(96, 96)[0]
    rng = np.random.default_rng(1)
    coded = rung.blocks.encode(rng.integers(0, 2, 800, dtype=np.uint8), rng)
    old, _ = mode.carrier.embed(sealed["cover"], coded, legacy_order(mode.slots(96, 96), "password"), steps=40,
                                generator=rng)
    with pytest.raises(OldFormat, match="0.1.0"):
        seal_module.unseal(old, "password", modes=["png"])
    with pytest.raises(NoPayloadError):
        seal_module.unseal(old, "not the password", modes=["png"])
