"""Any file -> compressed, encrypted, error-corrected bytes of a carrier's size, and back."""
from .container import Layout, PayloadError, seal_bytes, unseal_bytes

__all__ = ["Layout", "PayloadError", "seal_bytes", "unseal_bytes"]
