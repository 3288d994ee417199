"""What happens to a stego on its way to the receiver, in one place and one grammar (``spec``).

- ``noise``: the training noise layers between the encoder and the decoder, real JPEG and its
  differentiable stand-in (``jpeg_approx``);
- ``attacks``: distortions of a stego file, as the world applies them, for ``exypno evaluate --attack``;
- ``spec``: the grammar both are written in, ``kind``, ``kind:V`` or ``kind:A-B``, comma-separated.

The channel sits above ``media`` (it re-saves pictures) and below the networks' users: ``nets`` never
imports it, ``train`` and ``payload`` do.
"""
