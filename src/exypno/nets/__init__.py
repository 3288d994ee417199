"""Networks: tensors in, tensors out. Nothing here knows about files."""
from .models import (
    PRESETS,
    CompressorNet,
    DecoderNet,
    EncoderNet,
    NetConfig,
    StegoModel,
    count_parameters,
    gmac_per_megapixel,
)

__all__ = [
    "PRESETS",
    "CompressorNet",
    "DecoderNet",
    "EncoderNet",
    "NetConfig",
    "StegoModel",
    "count_parameters",
    "gmac_per_megapixel",
]
