"""Python twins of the Prometheus template functions the annotations use.

They print thresholds in the same human units as the live `$value`, and let the generated
promtool tests state the exact annotation text an alert renders.
"""

from __future__ import annotations

import math


def go_g4(value: float) -> str:
    """Go's `%.4g` (which matches Python's for the values alerts carry)."""
    return f"{value:.4g}"


def format_number(value: float) -> str:
    """A float as PromQL and people write it: `0.5`, `20`, `0.144`, `1.0` stays `1.0`."""
    text = repr(round(value, 10))
    return text


def humanize_duration(value: float) -> str:
    """Prometheus's `humanizeDuration`."""
    if math.isnan(value) or math.isinf(value):
        return go_g4(value)
    if value == 0:
        return f"{go_g4(value)}s"
    if abs(value) >= 1:
        sign = "-" if value < 0 else ""
        v = abs(value)
        whole = int(v)
        seconds = whole % 60
        minutes = (whole // 60) % 60
        hours = (whole // 3600) % 24
        days = whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{go_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix = p
        value *= 1000
    return f"{go_g4(value)}{prefix}s"


def humanize_percentage(value: float) -> str:
    """Prometheus's `humanizePercentage`."""
    return f"{go_g4(value * 100)}%"


def printf_fixed(value: float, decimals: int) -> str:
    """Go's `printf "%.Nf"`."""
    return f"{value:.{decimals}f}"
