import struct
import zlib

from exypno.datasets.rcc import DIRECTORY, COMPRESSED_ZLIB, iter_rcc


def build_rcc(files: dict[str, bytes], compress: set[str]) -> bytes:
    """A version-1 Qt resource bundle with one directory holding ``files`` (as rcc writes them)."""
    names, data, tree = b"", b"", []
    name_offsets = {}
    for name in ["dir", *files]:
        name_offsets[name] = len(names)
        enc = name.encode("utf-16-be")
        names += struct.pack(">HI", len(name), 0) + enc
    # root (index 0) -> "dir" (index 1) -> files (index 2..)
    tree.append(struct.pack(">IHII", 0, DIRECTORY, 1, 1))
    tree.append(struct.pack(">IHII", name_offsets["dir"], DIRECTORY, len(files), 2))
    for name, content in files.items():
        flags = 0
        if name in compress:
            content = struct.pack(">I", len(content)) + zlib.compress(content)
            flags = COMPRESSED_ZLIB
        tree.append(struct.pack(">IHHHI", name_offsets[name], flags, 0, 0, len(data)))
        data += struct.pack(">I", len(content)) + content
    header_size = 20
    tree_blob = b"".join(tree)
    tree_off = header_size
    data_off = tree_off + len(tree_blob)
    names_off = data_off + len(data)
    return b"qres" + struct.pack(">IIII", 1, tree_off, data_off, names_off) + tree_blob + data + names


def test_reads_raw_and_zlib_files():
    blob = build_rcc({"a.jpg": b"hello", "b.webp": b"x" * 1000}, compress={"b.webp"})
    assert dict(iter_rcc(blob)) == {"/dir/a.jpg": b"hello", "/dir/b.webp": b"x" * 1000}


def test_refuses_other_files():
    import pytest

    with pytest.raises(ValueError):
        list(iter_rcc(b"PK\x03\x04 not a bundle"))
