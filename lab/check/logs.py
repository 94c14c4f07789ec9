"""Check 4: one request can be followed end to end through the logs by its correlation id.

Sends a query with a fresh correlation id, reads the app's log lines back, and proves
they are JSON, all carry the request's id, and show the lifecycle in order; then follows
the request's exemplar on the latency histogram back to the same id, which is how a person
jumps from a slow bucket in Grafana to the request's logs. With several replicas the
reply's X-Served-By names the one that served it: the logs and the exemplar are read
from that replica.

A learner's app is described by the target: the id may come back in a header or in the
body (or not at all: then the id sent is followed), the log field may be `request_id`,
stages may be named by `message` ("Query received") rather than `event`, or mapped in the
target; exemplars are reported when present and required only on the lab's own stack.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families as prometheus_families

from lab.check.evidence import Evidence, run_check
from lab.check.logsource import LogSource, LogSourceError
from lab.check.result import CheckFailed, CheckResult
from lab.check.targeting import target_file, target_of
from lab.kit.clients.app import QueryReply
from lab.kit.context import LabContext
from lab.kit.polling import Timeout, poll_until
from lab.kit.target import OWN_STACK, QUESTION_PLACEHOLDER, LogsTarget, Target
from lab.spec.rag import LOG_LIFECYCLE

NAME = "logs"
TITLE = "A request can be traced through the logs by its correlation id"

LATENCY_HISTOGRAM = "rag_query_duration_seconds"
#: The access line, the last line the app writes for a request: once it carries the id,
#: nothing more of the request will come (a test ties it to the app).
ACCESS_EVENT = "http_request"
ATTEMPTS = 3
#: The record fields that may name what a line is about, in the order they are read:
#: structlog's `event`, the standard library's (and the course's) `message`, `msg`.
TEXT_FIELDS = ("event", "message", "msg")


def stage_name(text: str) -> str:
    """A log text as a stage name: "Query received" and "query_received" are one stage."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


@dataclass(frozen=True)
class LogShape:
    """How a stack's log lines carry a request's id and name its stages."""

    correlation_fields: tuple[str, ...] = OWN_STACK.logs.correlation_fields
    #: A line's text (its `event` or `message`) -> the lifecycle stage it marks.
    stages: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, logs: LogsTarget) -> LogShape:
        return cls(logs.correlation_fields, {stage_name(k): v for k, v in logs.stages.items()})

    def request_id(self, record: Mapping[str, Any]) -> str | None:
        for name in self.correlation_fields:
            value = record.get(name)
            if isinstance(value, str) and value:
                return value
        return None

    def carries(self, record: Mapping[str, Any], correlation_id: str) -> bool:
        return any(record.get(name) == correlation_id for name in self.correlation_fields)

    def stage(self, record: Mapping[str, Any]) -> str:
        """The lifecycle stage a line marks, else its own text as a name ("" for none)."""
        names = [stage_name(str(record[k])) for k in TEXT_FIELDS if isinstance(record.get(k), str)]
        for name in names:
            mapped = self.stages.get(name, name)
            if mapped in LOG_LIFECYCLE:
                return mapped
        return self.stages.get(names[0], names[0]) if names else ""

    def describe_fields(self) -> str:
        return " or ".join(self.correlation_fields)


OWN_SHAPE = LogShape()


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


def trace_request(lines: list[str], correlation_id: str, shape: LogShape = OWN_SHAPE) -> Trace:
    """Collect the lines mentioning `correlation_id`, in log order.

    A line that mentions the id but is not JSON, or whose id field (`correlation_id`,
    `request_id`, as the shape says) is another value or absent, is a defect of the log
    pipeline and is kept to report.
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
        if not isinstance(record, dict) or not shape.carries(record, correlation_id):
            trace.without_id.append(line)
            continue
        trace.events.append(shape.stage(record))
    return trace


def request_ids_newest_first(lines: list[str], shape: LogShape = OWN_SHAPE) -> list[str]:
    """Correlation ids of the requests whose first lifecycle line is in `lines`."""
    ids: list[str] = []
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and shape.stage(record) == LOG_LIFECYCLE[0]:
            value = shape.request_id(record)
            if value and value not in ids:
                ids.append(value)
    return ids


def latest_full_trace(lines: list[str], shape: LogShape = OWN_SHAPE) -> Trace | None:
    """The newest request that went through the whole pipeline, else the newest request.

    Cache hits and failed queries legitimately skip stages, so with logs piped in (no
    query of our own) the check traces the newest request that did not."""
    traces = (trace_request(lines, cid, shape) for cid in request_ids_newest_first(lines, shape))
    newest: Trace | None = None
    for trace in traces:
        newest = newest or trace
        if trace.complete:
            return trace
    return newest


@dataclass(frozen=True)
class Exemplars:
    """The ids the latency histogram's exemplars carry, and whether /metrics could carry any
    (the Prometheus text format has no exemplars; only OpenMetrics does)."""

    ids: frozenset[str]
    openmetrics: bool


class UnparseableExposition(ValueError):
    """/metrics is neither OpenMetrics nor the Prometheus text format."""


def read_exemplars(text: str, labels: tuple[str, ...] = ("correlation_id",)) -> Exemplars:
    """Exemplar ids (any of `labels`) on the latency histogram's buckets.

    An app asked for OpenMetrics may answer in the Prometheus text format anyway (the
    course's app serves `generate_latest()` as text/plain): that is parsed as such, and
    carries no exemplars. Whatever the parser objects to is `UnparseableExposition`.
    """
    openmetrics = text.rstrip().endswith("# EOF")
    parse = openmetrics_families if openmetrics else prometheus_families
    ids: set[str] = set()
    try:
        # Both parsers are lazy: parse errors surface while iterating.
        for family in parse(text):
            if family.name != LATENCY_HISTOGRAM:
                continue
            for sample in family.samples:
                exemplar = sample.exemplar
                if exemplar is None:
                    continue
                ids.update(exemplar.labels[name] for name in labels if name in exemplar.labels)
    except Exception as exc:  # the parsers raise ValueError, TypeError, IndexError...
        kind = "OpenMetrics" if openmetrics else "the Prometheus text format"
        raise UnparseableExposition(f"does not parse as {kind}: {exc}") from exc
    return Exemplars(frozenset(ids), openmetrics)


def run(ctx: LabContext, source: LogSource, *, send_query: bool = True) -> CheckResult:
    """With `send_query` false (logs piped in), the latest request in the logs is traced."""
    target = target_of(ctx)
    if send_query:
        return run_check(NAME, TITLE, lambda evidence: _check_fresh(ctx, target, source, evidence))
    return run_check(NAME, TITLE, lambda evidence: _check_existing(target, source, evidence))


def _read(source: LogSource, since: datetime) -> list[str]:
    try:
        return source.lines_since(since)
    except LogSourceError as exc:
        raise CheckFailed(exc.problem, fix=exc.fix) from exc


def _report_defects(trace: Trace, source: LogSource, target: Target) -> None:
    shape = LogShape.of(target.logs)
    own = target.own_stack
    if trace.not_json:
        raise CheckFailed(
            f"{len(trace.not_json)} line(s) for {trace.correlation_id} are not JSON, e.g. "
            f"{trace.not_json[0][:120]!r}",
            fix="render every log line with structlog's JSONRenderer (no console renderer)"
            if own
            else "log every line as one JSON object (structlog's JSONRenderer, or "
            "python-json-logger's JsonFormatter on the standard library's logging)",
        )
    if trace.without_id:
        fields = shape.describe_fields()
        raise CheckFailed(
            f"{len(trace.without_id)} line(s) mention {trace.correlation_id} without carrying it "
            f"as {fields}, e.g. {trace.without_id[0][:120]!r}",
            fix="bind correlation_id with structlog.contextvars in the request middleware"
            if own
            else f"put the request's id in every line of the request as {fields} (bind it "
            "once per request, e.g. structlog.contextvars or a logging.Filter); another "
            f"field name goes in logs.correlation_fields of {target_file(target)}",
        )
    if not trace.complete:
        stages = ", ".join(LOG_LIFECYCLE)
        raise CheckFailed(
            f"the lifecycle of {trace.correlation_id} in {source.description} is incomplete: "
            f"saw {trace.events or 'nothing'}, missing {trace.missing}",
            fix=f"log each stage ({stages}) while the correlation id is bound"
            if own
            else f'log each stage ({stages}; as `event`, or as a `message` such as "Query '
            "received\") with the request's id; lines named otherwise are mapped to stages "
            f"in logs.stages of {target_file(target)}",
            events=trace.events,
        )


def _check_existing(target: Target, source: LogSource, evidence: Evidence) -> None:
    shape = LogShape.of(target.logs)
    lines = _read(source, datetime.now(UTC) - timedelta(hours=1))
    trace = latest_full_trace(lines, shape)
    if trace is None:
        raise CheckFailed(
            f"no `{LOG_LIFECYCLE[0]}` line with a {shape.describe_fields()} in "
            f"{source.description}",
            fix=f"send a query first, and log `{LOG_LIFECYCLE[0]}` with the correlation id bound",
        )
    _report_defects(trace, source, target)
    evidence.add(
        f"✓ {len(trace.events)} JSON lines in {source.description} carry "
        f"{shape.describe_fields()} {trace.correlation_id}: {' → '.join(trace.events)}",
        correlation_id=trace.correlation_id,
        events=trace.events,
    )


def _filled(body: object, question: str) -> object:
    """The target's query body with every "{question}" in it replaced by the question."""
    if isinstance(body, str):
        return body.replace(str(QUESTION_PLACEHOLDER), question)
    if isinstance(body, dict):
        return {key: _filled(value, question) for key, value in body.items()}
    if isinstance(body, list):
        return [_filled(value, question) for value in body]
    return body


def _exemplars_of(ctx: LabContext, replica: str, labels: tuple[str, ...]) -> Exemplars:
    """The exemplars on the latency histogram of the replica that served the query (a
    bucket's exemplar lives in that replica's process only); none when it cannot be read.
    /metrics that does not parse is a failed check, with what the parser said."""
    text = (
        ctx.app.metrics_of_replica(replica, openmetrics=True)
        if replica
        else ctx.app.metrics_text(openmetrics=True)
    )
    if text is None:
        return Exemplars(frozenset(), openmetrics=True)
    try:
        return read_exemplars(text, labels)
    except UnparseableExposition as exc:
        raise CheckFailed(
            f"/metrics at {ctx.app.base_url} {exc}",
            fix="serve /metrics with prometheus_client (generate_latest, or choose_encoder on "
            "the request's Accept header for OpenMetrics with exemplars); `curl -s "
            f"{ctx.app.base_url}/metrics | promtool check metrics` names the broken line",
        ) from exc


def reply_id(reply: QueryReply, logs: LogsTarget) -> tuple[str, str]:
    """The id the app gave the request and where it said so: its correlation header, else a
    body field (`request_id`...); ("", "") when the reply names none."""
    if reply.correlation_id:
        return reply.correlation_id, f"header {logs.correlation_header}"
    for name in logs.correlation_fields:
        value = reply.body.get(name)
        if isinstance(value, str) and value:
            return value, f"body field {name!r}"
    return "", ""


def _check_fresh(ctx: LabContext, target: Target, source: LogSource, evidence: Evidence) -> None:
    # The app fails about 1 % of queries on purpose (the baseline), and a bucket keeps
    # only its latest exemplar, which concurrent traffic may replace between the answer
    # and the read of /metrics: either is retried with a new id, three times at most.
    logs = target.logs
    shape = LogShape.of(logs)
    reply = None
    exemplars = Exemplars(frozenset(), openmetrics=True)
    sent = followed = where = ""
    started = datetime.now(UTC)
    for attempt in range(1, ATTEMPTS + 1):
        sent = f"lab-check-{uuid.uuid4().hex[:16]}"
        # Generous: the Docker engine's clock may lag ours; the unique id does the matching.
        started = datetime.now(UTC) - timedelta(minutes=10)
        # A question no one asked before, so the answer comes through the whole pipeline.
        question = f"How do correlation ids help trace a RAG request? ({sent})"
        body = _filled(target.query.body, question)
        reply = ctx.app.ask(
            target.query.path,
            body if isinstance(body, dict) else {"question": question},
            correlation_header=logs.correlation_header,
            correlation_id=sent,
        )
        if reply.status_code != 200:
            evidence.add(
                f"· attempt {attempt}: {target.query.path} answered {reply.status_code}, retrying"
            )
            continue
        followed, where = reply_id(reply, logs)
        followed = followed or sent
        exemplars = _exemplars_of(ctx, reply.served_by, logs.correlation_fields)
        if followed in exemplars.ids or not target.own_stack:
            break
    if reply is None or reply.status_code != 200:
        raise CheckFailed(
            f"{target.query.path} failed {ATTEMPTS} times in a row (last HTTP "
            f"{reply.status_code if reply else 'none'}: {str(reply.body)[:200] if reply else ''})",
            fix="look at the app's error lines: `docker compose logs app | grep query_failed`"
            if target.own_stack
            else f"send the same query yourself (`curl -X POST {ctx.app.base_url}"
            f"{target.query.path}` with the body of query.body in {target_file(target)}) "
            "and read the app's error lines",
        )
    answer = reply.body.get("answer")
    if isinstance(answer, str) and not answer.strip():
        raise CheckFailed(
            f"{target.query.path} answered 200 with an empty answer to {sent}: a failure "
            "answered as a success never shows in the error rate",
            fix="let failures fail (a 5xx with its error type, counted in rag_errors_total), "
            "or answer from a fallback marked degraded; never a blank 200",
            empty_answer=sent,
        )
    header = logs.correlation_header
    if target.own_stack and reply.correlation_id != sent:
        raise CheckFailed(
            f"the app answered with {header} {reply.correlation_id!r}, "
            f"not the {sent!r} it was sent",
            fix=f"reuse a valid incoming {header} and echo it in the response header",
        )
    served_by = f", served by replica {reply.served_by}" if reply.served_by else ""
    if followed == sent:
        said = f", echoed in the reply's {where}" if where else " (the reply names no id)"
        evidence.add(
            f"✓ query sent with correlation id {sent}{said}{served_by}",
            correlation_id=sent,
            replica=reply.served_by,
        )
    else:
        evidence.add(
            f"✓ query answered with its id {followed} in {where} (the app did not reuse the "
            f"{sent} sent in {header}){served_by}",
            correlation_id=followed,
            replica=reply.served_by,
        )
    if reply.served_by:
        source = source.of_replica(reply.served_by)

    def complete_trace() -> Trace | None:
        trace = trace_request(_read(source, started), followed, shape)
        done = trace.complete or ACCESS_EVENT in trace.events
        return trace if done or trace.not_json or trace.without_id else None

    try:
        trace = poll_until(complete_trace, timeout=10, interval=0.5, describe="the request's logs")
    except Timeout:
        trace = trace_request(_read(source, started), followed, shape)
    if not trace.events and not trace.not_json and not trace.without_id:
        if not where:
            raise CheckFailed(
                f"nothing in {source.description} mentions {sent}, and the reply named no id "
                "of its own to follow instead",
                fix=f"reuse the incoming {header} as the request's id, or return the id the "
                f"app gives it (a {header} header, or a body field {shape.describe_fields()}); "
                f"another header goes in logs.correlation_header of {target_file(target)}",
            )
        raise CheckFailed(
            f"no line in {source.description} mentions {followed}, the id the reply gave in "
            f"its {where}",
            fix="bind correlation_id with structlog.contextvars in the request middleware"
            if target.own_stack
            else f"put the request's id in every line of the request as "
            f"{shape.describe_fields()}; logs written elsewhere go in logs.source of "
            f"{target_file(target)}",
        )
    _report_defects(trace, source, target)
    evidence.add(
        f"✓ {len(trace.events)} JSON lines in {source.description} carry it as "
        f"{shape.describe_fields()}, in order: {' → '.join(trace.events)}",
        events=trace.events,
    )
    _judge_exemplars(target, followed, exemplars, evidence)


def _judge_exemplars(
    target: Target, correlation_id: str, exemplars: Exemplars, evidence: Evidence
) -> None:
    """Required on the lab's own stack; elsewhere reported, since the course asks for logs
    carrying the id, and exemplars are the lab's extra step from a panel to them."""
    if correlation_id in exemplars.ids:
        evidence.add(f"✓ the latency histogram's exemplar leads back to {correlation_id}")
        return
    if not exemplars.openmetrics:
        why = "/metrics answered in the Prometheus text format, which carries no exemplars"
    else:
        why = f"no exemplar on {LATENCY_HISTOGRAM} carries {correlation_id} "
        why += f"({len(exemplars.ids)} exemplars seen)"
    fix = (
        "observe the latency with exemplar={'correlation_id': id} and serve /metrics "
        "as OpenMetrics when asked (prometheus_client's choose_encoder)"
    )
    if target.own_stack:
        raise CheckFailed(why, fix=fix)
    evidence.add(f"· {why}: not required of your stack; to jump from a panel to a request, {fix}")
