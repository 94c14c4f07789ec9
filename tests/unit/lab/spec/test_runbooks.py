"""Runbooks are prose, but their numbers belong to the spec: every quantity a runbook states
must be one its alerts (or the generated configuration) actually have, and each runbook
states its alerts' thresholds and `for` durations. Change a threshold in `lab/spec` and this
test names the runbook lines to update."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from lab.generate import alertmanager, prometheus_config
from lab.spec import SPEC
from lab.spec.model import Alert, HistogramFixture, Spec, Unit, duration_seconds

RUNBOOKS = Path(__file__).resolve().parents[4] / "docs" / "runbooks"

# A number with a unit in prose: "1 %", "500 ms", "5 minutes", "5-minute", "14.4x", "3 days".
_QUANTITY = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)[\s-]?(%|ms|s|m|h|d|x|seconds?|minutes?|hours?|days?)(?![\w%])"
)
_CODE = re.compile(r"`[^`]*`")
# In a PromQL code span: the literal a comparison or a division uses, and range windows.
_LITERAL = re.compile(r"(?:[<>]=?|[=!]=|/)\s*(\d+(?:\.\d+)?)(?![\w.])")
_RANGE = re.compile(r"\[(\d+[smhdwy])\]")
_TO_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_WORD_UNITS = {"second": "s", "minute": "m", "hour": "h", "day": "d"}

Fact = tuple[str, float]  # ("s", seconds) | ("%", percent) | ("x", factor)


def _fact(number: str, unit: str) -> Fact:
    unit = _WORD_UNITS.get(unit.rstrip("s"), unit) if len(unit) > 2 else unit
    value = float(number)
    if unit in _TO_SECONDS:
        return ("s", round(value * _TO_SECONDS[unit], 6))
    return (unit, round(value, 6))


def _seconds(duration: str) -> Fact:
    return ("s", float(duration_seconds(duration)))


def _windows(text: str) -> set[str]:
    return set(_RANGE.findall(text)) | set(re.findall(r"ratio_rate(\d+[smhd])\b", text))


def _recorded_exprs(spec: Spec) -> dict[str, str]:
    return {r.record: r.expr for g in spec.rule_groups for r in g.recording}


def _threshold_fact(alert: Alert) -> Fact | None:
    """An alert's threshold as prose states it (a ratio as a percentage); None for counts."""
    t = alert.threshold
    if t is None or t.unit is Unit.COUNT:
        return None
    if t.unit is Unit.SECONDS:
        return ("s", t.value)
    if t.unit is Unit.PERCENT:
        return ("%", t.value)
    return ("%", round(t.value * 100, 6))


def _alert_facts(alert: Alert, spec: Spec) -> tuple[set[Fact], set[float]]:
    """The quantities an alert's runbook may state, and the literals its PromQL may use."""
    facts = {_seconds(alert.for_)}
    literals: set[float] = set()
    exprs = [alert.expr]
    exprs += [expr for record, expr in _recorded_exprs(spec).items() if record in alert.expr]
    facts |= {_seconds(w) for expr in exprs for w in _windows(expr)}
    if (t := alert.threshold) is not None:
        literals.add(t.value)
    if (bound := _threshold_fact(alert)) is not None:
        facts.add(bound)
    if isinstance(alert.fixture, HistogramFixture):
        q = alert.fixture.quantile
        facts |= {("%", round(q * 100, 6)), ("%", round((1 - q) * 100, 6))}
    if dict(alert.labels).get("slo") == spec.slo.name:
        slo = spec.slo
        period = duration_seconds(slo.period)
        facts |= {("%", round(slo.target * 100, 6)), ("%", round(slo.error_budget * 100, 6))}
        facts.add(("s", float(period)))
        literals.add(slo.error_budget)
        for w in slo.windows:
            spent = w.factor * duration_seconds(w.long) / period
            facts |= {("x", w.factor), ("%", round(spent * 100, 6))}
            facts |= {_seconds(w.long), _seconds(w.short), _seconds(w.for_)}
    return facts, literals


def _config_facts(spec: Spec) -> set[Fact]:
    """Durations of the generated Prometheus and Alertmanager configuration."""
    (config,) = prometheus_config.render(spec)
    settings = yaml.safe_load(config.content)["global"].values()
    durations = {value for value in settings if isinstance(value, str)}
    routing = spec.routing
    durations |= {routing.group_wait, routing.group_interval, routing.repeat_interval}
    durations.add(alertmanager.HEARTBEAT_REPEAT)
    return {_seconds(d) for d in durations if isinstance(d, str) and re.fullmatch(r"\d+[smhd]", d)}


def _spec_windows(spec: Spec) -> set[str]:
    exprs = [a.expr for a in spec.alerts] + list(_recorded_exprs(spec).values())
    exprs += [q.expr for p in spec.dashboard.panels for q in p.queries]
    return {w for expr in exprs for w in _windows(expr)}


def runbook_mismatches(spec: Spec, page: str, text: str) -> list[str]:
    """What a runbook page states that its alerts in `spec` do not have, and what it omits."""
    alerts = [a for a in spec.alerts if a.runbook_page == page]
    facts = {("%", 0.0), ("%", 100.0)} | _config_facts(spec)
    literals = {0.0, 1.0}
    for alert in alerts:
        alert_facts, alert_literals = _alert_facts(alert, spec)
        facts |= alert_facts
        literals |= alert_literals
    problems = []
    prose = _CODE.sub("CODE", text)
    for match in _QUANTITY.finditer(prose):
        if _fact(*match.groups()) not in facts:
            problems.append(f"{page} states {match.group(0)!r}, which none of its alerts has")
    windows = _spec_windows(spec)
    for span in _CODE.findall(text):
        for literal in _LITERAL.findall(span):
            if float(literal) not in literals:
                problems.append(f"{page} compares with {literal} in {span}: no threshold of its")
        for window in _RANGE.findall(span):
            if window not in windows:
                problems.append(f"{page} uses a [{window}] window the spec never uses: {span}")
    stated = {_fact(*m.groups()) for m in _QUANTITY.finditer(prose)}
    for alert in alerts:
        if duration_seconds(alert.for_) and _seconds(alert.for_) not in stated:
            problems.append(f"{page} does not state {alert.name}'s `for` ({alert.for_})")
        burn = next((w for w in spec.slo.windows if alert.name.endswith(w.name_suffix)), None)
        if dict(alert.labels).get("slo") == spec.slo.name and burn is not None:
            # A burn-rate bound is stated as its factor of the error budget ("14.4x").
            if ("x", burn.factor) not in stated:
                problems.append(f"{page} does not state {alert.name}'s burn rate")
        elif (bound := _threshold_fact(alert)) is not None and bound not in stated:
            problems.append(f"{page} does not state {alert.name}'s threshold")
    return problems


def _pages() -> list[str]:
    return sorted({a.runbook_page for a in SPEC.alerts})


@pytest.mark.parametrize("page", _pages())
def test_runbook_numbers_are_the_spec_numbers(page: str) -> None:
    """Every quantity the runbook states is one of its alerts' values in lab/spec, and it
    states each alert's threshold and `for`."""
    assert runbook_mismatches(SPEC, page, (RUNBOOKS / page).read_text()) == []


def _threshold_value(name: str) -> float:
    bound = SPEC.alert(name).threshold
    assert bound is not None
    return bound.value


def test_a_changed_threshold_is_caught_in_its_runbook() -> None:
    """Doubling HighErrorRate's threshold (1 % to 2 %) flags the runbook's "1 %" lines."""
    current = _threshold_value("HighErrorRate")
    spec = SPEC.with_threshold("HighErrorRate", 2 * current)
    problems = runbook_mismatches(
        spec, "HighErrorRate.md", (RUNBOOKS / "HighErrorRate.md").read_text()
    )
    assert f"HighErrorRate.md states '{current:g} %', which none of its alerts has" in problems
    assert "HighErrorRate.md does not state HighErrorRate's threshold" in problems


def test_a_changed_ratio_threshold_is_caught_in_its_runbook() -> None:
    """Moving LoadShedding from 0.1 % to five times that flags the runbook's 0.1 % and its
    missing threshold."""
    current = _threshold_value("LoadShedding")
    spec = SPEC.with_threshold("LoadShedding", 5 * current)
    problems = runbook_mismatches(
        spec, "LoadShedding.md", (RUNBOOKS / "LoadShedding.md").read_text()
    )
    assert f"LoadShedding.md states '{current * 100:g} %', which none of its alerts has" in problems
    assert "LoadShedding.md does not state LoadShedding's threshold" in problems


def test_a_retyped_window_in_a_query_is_caught() -> None:
    """A first-check query with a window the spec never uses is reported."""
    text = "**Fires when:** more than 10 % for 5 minutes. `rate(rag_retries_total[7m]) > 0.1`"
    problems = runbook_mismatches(SPEC, "RetryStorm.md", text)
    assert any("[7m]" in p for p in problems)


def test_every_alert_has_a_runbook_page() -> None:
    """Each alert's runbook page exists under docs/runbooks."""
    for page in _pages():
        assert (RUNBOOKS / page).is_file(), page
