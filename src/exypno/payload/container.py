"""Any file -> a block of random-looking bytes of a given size, and back: compress, encrypt, error-correct.

A sealed file has two parts: a 16-byte random **salt**, which the carrier (seal.py) keeps in a small set of
public slots, and this container's **frame**, which it keeps in slots whose order only the key gives.

Keys: one scrypt of the passphrase (Unicode NFC) and the salt, N = 2^17, r = 8, p = 1 (128 MiB, about 0.8 s
on a laptop core), 64 bytes: the first 32 seed the carrier's slot order, the last 32 are the AES-256-GCM key.
Every guess of a passphrase costs that scrypt, for each stego on its own: the salt is fresh for every seal,
so two stegos sealed with one passphrase have unrelated orders and keys, and nothing is computed once for
many stegos.

Frame, before error correction (every field is ciphertext or random, nothing readable):

    header: AES-GCM(version u8 = 2, KDF u8 = 1 (scrypt), log2 N u8, r u8, p u8, method u8, 2 zero bytes,
                    body length u32) + tag                                              (28 bytes)
    body:   AES-GCM(name length u16, name, file size u64, compressed file) + tag
    random padding

- Associated data of both: ``exypno/sealed/2/`` and the mode's name (``png``, ``robust``): a frame is
  only read as what it was sealed as. The key is new for every salt, so the two nonces are fixed (0 and 1).
- The header has a fixed size, so the body's length is only known, and checked, after decryption. The KDF's
  parameters ride in it, authenticated, so that a later version can raise them and still read this one.
- Compression: zlib, lzma or zstd, whichever is smallest, or none when neither helps (``method``). The body
  is decompressed as a stream, capped at the file size the body declares (at most ``MAX_FILE`` bytes).
- Error correction: Reed-Solomon RS(255, 255 - nsym) over the whole block, interleaved so that byte i of
  the channel belongs to codeword i mod n: a burst of damaged bytes is spread over many codewords.
- Authenticated decryption is the judge of "exact": a file comes back bit for bit or not at all.

What an observer without the passphrase sees: the public slots read as 128 random bits (the salt), the
others as random bits too. To test one guess against one stego, the observer must run the scrypt with that
stego's salt; the result is of no use for any other stego.

Failures raise a ``PayloadError`` (errors.py), by type: ``NoPayloadError`` (wrong passphrase, or nothing
sealed here), ``DamagedPayloadError`` (a sealed file for this passphrase is here, but the error correction
cannot repair it), ``OldFormat`` (a stego of exypno 0.1.0), or a plain ``PayloadError`` (a payload too large
for the carrier, a short passphrase).
"""
from __future__ import annotations

import hashlib
import lzma
import os
import struct
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np
import zstandard

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import DamagedPayloadError, NoPayloadError, PayloadError

VERSION = 2
SALT, TAG = 16, 16
HEADER_PLAIN = 12
HEADER = HEADER_PLAIN + TAG
PREFIX = HEADER
BLOCK = 255  # Reed-Solomon codeword length (GF(256))
MIN_PASSPHRASE = 8  # characters; a shorter one is refused when sealing unless the caller says it is meant
MAX_FILE = 256 * 2**20  # the largest file a sealed body may declare (what it decompresses to)
HEADER_AD, BODY_AD = b"exypno/sealed/2/header/", b"exypno/sealed/2/body/"
NONCES = (bytes(12), bytes(11) + b"\x01")  # header, body: fixed, each key is used for one frame
# The environment variable that makes every key derivation cheap (scrypt N = 2^10): for the test suite only.
# A stego records the parameters it was sealed with; one sealed under it is no harder to open than its
# passphrase is to guess.
TEST_ONLY_CHEAP_KDF = "EXYPNO_TEST_ONLY_CHEAP_KDF"


class OldFormat(PayloadError):
    """A stego sealed by exypno 0.1.0, whose format this version no longer reads."""


@dataclass(frozen=True)
class Kdf:
    """scrypt's parameters: cost 2^log2_n, block size r, parallelism p."""

    log2_n: int = 17
    r: int = 8
    p: int = 1

    def derive(self, passphrase: str, salt: bytes, size: int) -> bytes:
        return hashlib.scrypt(normalize(passphrase).encode("utf-8", errors="surrogatepass"), salt=salt,
                              n=2**self.log2_n, r=self.r, p=self.p, maxmem=256 * self.r * 2**self.log2_n,
                              dklen=size)


KDF = Kdf()


def kdf() -> Kdf:
    """The parameters new seals use and unseal tries: ``KDF``, or N = 2^10 under ``TEST_ONLY_CHEAP_KDF``."""
    return Kdf(10) if os.environ.get(TEST_ONLY_CHEAP_KDF) == "1" else KDF


def normalize(passphrase: str) -> str:
    """The passphrase as the KDF sees it: Unicode NFC, so that the same text typed on any system opens."""
    return unicodedata.normalize("NFC", passphrase)


def check_passphrase(passphrase: str, weak: bool = False) -> None:
    """Refuse an empty passphrase, and one under ``MIN_PASSPHRASE`` characters unless ``weak``."""
    n = len(normalize(passphrase))
    if n == 0:
        raise PayloadError("the passphrase is empty")
    if n < MIN_PASSPHRASE and not weak:
        raise PayloadError(f"the passphrase has {n} characters; use at least {MIN_PASSPHRASE} (or --weak-passphrase "
                           "to seal with it anyway: each guess costs an attacker under a second)")


@dataclass(frozen=True)
class Keys:
    """What one KDF gives: the carrier's slot-order seed and the AEAD key, and the parameters it used."""

    order: bytes
    aead: bytes
    kdf: Kdf | None  # None: a public key, derived from a label (no passphrase, no secrecy)

    @classmethod
    def derive(cls, passphrase: str, salt: bytes, params: Kdf | None = None) -> "Keys":
        if not passphrase:
            raise PayloadError("the passphrase is empty")
        params = params or kdf()
        out = params.derive(passphrase, salt, 64)
        return cls(out[:32], out[32:], params)

    @classmethod
    def public(cls, label: str) -> "Keys":
        """Keys anyone can compute: the container as a framing with an integrity check, not a secret."""
        out = hashlib.sha512(b"exypno/public-keys/" + label.encode()).digest()
        return cls(out[:32], out[32:], None)


_NO_KDF = (0, 0, 0, 0)
METHODS = {0: ("none", lambda b: b), 1: ("zlib", lambda b: zlib.compress(b, 9)),
           2: ("lzma", lambda b: lzma.compress(b, preset=9)),
           3: ("zstd", lambda b: zstandard.ZstdCompressor(level=19).compress(b))}


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


def _codec(nsym: int):
    import reedsolo

    return reedsolo.RSCodec(nsym, nsize=BLOCK)


def _compress(data: bytes) -> tuple[int, bytes]:
    best = (0, data)
    for method, (_, pack) in METHODS.items():
        packed = pack(data)
        if len(packed) < len(best[1]):
            best = (method, packed)
    return best


def _inflate(method: int, packed: bytes, size: int) -> bytes:
    """``packed`` decompressed as a stream, refused at the first byte past ``size``, or a ``PayloadError``."""
    if method == 0:
        out = packed
    else:
        try:
            if method == 3:
                with zstandard.ZstdDecompressor().stream_reader(packed) as reader:
                    out = b""
                    while len(out) <= size and (chunk := reader.read(size + 1 - len(out))):
                        out += chunk
            else:
                d = zlib.decompressobj() if method == 1 else lzma.LZMADecompressor()
                out = d.decompress(packed, size + 1)
                if len(out) == size and not d.eof:
                    # anything still held back is past the declared size
                    out += d.decompress(getattr(d, "unconsumed_tail", b""), 1)
        except (zlib.error, lzma.LZMAError, zstandard.ZstdError, EOFError):
            raise PayloadError("the sealed file's body does not decompress") from None
    if len(out) != size:
        raise PayloadError("the sealed file's size does not match its header")
    return out


def stored_name(name: str) -> bytes:
    """The bytes of ``name`` that a sealed file keeps: its base name in UTF-8 (any str, even lone surrogates),
    at most 1,024 bytes. They count against the room a cover has."""
    return os.path.basename(name).encode("utf-8", errors="replace")[:1024]


def _kdf_fields(keys: Keys) -> tuple[int, int, int, int]:
    return _NO_KDF if keys.kdf is None else (1, keys.kdf.log2_n, keys.kdf.r, keys.kdf.p)


def seal_bytes(data: bytes, name: str, keys: Keys, layout: Layout, mode: str) -> bytes:
    """``layout.capacity`` bytes that carry ``data`` (and its file name), encrypted under ``keys`` for ``mode``,
    and error-corrected."""
    if len(data) > MAX_FILE:
        raise PayloadError(f"the file has {len(data):,} bytes; a sealed file has at most {MAX_FILE:,}")
    name_bytes = stored_name(name)
    method, packed = _compress(data)
    plain = struct.pack(">H", len(name_bytes)) + name_bytes + struct.pack(">Q", len(data)) + packed
    room = layout.data_bytes - PREFIX - TAG
    if len(plain) > room:
        raise PayloadError(f"the file needs {len(plain) + PREFIX + TAG:,} bytes after compression, the cover "
                           f"carries {max(0, layout.data_bytes):,} in this mode")
    aead = AESGCM(keys.aead)
    head = struct.pack(">BBBBBB2xI", VERSION, *_kdf_fields(keys), method, len(plain))
    frame = aead.encrypt(NONCES[0], head, HEADER_AD + mode.encode()) + aead.encrypt(NONCES[1], plain, BODY_AD + mode.encode())
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


def unseal_bytes(blob: bytes, keys: Keys, layout: Layout, mode: str) -> tuple[str, bytes]:
    """(file name, file bytes), exactly as sealed, or a ``PayloadError`` saying why not.

    The fixed-size header lives in codeword 0, so a wrong key or an empty cover is found after one codeword.
    """
    if len(blob) < layout.capacity or layout.codewords == 0:
        raise NoPayloadError("the carrier is too small to hold a sealed file")
    blob = blob[: layout.capacity]
    head, head_ok = _codeword(blob, layout, 0, _codec(layout.nsym))
    aead = AESGCM(keys.aead)
    try:
        version, *fields, method, length = struct.unpack(
            ">BBBBBB2xI", aead.decrypt(NONCES[0], head[:HEADER], HEADER_AD + mode.encode()))
    except InvalidTag:
        if not head_ok and _looks_sealed(blob, layout):
            raise DamagedPayloadError("the sealed file is damaged beyond repair (its header could not be corrected)") from None
        raise NoPayloadError("no sealed file for this passphrase (wrong passphrase, or nothing sealed here)") from None
    rest, failed = _decode(blob, layout, first=1)
    frame = head + rest
    if (version != VERSION or tuple(fields) != _kdf_fields(keys) or method not in METHODS
            or PREFIX + length + TAG > len(frame)):
        raise PayloadError("the sealed file's header is inconsistent")
    try:
        plain = aead.decrypt(NONCES[1], frame[PREFIX : PREFIX + length + TAG], BODY_AD + mode.encode())
    except InvalidTag:
        raise DamagedPayloadError(f"the sealed file is damaged beyond repair ({failed} of {layout.codewords} blocks "
                      "could not be corrected)") from None
    name_len = int.from_bytes(plain[:2], "big")
    if len(plain) < 10 + name_len:
        raise PayloadError("the sealed file's header is inconsistent")
    name = plain[2 : 2 + name_len].decode("utf-8", errors="replace")
    (size,) = struct.unpack(">Q", plain[2 + name_len : 10 + name_len])
    if size > MAX_FILE:
        raise PayloadError(f"the sealed file declares {size:,} bytes, over the {MAX_FILE:,} this version opens")
    return name, _inflate(method, plain[10 + name_len :], size)
