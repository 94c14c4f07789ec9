"""How the toolkit prints a measured figure: one place, so reports and checks agree.

A figure that could not be measured (None) prints as ``n/a``, never as 0.
"""

from __future__ import annotations

NOT_MEASURED = "n/a"


def figure(value: float | None, fmt: str) -> str:
    """``value`` with the format ``fmt`` (e.g. ``"{:.2f} %"``), or ``n/a``."""
    return NOT_MEASURED if value is None else fmt.format(value)


def milliseconds(seconds: float | None) -> str:
    """A latency in whole milliseconds: ``"312 ms"``."""
    return figure(None if seconds is None else seconds * 1000, "{:.0f} ms")


def span(seconds: float) -> str:
    """A span of time for people: ``"2m10s"``, ``"45s"``, ``"1h05m"``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
