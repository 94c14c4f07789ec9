"""Check 4: one request can be followed end to end through the logs by its correlation id.

Sends a query with a fresh correlation id, reads the app's log lines back, and proves
they are JSON, all carry that id, and show the lifecycle in order; then follows the
request's exemplar on the latency histogram back to the same id, which is how a person
jumps from a slow bucket in Grafana to the request's logs. With several replicas the
reply's X-Served-By names the one that served it: the logs and the exemplar are read
from that replica.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from lab.check.evidence import Evidence, run_check
from lab.check.logsource import LogSource, LogSourceError
from lab.check.result import CheckFailed, CheckResult
from lab.kit.context import LabContext
from lab.kit.polling import Timeout, poll_until
from lab.spec.rag import CORRELATION_HEADER, LOG_LIFECYCLE

NAME = "logs"
TITLE = "A request can be traced through the logs by its correlation id"

LATENCY_HISTOGRAM = "rag_query_duration_seconds"
#: The access line, the last line the app writes for a request: once it carries the id,
#: nothing more of the request will come (a test ties it to the app).
ACCESS_EVENT = "http_request"
ATTEMPTS = 3


@dataclass
class Trace:
    """The log lines that mention one correlation id, sorted into what the check needs."""

    correlation_id: str
    events: list[str] = field(default_factory=list)
    not_json: list[str] = field(default_factory=list)
    without_id: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return _is_subsequence(LOG_LIFECYCLE, self.events)

    @property
    def missing(self) -> list[str]:
        return [event for event in LOG_LIFECYCLE if event not in self.events]


def _is_subsequence(wanted: tuple[str, ...], seen: list[str]) -> bool:
    remaining = iter(seen)
    return all(event in remaining for event in wanted)


def trace_request(lines: list[str], correlation_id: str) -> Trace:
    """Collect the lines mentioning `correlation_id`, in log order.

    A line that mentions the id but is not JSON, or whose `correlation_id` field is
    another value or absent, is a defect of the log pipeline and is kept to report.
    """
    trace = Trace(correlation_id)
    for line in lines:
        if correlation_id not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            trace.not_json.append(line)
            continue
        if not isinstance(record, dict) or record.get("correlation_id") != correlation_id:
            trace.without_id.append(line)
            continue
        trace.events.append(str(record.get("event", "")))
    return trace


def request_ids_newest_first(lines: list[str]) -> list[str]:
    """Correlation ids of the requests whose first lifecycle line is in `lines`."""
    ids: list[str] = []
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == LOG_LIFECYCLE[0]:
            value = record.get("correlation_id")
            if isinstance(value, str) and value and value not in ids:
                ids.append(value)
    return ids


def latest_full_trace(lines: list[str]) -> Trace | None:
    """The newest request that went through the whole pipeline, else the newest request.

    Cache hits and failed queries legitimately skip stages, so with logs piped in (no
    query of our own) the check traces the newest request that did not."""
    traces = (trace_request(lines, cid) for cid in request_ids_newest_first(lines))
    newest: Trace | None = None
    for trace in traces:
        newest = newest or trace
        if trace.complete:
            return trace
    return newest


def exemplar_ids(openmetrics_text: str) -> set[str]:
    """Correlation ids carried as exemplars on the latency histogram's buckets."""
    ids: set[str] = set()
    # prometheus_client's OpenMetrics parser is not annotated.
    families = text_string_to_metric_families(openmetrics_text)  # type: ignore[no-untyped-call]
    for family in families:
        if family.name != LATENCY_HISTOGRAM:
            continue
        for sample in family.samples:
            if sample.exemplar is not None and "correlation_id" in sample.exemplar.labels:
                ids.add(sample.exemplar.labels["correlation_id"])
    return ids


def run(ctx: LabContext, source: LogSource, *, send_query: bool = True) -> CheckResult:
    """With `send_query` false (logs piped in), the latest request in the logs is traced."""
    if send_query:
        return run_check(NAME, TITLE, lambda evidence: _check_fresh(ctx, source, evidence))
    return run_check(NAME, TITLE, lambda evidence: _check_existing(source, evidence))


def _read(source: LogSource, since: datetime) -> list[str]:
    try:
        return source.lines_since(since)
    except LogSourceError as exc:
        raise CheckFailed(exc.problem, fix=exc.fix) from exc


def _report_defects(trace: Trace, source: LogSource) -> None:
    if trace.not_json:
        raise CheckFailed(
            f"{len(trace.not_json)} line(s) for {trace.correlation_id} are not JSON, e.g. "
            f"{trace.not_json[0][:120]!r}",
            fix="render every log line with structlog's JSONRenderer (no console renderer)",
        )
    if trace.without_id:
        raise CheckFailed(
            f"{len(trace.without_id)} line(s) mention {trace.correlation_id} without carrying it "
            f"as correlation_id, e.g. {trace.without_id[0][:120]!r}",
            fix="bind correlation_id with structlog.contextvars in the request middleware",
        )
    if not trace.complete:
        raise CheckFailed(
            f"the lifecycle of {trace.correlation_id} in {source.description} is incomplete: "
            f"saw {trace.events or 'nothing'}, missing {trace.missing}",
            fix=f"log each stage ({', '.join(LOG_LIFECYCLE)}) while the correlation id is bound",
            events=trace.events,
        )


def _check_existing(source: LogSource, evidence: Evidence) -> None:
    lines = _read(source, datetime.now(UTC) - timedelta(hours=1))
    trace = latest_full_trace(lines)
    if trace is None:
        raise CheckFailed(
            f"no `{LOG_LIFECYCLE[0]}` line with a correlation_id in {source.description}",
            fix=f"send a query first, and log `{LOG_LIFECYCLE[0]}` with the correlation id bound",
        )
    _report_defects(trace, source)
    evidence.add(
        f"✓ {len(trace.events)} JSON lines in {source.description} carry correlation_id "
        f"{trace.correlation_id}: {' → '.join(trace.events)}",
        correlation_id=trace.correlation_id,
        events=trace.events,
    )


def _exemplars_of(ctx: LabContext, replica: str) -> set[str]:
    """The exemplar ids on the latency histogram of the replica that served the query (a
    bucket's exemplar lives in that replica's process only); empty when it cannot be read."""
    if not replica:
        return exemplar_ids(ctx.app.metrics_text(openmetrics=True))
    text = ctx.app.metrics_of_replica(replica, openmetrics=True)
    return exemplar_ids(text) if text is not None else set()


def _check_fresh(ctx: LabContext, source: LogSource, evidence: Evidence) -> None:
    # The app fails about 1 % of queries on purpose (the baseline), and a bucket keeps
    # only its latest exemplar, which concurrent traffic may replace between the answer
    # and the read of /metrics: either is retried with a new id, three times at most.
    reply = None
    exemplars: set[str] = set()
    for attempt in range(1, ATTEMPTS + 1):
        correlation_id = f"lab-check-{uuid.uuid4().hex[:16]}"
        # Generous: the Docker engine's clock may lag ours; the unique id does the matching.
        started = datetime.now(UTC) - timedelta(minutes=10)
        # A question no one asked before, so the answer comes through the whole pipeline.
        reply = ctx.app.query(
            f"How do correlation ids help trace a RAG request? ({correlation_id})",
            correlation_id=correlation_id,
        )
        if reply.status_code != 200:
            evidence.add(f"· attempt {attempt}: /query answered {reply.status_code}, retrying")
            continue
        exemplars = _exemplars_of(ctx, reply.served_by)
        if correlation_id in exemplars:
            break
    if reply is None or reply.status_code != 200:
        raise CheckFailed(
            f"/query failed {ATTEMPTS} times in a row (last HTTP "
            f"{reply.status_code if reply else 'none'})",
            fix="look at the app's error lines: `docker compose logs app | grep query_failed`",
        )
    if not str(reply.body.get("answer", "")).strip():
        raise CheckFailed(
            f"/query answered 200 with an empty answer to {correlation_id}: a failure "
            "answered as a success never shows in the error rate",
            fix="let failures fail (a 5xx with its error type, counted in rag_errors_total), "
            "or answer from a fallback marked degraded; never a blank 200",
            empty_answer=correlation_id,
        )
    if reply.correlation_id != correlation_id:
        raise CheckFailed(
            f"the app answered with {CORRELATION_HEADER} {reply.correlation_id!r}, "
            f"not the {correlation_id!r} it was sent",
            fix=f"reuse a valid incoming {CORRELATION_HEADER} and echo it in the response header",
        )
    served_by = f", served by replica {reply.served_by}" if reply.served_by else ""
    evidence.add(
        f"✓ query sent with correlation id {correlation_id}{served_by}",
        correlation_id=correlation_id,
        replica=reply.served_by,
    )
    if reply.served_by:
        source = source.of_replica(reply.served_by)

    def complete_trace() -> Trace | None:
        trace = trace_request(_read(source, started), correlation_id)
        done = trace.complete or ACCESS_EVENT in trace.events
        return trace if done or trace.not_json or trace.without_id else None

    try:
        trace = poll_until(complete_trace, timeout=10, interval=0.5, describe="the request's logs")
    except Timeout:
        trace = trace_request(_read(source, started), correlation_id)
    _report_defects(trace, source)
    evidence.add(
        f"✓ {len(trace.events)} JSON lines in {source.description} carry it, in order: "
        f"{' → '.join(trace.events)}",
        events=trace.events,
    )
    if correlation_id not in exemplars:
        raise CheckFailed(
            f"no exemplar on {LATENCY_HISTOGRAM} carries {correlation_id} "
            f"({len(exemplars)} exemplars seen)",
            fix="observe the latency with exemplar={'correlation_id': id} and serve /metrics "
            "as OpenMetrics when asked (prometheus_client's choose_encoder)",
        )
    evidence.add(f"✓ the latency histogram's exemplar leads back to {correlation_id}")
