"""Pairings beyond image in image, wired from the image-shaped networks and the media modules.

- ``kinds``: what a file is, the pairing two files make, and the shipped model for each pairing;
- ``route``: ``hide_file`` and ``reveal_file``, the one entry the CLI and the API use for every pairing;
- ``video``: image, video and audio in video, frame by frame with the image-cover models;
- ``audio``: audio in audio, image in audio and audio in image, on STFT grids with the audio models.
"""
from .kinds import is_audio, is_video, pairing_of, reveal_pairing, shipped_model
from .route import hide_file, reveal_file

__all__ = ["is_audio", "is_video", "pairing_of", "reveal_pairing", "shipped_model", "hide_file", "reveal_file"]
