"""Data sets over folders of photos, the training loop, checkpoints."""
