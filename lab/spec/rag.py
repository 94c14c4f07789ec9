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
    Balancer,
    BurnWindow,
    Comparison,
    Dashboard,
    GaugeFixture,
    HistogramFixture,
    KubernetesTarget,
    Panel,
    PanelQuery,
    RatioFixture,
    RecordingRule,
    ReplicaFixture,
    RuleGroup,
    Scraping,
    Severity,
    ShareFixture,
    Spec,
    StateFixture,
    SyntheticAlertRoute,
    Threshold,
    Unit,
)

APP_JOB = "rag-app"
# Test fixtures' instances: compose's DNS gives each replica an address (dns_sd_configs).
REPLICA_INSTANCES = ("172.18.0.4:8000", "172.18.0.5:8000", "172.18.0.6:8000", "172.18.0.7:8000")
APP_LABELS = f'job="{APP_JOB}", instance="{REPLICA_INSTANCES[0]}"'
PROMETHEUS_LABELS = 'job="prometheus", instance="localhost:9090"'
# The buckets of rag_query_duration_seconds, from the app's metrics contract.
LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

# --- The course's expressions, summed over the app's replicas. ---
# The course writes them for one process: `rate(rag_errors_total[5m]) /
# rate(rag_requests_total[5m]) * 100`. With several replicas (`--scale app=3`) that gives a
# line per replica, and neither a sum nor an average of their ratios is the service's error
# rate; the ratio of the sums is (a replica with more traffic weighs more). Quantiles work
# the same way: sum the buckets by `le`, then take the quantile. With one replica each
# expression returns exactly the course's number. Alerts keep `job` (`sum by (job)`), the
# panels give one number (`sum`); per-replica lines live in their own panels.
P95_LATENCY = "histogram_quantile(0.95, sum by (le) (rate(rag_query_duration_seconds_bucket[5m])))"
P95_LATENCY_ALERT_QUERY = (
    "histogram_quantile(0.95, sum by (job, le) (rate(rag_query_duration_seconds_bucket[5m])))"
)
ERROR_RATE_PERCENT = "sum(rate(rag_errors_total[5m])) / sum(rate(rag_requests_total[5m])) * 100"
ERROR_RATE_ALERT_QUERY = (
    "(sum by (job) (rate(rag_errors_total[5m])) / sum by (job) (rate(rag_requests_total[5m])))"
    " * 100"
)
CACHE_HIT_PERCENT = (
    "sum(rate(rag_cache_hits_total[5m])) / sum(rate(rag_cache_requests_total[5m])) * 100"
)
COST_PER_HOUR = "sum(increase(rag_cost_usd_total[1h]))"

# --- SLO thresholds. ---
P95_LATENCY_SECONDS = 0.5
ERROR_RATE_MAX_PERCENT = 1.0
HEADROOM_MIN_PERCENT = 20.0
# The course's error rate before the resilience work (M2.4), a band in percent, and its
# target after it: what `lab baseline`, `lab compare` and `lab experiment` measure against.
EXPECTED_ERROR_RATE_BEFORE = (0.5, 2.0)
TARGET_ERROR_RATE_AFTER = 0.1

# --- Resilience (M2.4): label values from the app's metrics contract. ---
ANSWER_LEVELS = ("cache", "primary", "secondary", "stale_cache", "extractive")
# Levels that answer, but worse than the primary model or the fresh cache would: a cheaper
# model, an old answer, passages stitched together. They are answers, not errors
# (docs/error-rate.md), so they do not count against the error rate or the SLO.
DEGRADED_LEVELS = ("secondary", "stale_cache", "extractive")
BREAKER_STATES = ("closed", "open", "half_open")

# Retries per request: the Google SRE book ("Handling Overload") gives each client a retry
# budget of 10 % of its requests, the most extra load retries may add to a dependency that
# is already struggling. Healthy, the lab retries about as often as calls fail (~1 %); past
# 10 % for 5 minutes retries are no longer cheap insurance but load amplification: the
# budget is off, set too high, or a partial failure keeps the breaker from tripping. The
# bound lies below the app's default retry budget (a unit test ties the two), so the alert
# warns while the budget still lets retries through, before it starts refusing them.
RETRIES_PER_REQUEST_MAX = 0.1
RETRY_STORM_FOR = "5m"
# Share of answers from degraded levels: with a healthy primary it is about the primary's
# failure rate (~1 %). A provider blip that the fallback chain covers for a few minutes is
# the design working and must not wake anyone (the breaker's own open -> half-open cycle
# and a 5-minute window keep it above zero for a while). One answer in ten degraded for a
# quarter of an hour means the primary is not coming back by itself: users silently get
# worse answers and the cost mix changes. A warning, not a page: nobody gets an error.
DEGRADED_ANSWERS_MAX_SHARE = 0.1
SUSTAINED_FALLBACK_FOR = "15m"
# Shed requests are errors (503 overloaded), so heavy shedding also raises HighErrorRate and
# burns the SLO; this alert names the cause (saturation, not a broken dependency) earlier.
# Its bound is the course's target after M2.4, 0.1 % errors: shedding above it alone breaks
# the target. A request shed now and then (a burst) leaves the 5-minute window before `for`
# has passed; shedding that lasts 5 minutes means capacity is below demand.
SHED_REQUESTS_MAX_SHARE = TARGET_ERROR_RATE_AFTER / 100
LOAD_SHEDDING_FOR = "5m"

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


def _error_ratio_fixture(window: str, scale: float) -> RatioFixture:
    """Errors over requests, aggregated to the job, tested with one and with two replicas."""
    return RatioFixture(
        numerator=f"rag_errors_total{{{APP_LABELS}}}",
        denominator=f"rag_requests_total{{{APP_LABELS}}}",
        scale=scale,
        window=window,
        result_labels=f'job="{APP_JOB}"',
        other_instance=REPLICA_INSTANCES[1],
    )


HIGH_P95_LATENCY = Alert(
    name="HighP95Latency",
    condition=Threshold(
        P95_LATENCY_ALERT_QUERY, Comparison.ABOVE, P95_LATENCY_SECONDS, Unit.SECONDS
    ),
    for_="5m",
    severity=Severity.WARNING,
    summary="RAG query p95 latency is above its SLO",
    description=(
        "95 % of RAG queries to {{ $labels.job }} (all replicas) should finish within the"
        " latency SLO; over the last 5 minutes the slowest 5 % took longer."
    ),
    fixture=HistogramFixture(
        metric="rag_query_duration_seconds",
        labels=APP_LABELS,
        buckets=LATENCY_BUCKETS,
        quantile=0.95,
        window="5m",
        healthy_bucket=0.2,
        result_labels=f'job="{APP_JOB}"',
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
        "The share of RAG query requests to {{ $labels.job }} (all replicas) that failed"
        " over the last 5 minutes is too high: users are getting errors instead of answers."
    ),
    fixture=_error_ratio_fixture("5m", 100.0),
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

BREAKER_STATE = StateFixture(
    series=f'rag_circuit_breaker_state{{{APP_LABELS}, service="llm"}}',
    label="state",
    states=BREAKER_STATES,
    healthy="closed",
    flapping=("open", "half_open"),
)

CIRCUIT_BREAKER_OPEN = Alert(
    name="CircuitBreakerOpen",
    # The course writes `rag_circuit_breaker_state{state="open"} == 1`. During an outage a
    # breaker goes open -> half_open (one probe) -> open again, and every scrape that catches
    # it half-open resets that alert's `for`, so a long outage may never fire it. "Not
    # closed" holds through the whole outage; `max without (state)` keeps one series per
    # breaker, labelled by its service.
    condition=(
        f"max without ({BREAKER_STATE.label})"
        f' (rag_circuit_breaker_state{{{BREAKER_STATE.label}!="{BREAKER_STATE.healthy}"}}) == 1'
    ),
    for_="1m",
    severity=Severity.WARNING,
    summary="The {{ $labels.service }} circuit breaker is open (or half-open, probing)",
    description=(
        "The circuit breaker in front of the {{ $labels.service }} service has not been"
        " closed for over a minute (open, or half-open while it probes for recovery): calls"
        " to it fail fast or fall back instead of being attempted."
    ),
    fixture=BREAKER_STATE,
)

# How long Prometheus remembers a replica that has gone. Compose keeps no desired replica
# count, and its DNS drops a killed or stopped replica at once, so its target (and its
# `up == 0`) vanishes within one DNS refresh. RagAppDown therefore also fires for an
# instance seen within this window that is gone while fewer replicas run than did in it;
# a recreated replica (a new address, the count unchanged) does not fire. The price: a
# deliberate scale-down looks the same and fires for the removed replicas until the
# window has passed (the runbook says to silence it), and a killed replica that nobody
# restarts resolves after it. 15 minutes: long enough for someone to look, short enough
# that a scale-down does not page for an hour.
REPLICA_MEMORY = "15m"
_UP = f'up{{job="{APP_JOB}"}}'

RAG_APP_DOWN = Alert(
    name="RagAppDown",
    condition=(
        f"{_UP} == 0\n"
        "or\n"
        f"(max_over_time({_UP}[{REPLICA_MEMORY}]) unless {_UP})\n"
        f"  and on (job) (count by (job) ({_UP})"
        f" < max_over_time(count by (job) ({_UP})[{REPLICA_MEMORY}:]))\n"
        "or\n"
        f"absent({_UP})"
    ),
    for_="1m",
    severity=Severity.CRITICAL,
    summary="Prometheus cannot scrape the RAG app (a replica, or all of it)",
    description=(
        "A rag-app replica is down, or gone without a replacement (killed, stopped or scaled"
        " away), or the job has no scrape target at all: that replica serves nobody and its"
        " metrics are stale. Replica (scrape target): {{ $labels.instance }}."
    ),
    fixture=GaugeFixture(series=f"up{{{APP_LABELS}}}", healthy=1, firing=0),
    also_absent=AbsentFixture(
        result_labels=f'job="{APP_JOB}"', other_series=f"up{{{PROMETHEUS_LABELS}}}"
    ),
    also_replicas=ReplicaFixture(job_labels=f'job="{APP_JOB}"', instances=REPLICA_INSTANCES),
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
        "prometheus_notifications_alertmanagers_discovered",
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


_DEGRADED_SELECTOR = f'level=~"{"|".join(DEGRADED_LEVELS)}"'
RETRIES_PER_REQUEST = RecordingRule(
    "job:rag_retries_per_request:ratio_rate5m",
    "sum by (job) (rate(rag_retries_total[5m]))\n/\nsum by (job) (rate(rag_requests_total[5m]))",
)
DEGRADED_ANSWERS_SHARE = RecordingRule(
    "job:rag_degraded_answers:ratio_rate5m",
    f"sum by (job) (rate(rag_answers_total{{{_DEGRADED_SELECTOR}}}[5m]))\n/\n"
    "sum by (job) (rate(rag_answers_total[5m]))",
)
SHED_REQUESTS_SHARE = RecordingRule(
    "job:rag_shed_requests:ratio_rate5m",
    "sum by (job) (rate(rag_shed_requests_total[5m]))\n/\n"
    "sum by (job) (rate(rag_requests_total[5m]))",
)

RETRY_STORM = Alert(
    name="RetryStorm",
    condition=Threshold(
        RETRIES_PER_REQUEST.record, Comparison.ABOVE, RETRIES_PER_REQUEST_MAX, Unit.RATIO
    ),
    for_=RETRY_STORM_FOR,
    severity=Severity.WARNING,
    summary="RAG dependency calls are retried more often than a retry budget allows",
    description=(
        "Over the last 5 minutes, {{ $labels.job }} made retries to its dependencies (LLM,"
        " vector store) amounting to too large a share of its requests: the retries multiply"
        " the load on a dependency that is already failing."
    ),
    fixture=RatioFixture(
        numerator=f'rag_retries_total{{{APP_LABELS}, service="llm"}}',
        denominator=f"rag_requests_total{{{APP_LABELS}}}",
        scale=1.0,
        window="5m",
        result_labels=f'job="{APP_JOB}"',
    ),
)

SUSTAINED_FALLBACK = Alert(
    name="SustainedFallback",
    condition=Threshold(
        DEGRADED_ANSWERS_SHARE.record, Comparison.ABOVE, DEGRADED_ANSWERS_MAX_SHARE, Unit.RATIO
    ),
    for_=SUSTAINED_FALLBACK_FOR,
    severity=Severity.WARNING,
    summary="Many RAG answers have come from degraded fallback levels for a sustained time",
    description=(
        "For a sustained time, a large share of the answers {{ $labels.job }} gave came from a"
        " degraded fallback level (secondary model, stale cache, extractive) instead of the"
        " primary model or the fresh cache: users get answers, but worse ones."
    ),
    fixture=ShareFixture(
        part=f'rag_answers_total{{{APP_LABELS}, level="{DEGRADED_LEVELS[0]}"}}',
        rest=f'rag_answers_total{{{APP_LABELS}, level="primary"}}',
        window="5m",
        result_labels=f'job="{APP_JOB}"',
    ),
)

LOAD_SHEDDING = Alert(
    name="LoadShedding",
    condition=Threshold(
        SHED_REQUESTS_SHARE.record, Comparison.ABOVE, SHED_REQUESTS_MAX_SHARE, Unit.RATIO
    ),
    for_=LOAD_SHEDDING_FOR,
    severity=Severity.WARNING,
    summary="The RAG app is refusing requests because it is at capacity",
    description=(
        "Over the last 5 minutes, admission control on {{ $labels.job }} shed requests (503"
        " overloaded): more LLM work arrives than its in-flight limit and wait queue hold."
        " Shed requests count as errors."
    ),
    fixture=RatioFixture(
        numerator=f"rag_shed_requests_total{{{APP_LABELS}}}",
        denominator=f"rag_requests_total{{{APP_LABELS}}}",
        scale=1.0,
        window="5m",
        result_labels=f'job="{APP_JOB}"',
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
                    other_instance=REPLICA_INSTANCES[1],
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

#: The three alerts the course asks for (check 3 requires them loaded): latency, error
#: rate and rate-limit headroom.
COURSE_ALERTS = (HIGH_P95_LATENCY, HIGH_ERROR_RATE, LOW_RATE_LIMIT_HEADROOM)

#: The header that carries a request's correlation id, both ways: check 4 sends one and
#: follows it through the logs (tests/unit/lab/spec/test_app_contract.py ties it to the app).
CORRELATION_HEADER = "X-Correlation-ID"

#: The response header naming the replica that served a request (its host name): check 4
#: reads that replica's logs and exemplars (test_app_contract.py ties it to the app).
SERVED_BY_HEADER = "X-Served-By"

#: The log events of one answered query, in order: check 4 follows a request through them
#: (the app logs them; tests/unit/lab/spec/test_app_contract.py ties the two).
LOG_LIFECYCLE = (
    "query_received",
    "embedding_generated",
    "vector_search_completed",
    "llm_call_completed",
    "response_returned",
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

RESILIENCE = RuleGroup(
    name="rag-resilience",
    file="rag_resilience.yml",
    recording=(RETRIES_PER_REQUEST, DEGRADED_ANSWERS_SHARE, SHED_REQUESTS_SHARE),
    alerts=(RETRY_STORM, SUSTAINED_FALLBACK, LOAD_SHEDDING),
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

# localhost:8000: HAProxy in front of the replicas (docker-compose.yml's `gateway`,
# haproxy/haproxy.cfg). Its timeouts sit above the app's own: a slow answer is the app's
# to report (its 504 in its JSON shape), the balancer's only when the app never answers.
BALANCER = Balancer(
    service="gateway",
    port=8000,
    metrics_port=8405,
    job="haproxy",
    backend="app",
    max_replicas=10,
    health_path="/readyz",
    check_interval="2s",
    resolver="127.0.0.11:53",
    connect_timeout="2s",
    server_timeout="60s",
    retries=2,
)
# The replicas as the balancer sees them: its server slots that hold an address (a slot
# without one is in maintenance, not a replica).
_BALANCED = f'proxy="{BALANCER.backend}"'
_SLOT_IN_USE = f'unless on (server) (haproxy_server_status{{{_BALANCED}, state="MAINT"}} == 1)'
_SERVER_5XX = f'haproxy_server_http_responses_total{{{_BALANCED}, code="5xx"}}'
_TO_CLIENTS_5XX = f'haproxy_frontend_http_responses_total{{{_BALANCED}, code="5xx"}}'

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
            (PanelQuery(P95_LATENCY, "p95", exemplar=True),),
            threshold_alerts=("HighP95Latency",),
            min=0,
        ),
        Panel(
            2,
            "Error Rate (%)",
            "Share of RAG query requests that failed.",
            "percent",
            (PanelQuery(ERROR_RATE_PERCENT, "errors %"),),
            threshold_alerts=("HighErrorRate",),
            min=0,
        ),
        Panel(
            3,
            "Cache Hit Rate (%)",
            "Share of queries answered from the response cache.",
            "percent",
            (PanelQuery(CACHE_HIT_PERCENT, "cache hits %"),),
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
            "How much of the LLM provider's rate limit is left, per replica: each replica"
            " simulates its own provider limit.",
            "percent",
            (PanelQuery("rag_rate_limit_headroom_percent", "headroom % {{instance}}"),),
            threshold_alerts=("LowRateLimitHeadroom",),
            min=0,
            max=100,
        ),
        Panel(
            8,
            "Requests per Second",
            "Query requests per second, failed ones, and those shed by admission control.",
            "reqps",
            (
                PanelQuery("sum(rate(rag_requests_total[5m]))", "requests/s"),
                PanelQuery("sum(rate(rag_errors_total[5m]))", "errors/s"),
                PanelQuery("sum(rate(rag_shed_requests_total[5m]))", "shed/s (errors too)"),
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
            "Circuit Breaker State (1 = open / half-open)",
            "One line per dependency and state: 1 while its circuit breaker is open or"
            " half-open; CircuitBreakerOpen fires when either lasts.",
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
        Panel(
            13,
            "Retries per Second by Service",
            "Retry attempts per dependency (first attempts not counted), and retries the"
            " retry budget refused.",
            "reqps",
            (
                PanelQuery("sum by (service) (rate(rag_retries_total[5m]))", "{{service}} retries"),
                PanelQuery(
                    "sum by (service) (rate(rag_retry_budget_exhausted_total[5m]))",
                    "{{service}} refused (budget spent)",
                ),
            ),
            min=0,
        ),
        Panel(
            14,
            "Retries per Request",
            "Retries of all dependencies per query request: the extra load retries add.",
            "percentunit",
            (PanelQuery(RETRIES_PER_REQUEST.record, "retries per request"),),
            threshold_alerts=(RETRY_STORM.name,),
            min=0,
        ),
        Panel(
            15,
            "Answers by Fallback Level (share)",
            "Which level answered: cache and primary are full answers; secondary, stale_cache"
            " and extractive are degraded ones (answers all the same, not errors).",
            "percentunit",
            (
                PanelQuery(
                    "sum by (level) (rate(rag_answers_total[5m]))\n/ ignoring (level) group_left"
                    "\nsum (rate(rag_answers_total[5m]))",
                    "{{level}}",
                ),
            ),
            min=0,
            max=1,
            stacked=True,
        ),
        Panel(
            16,
            "Degraded Answers (share)",
            "Share of answers from the degraded levels; SustainedFallback fires when it stays"
            " above the line.",
            "percentunit",
            (PanelQuery(DEGRADED_ANSWERS_SHARE.record, "degraded share"),),
            threshold_alerts=(SUSTAINED_FALLBACK.name,),
            min=0,
        ),
        Panel(
            17,
            "LLM Admission: In Flight and Queued",
            "LLM calls in progress and requests waiting for a slot; when both are full,"
            " requests are shed.",
            "short",
            (
                PanelQuery("sum(rag_llm_inflight)", "in flight"),
                PanelQuery("sum(rag_llm_queue_depth)", "queued"),
            ),
            min=0,
        ),
        Panel(
            18,
            "Shed Requests (share)",
            "Share of query requests refused by admission control (503 overloaded).",
            "percentunit",
            (PanelQuery(SHED_REQUESTS_SHARE.record, "shed share"),),
            threshold_alerts=(LOAD_SHEDDING.name,),
            min=0,
        ),
        Panel(
            19,
            "Client-Side Pacing",
            "LLM calls per second that waited for the pacer, and how many wait on average"
            " (seconds waited per second, by Little's law).",
            "short",
            (
                PanelQuery("sum(rate(rag_paced_calls_total[5m]))", "paced calls/s"),
                PanelQuery("sum(rate(rag_pacing_wait_seconds_total[5m]))", "calls waiting"),
            ),
            min=0,
        ),
        Panel(
            20,
            "Resilience Mechanisms in Effect",
            "1 per mechanism in effect (master switch and its own switch on), stacked.",
            "short",
            (PanelQuery("max by (mechanism) (rag_resilience_enabled)", "{{mechanism}}"),),
            min=0,
            stacked=True,
        ),
        Panel(
            21,
            "Replicas Up",
            "One line per app replica Prometheus discovered (by DNS): 1 while it is scraped,"
            " 0 when it stops answering; RagAppDown fires per replica.",
            "short",
            (PanelQuery(_UP, "{{instance}}"),),
            threshold_alerts=(),
            min=0,
            max=1,
        ),
        Panel(
            22,
            "Requests per Second by Replica",
            "How the traffic spreads over the app's replicas (loadgen takes them in turn).",
            "reqps",
            (PanelQuery("sum by (instance) (rate(rag_requests_total[5m]))", "{{instance}}"),),
            min=0,
        ),
        Panel(
            23,
            "Balancer Requests by Replica",
            "Requests per second HAProxy sent to each replica (its server slot), as it saw"
            " their answers; a replica it took out (failed /readyz) drops to 0.",
            "reqps",
            (
                PanelQuery(
                    "sum by (server)"
                    f" (rate(haproxy_server_http_responses_total{{{_BALANCED}}}[5m]))"
                    f" {_SLOT_IN_USE}",
                    "{{server}}",
                ),
            ),
            min=0,
        ),
        Panel(
            24,
            "Balancer Errors by Replica",
            "Per replica: 5xx answers, connections that failed and answers cut short, as"
            " HAProxy saw them; retried: requests it sent again to another replica; to clients:"
            " the 5xx the learner got (its own 502/503/504 included).",
            "reqps",
            (
                PanelQuery(
                    f"sum by (server) (rate({_SERVER_5XX}[5m])"
                    f" + rate(haproxy_server_connection_errors_total{{{_BALANCED}}}[5m])"
                    f" + rate(haproxy_server_response_errors_total{{{_BALANCED}}}[5m]))"
                    f" {_SLOT_IN_USE}",
                    "{{server}}",
                ),
                PanelQuery(
                    f"sum(rate(haproxy_backend_retry_warnings_total{{{_BALANCED}}}[5m]))", "retried"
                ),
                PanelQuery(
                    f"sum(rate({_TO_CLIENTS_5XX}[5m]))",
                    "to clients",
                ),
            ),
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
    # `lab check`'s test alert: firing and resolved at the sink within seconds.
    synthetic=SyntheticAlertRoute(
        alertname="LabReadinessTest", run_label="lab_run", group_wait="1s", group_interval="1s"
    ),
)

SCRAPING = Scraping(
    scrape_interval="15s",
    # Every 5 s: a fresh lab is green within seconds, and the 5m windows hold 60 samples.
    app_scrape_interval="5s",
    # Recording rules and alerts follow the app's data at its pace.
    evaluation_interval="5s",
    app_job=APP_JOB,
    app_dns_name="app",
    app_port=8000,
    # How soon a new replica is scraped, and a removed one dropped (RagAppDown then still
    # names it: see its condition).
    app_dns_refresh_interval="5s",
    alertmanager_target="alertmanager:9093",
    rule_files="/etc/prometheus/rules/*.yml",
)

# The cluster side (README, "From the laptop to a cluster"): two app replicas behind a
# Service, so the rules' per-job aggregation is exercised from the start.
KUBERNETES = KubernetesTarget(namespace="rag-lab", release="kube-prometheus-stack", app_replicas=2)

SPEC = Spec(
    scraping=SCRAPING,
    rule_groups=(RECORDING, ALERTS, RESILIENCE, SLO, META),
    slo=AVAILABILITY,
    dashboard=DASHBOARD,
    routing=ROUTING,
    runbook_base_url="docs/runbooks",
    datasource_uid="rag-prometheus",
    datasource_url="http://prometheus:9090",
    dashboards_path="/etc/grafana/dashboards",
    kubernetes=KUBERNETES,
    balancer=BALANCER,
)
