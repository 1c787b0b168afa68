"""Prometheus durations (`1h30m`, `15s`, `500ms`, `1y`): the one parser every job uses."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def seconds(text: str | int) -> float:
    """Seconds of a Prometheus duration such as `1h30m` (a bare number is seconds);
    ValueError for anything else."""
    raw = str(text).strip()
    if raw.isdigit():
        return float(raw)
    parts = _PART.findall(raw)
    if not parts or "".join(n + u for n, u in parts) != raw:
        raise ValueError(f"not a Prometheus duration like 1h30m15s: {raw!r}")
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
