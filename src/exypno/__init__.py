"""Exypno: hide a secret as large as the cover, with the ExypnoSteganos networks.

    import exypno
    stego = exypno.hide("cover.png", "secret.png", output="stego.png")
    secret = exypno.reveal("stego.png", output="revealed.png")
"""
__version__ = "0.1.0"

from .api import Stego, hide, load, reveal  # noqa: E402
from .errors import ExypnoError  # noqa: E402

__all__ = ["ExypnoError", "Stego", "hide", "load", "reveal", "__version__"]
