"""The one grammar for what a channel does to a stego, in training (noise layers) and in evaluation (attacks).

A spec is a comma-separated list of items: ``kind`` alone for a kind that takes no value (``identity``,
``none``), ``kind:V`` for a value, or ``kind:A-B`` for a range to draw from where ranges are allowed. Every
value must lie within its kind's limits. A bad item is a one-line ``ExypnoError`` that names it.
"""
from __future__ import annotations

from ..errors import ExypnoError


def parse_spec(spec: str, limits: dict[str, tuple[float, float]], what: str, bare: tuple[str, ...] = (),
               ranges: bool = False, on: str = "") -> list[tuple[str, float, float]]:
    """'kind:V,kind:A-B,...' -> (kind, low, high) triples (low == high for a single value; 0, 0 for a ``bare``
    kind). ``what`` names an item in errors ("noise layer", "attack"); ``on`` says what it acts on."""
    out = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        kind, _, value = item.partition(":")
        kind, value = kind.strip().lower(), value.strip()
        if kind in bare and not value:
            out.append((kind, 0.0, 0.0))
            continue
        if kind not in limits:
            raise ExypnoError(f"unknown {what} {kind!r}{on} (known: {', '.join((*bare, *limits))})")
        lo, hi = limits[kind]
        example = f"{kind}:{hi:g}" + (f" or {kind}:{lo:g}-{hi:g}" if ranges else "")
        try:
            parts = [float(v) for v in value.split("-")] if value else []
        except ValueError:
            parts = []
        if not parts or len(parts) > (2 if ranges else 1):
            raise ExypnoError(f"{what} {item!r}: needs a number{' or a range A-B' if ranges else ''}, e.g. {example}")
        a, b = parts[0], parts[-1]
        if not lo <= a <= b <= hi:
            raise ExypnoError(f"{what} {item!r}: {kind} takes a value in [{lo:g}, {hi:g}]"
                              + (", low before high" if len(parts) == 2 else ""))
        out.append((kind, a, b))
    return out
