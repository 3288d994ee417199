"""Classical baselines: k-bit LSB."""
from .lsb import lsb_embed_bits, lsb_hide, lsb_reveal

__all__ = ["lsb_embed_bits", "lsb_hide", "lsb_reveal"]
