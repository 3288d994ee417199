"""Files <-> arrays. Nothing here knows about networks."""
