"""A Grafana dashboard as check 2 reads it: its panels' PromQL with every datasource
reference, template variable and built-in interval resolved the way Grafana resolves them
before a query reaches Prometheus, and which of its panels show the course's four key
metrics, recognised by what they query rather than by uid or title.

The built-in variables follow Grafana 12's Prometheus backend (pkg/promlib/models/query.go:
calculatePrometheusInterval, calculateRateInterval, InterpolateVariables) and the SDK's
interval arithmetic (grafana-plugin-sdk-go backend/gtime: RoundInterval, FormatInterval);
template variables follow its frontend (a single value as is, several as `(a|b)` with
regex escapes, "All" as the variable's allValue or every option).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lab.spec.rag import SPEC

#: Grafana's backend default when no scrape interval is configured on the datasource.
DEFAULT_SCRAPE_SECONDS = 15.0
#: Grafana's backend default resolution when a query says no maxDataPoints.
DEFAULT_MAX_DATA_POINTS = 1500
#: The most points Grafana lets one query return (promlib's safeResolution).
SAFE_RESOLUTION = 11000
#: $__rate_interval is at least this many scrape intervals (promlib).
RATE_INTERVAL_SCRAPES = 4

MINUTE, HOUR, DAY, YEAR = 60.0, 3600.0, 86400.0, 365 * 86400.0


@dataclass(frozen=True)
class KeyQuery:
    """One of the course's four key panels, recognised by what its PromQL computes."""

    role: str
    what: str  # how the fix describes the query the course asks for
    pattern: re.Pattern[str]
    lab_title: str  # the lab's own panel of this role (lab/spec)

    def matches(self, expr: str) -> bool:
        return self.pattern.search(expr) is not None


def _ratio(numerator: str, denominator: str) -> re.Pattern[str]:
    return re.compile(rf"\b{numerator}\b[^/]*/[^/]*\b{denominator}\b", re.DOTALL)


_P95, _ERRORS, _CACHE, _COST = SPEC.dashboard.key_panels
KEY_QUERIES = (
    KeyQuery(
        "p95 latency",
        "histogram_quantile(0.95, rate(rag_query_duration_seconds_bucket[5m]))",
        re.compile(
            r"histogram_quantile\s*\(\s*0?\.95\s*,.*\brag_query_duration_seconds_bucket\b",
            re.DOTALL,
        ),
        _P95,
    ),
    KeyQuery(
        "error rate",
        "rate(rag_errors_total[5m]) / rate(rag_requests_total[5m]) * 100",
        _ratio("rag_errors_total", "rag_requests_total"),
        _ERRORS,
    ),
    KeyQuery(
        "cache hit rate",
        "rate(rag_cache_hits_total[5m]) / rate(rag_cache_requests_total[5m]) * 100",
        _ratio("rag_cache_hits_total", "rag_cache_requests_total"),
        _CACHE,
    ),
    KeyQuery(
        "cost",
        "sum(increase(rag_cost_usd_total[1h]))",
        re.compile(r"\brag_cost_usd_total\b"),
        _COST,
    ),
)


#: The type of a datasource a panel names but Grafana does not have.
MISSING = "missing"


@dataclass(frozen=True)
class Datasource:
    """An entry of Grafana's /api/datasources (pkg/api/dtos DataSourceListItemDTO)."""

    uid: str
    name: str
    type: str
    is_default: bool = False
    #: jsonData.timeInterval: the scrape interval Grafana assumes for $__rate_interval.
    time_interval: str = ""

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Datasource:
        json_data = item.get("jsonData") or {}
        return cls(
            uid=str(item.get("uid", "")),
            name=str(item.get("name", "")),
            type=str(item.get("type", "")),
            is_default=bool(item.get("isDefault", False)),
            time_interval=str(json_data.get("timeInterval", "") or ""),
        )


@dataclass(frozen=True)
class ResolvedQuery:
    """One query of a panel, its expression as saved and as Prometheus will receive it."""

    ref_id: str
    raw_expr: str
    expr: str
    datasource: Datasource
    interval_ms: int
    max_data_points: int
    step_seconds: float


@dataclass(frozen=True)
class Panel:
    id: int
    title: str
    queries: tuple[ResolvedQuery, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    time_from: str
    time_to: str
    panels: tuple[Panel, ...]
    #: What was resolved on the way, for the evidence ("${DS_PROMETHEUS} -> Prometheus").
    notes: tuple[str, ...] = ()

    @property
    def range_seconds(self) -> float:
        return relative_seconds(self.time_from) - relative_seconds(self.time_to)

    def key_panels(self) -> dict[str, Panel]:
        """Each key role -> the first panel (in dashboard order) whose query computes it."""
        found: dict[str, Panel] = {}
        for key in KEY_QUERIES:
            for panel in self.panels:
                if any(key.matches(q.raw_expr) for q in panel.queries):
                    found[key.role] = panel
                    break
        return found


# --- Grafana's interval arithmetic. ---

_ROUNDING = (  # (at most, rounds to), seconds: gtime.RoundInterval
    (0.010, 0.001),
    (0.015, 0.010),
    (0.035, 0.020),
    (0.075, 0.050),
    (0.150, 0.100),
    (0.350, 0.200),
    (0.750, 0.500),
    (1.5, 1.0),
    (3.5, 2.0),
    (7.5, 5.0),
    (12.5, 10.0),
    (17.5, 15.0),
    (25.0, 20.0),
    (45.0, 30.0),
    (90.0, 60.0),
    (210.0, 120.0),
    (450.0, 300.0),
    (750.0, 600.0),
    (1050.0, 900.0),
    (1500.0, 1200.0),
    (2700.0, 1800.0),
    (5400.0, 3600.0),
    (9000.0, 7200.0),
    (16200.0, 10800.0),
    (32400.0, 21600.0),
    (86400.0, 43200.0),
    (172800.0, 86400.0),
    (604800.0, 86400.0),
    (1814400.0, 604800.0),
)


def round_interval(seconds: float) -> float:
    for most, rounded in _ROUNDING:
        if seconds <= most:
            return rounded
    return 2592000.0 if seconds < 3628800.0 else YEAR


def format_interval(seconds: float) -> str:
    """gtime.FormatInterval: the largest whole unit, truncated (90 s is "1m")."""
    for unit, suffix in ((YEAR, "y"), (DAY, "d"), (HOUR, "h"), (MINUTE, "m"), (1.0, "s")):
        if seconds >= unit:
            return f"{int(seconds // unit)}{suffix}"
    return f"{max(1, int(seconds * 1000))}ms"


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String(), which $__rate_interval is written as ("1m0s")."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest // 1000}" if rest % 1000 == 0 else f"{rest / 1000:g}"
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


_DURATION = re.compile(r"^\s*<?\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)?\s*>?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": MINUTE, "h": HOUR, "d": DAY, "w": 7 * DAY, "y": YEAR}


def parse_interval(text: str) -> float | None:
    """A Grafana interval ("15s", ">30s", a bare "15" is seconds) in seconds; None if not one."""
    match = _DURATION.match(text or "")
    if not match:
        return None
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def relative_seconds(text: str) -> float:
    """How far before now a dashboard time is ("now-30m" -> 1800, "now" -> 0); anything
    else (an absolute time) counts as the lab's 30 minutes."""
    text = (text or "now").strip()
    if text == "now":
        return 0.0
    match = re.fullmatch(r"now-(\d+)(s|m|h|d|w|y)(/\w)?", text)
    if not match:
        return relative_seconds(SPEC.dashboard.time_from)
    return int(match.group(1)) * _UNITS[match.group(2)]


_RATE_VARS = ("$__rate_interval", "${__rate_interval}", "$__rate_interval_ms")


@dataclass(frozen=True)
class Timing:
    """The step and interval values Grafana computes for one query."""

    interval: float  # what the frontend sends as intervalMs, seconds
    step: float  # calculatedStep: the range query's step, and $__interval
    rate_interval: float
    range_seconds: float


def timing(
    range_seconds: float,
    *,
    max_data_points: int,
    query_interval: str,
    scrape_interval: str,
) -> Timing:
    """promlib's calculatePrometheusInterval and calculateRateInterval, with the frontend's
    interval (range / maxDataPoints, rounded, at least the minimum interval) as intervalMs."""
    scrape = parse_interval(scrape_interval) or DEFAULT_SCRAPE_SECONDS
    variable = query_interval.startswith("$")
    minimum = (None if variable else parse_interval(query_interval)) or scrape
    points = max_data_points or DEFAULT_MAX_DATA_POINTS
    raw = range_seconds / points
    interval = minimum if raw < minimum else round_interval(raw)
    safe = round_interval(range_seconds / SAFE_RESOLUTION)
    adjusted = max(interval, safe)

    def rate(query_interval_seconds: float, min_step: float) -> float:
        return max(query_interval_seconds + min_step, RATE_INTERVAL_SCRAPES * min_step)

    if query_interval in _RATE_VARS:
        step = rate(adjusted, scrape)
        return Timing(interval, step, step, range_seconds)
    step = adjusted
    if query_interval in ("$__interval", "${__interval}"):
        min_step = step
    else:
        min_step = (None if variable else parse_interval(query_interval)) or scrape
    return Timing(interval, step, rate(interval, min_step), range_seconds)


def interpolate_builtins(expr: str, t: Timing) -> str:
    """promlib's InterpolateVariables: $__interval, $__rate_interval, $__range and their
    _ms/_s forms, with or without braces (the longer names first, as Grafana does)."""
    range_s = round(t.range_seconds)
    values = (
        ("__interval_ms", str(int(t.step * 1000))),
        ("__interval", format_interval(t.step)),
        ("__range_ms", str(int(t.range_seconds * 1000))),
        ("__range_s", str(range_s)),
        ("__range", f"{range_s}s"),
        ("__rate_interval_ms", str(int(t.rate_interval * 1000))),
        ("__rate_interval", go_duration(t.rate_interval)),
    )
    for name, value in values:
        expr = expr.replace(f"${{{name}}}", value)
        expr = re.sub(rf"\${name}(?![A-Za-z0-9_])", value, expr)
    return expr


# --- Template variables. ---

#: The values Prometheus knows for a label, asked when a query variable has none saved.
LabelValues = Callable[[str, str | None], list[str]]


def _no_lookup(label: str, metric: str | None) -> list[str]:
    return []


@dataclass(frozen=True)
class Variable:
    """A template variable's values; `escape` when Grafana regex-escapes them (a multi-value
    or include-All variable), `raw` for a custom allValue, which is sent as written."""

    name: str
    type: str
    values: tuple[str, ...]
    escape: bool = False
    raw: bool = False


_ALL = "$__all"
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:([^,]+?)\s*,\s*)?(\w+)\s*\)\s*$")


def _strings(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]


def variables(raw: Mapping[str, Any], lookup: LabelValues = _no_lookup) -> dict[str, Variable]:
    """The dashboard's template variables with the values a viewer sees by default: the
    saved current value; for "All", the allValue or every option; for a query variable
    saved without options, what Prometheus answers to its label_values() (with the
    variables before it filled in, as Grafana refreshes them in order)."""
    found: dict[str, Variable] = {}
    for item in (raw.get("templating") or {}).get("list", []):
        name, kind = str(item.get("name", "")), str(item.get("type", ""))
        if not name or kind in ("adhoc", "groupby"):
            continue
        current = _strings((item.get("current") or {}).get("value"))
        options = [
            str(o.get("value"))
            for o in item.get("options") or []
            if isinstance(o, dict) and o.get("value") not in (None, _ALL)
        ]
        if kind == "constant":
            current = _strings(item.get("query"))
        elif kind in ("custom", "textbox") and not current:
            current = [v.strip() for v in str(item.get("query", "")).split(",") if v.strip()][:1]
        elif kind == "query" and (not current or _ALL in current) and not options:
            query = item.get("query")
            text = query.get("query", "") if isinstance(query, dict) else str(query or "")
            match = _LABEL_VALUES.match(interpolate_variables(text, found))
            if match:
                options = lookup(match.group(2), match.group(1))
            current = current or options[:1]
        escape = bool(item.get("multi") or item.get("includeAll"))
        all_value = item.get("allValue")
        if _ALL in current and all_value:
            found[name] = Variable(name, kind, (str(all_value),), raw=True)
        elif _ALL in current:
            found[name] = Variable(name, kind, tuple(options) or (".*",), escape=escape)
        else:
            found[name] = Variable(name, kind, tuple(current), escape=escape)
    return found


def _regex_escaped(value: str) -> str:
    """prometheusSpecialRegexEscape: what a regex matcher needs escaped."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", value)


def _formatted(variable: Variable, fmt: str | None) -> str:
    """The Prometheus datasource's interpolateQueryExpr, or the named format."""
    values = variable.values
    if variable.raw or fmt in ("raw", "text", "csv"):
        return ",".join(values)
    if fmt == "pipe":
        return "|".join(values)
    if fmt == "regex" or variable.escape:
        escaped = [v if v == ".*" else _regex_escaped(v) for v in values]
        return escaped[0] if len(escaped) == 1 else f"({'|'.join(escaped)})"
    return values[0] if values else ""


_VARIABLE = re.compile(
    r"\$\{(?P<braced>\w+)(?::(?P<fmt>\w+))?\}|\[\[(?P<bracket>\w+)(?::(?P<bfmt>\w+))?\]\]"
    r"|\$(?P<plain>\w+)"
)


def interpolate_variables(expr: str, found: Mapping[str, Variable]) -> str:
    """$var, ${var}, ${var:format} and [[var]] replaced; Grafana's own `__` names are left
    for `interpolate_builtins`, unknown names as they are (Prometheus will say so)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bracket") or match.group("plain")
        fmt = match.group("fmt") or match.group("bfmt")
        if name.startswith("__") or name not in found:
            return match.group(0)
        return _formatted(found[name], fmt)

    return _VARIABLE.sub(replace, expr)


# --- Datasource references. ---


@dataclass
class DatasourceResolver:
    """Turns a panel's datasource reference into a datasource of Grafana's list.

    References come as {"uid", "type"}, a bare name (dashboards before Grafana 8), a
    variable (`$datasource`, or `${DS_PROMETHEUS}` from a dashboard exported for sharing,
    whose `__inputs` Grafana fills only on import), or nothing (the dashboard's default).
    A variable that names no datasource resolves to the Prometheus datasource the check
    found, as importing the dashboard would have.
    """

    all: tuple[Datasource, ...]
    prometheus: Datasource
    found: Mapping[str, Variable] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def _lookup(self, key: str) -> Datasource | None:
        return next((d for d in self.all if key in (d.uid, d.name)), None)

    def resolve(self, ref: object, inherited: Datasource | None = None) -> Datasource | None:
        """None for a datasource that is not Prometheus (Loki, -- Grafana --, Mixed)."""
        if ref is None or ref == "" or ref == {}:
            return inherited or self.prometheus
        uid: str
        if isinstance(ref, dict):
            uid = str(ref.get("uid") or "")
            if not uid:
                kind = str(ref.get("type") or "")
                return self.prometheus if kind in ("", "prometheus") else None
        else:
            uid = str(ref)
        if uid in ("-- Mixed --", "-- Dashboard --"):
            return inherited or self.prometheus
        if uid in ("-- Grafana --", "grafana"):
            return None
        name = re.fullmatch(r"\$\{?(\w+)(?::\w+)?\}?", uid)
        if name:
            variable = self.found.get(name.group(1))
            value = variable.values[0] if variable and variable.values else ""
            chosen = self._lookup(value) or self.prometheus
            note = f"datasource {uid} resolved to {chosen.name!r} ({chosen.uid})"
            if note not in self.notes:
                self.notes.append(note)
            return chosen if chosen.type == "prometheus" else None
        resolved = self._lookup(uid)
        if resolved is None:
            ref_type = ref.get("type") if isinstance(ref, dict) else None
            # Grafana shows "datasource not found" on such a panel: kept, to be reported.
            return Datasource(uid, uid, MISSING) if ref_type in (None, "prometheus") else None
        return resolved if resolved.type == "prometheus" else None


def _flat_panels(items: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Panels in dashboard order, those inside rows (collapsed or not) included."""
    for item in items:
        if item.get("type") == "row":
            yield from _flat_panels(item.get("panels") or [])
        else:
            yield item


def parse_dashboard(
    raw: Mapping[str, Any],
    *,
    datasources: Iterable[Datasource],
    prometheus: Datasource,
    lookup: LabelValues = _no_lookup,
) -> Dashboard:
    """The dashboard model (what /api/dashboards/uid/... returns under "dashboard", or the
    course's grafana_panels_spec.json under "dashboard") with every query resolved."""
    found = variables(raw, lookup)
    resolver = DatasourceResolver(tuple(datasources), prometheus, found)
    time = raw.get("time") or {}
    time_from = str(time.get("from") or SPEC.dashboard.time_from)
    time_to = str(time.get("to") or "now")
    range_seconds = relative_seconds(time_from) - relative_seconds(time_to)
    panels: list[Panel] = []
    for item in _flat_panels(raw.get("panels") or []):
        panel_ds = resolver.resolve(item.get("datasource"))
        points = int(item.get("maxDataPoints") or DEFAULT_MAX_DATA_POINTS)
        queries: list[ResolvedQuery] = []
        for target in item.get("targets") or []:
            raw_expr = str(target.get("expr") or "")
            if not raw_expr or target.get("hide"):
                continue
            ds = resolver.resolve(target.get("datasource"), panel_ds)
            if ds is None:
                continue
            query_interval = str(target.get("interval") or item.get("interval") or "")
            query_interval = interpolate_variables(query_interval, found)
            t = timing(
                range_seconds,
                max_data_points=points,
                query_interval=query_interval,
                scrape_interval=ds.time_interval,
            )
            expr = interpolate_builtins(interpolate_variables(raw_expr, found), t)
            queries.append(
                ResolvedQuery(
                    ref_id=str(target.get("refId") or "A"),
                    raw_expr=raw_expr,
                    expr=expr,
                    datasource=ds,
                    interval_ms=int(t.interval * 1000),
                    max_data_points=points,
                    step_seconds=t.step,
                )
            )
        panels.append(Panel(int(item.get("id") or 0), str(item.get("title") or ""), tuple(queries)))
    shown = [
        f"${name} = {'|'.join(var.values) or '(none)'}"
        for name, var in found.items()
        if var.type not in ("datasource", "constant")
    ]
    notes = ([f"variables as a viewer sees them: {', '.join(shown)}"] if shown else []) + [
        *resolver.notes
    ]
    return Dashboard(
        uid=str(raw.get("uid") or ""),
        title=str(raw.get("title") or ""),
        time_from=time_from,
        time_to=time_to,
        panels=tuple(panels),
        notes=tuple(notes),
    )
