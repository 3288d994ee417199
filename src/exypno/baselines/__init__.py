"""Classical baselines: k-bit LSB."""
from .lsb import lsb_hide, lsb_reveal

__all__ = ["lsb_hide", "lsb_reveal"]
