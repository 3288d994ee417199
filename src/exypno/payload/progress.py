"""A progress bar on stderr (tqdm) for work that may take seconds: seal, unseal, the robust model's hide.

It shows only once the work has run ``DELAY`` seconds, and only on a terminal (``ALWAYS`` shows it anywhere),
so that quick calls, pipes and logs stay clean.
"""
from __future__ import annotations

import sys

from tqdm import tqdm

DELAY = 2.0
ALWAYS = False


def bar(desc: str, total: int | None = None, unit: str = "step") -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, delay=DELAY, file=sys.stderr, leave=False,
                disable=not (ALWAYS or sys.stderr.isatty()))
