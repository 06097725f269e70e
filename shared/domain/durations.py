"""Durations as districts write them: ``90s``, ``10m``, ``2h``, ``1d``, or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[smhd]\s*)+$")
#: What a duration written as text looks like, for the district file's JSON Schema.
DURATION_PATTERN = _WHOLE.pattern
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: object) -> timedelta:
    """Read a duration; a bare number counts seconds; a timedelta (from code) passes through.

    Raises ValueError naming what was wrong, because a config file is written
    by a person and the message is what they will read.
    """
    if isinstance(text, timedelta):
        return text
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(f"not a duration: {text!r} (write e.g. 90s, 10m, 2h, 1d or 1h30m)")
    if isinstance(text, int | float):
        if text < 0 or text != text or text == float("inf"):
            raise ValueError(f"a duration cannot be negative: {text}")
        return timedelta(seconds=text)
    if not _WHOLE.match(text):
        raise ValueError(f"not a duration: {text!r} (write e.g. 90s, 10m, 2h, 1d or 1h30m)")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Write a duration the way a district file does (``2h``, ``1h30m``, ``0s``).

    The published JSON Schema shows defaults in this form, so that a default
    copied from an editor's hint into a file reads back (by ``parse_duration``)
    as the same duration; pydantic's own form (``PT2H``) would be refused.
    """
    micros = value // timedelta(microseconds=1)
    if micros < 0:
        raise ValueError(f"a duration cannot be negative: {value}")
    parts = []
    for unit, size in (("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000)):
        count, micros = divmod(micros, size)
        if count:
            parts.append(f"{count}{unit}")
    seconds, fraction = divmod(micros, 1_000_000)
    if fraction:
        parts.append(f"{seconds}.{fraction:06d}".rstrip("0") + "s")
    elif seconds or not parts:
        parts.append(f"{seconds}s")
    return "".join(parts)
