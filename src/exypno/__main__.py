"""``python -m exypno``: the same as the ``exypno`` command."""
import sys

from .cli import main

sys.exit(main())
