"""Fuzzing the container: random and mutated carriers give a clean error or the exact file, never a crash and
never anything else. (Images are fuzzed in test_seal.py, with the shipped model.)"""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exypno.payload import Keys, Layout, PayloadError, seal_bytes, unseal_bytes

LAYOUT = Layout(capacity=255 * 4, nsym=32)
KEYS = Keys.derive("password", bytes(16))
DATA = b"the quick brown fox" * 5
SEALED = seal_bytes(DATA, "fox.txt", KEYS, LAYOUT, "png")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=0, max_size=LAYOUT.capacity + 10))
def test_random_bytes_never_crash(blob):
    try:
        unseal_bytes(blob, KEYS, LAYOUT, "png")
    except PayloadError:
        return
    raise AssertionError("random bytes unsealed")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, LAYOUT.capacity - 1), st.integers(1, 255)), min_size=1, max_size=600))
def test_mutated_payloads_come_back_exactly_or_fail_cleanly(flips):
    blob = bytearray(SEALED)
    for i, x in flips:
        blob[i] ^= x
    try:
        assert unseal_bytes(bytes(blob), KEYS, LAYOUT, "png") == ("fox.txt", DATA)
    except PayloadError:
        pass


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=0, max_size=600), st.text(min_size=1, max_size=40))
def test_any_file_and_name_round_trip_or_is_refused(data, name):
    try:
        blob = seal_bytes(data, name, KEYS, LAYOUT, "png")
    except PayloadError as e:
        assert "carries" in str(e)  # too large for the carrier: said so
        return
    got_name, got = unseal_bytes(blob, KEYS, LAYOUT, "png")
    assert got == data
    assert got_name == os.path.basename(name).encode("utf-8", "replace").decode("utf-8", "replace")
