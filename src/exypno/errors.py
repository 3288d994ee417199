"""The exception types for errors a user can cause: one base, and a subclass per kind.

The CLI catches ``ExypnoError`` once and prints its message as a single line on stderr with exit code 2.
Code that must tell kinds apart catches the subclass; it never matches message strings. Anything else that
escapes is a bug in Exypno, not in the input.
"""


class ExypnoError(Exception):
    """Bad input, a bad model file, an output we refuse to write: anything the user can fix."""


class ModelError(ExypnoError):
    """A model name, file or card that cannot be used, or a model that does not do what is asked."""


class PayloadError(ExypnoError):
    """A sealed file that cannot be sealed or unsealed (too large, wrong passphrase, damaged)."""


class NoPayloadError(PayloadError):
    """Nothing sealed for this passphrase: a wrong passphrase, or no sealed file at all."""


class DamagedPayloadError(PayloadError):
    """A sealed file is there, but damaged beyond what its error correction repairs."""


class TooLarge(ExypnoError):
    """An input over a size limit (pixels, seconds, frames, bytes): refused before the work, not half done."""
