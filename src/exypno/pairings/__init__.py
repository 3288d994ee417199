"""Pairings beyond image in image, wired from the image-shaped networks and the media modules.

- ``video``: image in video and video in video, frame by frame with the image models;
- ``audio``: audio in audio, image in audio and audio in image, on STFT grids with the audio models.
"""
from .audio import hide_audio, is_audio, reveal_audio
from .video import hide_in_video, is_video, reveal_from_video

__all__ = ["hide_audio", "is_audio", "reveal_audio", "hide_in_video", "is_video", "reveal_from_video"]
