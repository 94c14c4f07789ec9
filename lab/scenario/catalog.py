"""The scenarios, as data: what breaks, what the learner is told, how the live lab shows it.

Each scenario's `detect` runs the check it targets against the live lab and returns the
line of evidence that shows the fault (None when the check does not see it): what the
integration tests assert, and what `verify` uses to tell a fixed lab from a broken one.
An `evidence` reader reads off the live services the values a cause's `--evidence` may
name, so a learner can only back a cause with what the signals show.
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml
from prometheus_client.parser import text_string_to_metric_families

from lab.check import alerts, logs, scrape
from lab.check.result import CheckResult
from lab.kit import receivers
from lab.scenario.live import Lab
from lab.scenario.model import Fault, Grading, Probe, Scenario, Signal
from lab.spec.rag import HIGH_P95_LATENCY, LOG_LIFECYCLE, LOW_RATE_LIMIT_HEADROOM, SPEC

#: The tail a slow minority of calls shows in, and the window it is measured over.
SLOW_TAIL_QUANTILE = 0.99
SLOW_TAIL_SECONDS = 1.0
TAIL_WINDOW = "1m"


def _failing(check: str, data_key: str) -> Probe:
    """The check fails, and for the reason the scenario causes (a key of its data)."""

    def probe(lab: Lab) -> str | None:
        result = lab.check(check)
        return _last_evidence(result) if result.failed and data_key in result.data else None

    return probe


def _last_evidence(result: CheckResult) -> str:
    return (result.evidence or ("failed",))[-1]


def _rule_active(alert: str) -> Probe:
    def probe(lab: Lab) -> str | None:
        states = {rule.name: rule.state for rule in lab.prometheus.rules()}
        if states.get(alert) in ("pending", "firing"):
            return f"{alert} is {states[alert]} in Prometheus"
        return None

    return probe


def _quantile(lab: Lab, q: float) -> float | None:
    samples = lab.prometheus.query(
        f"histogram_quantile({q}, sum by (le) "
        f"(rate({logs.LATENCY_HISTOGRAM}_bucket[{TAIL_WINDOW}])))"
    )
    return samples[0].value if samples else None


def _slow_tail(lab: Lab) -> str | None:
    p99 = _quantile(lab, SLOW_TAIL_QUANTILE)
    p95 = _quantile(lab, 0.95)
    # The tail moved, the body did not: p99 in seconds, p95 less than half of it.
    if p99 is None or p95 is None or p99 <= SLOW_TAIL_SECONDS or p95 * 2 > p99:
        return None
    threshold = HIGH_P95_LATENCY.threshold
    bound = f" (the p95 alert's threshold: {threshold.value * 1000:.0f} ms)" if threshold else ""
    return (
        f"p99 latency {p99 * 1000:.0f} ms over {TAIL_WINDOW} while p95 is "
        f"{p95 * 1000:.0f} ms{bound}"
    )


# --- evidence readers: what the live services show ------------------------------------


def _spec_expressions() -> str:
    exprs = [q.expr for panel in SPEC.dashboard.panels for q in panel.queries]
    exprs += [rule.expr for group in SPEC.rule_groups for rule in group.recording]
    exprs += [alert.expr for group in SPEC.rule_groups for alert in group.alerts]
    return "\n".join(exprs)


def _unknown_histograms(lab: Lab) -> set[str]:
    """rag_* histograms the app serves that no panel or rule of the spec queries."""
    known = _spec_expressions()
    return {
        family.name
        for family in text_string_to_metric_families(lab.app.metrics_text())
        if family.type == "histogram"
        and family.name.startswith("rag_")
        and family.name not in known
    }


def _silent_receivers(lab: Lab) -> set[str]:
    """Receivers of the running Alertmanager config with no integration at all, by either
    name a prometheus-operator Alertmanager gives them (`lab.kit.receivers`)."""
    config = yaml.safe_load(lab.alertmanager.config_text()) or {}
    return {
        name
        for receiver in config.get("receivers", [])
        if not any(key.endswith("_configs") for key in receiver)
        for name in receivers.names(str(receiver.get("name")))
    }


def _labels_of_largest_family(lab: Lab) -> set[str]:
    counts: dict[str, tuple[int, set[str]]] = {}
    for family in text_string_to_metric_families(lab.app.metrics_text()):
        if family.name.startswith("rag_"):
            size, names = counts.get(family.name, (0, set()))
            labels = {name for s in family.samples for name in s.labels} - {"le", "quantile"}
            counts[family.name] = (size + len(family.samples), names | labels)
    if not counts:
        return set()
    return max(counts.values(), key=lambda item: item[0])[1]


def _events_without_id(lab: Lab) -> set[str]:
    result = lab.check(logs.NAME)
    seen = result.data.get("events")
    if not result.failed or not isinstance(seen, list):
        return set()
    return set(LOG_LIFECYCLE) - set(seen)


def _extra_jobs(lab: Lab) -> set[str]:
    result = lab.check(scrape.NAME)
    jobs = set(result.data.get("jobs", []))
    return jobs - {SPEC.scraping.app_job}


SCENARIOS: Mapping[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="empty-latency-panels",
            signal=Signal.DASHBOARDS,
            title="the latency panels went empty after a deploy",
            symptom="Since this morning's deploy, the latency panels of the RAG dashboard say "
            '"No data", and the on-call engineer asks whether the p95 alert still works. '
            "The app answers questions as before.",
            hints=(
                "Panels and alerts are queries on metric names. Does the app still serve "
                "every name they query? `lab check --only scrape` compares /metrics with "
                "the names the course's queries need.",
                "Compare what the app serves (`curl -s localhost:8000/metrics | grep "
                "'^# TYPE rag_'`) with what the panels query (`lab/spec/rag.py`).",
                "A histogram is still there, under a name no panel or rule queries: the "
                "new build renamed it. Name the cause and the new name as evidence.",
            ),
            cause="renamed-metric",
            grading=Grading.CAUSE,
            fault=Fault(app={"rename_latency_metric": True}),
            detect=_failing(scrape.NAME, "missing_families"),
            detected_by="check 1 (scrape): the metric contract's required families",
            evidence=_unknown_histograms,
        ),
        Scenario(
            name="silent-pager",
            signal=Signal.ALERTS,
            title="nobody was paged, although the alerts fired",
            symptom="Yesterday's incident fired alerts in Prometheus, yet nobody received a "
            "notification. Alertmanager's own page looks healthy, and the Watchdog "
            "heartbeat keeps arriving.",
            hints=(
                "Follow one alert the whole way: `lab check --only alerts` sends a test "
                "alert through Alertmanager to the sink. Does it arrive?",
                "Alertmanager accepts the alert (it shows at http://localhost:9093), so "
                "look at where it routes it: `amtool config routes test "
                "alertname=X severity=warning` against the config it runs (Status page).",
                "The first matching route wins. A route ahead of the others sends warning "
                "and critical alerts to a receiver with no integration. Name it as evidence.",
            ),
            cause="dropping-route",
            grading=Grading.CAUSE,
            fault=Fault(dropping_route=True),
            detect=_failing(alerts.NAME, "lost_test_alert"),
            detected_by="check 3 (alerts): the test alert never reaches the sink",
            evidence=_silent_receivers,
        ),
        Scenario(
            name="missed-page",
            signal=Signal.ALERTS,
            title="the pager stayed quiet overnight",
            symptom="Error rate was high for an hour last night and nobody was paged. The "
            "alert rules fired in Prometheus; the notifications never came.",
            hints=(
                "`lab check --only alerts`: does a test alert reach the sink?",
                "Alertmanager has the alert, but does it send it? Look for what can mute "
                "an alert that is routed correctly (Alertmanager UI, or `amtool silence "
                "query`).",
                "Someone's maintenance silence matches every warning and critical alert and "
                "lasts a week. Expire it, then `lab scenario verify`.",
            ),
            cause="silence",
            grading=Grading.FIX,
            fault=Fault(silence=True),
            detect=_failing(alerts.NAME, "lost_test_alert"),
            detected_by="check 3 (alerts): the test alert never reaches the sink",
        ),
        Scenario(
            name="metrics-bloat",
            signal=Signal.METRICS,
            title="Prometheus is growing fast and /metrics got big",
            symptom="Prometheus's disk and memory are growing much faster this week, and a "
            "curl of the app's /metrics takes longer every hour. No one changed Prometheus.",
            hints=(
                "Something is adding series. `lab check --only scrape` counts the series of "
                "every rag_* family in /metrics.",
                "`curl -s localhost:8000/metrics | grep -c ^rag_` twice, a minute apart; "
                "then find which family grows (Prometheus: `topk(5, count by (__name__) "
                '({__name__=~"rag_.+"}))`).',
                "One family gets a new series with every request: look at its labels. Name "
                "the label as evidence.",
            ),
            cause="unbounded-label",
            grading=Grading.CAUSE,
            fault=Fault(app={"label_queries_by_user": True}),
            detect=_failing(scrape.NAME, "family"),
            detected_by="check 1 (scrape): the cardinality guard",
            evidence=_labels_of_largest_family,
        ),
        Scenario(
            name="untraceable-request",
            signal=Signal.LOGS,
            title="a support ticket's correlation id leads nowhere",
            symptom="Support forwards a correlation id from a user's slow answer. Searching "
            "the app's logs for it finds the request arriving, and then nothing: no model "
            "call, no response.",
            hints=(
                "`lab check --only logs` sends a query with its own correlation id and "
                "follows it through the logs.",
                "`docker compose logs app | grep <id>` shows which lifecycle events carry "
                "it. Now look at the lines of those events that are missing, without "
                "filtering on the id.",
                "Some events are still logged, with `correlation_id` null: that code path "
                "runs without the request's context. Name an event that lacks it as evidence.",
            ),
            cause="lost-correlation-id",
            grading=Grading.CAUSE,
            fault=Fault(app={"lose_correlation_id": True}),
            detect=_failing(logs.NAME, "events"),
            detected_by="check 4 (logs): the request's lifecycle is incomplete",
            evidence=_events_without_id,
        ),
        Scenario(
            name="double-bill",
            signal=Signal.METRICS,
            title="the LLM spend on the dashboard doubled overnight",
            symptom="Finance asks why the LLM cost on the dashboard doubled overnight while "
            "the provider's invoice did not move. The request rate panel doubled too, "
            "though the traffic did not.",
            hints=(
                "When every sum doubles at once, count where the numbers come from: "
                "`lab check --only scrape`.",
                "`count by (job, instance) (rag_build_info)` in Prometheus: how many times "
                "is the app's one process counted?",
                "A second scrape job collects the same target. Name its job as evidence.",
            ),
            cause="duplicate-scrape",
            grading=Grading.CAUSE,
            fault=Fault(duplicate_scrape=True),
            detect=_failing(scrape.NAME, "jobs"),
            detected_by="check 1 (scrape): the one-job guard",
            evidence=_extra_jobs,
        ),
        Scenario(
            name="slow-for-some",
            signal=Signal.DASHBOARDS,
            title="some users wait seconds, the p95 panel says all is fine",
            symptom="A few users say the assistant sometimes hangs for two or three "
            "seconds. The p95 latency panel is flat and its alert has not fired.",
            hints=(
                "p95 hides the slowest 5 %. What does the baseline (`lab check --only "
                "baseline`) say about p99?",
                "Graph `histogram_quantile(0.99, sum by (le) (rate("
                "rag_query_duration_seconds_bucket[1m])))` next to 0.95, then the LLM "
                'stage\'s p99 (`rag_stage_duration_seconds_bucket{stage="llm"}`).',
                "Only the LLM stage's tail moved, by a fixed amount, for a few per cent of "
                "calls: one slow shard of the provider.",
            ),
            cause="slow-tail",
            grading=Grading.CAUSE,
            fault=Fault(app={"slow_call_rate": 0.04, "slow_call_seconds": 2.5}),
            detect=_slow_tail,
            detected_by="check 5 (baseline): p99 far above p95; the p95 alert stays quiet",
        ),
        Scenario(
            name="blank-answers",
            signal=Signal.DASHBOARDS,
            title="new questions get blank answers, the error rate is perfect",
            symptom="Users say new questions come back blank, while questions they asked "
            "before still get answers. The error-rate panel has been at a perfect 0 % "
            "since this morning, and no alert fired.",
            hints=(
                "Ask the app a question nobody asked before, and read the whole response "
                "(`lab check --only logs` does, among other things).",
                "Put signals side by side that must agree: requests per second against "
                "tokens and cost per second (`rate(rag_tokens_total[5m])`), and the LLM "
                "stage's log lines against the responses.",
                "The model calls fail, and something turns each failure into a 200 with an "
                "empty answer, counted as answered: the error rate cannot see it.",
            ),
            cause="errors-as-success",
            grading=Grading.CAUSE,
            fault=Fault(app={"llm_error_rate": 1.0, "errors_as_empty_answers": True}),
            detect=_failing(logs.NAME, "empty_answer"),
            detected_by="check 4 (logs): a 200 with an empty answer",
        ),
        Scenario(
            name="throttled",
            signal=Signal.ALERTS,
            title="some answers fail with 'try again later'",
            symptom="Users get 'service busy, try again later' for a share of their "
            "questions. The app's logs show no exception and the vector store is fine.",
            hints=(
                "Which alert is pending or firing? `lab check --only alerts` lists them; "
                "so does http://localhost:9090/alerts.",
                "Look at the error types (`sum by (error_type) (rate("
                "rag_errors_by_type_total[1m]))`) and the saturation gauge next to them.",
                "The provider's rate limit is almost used up, by calls that are not ours: "
                "our request rate did not change.",
            ),
            cause="rate-limit-exhausted",
            grading=Grading.CAUSE,
            fault=Fault(app={"rate_limit_consumed_percent": 95.0}),
            detect=_rule_active(LOW_RATE_LIMIT_HEADROOM.name),
            detected_by="the LowRateLimitHeadroom alert (pending, then firing after its `for`)",
        ),
    )
}
