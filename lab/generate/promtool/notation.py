"""promtool's input notation and Prometheus's label and template syntax, as the tests need them.

Every fixture kind and every family of cases writes series and expected alerts through
these few functions, so a sample that promtool reads differently from what a case means
is fixed in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lab.spec.humanize import humanize_duration, humanize_percentage, printf_fixed
from lab.spec.model import duration_seconds

STEP_MINUTES = 1
# Requests per minute in counter fixtures: large enough that error ratios are whole-ish.
REQUESTS_PER_STEP = 100.0

# Phases of (value, steps): what a case asks of a fixture, oldest first.
Phases = Sequence[tuple[float, int]]
# One entry of a test group's `input_series`.
InputSeries = dict[str, str]

_SELECTOR = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"')


def parse_labels(text: str) -> dict[str, str]:
    return dict(_LABEL.findall(text))


def series_labels(selector: str) -> dict[str, str]:
    match = _SELECTOR.match(selector)
    if not match:
        raise ValueError(f"not a series selector: {selector!r}")
    return parse_labels(match.group("labels") or "")


def with_instance(selector: str, instance: str) -> str:
    """The selector with its `instance` label set to another replica's."""
    replaced, count = re.subn(r'instance="[^"]*"', f'instance="{instance}"', selector)
    if count != 1:
        raise ValueError(f"{selector!r} has no one instance label to replace")
    return replaced


def minutes(text: str) -> int:
    """Whole minutes (test steps) in a Prometheus duration."""
    return int(duration_seconds(text) // 60)


def num(value: float) -> str:
    text = repr(round(value, 9))
    return text[:-2] if text.endswith(".0") else text


def render_template(text: str, labels: dict[str, str], value: float) -> str:
    """Expand the annotation template actions `lab.spec.model` allows, as Prometheus does."""

    def expand(match: re.Match[str]) -> str:
        action = match.group(0)[3:-3]
        if action.startswith("$labels."):
            return labels.get(action.removeprefix("$labels."), "")  # Go: a map's zero value
        if action.endswith("humanizeDuration"):
            return humanize_duration(value)
        if action.endswith("humanizePercentage"):
            return humanize_percentage(value)
        decimals = re.search(r"%\.(\d)f", action)
        if decimals:
            return printf_fixed(value, int(decimals.group(1)))
        raise ValueError(f"unsupported template action {action}")

    return re.sub(r"{{.*?}}", expand, text)


# --- Series: phases of (value, steps) turned into promtool's expanding notation. ---


def gauge_values(phases: Phases) -> str:
    return " ".join(f"{num(v)}x{n - 1}" for v, n in phases if n > 0)


def counter_values(phases: Phases) -> str:
    """A counter starting at 0 at t=0 that grows by `inc` per step for `n` steps per phase."""
    parts: list[str] = []
    total = 0.0
    for inc, n in phases:
        if n <= 0:
            continue
        if not parts:
            parts.append(f"0+{num(inc)}x{n}")
        else:
            parts.append(f"{num(total + inc)}+{num(inc)}x{n - 1}")
        total += inc * n
    return " ".join(parts)
