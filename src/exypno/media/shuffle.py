"""Keyed block shuffling (the paper's extra layer for video): the secret's blocks are permuted by a
permutation seeded from a key before hiding, and put back after revealing. Without the key the revealed
image is a scrambled mosaic. Blocks that do not fill a whole ``block`` x ``block`` square stay in place.
"""
from __future__ import annotations

import hashlib

import numpy as np


def _permutation(n: int, key: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(b"exypno-block-shuffle\0" + key.encode()).digest()[:8], "big")
    return np.random.default_rng(seed).permutation(n)


def _blocks(image: np.ndarray, block: int):
    h, w = image.shape[0] // block * block, image.shape[1] // block * block
    grid = image[:h, :w].reshape(h // block, block, w // block, block, -1).swapaxes(1, 2)
    return grid.reshape(-1, block, block, image.shape[2]), (h // block, w // block, h, w)


def _assemble(image, blocks, shape, block):
    rows, cols, h, w = shape
    out = image.copy()
    out[:h, :w] = blocks.reshape(rows, cols, block, block, -1).swapaxes(1, 2).reshape(h, w, -1)
    return out


def shuffle_blocks(image: np.ndarray, key: str, block: int = 16) -> np.ndarray:
    blocks, shape = _blocks(image, block)
    return _assemble(image, blocks[_permutation(len(blocks), key)], shape, block)


def unshuffle_blocks(image: np.ndarray, key: str, block: int = 16) -> np.ndarray:
    blocks, shape = _blocks(image, block)
    restored = np.empty_like(blocks)
    restored[_permutation(len(blocks), key)] = blocks
    return _assemble(image, restored, shape, block)
