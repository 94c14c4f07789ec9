"""The lab's one spec: SLO thresholds, alerts, recording rules, routing and dashboard panels.

Change a number here, run `lab generate`, and the Prometheus rules, their promtool tests,
the Alertmanager config and the Grafana dashboard all follow.
"""

from __future__ import annotations

from lab.spec.model import (
    AbsentFixture,
    Alert,
    AlertRouting,
    AlwaysFiring,
    AvailabilitySLO,
    BurnWindow,
    Comparison,
    Dashboard,
    GaugeFixture,
    HistogramFixture,
    Panel,
    PanelQuery,
    RatioFixture,
    RecordingRule,
    RuleGroup,
    Scraping,
    Severity,
    Spec,
    Threshold,
    Unit,
)

APP_JOB = "rag-app"
APP_LABELS = 'job="rag-app", instance="app:8000"'
PROMETHEUS_LABELS = 'job="prometheus", instance="localhost:9090"'
# The buckets of rag_query_duration_seconds, from the app's metrics contract.
LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

# --- The course's expressions, verbatim: learners recognise them in rules and panels. ---
P95_LATENCY = "histogram_quantile(0.95, rate(rag_query_duration_seconds_bucket[5m]))"
ERROR_RATE_PERCENT = "rate(rag_errors_total[5m]) / rate(rag_requests_total[5m]) * 100"
ERROR_RATE_ALERT_QUERY = "(rate(rag_errors_total[5m]) / rate(rag_requests_total[5m])) * 100"
CACHE_HIT_PERCENT = "rate(rag_cache_hits_total[5m]) / rate(rag_cache_requests_total[5m]) * 100"
COST_PER_HOUR = "sum(increase(rag_cost_usd_total[1h]))"

# --- SLO thresholds. ---
P95_LATENCY_SECONDS = 0.5
ERROR_RATE_MAX_PERCENT = 1.0
HEADROOM_MIN_PERCENT = 20.0

AVAILABILITY = AvailabilitySLO(
    name="rag-query-availability",
    target=0.99,
    period="30d",
    errors_metric="rag_errors_total",
    total_metric="rag_requests_total",
    alert_prefix="RagErrorBudgetBurn",
    # Google SRE workbook, "Alerting on SLOs": page at 2 % of a 30-day budget in 1 h and
    # 5 % in 6 h; open a ticket at 10 % in 3 days.
    windows=(
        BurnWindow("1h", "5m", 14.4, Severity.CRITICAL, "2m", "Fast"),
        BurnWindow("6h", "30m", 6.0, Severity.CRITICAL, "15m", "Slow"),
        BurnWindow("3d", "6h", 1.0, Severity.WARNING, "1h", "Ticket"),
    ),
)


def _ratio_fixture(window: str, scale: float, *, labels: str = APP_LABELS) -> RatioFixture:
    return RatioFixture(
        numerator=f"rag_errors_total{{{labels}}}",
        denominator=f"rag_requests_total{{{labels}}}",
        scale=scale,
        window=window,
    )


HIGH_P95_LATENCY = Alert(
    name="HighP95Latency",
    condition=Threshold(P95_LATENCY, Comparison.ABOVE, P95_LATENCY_SECONDS, Unit.SECONDS),
    for_="5m",
    severity=Severity.WARNING,
    summary="RAG query p95 latency is above its SLO",
    description=(
        "95 % of RAG queries on {{ $labels.instance }} should finish within the latency SLO;"
        " over the last 5 minutes the slowest 5 % took longer."
    ),
    fixture=HistogramFixture(
        metric="rag_query_duration_seconds",
        labels=APP_LABELS,
        buckets=LATENCY_BUCKETS,
        quantile=0.95,
        window="5m",
        healthy_bucket=0.2,
    ),
)

HIGH_ERROR_RATE = Alert(
    name="HighErrorRate",
    condition=Threshold(
        ERROR_RATE_ALERT_QUERY, Comparison.ABOVE, ERROR_RATE_MAX_PERCENT, Unit.PERCENT
    ),
    for_="5m",
    severity=Severity.CRITICAL,
    summary="More than the allowed share of RAG queries are failing",
    description=(
        "The share of RAG query requests on {{ $labels.instance }} that failed over the"
        " last 5 minutes is too high: users are getting errors instead of answers."
    ),
    fixture=_ratio_fixture("5m", 100.0),
)

LOW_RATE_LIMIT_HEADROOM = Alert(
    name="LowRateLimitHeadroom",
    condition=Threshold(
        "rag_rate_limit_headroom_percent", Comparison.BELOW, HEADROOM_MIN_PERCENT, Unit.PERCENT
    ),
    for_="2m",
    severity=Severity.WARNING,
    summary="The LLM provider's rate limit is nearly used up",
    description=(
        "Little of the LLM provider's rate limit is left on {{ $labels.instance }};"
        " at zero, requests are rejected with rate_limited errors."
    ),
    fixture=GaugeFixture(series=f"rag_rate_limit_headroom_percent{{{APP_LABELS}}}", healthy=80),
)

CIRCUIT_BREAKER_OPEN = Alert(
    name="CircuitBreakerOpen",
    condition='rag_circuit_breaker_state{state="open"} == 1',
    for_="1m",
    severity=Severity.WARNING,
    summary="The {{ $labels.service }} circuit breaker is open",
    description=(
        "The circuit breaker in front of the {{ $labels.service }} service has been open for"
        " over a minute: calls to it fail fast instead of being attempted."
    ),
    fixture=GaugeFixture(
        series=f'rag_circuit_breaker_state{{{APP_LABELS}, service="llm", state="open"}}',
        healthy=0,
        firing=1,
    ),
)

RAG_APP_DOWN = Alert(
    name="RagAppDown",
    condition=f'up{{job="{APP_JOB}"}} == 0\nor\nabsent(up{{job="{APP_JOB}"}})',
    for_="1m",
    severity=Severity.CRITICAL,
    summary="Prometheus cannot scrape the RAG app",
    description=(
        "The rag-app scrape target is down or missing from Prometheus: the app is not"
        " running, not reachable, or not configured as a target. No app metric is fresh."
    ),
    fixture=GaugeFixture(series=f"up{{{APP_LABELS}}}", healthy=1, firing=0),
    also_absent=AbsentFixture(
        result_labels=f'job="{APP_JOB}"', other_series=f"up{{{PROMETHEUS_LABELS}}}"
    ),
)

WATCHDOG = Alert(
    name="Watchdog",
    condition="vector(1)",
    for_="0s",
    severity=Severity.NONE,
    summary="The alerting pipeline is alive (always firing)",
    description=(
        "This alert always fires. If it stops arriving at the alert sink, Prometheus,"
        " Alertmanager or the path between them is broken."
    ),
    fixture=AlwaysFiring(),
)

ALERTMANAGER_NOT_CONNECTED = Alert(
    name="AlertmanagerNotConnected",
    condition=Threshold(
        'prometheus_notifications_alertmanagers_discovered{job="prometheus"}',
        Comparison.BELOW,
        1,
        Unit.COUNT,
    ),
    for_="10m",
    severity=Severity.WARNING,
    summary="Prometheus has no Alertmanager to send alerts to",
    description=(
        "Prometheus {{ $labels.instance }} discovered no Alertmanager: alerts are evaluated"
        " but nobody is notified."
    ),
    fixture=GaugeFixture(
        series=f"prometheus_notifications_alertmanagers_discovered{{{PROMETHEUS_LABELS}}}",
        healthy=1,
        firing=0,
    ),
)


def _slo_recording(slo: AvailabilitySLO) -> tuple[RecordingRule, ...]:
    return tuple(
        RecordingRule(
            slo.ratio_record(w),
            f"sum by (job) (rate({slo.errors_metric}[{w}]))\n/\n"
            f"sum by (job) (rate({slo.total_metric}[{w}]))",
        )
        for w in slo.record_windows
    )


def _burn_alerts(slo: AvailabilitySLO) -> tuple[Alert, ...]:
    alerts = []
    for w in slo.windows:
        bound = round(w.factor * slo.error_budget, 10)
        alerts.append(
            Alert(
                name=f"{slo.alert_prefix}{w.name_suffix}",
                condition=Threshold(
                    slo.ratio_record(w.long),
                    Comparison.ABOVE,
                    bound,
                    Unit.RATIO,
                    confirm=slo.ratio_record(w.short),
                ),
                for_=w.for_,
                severity=w.severity,
                summary=(
                    f"The RAG query error budget is burning {w.factor:g}x"
                    " faster than the SLO allows"
                ),
                description=(
                    f"Over the last {w.long} (and still over the last {w.short}) more queries"
                    f" failed than a {slo.target * 100:g} % availability SLO"
                    f" allows: at {w.factor:g}x the budget of {slo.period} runs out"
                    " early."
                ),
                labels=(("slo", slo.name), ("long_window", w.long), ("short_window", w.short)),
                runbook=slo.alert_prefix,
                fixture=RatioFixture(
                    numerator=f"{slo.errors_metric}{{{APP_LABELS}}}",
                    denominator=f"{slo.total_metric}{{{APP_LABELS}}}",
                    scale=1.0,
                    window=w.short,
                    result_labels=f'job="{APP_JOB}"',
                ),
            )
        )
    return tuple(alerts)


RECORDING = RuleGroup(
    name="rag-recording",
    file="rag_recording.yml",
    recording=(
        *(
            RecordingRule(
                f"job:rag_query_duration_seconds:p{q}_rate5m",
                f"histogram_quantile(0.{q}, sum by (job, le)"
                " (rate(rag_query_duration_seconds_bucket[5m])))",
            )
            for q in ("50", "95", "99")
        ),
        RecordingRule("job:rag_requests:rate5m", "sum by (job) (rate(rag_requests_total[5m]))"),
        RecordingRule(
            "job:rag_cache_hits:ratio_rate5m",
            "sum by (job) (rate(rag_cache_hits_total[5m]))\n/\n"
            "sum by (job) (rate(rag_cache_requests_total[5m]))",
        ),
        RecordingRule(
            "job:rag_cost_usd:increase1h", "sum by (job) (increase(rag_cost_usd_total[1h]))"
        ),
        RecordingRule(
            "job_stage:rag_stage_duration_seconds:p95_rate5m",
            "histogram_quantile(0.95, sum by (job, stage, le)"
            " (rate(rag_stage_duration_seconds_bucket[5m])))",
        ),
        RecordingRule(
            "job_error_type:rag_errors_by_type:rate5m",
            "sum by (job, error_type) (rate(rag_errors_by_type_total[5m]))",
        ),
    ),
)

ALERTS = RuleGroup(
    name="rag-alerts",
    file="rag_alerts.yml",
    alerts=(
        HIGH_P95_LATENCY,
        HIGH_ERROR_RATE,
        LOW_RATE_LIMIT_HEADROOM,
        CIRCUIT_BREAKER_OPEN,
        RAG_APP_DOWN,
    ),
)

SLO = RuleGroup(
    name="rag-slo-availability",
    file="rag_slo.yml",
    recording=_slo_recording(AVAILABILITY),
    alerts=_burn_alerts(AVAILABILITY),
)

META = RuleGroup(
    name="meta-monitoring",
    file="meta.yml",
    alerts=(WATCHDOG, ALERTMANAGER_NOT_CONNECTED),
)

_BURN_NAMES = tuple(a.name for a in SLO.alerts)

DASHBOARD = Dashboard(
    uid="rag-overview",
    title="RAG Overview",
    file="rag-overview.json",
    refresh="15s",
    time_from="now-30m",
    # The course's four: its readiness check 2 looks for them by title.
    key_panels=("p95 Latency", "Error Rate (%)", "Cache Hit Rate (%)", "Cost per Hour (USD)"),
    tags=("rag", "generated"),
    panels=(
        Panel(
            1,
            "p95 Latency",
            "95th percentile of RAG query latency (click an exemplar for its correlation id).",
            "s",
            (PanelQuery(P95_LATENCY, "p95 {{instance}}", exemplar=True),),
            threshold_alerts=("HighP95Latency",),
            min=0,
        ),
        Panel(
            2,
            "Error Rate (%)",
            "Share of RAG query requests that failed.",
            "percent",
            (PanelQuery(ERROR_RATE_PERCENT, "errors % {{instance}}"),),
            threshold_alerts=("HighErrorRate",),
            min=0,
        ),
        Panel(
            3,
            "Cache Hit Rate (%)",
            "Share of queries answered from the response cache.",
            "percent",
            (PanelQuery(CACHE_HIT_PERCENT, "cache hits % {{instance}}"),),
            min=0,
            max=100,
        ),
        Panel(
            4,
            "Cost per Hour (USD)",
            "LLM spend over the last hour, all models.",
            "currencyUSD",
            (PanelQuery(COST_PER_HOUR, "USD per hour"),),
            min=0,
        ),
        Panel(
            5,
            "Latency Percentiles (p50 / p95 / p99)",
            "Query latency percentiles from the recording rules.",
            "s",
            tuple(
                PanelQuery(
                    f"job:rag_query_duration_seconds:p{q}_rate5m", f"p{q}", exemplar=(q == "95")
                )
                for q in ("50", "95", "99")
            ),
            threshold_alerts=("HighP95Latency",),
            min=0,
        ),
        Panel(
            6,
            "Cost per Query (USD)",
            "Average LLM spend per query over the last hour.",
            "currencyUSD",
            (
                PanelQuery(
                    "sum(increase(rag_cost_usd_total[1h])) / sum(increase(rag_requests_total[1h]))",
                    "USD per query",
                ),
            ),
            min=0,
        ),
        Panel(
            7,
            "Rate-Limit Headroom (%)",
            "How much of the LLM provider's rate limit is left.",
            "percent",
            (PanelQuery("rag_rate_limit_headroom_percent", "headroom % {{instance}}"),),
            threshold_alerts=("LowRateLimitHeadroom",),
            min=0,
            max=100,
        ),
        Panel(
            8,
            "Requests per Second",
            "Query requests per second, and failed ones.",
            "reqps",
            (
                PanelQuery("sum(rate(rag_requests_total[5m]))", "requests/s"),
                PanelQuery("sum(rate(rag_errors_total[5m]))", "errors/s"),
            ),
            min=0,
        ),
        Panel(
            9,
            "Latency by Stage (p95)",
            "Where the time goes: embedding, vector search, LLM.",
            "s",
            (
                PanelQuery(
                    "histogram_quantile(0.95, sum by (stage, le)"
                    " (rate(rag_stage_duration_seconds_bucket[5m])))",
                    "{{stage}}",
                ),
            ),
            min=0,
        ),
        Panel(
            10,
            "Circuit Breaker State (1 = open)",
            "One line per dependency: 1 while its circuit breaker is open.",
            "short",
            (
                PanelQuery(
                    'max by (service) (rag_circuit_breaker_state{state="open"})',
                    "{{service}} open",
                ),
                PanelQuery(
                    'max by (service) (rag_circuit_breaker_state{state="half_open"})',
                    "{{service}} half-open",
                ),
            ),
            min=0,
            max=1,
        ),
        Panel(
            11,
            "Errors by Type",
            "Failed requests per second by error type.",
            "reqps",
            (
                PanelQuery(
                    "sum by (error_type) (rate(rag_errors_by_type_total[5m]))", "{{error_type}}"
                ),
            ),
            min=0,
        ),
        Panel(
            12,
            "SLO Error Ratio by Window",
            "Error ratio over each burn-rate window; lines mark the burn-rate alert thresholds.",
            "percentunit",
            tuple(
                PanelQuery(AVAILABILITY.ratio_record(w), f"{w} window")
                for w in AVAILABILITY.record_windows
            ),
            threshold_alerts=_BURN_NAMES,
            min=0,
        ),
    ),
)

ROUTING = AlertRouting(
    group_by=("alertname",),
    group_wait="10s",
    group_interval="30s",
    repeat_interval="4h",
    sink_url="http://alert-sink:9095/webhook",
    secrets_dir="/etc/alertmanager/secrets",
    slack_channel="#rag-alerts",
    email_to="oncall@example.com",
    email_from="alertmanager@example.com",
    smarthost="smtp.example.com:587",
    email_username="alertmanager@example.com",
)

SCRAPING = Scraping(
    scrape_interval="15s",
    evaluation_interval="15s",
    app_job=APP_JOB,
    app_target="app:8000",
    alertmanager_target="alertmanager:9093",
    rule_files="/etc/prometheus/rules/*.yml",
)

SPEC = Spec(
    scraping=SCRAPING,
    rule_groups=(RECORDING, ALERTS, SLO, META),
    slo=AVAILABILITY,
    dashboard=DASHBOARD,
    routing=ROUTING,
    runbook_base_url="docs/runbooks",
    datasource_uid="rag-prometheus",
    datasource_url="http://prometheus:9090",
    dashboards_path="/etc/grafana/dashboards",
)
