"""Any file -> compressed, encrypted, error-corrected bytes of a carrier's size, and back."""
from .container import DamagedPayloadError, Keys, Layout, NoPayloadError, PayloadError, seal_bytes, unseal_bytes

__all__ = ["DamagedPayloadError", "Keys", "Layout", "NoPayloadError", "PayloadError", "seal_bytes", "unseal_bytes"]
