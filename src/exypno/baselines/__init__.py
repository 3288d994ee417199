"""Classical baselines: k-bit LSB."""
from .lsb import LSB, lsb_embed_bits, lsb_hide, lsb_reveal

__all__ = ["LSB", "lsb_embed_bits", "lsb_hide", "lsb_reveal"]
