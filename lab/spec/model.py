"""The types the lab's one spec is written in: frozen dataclasses, validated on construction.

Every rule that applies to *all* alerts (a valid severity, a summary, a description that
states the current value and the threshold, a runbook link) lives here, in `Alert`, and
nowhere else: the generators only render what these types allow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from lab.spec.humanize import format_number, humanize_duration, humanize_percentage

_DURATION = re.compile(r"^(?:\d+(?:ms|[smhdwy]))+$")
_ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]+$")
# `level:metric:operations`, as the Prometheus naming guide recommends for recording rules.
_RECORD_NAME = re.compile(r"^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# The only template actions an annotation may use. Keeping the set small keeps the
# annotations readable and lets the promtool tests predict the rendered text exactly.
_TEMPLATE_ACTION = re.compile(r"{{.*?}}")
ALLOWED_TEMPLATE_ACTIONS = re.compile(
    r"^{{ (?:\$labels\.[a-zA-Z_][a-zA-Z0-9_]*"
    r"|\$value \| (?:humanizeDuration|humanizePercentage|printf \"%\.[0-9]f\")) }}$"
)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def duration_seconds(text: str) -> float:
    """Seconds in a Prometheus duration such as `15s`, `1h30m` or `500ms`.

    The toolkit's one duration parser: the spec's windows, a target's scrape interval and
    the baseline's window all go through it.
    """
    if not _DURATION.match(text):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)(ms|[smhdwy])", text))


class Severity(StrEnum):
    """How urgently a human must act: routes and inhibitions key on this label."""

    CRITICAL = "critical"  # page: act now
    WARNING = "warning"  # ticket: act within the working day
    NONE = "none"  # not for humans (the Watchdog heartbeat)


class Unit(StrEnum):
    """The unit of an alert's value, which decides how annotations print it."""

    SECONDS = "seconds"
    PERCENT = "percent"  # already scaled to 0..100
    RATIO = "ratio"  # 0..1, printed as a percentage
    COUNT = "count"

    def template(self) -> str:
        """The Go template that prints `$value` in this unit."""
        return {
            Unit.SECONDS: "{{ $value | humanizeDuration }}",
            Unit.PERCENT: '{{ $value | printf "%.2f" }}%',
            Unit.RATIO: "{{ $value | humanizePercentage }}",
            Unit.COUNT: '{{ $value | printf "%.0f" }}',
        }[self]

    def human(self, value: float) -> str:
        """A threshold in human units, as the matching template would print a value."""
        if self is Unit.SECONDS:
            return humanize_duration(value)
        if self is Unit.PERCENT:
            return f"{value:g}%"
        if self is Unit.RATIO:
            return humanize_percentage(value)
        return f"{value:g}"


class Comparison(StrEnum):
    ABOVE = ">"
    BELOW = "<"

    @property
    def words(self) -> str:
        return "above" if self is Comparison.ABOVE else "below"


@dataclass(frozen=True)
class Threshold:
    """`query OP value`; with `confirm`, the same bound must also hold for a second query
    (the short window of a multi-window burn-rate alert)."""

    query: str
    op: Comparison
    value: float
    unit: Unit
    confirm: str | None = None

    @property
    def expr(self) -> str:
        literal = format_number(self.value)
        expr = f"{self.query} {self.op} {literal}"
        if self.confirm:
            expr = f"{expr}\nand\n{self.confirm} {self.op} {literal}"
        return expr

    def breached_by(self, value: float) -> bool:
        return value > self.value if self.op is Comparison.ABOVE else value < self.value


# --- Test fixtures: how the promtool tests make an alert's query take a given value. ---
# Their behaviour (series, probes, labels) is one class each in lab/generate/promtool/fixtures.py.


@dataclass(frozen=True)
class GaugeFixture:
    """The query is a gauge series itself; the value is written directly."""

    series: str
    healthy: float
    firing: float | None = None  # defaults to a value past the threshold


@dataclass(frozen=True)
class RatioFixture:
    """The query is rate(numerator) / rate(denominator) * scale over a range window."""

    numerator: str
    denominator: str
    scale: float
    window: str  # how long a change takes to leave the query's range
    healthy: float = 0.0
    result_labels: str | None = None  # labels the query returns; default: the series' own
    # A second replica's `instance`: the query aggregates over replicas, so the tests also
    # feed two, the share carried by one of them, and expect one result for the job.
    other_instance: str | None = None


@dataclass(frozen=True)
class ShareFixture:
    """The query is one part's share of a counter's total: rate(part) / rate(part + rest).

    Unlike `RatioFixture`, the part is inside the whole (degraded answers among all answers),
    so the fixture feeds the part v of each step's traffic and the rest 1 - v."""

    part: str  # a series counted in the share
    rest: str  # a series of the same total outside the share
    window: str  # how long a change takes to leave the query's range
    result_labels: str  # labels the query returns
    healthy: float = 0.0


@dataclass(frozen=True)
class StateFixture:
    """The query watches a one-hot state gauge: one series per state, the current one at 1.

    `flapping` is the cycle of states the unhealthy phase steps through, one state per
    evaluation: a circuit breaker goes open -> half_open -> open while its dependency stays
    down, and the alert must hold through each half_open scrape."""

    series: str  # the gauge's selector without the state label
    label: str  # the state label's name
    states: tuple[str, ...]
    healthy: str
    flapping: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = {self.healthy, *self.flapping} - set(self.states)
        if unknown:
            raise ValueError(f"state fixture: {sorted(unknown)} are not among {self.states}")
        if not self.flapping or self.healthy in self.flapping:
            raise ValueError("state fixture: the flapping cycle must leave the healthy state")

    def selector(self, state: str) -> str:
        """The series of one state: the gauge's labels plus the state label."""
        head, _, labels = self.series.partition("{")
        inner = labels.removesuffix("}")
        joined = f'{inner}, {self.label}="{state}"' if inner else f'{self.label}="{state}"'
        return f"{head}{{{joined}}}"


@dataclass(frozen=True)
class HistogramFixture:
    """The query is histogram_quantile(q, rate(<metric>_bucket[window])).

    All observations land in one bucket, so the quantile is that bucket's lower bound plus
    q of its width, exactly as Prometheus interpolates."""

    metric: str
    labels: str
    buckets: tuple[float, ...]
    quantile: float
    window: str
    healthy_bucket: float  # upper bound of the bucket healthy traffic lands in
    result_labels: str | None = None  # labels the query returns; default: the series' own


@dataclass(frozen=True)
class AbsentFixture:
    """The alert fires on a series being absent (e.g. a scrape target gone)."""

    result_labels: str  # the labels absent() gives its one series
    other_series: str  # an unrelated series so the test has input


@dataclass(frozen=True)
class ReplicaFixture:
    """Several replicas of one scrape job (`up` per instance), for a per-replica alert.

    The tests take three replicas and make one of them stop answering, then one of them
    disappear without a replacement (killed, stopped, scaled away: service discovery
    drops it), then one of them be replaced by a new replica at a new address (a
    recreate); the alert must fire for the first two, naming the instance, and stay quiet
    for the third."""

    job_labels: str  # the job's labels, e.g. job="rag-app"
    instances: tuple[str, ...]  # four instance values: three replicas and a replacement

    def __post_init__(self) -> None:
        if len(set(self.instances)) != 4:
            raise ValueError("replica fixture: four different instances (three and a new one)")

    def up(self, instance: str) -> str:
        return f'up{{{self.job_labels}, instance="{instance}"}}'


@dataclass(frozen=True)
class AlwaysFiring:
    """The alert fires unconditionally (the Watchdog)."""


Fixture = (
    GaugeFixture | RatioFixture | ShareFixture | HistogramFixture | StateFixture | AlwaysFiring
)


@dataclass(frozen=True)
class Alert:
    """An alerting rule with everything a responder needs, validated on construction."""

    name: str
    condition: Threshold | str
    for_: str
    severity: Severity
    summary: str
    description: str
    fixture: Fixture
    labels: tuple[tuple[str, str], ...] = ()
    runbook: str | None = None  # runbook page name; defaults to the alert name
    also_absent: AbsentFixture | None = None  # also tested with its series absent
    also_replicas: ReplicaFixture | None = None  # also tested with several replicas

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not _ALERT_NAME.match(self.name):
            problems.append("name must be CamelCase")
        if not isinstance(self.severity, Severity):
            problems.append(f"severity must be one of {[s.value for s in Severity]}")
        duration_seconds(self.for_)
        if not self.summary.strip() or len(self.summary) > 120 or "\n" in self.summary:
            problems.append("summary must be one non-empty line of at most 120 characters")
        if len(self.description.strip()) < 20:
            problems.append("description must explain the alert (20+ characters)")
        for text in (self.summary, self.description):
            for action in _TEMPLATE_ACTION.findall(text):
                if not ALLOWED_TEMPLATE_ACTIONS.match(action):
                    problems.append(f"unsupported template action {action}")
        if isinstance(self.condition, Threshold) and "$value" in self.description:
            problems.append("threshold alerts get their value sentence added; omit $value")
        if isinstance(self.fixture, RatioFixture | ShareFixture | HistogramFixture) and (
            not isinstance(self.condition, Threshold) or self.condition.op is not Comparison.ABOVE
        ):
            problems.append(f"a {type(self.fixture).__name__} needs an `above` threshold")
        if isinstance(self.fixture, StateFixture) and isinstance(self.condition, Threshold):
            problems.append("a StateFixture tests a state condition, not a threshold")
        for key, _value in self.labels:
            if not _LABEL_NAME.match(key) or key in {"severity", "alertname"}:
                problems.append(f"bad extra label {key!r}")
        if problems:
            raise ValueError(f"alert {self.name}: " + "; ".join(problems))

    @property
    def expr(self) -> str:
        return self.condition.expr if isinstance(self.condition, Threshold) else self.condition

    @property
    def threshold(self) -> Threshold | None:
        return self.condition if isinstance(self.condition, Threshold) else None

    @property
    def runbook_page(self) -> str:
        return f"{self.runbook or self.name}.md"

    def rule_labels(self) -> dict[str, str]:
        return {"severity": self.severity.value, **dict(self.labels)}

    def annotations(self, runbook_base_url: str) -> dict[str, str]:
        """summary, description (with current value and threshold), runbook_url."""
        description = self.description.strip()
        if (t := self.threshold) is not None:
            description += (
                f" Current value: {t.unit.template()}; alert threshold: {t.op.words}"
                f" {t.unit.human(t.value)} for {self.for_}."
            )
        return {
            "summary": self.summary,
            "description": description,
            "runbook_url": f"{runbook_base_url.rstrip('/')}/{self.runbook_page}",
        }


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str

    def __post_init__(self) -> None:
        if not _RECORD_NAME.match(self.record):
            raise ValueError(f"recording rule {self.record!r} is not named level:metric:operations")


@dataclass(frozen=True)
class RuleGroup:
    """One group in one file under prometheus/rules/ (recording rules evaluate first)."""

    name: str
    file: str
    recording: tuple[RecordingRule, ...] = ()
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class BurnWindow:
    """One multi-window burn-rate alert (Google SRE workbook, chapter 5)."""

    long: str
    short: str
    factor: float
    severity: Severity
    for_: str
    name_suffix: str


@dataclass(frozen=True)
class AvailabilitySLO:
    """An availability SLO: the share of requests that do not fail, over `period`."""

    name: str
    target: float
    period: str
    errors_metric: str
    total_metric: str
    windows: tuple[BurnWindow, ...]
    alert_prefix: str

    def __post_init__(self) -> None:
        if not 0 < self.target < 1:
            raise ValueError("SLO target must be between 0 and 1")

    @property
    def error_budget(self) -> float:
        return round(1 - self.target, 10)

    def ratio_record(self, window: str) -> str:
        return f"job:{self.errors_metric.removesuffix('_total')}:ratio_rate{window}"

    @property
    def record_windows(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for w in self.windows:
            seen.setdefault(w.short)
            seen.setdefault(w.long)
        return tuple(sorted(seen, key=duration_seconds))


@dataclass(frozen=True)
class PanelQuery:
    expr: str
    legend: str
    exemplar: bool = False


@dataclass(frozen=True)
class Panel:
    """A Grafana time-series panel; threshold lines come from the named alerts."""

    id: int
    title: str
    description: str
    unit: str
    queries: tuple[PanelQuery, ...]
    threshold_alerts: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    stacked: bool = False  # series stack on each other (shares of a whole)


@dataclass(frozen=True)
class Dashboard:
    """The overview dashboard; `key_panels` are the titles the course's check 2 requires."""

    uid: str
    title: str
    file: str
    refresh: str
    time_from: str
    panels: tuple[Panel, ...]
    key_panels: tuple[str, ...]
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        titles = {panel.title for panel in self.panels}
        missing = [title for title in self.key_panels if title not in titles]
        if missing:
            raise ValueError(f"dashboard {self.uid}: key panels {missing} are not panels")


@dataclass(frozen=True)
class SyntheticAlertRoute:
    """The route of the lab's own test alert (`lab check`), apart from the real alerts.

    Real alerts wait `group_wait` to gather their group and `group_interval` between
    updates, which paces a test alert's round trip (firing, then resolved) to tens of
    seconds. The test alert gets a group per run (`group_by` its run label) with waits of
    about a second, and goes to the alert sink only, never to Slack or email.
    """

    alertname: str
    run_label: str
    group_wait: str
    group_interval: str

    def __post_init__(self) -> None:
        if not _LABEL_NAME.match(self.run_label):
            raise ValueError(f"synthetic alert route: bad label name {self.run_label!r}")
        for text in (self.group_wait, self.group_interval):
            duration_seconds(text)

    @property
    def group_by(self) -> tuple[str, ...]:
        return ("alertname", self.run_label)


@dataclass(frozen=True)
class AlertRouting:
    """Alertmanager: who hears about what, and how soon."""

    group_by: tuple[str, ...]
    group_wait: str
    group_interval: str
    repeat_interval: str
    sink_url: str
    secrets_dir: str
    slack_channel: str
    email_to: str
    email_from: str
    smarthost: str
    email_username: str
    synthetic: SyntheticAlertRoute


@dataclass(frozen=True)
class Scraping:
    """Prometheus: what it scrapes, how often, and where it sends alerts.

    Field names are those of Prometheus 2.43, the oldest version the lab supports (2.43
    brought `scrape_config_files`, which `lab scenario` uses): newer fields
    (`scrape_protocols`, `fallback_scrape_protocol`) would make it refuse to start.
    """

    scrape_interval: str
    # The app is scraped more often than the rest: every rate needs two samples, so a fresh
    # lab's panels, baseline and checks have data seconds after the first scrapes.
    app_scrape_interval: str
    evaluation_interval: str
    app_job: str
    # The app's replicas are found by name: compose answers `app` with one address per
    # running replica (`--scale app=N`), and Prometheus asks again every refresh interval.
    app_dns_name: str
    app_port: int
    app_dns_refresh_interval: str
    alertmanager_target: str
    rule_files: str

    def __post_init__(self) -> None:
        for text in (
            self.scrape_interval,
            self.app_scrape_interval,
            self.evaluation_interval,
            self.app_dns_refresh_interval,
        ):
            duration_seconds(text)
        if not 1 <= self.app_port <= 65535:
            raise ValueError(f"app port {self.app_port} is not a TCP port")

    @property
    def app_target(self) -> str:
        """`name:port` of the app: one replica's address, or all of them, as DNS answers."""
        return f"{self.app_dns_name}:{self.app_port}"


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class KubernetesTarget:
    """Where `lab generate`'s Kubernetes objects go (lab/generate/kubernetes).

    `release` is the Helm release name of kube-prometheus-stack, whose Prometheus selects
    PrometheusRules and ServiceMonitors labelled `release: <it>` by default.
    """

    namespace: str
    release: str
    app_replicas: int

    def __post_init__(self) -> None:
        for field, value in (("namespace", self.namespace), ("release", self.release)):
            if not _DNS_LABEL.match(value):
                raise ValueError(
                    f"kubernetes {field} {value!r}: use at most 63 lower-case letters, digits"
                    " and '-', starting and ending with a letter or digit (a DNS label)"
                )
        if self.app_replicas < 1:
            raise ValueError(f"kubernetes app_replicas {self.app_replicas}: at least 1")


@dataclass(frozen=True)
class Spec:
    """Everything the lab generates, in one value."""

    scraping: Scraping
    rule_groups: tuple[RuleGroup, ...]
    slo: AvailabilitySLO
    dashboard: Dashboard
    routing: AlertRouting
    runbook_base_url: str
    datasource_uid: str
    datasource_url: str
    dashboards_path: str
    kubernetes: KubernetesTarget

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return tuple(a for g in self.rule_groups for a in g.alerts)

    def alert(self, name: str) -> Alert:
        for a in self.alerts:
            if a.name == name:
                return a
        raise KeyError(name)

    def with_threshold(self, name: str, value: float) -> Spec:
        """A copy of the spec with one alert's threshold changed (what-if and tests)."""
        groups = []
        for group in self.rule_groups:
            alerts = tuple(
                replace(a, condition=replace(a.condition, value=value))
                if a.name == name and isinstance(a.condition, Threshold)
                else a
                for a in group.alerts
            )
            groups.append(replace(group, alerts=alerts))
        if tuple(groups) == self.rule_groups:
            raise KeyError(f"no threshold alert named {name}")
        return replace(self, rule_groups=tuple(groups))
