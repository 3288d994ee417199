"""Any file -> a block of random-looking bytes of a given size, and back: compress, encrypt, error-correct.

Layout before error correction (every field is ciphertext or random, nothing readable):

    salt (16) | nonce (12) | header: AES-GCM(body length u32, method u8, 3 zero bytes) + tag (24) |
    body: AES-GCM(name length u16, name, file size u64, compressed file) + tag | random padding

- The key is scrypt(passphrase, salt); header and body use two different nonces under it.
- The header has a fixed size, so the body's length is only known, and checked, after decryption.
- Compression: zlib, lzma or zstd, whichever is smallest, or none when neither helps (``method``).
- Error correction: Reed-Solomon RS(255, 255 - nsym) over the whole block, interleaved so that byte i of
  the channel belongs to codeword i mod n: a burst of damaged bytes is spread over many codewords.
- Authenticated decryption is the judge of "exact": a file comes back bit for bit or not at all.

Failures raise ``PayloadError`` (an ``ExypnoError``) with a one-line reason: nothing decodes (no payload
for this passphrase: wrong passphrase, or nothing sealed here), too much damage for the error correction,
or a payload too large for the carrier.
"""
from __future__ import annotations

import hashlib
import lzma
import os
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import zstandard

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import PayloadError

SALT, NONCE, TAG = 16, 12, 16
HEADER_PLAIN = 8
HEADER = HEADER_PLAIN + TAG
PREFIX = SALT + NONCE + HEADER
BLOCK = 255  # Reed-Solomon codeword length (GF(256))
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
METHODS = {0: ("none", lambda b: b, lambda b: b), 1: ("zlib", lambda b: zlib.compress(b, 9), zlib.decompress),
           2: ("lzma", lambda b: lzma.compress(b, preset=9), lzma.decompress),
           3: ("zstd", lambda b: zstandard.ZstdCompressor(level=19).compress(b),
               lambda b: zstandard.ZstdDecompressor().decompress(b, max_output_size=1 << 31))}


@dataclass(frozen=True)
class Layout:
    """How a carrier of ``capacity`` bytes is used with ``nsym`` parity bytes per codeword."""

    capacity: int
    nsym: int = 32

    @property
    def codewords(self) -> int:
        return self.capacity // BLOCK

    @property
    def data_bytes(self) -> int:
        return self.codewords * (BLOCK - self.nsym)

    @property
    def max_file_bytes(self) -> int:
        """Largest file + name (bytes of its UTF-8 base name) that fits uncompressed; a file that compresses
        may be larger."""
        return max(0, self.data_bytes - PREFIX - TAG - 2 - 8)


def _key(passphrase: str, salt: bytes) -> bytes:
    if not passphrase:
        raise PayloadError("the passphrase is empty")
    return _scrypt(passphrase, salt)


@lru_cache(maxsize=4)
def _scrypt(passphrase: str, salt: bytes) -> bytes:
    """scrypt (0.3 s here); kept for the same salt, which a sender that reads its own stego back after
    several re-saves meets again and again."""
    return hashlib.scrypt(passphrase.encode(), salt=salt, dklen=32, maxmem=2**26, **SCRYPT)


def _nonces(nonce: bytes) -> tuple[bytes, bytes]:
    return nonce, nonce[:-1] + bytes([nonce[-1] ^ 1])


def _codec(nsym: int):
    import reedsolo

    return reedsolo.RSCodec(nsym, nsize=BLOCK)


def _compress(data: bytes) -> tuple[int, bytes]:
    best = (0, data)
    for method, (_, pack, _) in METHODS.items():
        packed = pack(data)
        if len(packed) < len(best[1]):
            best = (method, packed)
    return best


def stored_name(name: str) -> bytes:
    """The bytes of ``name`` that a sealed file keeps: its base name in UTF-8 (any str, even lone surrogates),
    at most 1,024 bytes. They count against the room a cover has."""
    return os.path.basename(name).encode("utf-8", errors="replace")[:1024]


def seal_bytes(data: bytes, name: str, passphrase: str, layout: Layout) -> bytes:
    """``layout.capacity`` bytes that carry ``data`` (and its file name), encrypted and error-corrected."""
    name_bytes = stored_name(name)
    method, packed = _compress(data)
    plain = struct.pack(">H", len(name_bytes)) + name_bytes + struct.pack(">Q", len(data)) + packed
    room = layout.data_bytes - PREFIX - TAG
    if len(plain) > room:
        raise PayloadError(f"the file needs {len(plain) + PREFIX + TAG:,} bytes after compression, the cover "
                           f"carries {max(0, layout.data_bytes):,} in this mode")
    salt, nonce = os.urandom(SALT), os.urandom(NONCE)
    aead = AESGCM(_key(passphrase, salt))
    n_head, n_body = _nonces(nonce)
    header = aead.encrypt(n_head, struct.pack(">IB3x", len(plain), method), b"exypno-header")
    body = aead.encrypt(n_body, plain, b"exypno-body")
    frame = salt + nonce + header + body
    frame += os.urandom(layout.data_bytes - len(frame))  # padding looks like the rest: random
    return _encode(frame, layout)


def _encode(frame: bytes, layout: Layout) -> bytes:
    k = BLOCK - layout.nsym
    codec = _codec(layout.nsym)
    words = [bytes(codec.encode(frame[i * k : (i + 1) * k])) for i in range(layout.codewords)]
    n = layout.codewords
    out = bytearray(layout.capacity)
    for i, word in enumerate(words):
        out[i : n * BLOCK : n] = word  # interleave: codeword i holds channel bytes i, i + n, i + 2n, ...
    out[n * BLOCK :] = os.urandom(layout.capacity - n * BLOCK)
    return bytes(out)


def _codeword(blob: bytes, layout: Layout, i: int, codec) -> tuple[bytes, bool]:
    """Data bytes of codeword ``i`` and whether it was (made) valid; uncorrectable words keep their data."""
    import reedsolo

    word = bytearray(blob[i : layout.codewords * BLOCK : layout.codewords])
    try:
        return bytes(codec.decode(word)[0]), True
    except reedsolo.ReedSolomonError:
        return bytes(word[: BLOCK - layout.nsym]), False  # the tag will judge them


def _decode(blob: bytes, layout: Layout, first: int = 0) -> tuple[bytes, int]:
    """(frame from codeword ``first`` on, codewords that could not be corrected)."""
    codec = _codec(layout.nsym)
    words = [_codeword(blob, layout, i, codec) for i in range(first, layout.codewords)]
    return b"".join(w for w, _ in words), sum(not ok for _, ok in words)


def _looks_sealed(blob: bytes, layout: Layout, sample: int = 8) -> bool:
    """Do most of a few codewords decode? True for a damaged payload, false for random or foreign bytes."""
    codec = _codec(layout.nsym)
    picks = np.linspace(0, layout.codewords - 1, min(sample, layout.codewords)).astype(int)
    return sum(_codeword(blob, layout, int(i), codec)[1] for i in picks) * 2 > len(picks)


def unseal_bytes(blob: bytes, passphrase: str, layout: Layout) -> tuple[str, bytes]:
    """(file name, file bytes), exactly as sealed, or a ``PayloadError`` saying why not.

    The fixed-size header lives in codeword 0, so a wrong passphrase or an empty cover is found after one
    codeword and one key derivation, not after decoding the whole carrier.
    """
    if len(blob) < layout.capacity or layout.codewords == 0:
        raise PayloadError("the carrier is too small to hold a sealed file")
    blob = blob[: layout.capacity]
    head, head_ok = _codeword(blob, layout, 0, _codec(layout.nsym))
    salt, nonce = head[:SALT], head[SALT : SALT + NONCE]
    n_head, n_body = _nonces(nonce)
    aead = AESGCM(_key(passphrase, salt))
    try:
        length, method = struct.unpack(">IB3x", aead.decrypt(n_head, head[SALT + NONCE : PREFIX], b"exypno-header"))
    except InvalidTag:
        if not head_ok and _looks_sealed(blob, layout):
            raise PayloadError("the sealed file is damaged beyond repair (its header could not be corrected)") from None
        raise PayloadError("no sealed file for this passphrase (wrong passphrase, or nothing sealed here)") from None
    rest, failed = _decode(blob, layout, first=1)
    frame = head + rest
    if method not in METHODS or PREFIX + length + TAG > len(frame):
        raise PayloadError("the sealed file's header is inconsistent")
    try:
        plain = aead.decrypt(n_body, frame[PREFIX : PREFIX + length + TAG], b"exypno-body")
    except InvalidTag:
        raise PayloadError(f"the sealed file is damaged beyond repair ({failed} of {layout.codewords} blocks "
                           "could not be corrected)") from None
    (name_len,) = struct.unpack(">H", plain[:2])
    name = plain[2 : 2 + name_len].decode("utf-8", errors="replace")
    (size,) = struct.unpack(">Q", plain[2 + name_len : 10 + name_len])
    data = METHODS[method][2](plain[10 + name_len :])
    if len(data) != size:
        raise PayloadError("the sealed file's size does not match its header")
    return name, data
