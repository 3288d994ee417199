"""Exypno: hide a secret as large as the cover, with the ExypnoSteganos networks.

    import exypno
    stego = exypno.hide("cover.png", "secret.png", output="stego.png")
    secret = exypno.reveal("stego.png", output="revealed.png")

    exypno.seal("cover.png", "report.pdf", passphrase, output="stego.png")  # any file, encrypted
    name, data = exypno.unseal("stego.png", passphrase)
"""
__version__ = "0.1.0"

from .api import Stego, capacity, hide, hide_many, load, reveal, reveal_many, seal, seal_many, unseal, unseal_many  # noqa: E402
from .errors import ExypnoError  # noqa: E402

__all__ = ["ExypnoError", "Stego", "capacity", "hide", "hide_many", "load", "reveal", "reveal_many", "seal", "seal_many",
           "unseal", "unseal_many", "__version__"]
