"""The course's alert rules recognised by what they query and their thresholds, not names.

A learner may call the p95 rule `HighP95Latency`, `LatencySLO` or `p95_too_slow`; what
the course asks is a rule on p95 from `rag_query_duration_seconds_bucket` above 0.5 s, one
on the error rate (errors over requests) above 1 %, one on rate-limit headroom below
20 %, each with its `for`, and annotations that carry the value and the threshold. The
expressions, thresholds and `for`s are lab/spec's (`COURSE_ALERTS`), in whatever form a
rule writes them: a ratio or a percentage, seconds or milliseconds, summed by job or not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lab.kit.clients.prometheus import Rule
from lab.spec.model import Alert, Comparison, Unit, duration_seconds
from lab.spec.rag import COURSE_ALERTS

_COMPARISON = re.compile(r"(>=|<=|>|<)\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*$")
_NUMBER = re.compile(r"([0-9]*\.?[0-9]+)\s*(ms|s\b|%)?")


def _metrics(expr: str) -> frozenset[str]:
    return frozenset(re.findall(r"\brag_[a-z0-9_]+\b", expr))


@dataclass(frozen=True)
class Finding:
    """How one of the course's rules stands: the rule found for it, and what is wrong."""

    alert: Alert
    rule: Rule | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.rule is not None and not self.problems


def describe(alert: Alert) -> str:
    """The course's rule in words: "p95 latency above 500ms for 5m"."""
    bound = alert.threshold
    assert bound is not None  # every course alert is a threshold
    what = {
        "HighP95Latency": "p95 latency (histogram_quantile(0.95, "
        "rate(rag_query_duration_seconds_bucket[5m])))",
        "HighErrorRate": "the error rate (rag_errors_total over rag_requests_total)",
        "LowRateLimitHeadroom": "rate-limit headroom (rag_rate_limit_headroom_percent)",
    }.get(alert.name, alert.name)
    return f"{what} {bound.op.words} {bound.unit.human(bound.value)} for {alert.for_}"


def queries_like(alert: Alert, expr: str) -> bool:
    """True when `expr` queries what `alert` watches: the same rag_* series (and the 95th
    percentile, for a quantile)."""
    bound = alert.threshold
    assert bound is not None
    if _metrics(expr) != _metrics(bound.query):
        return False
    quantile = re.search(r"histogram_quantile\(\s*([0-9.]+)", bound.query)
    if quantile:
        found = re.search(r"histogram_quantile\(\s*([0-9.]+)", expr)
        return found is not None and float(found.group(1)) == float(quantile.group(1))
    return True


def threshold_of(alert: Alert, expr: str) -> tuple[str, float] | None:
    """The comparison and threshold `expr` ends with, in `alert`'s unit (a ratio rule's
    0.01 is 1 %, a milliseconds rule's 500 is 0.5 s)."""
    found = _COMPARISON.search(expr.strip())
    if found is None:
        return None
    op, value = found.group(1), float(found.group(2))
    bound = alert.threshold
    assert bound is not None
    body = expr[: found.start()]
    if bound.unit is Unit.PERCENT and "100" not in body and "percent" not in body:
        value *= 100  # a ratio: 0.01 is 1 %
    if bound.unit is Unit.SECONDS and re.search(r"\*\s*1000\b", body):
        value /= 1000  # milliseconds
    return op, value


def carries_value_and_threshold(alert: Alert, annotations: dict[str, str]) -> bool:
    """True when one annotation prints the alert's value (`$value`) and its threshold."""
    bound = alert.threshold
    assert bound is not None
    for text in annotations.values():
        if "$value" not in text:
            continue
        plain = re.sub(r"\{\{.*?\}\}", " ", text)
        for number, unit in _NUMBER.findall(plain):
            value = float(number) / (1000 if unit == "ms" else 1)
            if abs(value - bound.value) < 1e-9:
                return True
    return False


def assess(alert: Alert, rules: Sequence[Rule]) -> Finding:
    """The best rule for `alert` among `rules` (one that queries the same series), and what
    differs from the course: the comparison, the threshold, the `for`, the annotations."""
    bound = alert.threshold
    assert bound is not None
    candidates = [r for r in rules if r.type == "alerting" and queries_like(alert, r.query)]
    if not candidates:
        return Finding(alert, None, (f"no rule alerts on {describe(alert)}",))
    best: Finding | None = None
    for rule in candidates:
        problems: list[str] = []
        found = threshold_of(alert, rule.query)
        wanted_op = ">" if bound.op is Comparison.ABOVE else "<"
        if found is None or found[0].rstrip("=") != wanted_op:
            problems.append(f"{rule.name} does not compare with {wanted_op} {bound.value:g}")
        elif abs(found[1] - bound.value) > 1e-9:
            problems.append(
                f"{rule.name}'s threshold is {bound.unit.human(found[1])}, the course's "
                f"{bound.unit.human(bound.value)}"
            )
        wanted_for = duration_seconds(alert.for_)
        if rule.duration_seconds != wanted_for:
            problems.append(
                f"{rule.name} has for: {rule.duration_seconds:g}s, the course's {alert.for_}"
            )
        if not carries_value_and_threshold(alert, rule.annotations):
            problems.append(
                f"{rule.name}'s annotations do not carry the value ({{{{ $value }}}}) and "
                f"the threshold ({bound.unit.human(bound.value)})"
            )
        finding = Finding(alert, rule, tuple(problems))
        if best is None or len(finding.problems) < len(best.problems):
            best = finding
    assert best is not None
    return best


def assess_course_rules(rules: Sequence[Rule]) -> list[Finding]:
    return [assess(alert, rules) for alert in COURSE_ALERTS]
