"""Read Qt resource bundles (.rcc), where GCompris keeps its photos.

Format (qtbase src/corelib/io/qresource.cpp and tools/rcc): a header ``qres``, version, then offsets of a
tree of fixed-size entries, a name table (UTF-16BE) and a data table. File data is stored raw, zlib
(``qCompress``: 4-byte big-endian length, then a zlib stream) or zstd.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

COMPRESSED_ZLIB = 0x01
DIRECTORY = 0x02
COMPRESSED_ZSTD = 0x04


def iter_rcc(blob: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield (path, content) for every file in an .rcc bundle."""
    if blob[:4] != b"qres":
        raise ValueError("not a Qt resource bundle")
    version, tree_off, data_off, names_off = struct.unpack(">IIII", blob[4:20])
    entry_size = 14 if version < 2 else 22

    def name_at(offset: int) -> str:
        (length,) = struct.unpack(">H", blob[names_off + offset : names_off + offset + 2])
        start = names_off + offset + 6  # skip length and hash
        return blob[start : start + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str) -> Iterator[tuple[str, bytes]]:
        base = tree_off + index * entry_size
        name_off, flags = struct.unpack(">IH", blob[base : base + 6])
        name = name_at(name_off) if index else ""
        path = f"{prefix}/{name}" if name else prefix
        if flags & DIRECTORY:
            count, first = struct.unpack(">II", blob[base + 6 : base + 14])
            for child in range(first, first + count):
                yield from walk(child, path)
            return
        (offset,) = struct.unpack(">I", blob[base + 10 : base + 14])
        (size,) = struct.unpack(">I", blob[data_off + offset : data_off + offset + 4])
        raw = blob[data_off + offset + 4 : data_off + offset + 4 + size]
        if flags & COMPRESSED_ZLIB:
            raw = zlib.decompress(raw[4:])
        elif flags & COMPRESSED_ZSTD:
            try:
                import zstandard
            except ImportError:
                raise ValueError(f"{path}: zstd-compressed; install zstandard (pip install 'exypno[media]')") from None

            raw = zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 28)
        yield path, raw

    yield from walk(0, "")


def extract_images(rcc: Path, out_dir: Path, suffixes=(".jpg", ".jpeg", ".png")) -> int:
    """Write every image of a bundle into out_dir as <bundle>__<path>; return how many."""
    n = 0
    for path, content in iter_rcc(rcc.read_bytes()):
        if Path(path).suffix.lower() in suffixes:
            flat = rcc.stem + "__" + path.strip("/").replace("/", "__")
            (out_dir / flat).write_bytes(content)
            n += 1
    return n
