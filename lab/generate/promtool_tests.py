"""prometheus/tests/*.yml: `promtool test rules` files that pin every alert at its boundaries.

For each alert the spec's fixture says how to make the alert's query take a value; from the
threshold and the `for` duration this module derives four cases: quiet before the duration,
firing at it (with the exact labels and annotations), quiet just inside the threshold, and
resolved once the value recovers. Change a threshold in the spec and the inputs move with it.
Alerts that aggregate over the app's replicas are also fed two replicas (one carrying the
job's share), and per-replica alerts three (one stops answering, one disappears, one is
replaced by a new one).
State alerts (a one-hot gauge such as a circuit breaker's) get the same four cases in states:
the unhealthy phase flaps between the unhealthy states, and the alert must hold through it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from lab.generate._output import GeneratedFile, YamlDumper, to_yaml
from lab.generate.prometheus_rules import RULES_DIR
from lab.spec.humanize import humanize_duration, humanize_percentage, printf_fixed
from lab.spec.model import (
    Alert,
    AlwaysFiring,
    Comparison,
    GaugeFixture,
    HistogramFixture,
    RatioFixture,
    ReplicaFixture,
    ShareFixture,
    Spec,
    StateFixture,
    Unit,
    duration_seconds,
)

TESTS_DIR = "prometheus/tests"
STEP_MINUTES = 1
# Requests per minute in counter fixtures: large enough that error ratios are whole-ish.
REQUESTS_PER_STEP = 100.0

_SELECTOR = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"')


def parse_labels(text: str) -> dict[str, str]:
    return dict(_LABEL.findall(text))


def series_labels(selector: str) -> dict[str, str]:
    match = _SELECTOR.match(selector)
    if not match:
        raise ValueError(f"not a series selector: {selector!r}")
    return parse_labels(match.group("labels") or "")


def _num(value: float) -> str:
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


def gauge_values(phases: list[tuple[float, int]]) -> str:
    return " ".join(f"{_num(v)}x{n - 1}" for v, n in phases if n > 0)


def counter_values(phases: list[tuple[float, int]]) -> str:
    """A counter starting at 0 at t=0 that grows by `inc` per step for `n` steps per phase."""
    parts: list[str] = []
    total = 0.0
    for inc, n in phases:
        if n <= 0:
            continue
        if not parts:
            parts.append(f"0+{_num(inc)}x{n}")
        else:
            parts.append(f"{_num(total + inc)}+{_num(inc)}x{n - 1}")
        total += inc * n
    return " ".join(parts)


@dataclass(frozen=True)
class Probe:
    """What the fixture feeds in for one value, and what the query then returns."""

    value: float  # the requested value
    result: float  # what the alert's query evaluates to


def _histogram_bucket(f: HistogramFixture, value: float) -> tuple[float, float]:
    """The (lower, upper] bucket that contains `value`."""
    lower = 0.0
    for upper in f.buckets:
        if value <= upper:
            return lower, upper
        lower = upper
    raise ValueError(f"{value} is beyond the last bucket")


def _histogram_result(f: HistogramFixture, value: float) -> float:
    lower, upper = _histogram_bucket(f, value)
    return lower + f.quantile * (upper - lower)


@dataclass(frozen=True)
class AlertCases:
    """The input of one alert's tests: how values turn into series, and which values to use."""

    alert: Alert
    warmup: int  # steps before the query returns anything
    settle: int  # steps a recovered value needs to leave the query's range
    firing: Probe
    quiet: Probe
    healthy: float
    result_labels: dict[str, str]
    runbook_base_url: str

    def series(self, phases: list[tuple[float, int]]) -> list[dict[str, str]]:
        fixture = self.alert.fixture
        if isinstance(fixture, GaugeFixture):
            return [{"series": fixture.series, "values": gauge_values(phases)}]
        if isinstance(fixture, ShareFixture):
            part = [(REQUESTS_PER_STEP * v, n) for v, n in phases]
            rest = [(REQUESTS_PER_STEP * (1 - v), n) for v, n in phases]
            return [
                {"series": fixture.part, "values": counter_values(part)},
                {"series": fixture.rest, "values": counter_values(rest)},
            ]
        if isinstance(fixture, RatioFixture):
            requests = [(REQUESTS_PER_STEP, n) for _v, n in phases]
            errors = [(REQUESTS_PER_STEP * v / fixture.scale, n) for v, n in phases]
            return [
                {"series": fixture.numerator, "values": counter_values(errors)},
                {"series": fixture.denominator, "values": counter_values(requests)},
            ]
        if isinstance(fixture, HistogramFixture):
            out = []
            bounds = [*(_num(b) if b != int(b) else f"{b:.1f}" for b in fixture.buckets), "+Inf"]
            for bound_text, bound in zip(bounds, [*fixture.buckets, float("inf")], strict=True):
                incs = [
                    (REQUESTS_PER_STEP if _histogram_bucket(fixture, v)[1] <= bound else 0.0, n)
                    for v, n in phases
                ]
                out.append(
                    {
                        "series": f'{fixture.metric}_bucket{{{fixture.labels}, le="{bound_text}"}}',
                        "values": counter_values(incs),
                    }
                )
            return out
        return [{"series": 'up{job="prometheus"}', "values": gauge_values(phases)}]

    def expected(self, value: float, labels: dict[str, str] | None = None) -> dict[str, Any]:
        labels = dict(self.result_labels if labels is None else labels)
        annotations = {
            key: render_template(text, labels, value)
            for key, text in self.alert.annotations(self.runbook_base_url).items()
        }
        return {
            "exp_labels": {**labels, **self.alert.rule_labels()},
            "exp_annotations": annotations,
        }


def _tidy(value: float, unit: Unit, *, up: bool) -> float:
    """`value` rounded (away from the threshold) to a precision the unit prints exactly."""
    scale = {Unit.PERCENT: 100, Unit.RATIO: 10_000, Unit.COUNT: 1, Unit.SECONDS: 1000}[unit]
    scaled = round(value * scale, 6)
    return (math.ceil(scaled) if up else math.floor(scaled)) / scale


def _cases_for(alert: Alert, runbook_base_url: str) -> AlertCases:
    fixture = alert.fixture
    threshold = alert.threshold
    if isinstance(fixture, GaugeFixture):
        if fixture.firing is not None:
            firing = fixture.firing
        elif threshold is None:
            raise ValueError(f"{alert.name}: a gauge fixture without threshold needs `firing`")
        elif threshold.op is Comparison.ABOVE:
            firing = threshold.value * 1.5 or 1.0
        else:
            firing = threshold.value / 2
        if threshold is not None and threshold.breached_by(fixture.healthy):
            raise ValueError(f"{alert.name}: the fixture's healthy value breaches the threshold")
        # Strict comparisons do not fire at the threshold itself: the exact boundary.
        quiet = threshold.value if threshold is not None else fixture.healthy
        return AlertCases(
            alert,
            warmup=0,
            settle=0,
            firing=Probe(firing, firing),
            quiet=Probe(quiet, quiet),
            healthy=fixture.healthy,
            result_labels=series_labels(fixture.series),
            runbook_base_url=runbook_base_url,
        )
    if isinstance(fixture, RatioFixture | ShareFixture):
        if threshold is None or threshold.op is not Comparison.ABOVE:
            raise ValueError(f"{alert.name}: ratio fixtures need an `above` threshold")
        # Ratios of rates are not exact at the bound in floating point: step 5 % off it, to
        # values the annotation prints without a rounding tie.
        firing = _tidy(threshold.value * 1.05, threshold.unit, up=True)
        quiet = _tidy(threshold.value * 0.95, threshold.unit, up=False)
        if fixture.result_labels is not None:
            labels = parse_labels(fixture.result_labels)
        elif isinstance(fixture, RatioFixture):
            labels = series_labels(fixture.numerator)
        return AlertCases(
            alert,
            warmup=1,
            settle=int(duration_seconds(fixture.window) // 60),
            firing=Probe(firing, firing),
            quiet=Probe(quiet, quiet),
            healthy=fixture.healthy,
            result_labels=labels,
            runbook_base_url=runbook_base_url,
        )
    if isinstance(fixture, HistogramFixture):
        if threshold is None or threshold.op is not Comparison.ABOVE:
            raise ValueError(f"{alert.name}: histogram fixtures need an `above` threshold")
        # Just inside: the bucket that ends at or below the threshold; just past: the first
        # bucket whose interpolated quantile lies above it.
        below = [b for b in fixture.buckets if b <= threshold.value]
        if not below:
            raise ValueError(f"{alert.name}: no bucket ends below the threshold")
        quiet = below[-1]
        above = [
            b
            for b in fixture.buckets
            if b > threshold.value and _histogram_result(fixture, b) > threshold.value
        ]
        if not above:
            raise ValueError(f"{alert.name}: no bucket lies above the threshold")
        firing = above[0]
        if threshold.breached_by(_histogram_result(fixture, fixture.healthy_bucket)):
            raise ValueError(f"{alert.name}: the fixture's healthy bucket breaches the threshold")
        return AlertCases(
            alert,
            warmup=1,
            settle=int(duration_seconds(fixture.window) // 60),
            firing=Probe(firing, _histogram_result(fixture, firing)),
            quiet=Probe(quiet, _histogram_result(fixture, quiet)),
            healthy=fixture.healthy_bucket,
            result_labels=parse_labels(fixture.result_labels or fixture.labels),
            runbook_base_url=runbook_base_url,
        )
    return AlertCases(alert, 0, 0, Probe(1, 1), Probe(1, 1), 1, {}, runbook_base_url)


def _minutes(text: str) -> int:
    return int(duration_seconds(text) // 60)


def _describe(alert: Alert, value: float) -> str:
    t = alert.threshold
    return t.unit.human(value) if t is not None else _num(value)


def _group(
    cases: AlertCases, phases: list[tuple[float, int]], checks: list[tuple[int, list[Any]]]
) -> dict[str, Any]:
    return {
        "interval": f"{STEP_MINUTES}m",
        "input_series": cases.series(phases),
        "alert_rule_test": [
            {"eval_time": f"{t}m", "alertname": cases.alert.name, "exp_alerts": exp}
            for t, exp in checks
        ],
    }


def _state_group(
    fixture: StateFixture, name: str, states: list[str], checks: list[tuple[int, list[Any]]]
) -> dict[str, Any]:
    """A test group whose one-hot series follow `states`, one state per step."""
    return {
        "interval": f"{STEP_MINUTES}m",
        "input_series": [
            {
                "series": fixture.selector(state),
                "values": " ".join("1" if now == state else "0" for now in states),
            }
            for state in fixture.states
        ],
        "alert_rule_test": [
            {"eval_time": f"{t}m", "alertname": name, "exp_alerts": exp} for t, exp in checks
        ],
    }


def state_test_cases(
    alert: Alert, fixture: StateFixture, runbook_base_url: str
) -> list[tuple[str, dict[str, Any]]]:
    """Pending, firing through the flapping, quiet for a blip shorter than `for`, resolved."""
    name, healthy, cycle = alert.name, fixture.healthy, fixture.flapping
    hold = _minutes(alert.for_)
    horizon = hold + 2 * len(cycle) + 5
    cases = AlertCases(
        alert, 0, 0, Probe(1, 1), Probe(1, 1), 0, series_labels(fixture.series), runbook_base_url
    )

    def firing() -> list[Any]:
        return [cases.expected(1)]  # a fresh object per check: YAML would alias a shared one

    def flapping(steps: int) -> list[str]:
        return [cycle[i % len(cycle)] for i in range(steps)]

    def then_healthy(bad: int) -> list[str]:
        return flapping(bad) + [healthy] * (horizon - bad)

    flips = " -> ".join([*cycle, cycle[0]])
    out: list[tuple[str, dict[str, Any]]] = []
    if hold > 0:
        out.append(
            (
                f"{name} stays pending while the state ({flips}) has not been {healthy}"
                f" for {alert.for_} yet",
                _state_group(fixture, name, flapping(horizon), [(hold - 1, [])]),
            )
        )
    out.append(
        (
            f"{name} fires once the state has not been {healthy} for {alert.for_}, and holds"
            f" through every step of {flips}",
            _state_group(
                fixture,
                name,
                flapping(horizon),
                [(t, firing()) for t in range(hold, hold + 2 * len(cycle))],
            ),
        )
    )
    out.append(
        (
            f"{name} never fires when the state leaves {healthy} for less than {alert.for_}",
            _state_group(
                fixture, name, then_healthy(hold), [(t, []) for t in range(hold, hold + 2)]
            ),
        )
    )
    out.append(
        (
            f"{name} resolves once the state is back to {healthy}",
            _state_group(fixture, name, then_healthy(hold + 1), [(hold, firing()), (hold + 1, [])]),
        )
    )
    return out


def test_cases(alert: Alert, runbook_base_url: str) -> list[tuple[str, dict[str, Any]]]:
    """(comment, test group) pairs for one alert; the comment doubles as the group's name."""
    name = alert.name
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(alert.fixture, StateFixture):
        return state_test_cases(alert, alert.fixture, runbook_base_url)
    if isinstance(alert.fixture, AlwaysFiring):
        cases = _cases_for(alert, runbook_base_url)
        group = _group(cases, [(1, 121)], [(0, [cases.expected(1)]), (120, [cases.expected(1)])])
        group["input_series"] = [{"series": 'up{job="prometheus"}', "values": "1x120"}]
        out.append((f"{name} fires from the first evaluation and never stops", group))
        return out

    cases = _cases_for(alert, runbook_base_url)
    hold = _minutes(alert.for_)
    fires_at = cases.warmup + hold
    horizon = fires_at + cases.settle + 5
    firing, quiet = cases.firing, cases.quiet
    firing_text = _describe(alert, firing.result)
    quiet_text = _describe(alert, quiet.result)
    t = alert.threshold
    bound = f"{t.op.words} {t.unit.human(t.value)}" if t else "in the firing state"

    if hold > 0:
        out.append(
            (
                f"{name} stays pending while the value ({firing_text}) has been {bound}"
                f" for less than {alert.for_}",
                _group(cases, [(firing.value, horizon)], [(fires_at - 1, [])]),
            )
        )
    out.append(
        (
            f"{name} fires once the value ({firing_text}) has been {bound} for {alert.for_}",
            _group(cases, [(firing.value, horizon)], [(fires_at, [cases.expected(firing.result)])]),
        )
    )
    quiet_why = (
        f"exactly at the threshold ({quiet_text})"
        if t is not None and quiet.result == t.value
        else f"just inside the threshold ({quiet_text})"
        if t is not None
        else f"while healthy ({quiet_text})"
    )
    out.append(
        (
            f"{name} never fires {quiet_why}",
            _group(cases, [(quiet.value, horizon)], [(horizon - 1, [])]),
        )
    )
    bad_steps = fires_at + 1
    recovered_at = bad_steps + cases.settle + 1
    out.append(
        (
            f"{name} resolves once the value is back to healthy"
            f" ({_describe(alert, cases.healthy) if t else _num(cases.healthy)})",
            _group(
                cases,
                [(firing.value, bad_steps), (cases.healthy, recovered_at + 5)],
                [(fires_at, [cases.expected(firing.result)]), (recovered_at, [])],
            ),
        )
    )
    if alert.also_absent is not None:
        absent = alert.also_absent
        labels = parse_labels(absent.result_labels)
        group = _group(
            cases,
            [(1, hold + 5)],
            [(hold - 1, []), (hold, [cases.expected(1, labels)])] if hold else [],
        )
        group["input_series"] = [{"series": absent.other_series, "values": f"1x{hold + 5}"}]
        out.append((f"{name} fires when the series is absent for {alert.for_}", group))
    if isinstance(alert.fixture, RatioFixture) and alert.fixture.other_instance is not None:
        out += two_replica_cases(cases, alert.fixture, alert.fixture.other_instance)
    if alert.also_replicas is not None:
        out += replica_cases(cases, alert.also_replicas)
    return out


def with_instance(selector: str, instance: str) -> str:
    """The selector with its `instance` label set to another replica's."""
    replaced, count = re.subn(r'instance="[^"]*"', f'instance="{instance}"', selector)
    if count != 1:
        raise ValueError(f"{selector!r} has no one instance label to replace")
    return replaced


def two_replica_cases(
    cases: AlertCases, fixture: RatioFixture, other: str
) -> list[tuple[str, dict[str, Any]]]:
    """Two replicas with equal traffic, all the errors on one: the job's ratio is half of
    that replica's, so the alert fires once for the job when that half is past the
    threshold, and stays quiet when only the one replica is."""
    alert = cases.alert
    hold = _minutes(alert.for_)
    fires_at = cases.warmup + hold
    horizon = fires_at + cases.settle + 5

    def group(value: float, checks: list[tuple[int, list[Any]]]) -> dict[str, Any]:
        errors = [(REQUESTS_PER_STEP * 2 * value / fixture.scale, horizon)]
        requests = [(REQUESTS_PER_STEP, horizon)]
        none = [(0.0, horizon)]
        series = [
            (fixture.numerator, errors),
            (fixture.denominator, requests),
            (with_instance(fixture.numerator, other), none),
            (with_instance(fixture.denominator, other), requests),
        ]
        built = _group(cases, [], checks)
        built["input_series"] = [
            {"series": name, "values": counter_values(phases)} for name, phases in series
        ]
        return built

    firing, quiet = cases.firing, cases.quiet
    return [
        (
            f"{alert.name} fires once, for the job, when one of two replicas fails"
            f" {_describe(alert, 2 * firing.result)} of its requests and the job"
            f" {_describe(alert, firing.result)}",
            group(firing.value, [(fires_at, [cases.expected(firing.result)])]),
        ),
        (
            f"{alert.name} never fires when one of two replicas fails"
            f" {_describe(alert, 2 * quiet.result)} of its requests but the job only"
            f" {_describe(alert, quiet.result)}",
            group(quiet.value, [(horizon - 1, [])]),
        ),
    ]


def replica_cases(cases: AlertCases, fixture: ReplicaFixture) -> list[tuple[str, dict[str, Any]]]:
    """Three replicas; from minute 2 one of them (the last) misbehaves: stops answering,
    disappears from service discovery (its series ends in a staleness marker), or is
    replaced by a fourth at a new address."""
    alert = cases.alert
    hold = _minutes(alert.for_)
    healthy, *_, last = fixture.instances[:3]
    new = fixture.instances[3]
    horizon = 2 + hold + 5
    steady = f"1x{horizon}"
    keep = [
        {"series": fixture.up(instance), "values": steady} for instance in fixture.instances[:2]
    ]

    def group(series: list[dict[str, str]], checks: list[tuple[int, list[Any]]]) -> dict[str, Any]:
        built = _group(cases, [], checks)
        built["input_series"] = keep + series
        return built

    job = parse_labels(fixture.job_labels)
    named = {**job, "instance": last}
    # Minutes 0 and 1 up, a staleness marker at 2 (what Prometheus writes when service
    # discovery drops a target); the replacement (`_x2`: absent at 0 and 1) starts at 2.
    gone = "1x1 stale"
    return [
        (
            f"{alert.name} fires for the one replica of three that stops answering, by instance",
            group(
                [{"series": fixture.up(last), "values": f"1x1 0x{horizon - 1}"}],
                [(1 + hold, []), (2 + hold, [cases.expected(0, named)])],
            ),
        ),
        (
            f"{alert.name} fires for a replica gone without a replacement (killed, stopped,"
            " scaled away), by instance",
            group(
                [{"series": fixture.up(last), "values": gone}],
                [(1 + hold, []), (2 + hold, [cases.expected(1, named)])],
            ),
        ),
        (
            f"{alert.name} never fires for a replica replaced by a new one at a new address"
            f" (a recreate; {healthy} and the others keep running)",
            group(
                [
                    {"series": fixture.up(last), "values": gone},
                    {"series": fixture.up(new), "values": f"_x2 1x{horizon - 3}"},
                ],
                [(t, []) for t in range(2, horizon)],
            ),
        ),
    ]


def file_name(alert: Alert) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", alert.name).lower()
    return f"{TESTS_DIR}/{snake}.yml"


def render_alert_tests(alert: Alert, spec: Spec) -> GeneratedFile:
    rule_files = [f"../rules/{g.file}" for g in spec.rule_groups]
    head = {"rule_files": rule_files, "evaluation_interval": f"{STEP_MINUTES}m"}
    text = to_yaml(
        head,
        comment=f"Boundary tests for the {alert.name} alert ({RULES_DIR}).\n"
        f"Run: cd {TESTS_DIR} && promtool test rules *.yml",
    )
    text += "tests:\n"
    for comment, group in test_cases(alert, spec.runbook_base_url):
        body = yaml.dump(
            [{"name": comment, **group}],
            Dumper=YamlDumper,
            sort_keys=False,
            default_flow_style=False,
            width=1000,
        )
        text += f"  # {comment}\n" + "".join(f"  {line}\n" for line in body.splitlines())
    return GeneratedFile(file_name(alert), text)


def render(spec: Spec) -> list[GeneratedFile]:
    return [render_alert_tests(alert, spec) for alert in spec.alerts]
