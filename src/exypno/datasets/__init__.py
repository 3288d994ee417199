"""The data installers: lay out the Debian packages' photos and sounds as the training and held-out folders.

- ``photos``: the training photos (``scripts/install-media`` runs ``python -m exypno.datasets.photos DEST``);
- ``rcc``: a reader of Qt .rcc bundles, where some of those photos are packed;
- ``sounds``: the training and held-out sounds (``scripts/install-audio``).
"""
