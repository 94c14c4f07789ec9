"""Check 4 against a learner's app as the course's notebook shapes it: JSON logs in a file
with `request_id` and a `message`, plain-text /metrics from prometheus_client's default
registry, the id returned in the body; each difference from the lab's app is followed,
and each defect fails naming the learner's target file."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from requests import PreparedRequest

from lab.check import logs
from lab.check.logsource import (
    CommandLogSource,
    ContainerLogSource,
    DockerLogSource,
    FileLogSource,
    LogSourceError,
    StreamLogSource,
    log_source_for,
)
from lab.check.result import CheckResult, Status
from lab.check.targeting import target_of
from lab.kit.context import LabContext
from lab.kit.settings import LabSettings
from lab.target.model import LogsTarget, QueryTarget, Target

APP = "http://learner-app.test:8000"
COURSE_MESSAGES = (
    "Query received",
    "Embedding generated",
    "Vector search completed",
    "LLM call completed",
    "Response returned",
)

# What the course's app serves at /metrics: prometheus_client's default registry (its
# python_gc_*, python_info and process_* collectors) beside the rag_* families, as text.
DEFAULT_REGISTRY_PROGRAM = """
from prometheus_client import REGISTRY, Counter, Histogram, generate_latest
latency = Histogram("rag_query_duration_seconds", "RAG query latency")
requests = Counter("rag_requests_total", "RAG queries")
latency.observe(0.21)
requests.inc()
print(generate_latest(REGISTRY).decode(), end="")
"""


@pytest.fixture(scope="module")
def default_registry_text() -> str:
    """generate_latest(REGISTRY) from a fresh process, exactly as such an app serves it."""
    program = [sys.executable, "-c", DEFAULT_REGISTRY_PROGRAM]
    return subprocess.run(program, capture_output=True, text=True, check=True).stdout


def learner(tmp_path: Path, **logs_fields: object) -> Target:
    """A learner's target: the app's logs in app.log beside lab-target.yaml."""
    fields: dict[str, object] = {
        "kind": "file",
        "source": "app.log",
        "correlation_fields": ("request_id",),
    }
    return Target(
        name="course app",
        own_stack=False,
        app_url=APP,
        logs=LogsTarget(**(fields | logs_fields)),  # type: ignore[arg-type]
        query=QueryTarget(path="/query", body={"query": "{question}"}),
        source=tmp_path / "lab-target.yaml",
    )


def context(target: Target) -> LabContext:
    settings = LabSettings(app_url=target.app_url, http_timeout_seconds=0.5)
    return LabContext.from_settings(settings, target=target)


@dataclass
class CourseApp:
    """The course's app behind `responses`: it makes up its own request id, returns it in
    the body, and writes one JSON line per stage to its log file."""

    log: Path
    metrics: str
    id_field: str = "request_id"
    messages: tuple[str, ...] = COURSE_MESSAGES
    log_ids: bool = True  # False: the lines carry no id at all
    reply_header: str | None = None
    ids: list[str] = field(default_factory=list)

    def query(self, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        request_id = f"req-{len(self.ids):04d}"
        self.ids.append(request_id)
        assert "How do correlation ids" in json.loads(request.body or b"{}")["query"]
        with self.log.open("a") as out:
            for message in self.messages:
                record = {"level": "INFO", "message": message}
                ids = {self.id_field: request_id} if self.log_ids else {}
                out.write(json.dumps(record | ids) + "\n")
        headers = {self.reply_header: request_id} if self.reply_header else {}
        body = {"response": "Correlation ids join log lines."}
        if not self.reply_header:
            body["request_id"] = request_id
        return 200, headers, json.dumps(body)

    def serve(self) -> None:
        responses.add_callback(responses.POST, f"{APP}/query", callback=self.query)
        responses.get(f"{APP}/metrics", body=self.metrics, content_type="text/plain")


def run(target: Target) -> CheckResult:
    source = log_source_for(target, "unused")
    return logs.run(context(target), source)


def test_the_default_registry_text_is_not_openmetrics(default_registry_text: str) -> None:
    """The plain text that made check 4 raise: its counters clash under OpenMetrics rules,
    yet it is well-formed Prometheus text and is read as such (no exemplars in it)."""
    assert "python_gc_objects_collected_total" in default_registry_text
    with pytest.raises(ValueError, match="Clashing name"):
        list(text_string_to_metric_families(default_registry_text))  # type: ignore[no-untyped-call]
    read = logs.read_exemplars(default_registry_text)
    assert read == logs.Exemplars(frozenset(), openmetrics=False)


@responses.activate
def test_the_course_app_passes_with_request_id_messages_and_plain_metrics(
    tmp_path: Path, default_registry_text: str
) -> None:
    """Body-returned request_id, message-named stages in a file, text /metrics: PASS, the
    missing exemplar reported, not required."""
    app = CourseApp(tmp_path / "app.log", default_registry_text)
    app.serve()
    result = run(learner(tmp_path))
    assert result.status is Status.PASS, result.evidence
    assert result.data["correlation_id"] == app.ids[-1]
    assert "in body field 'request_id'" in result.evidence[0]
    assert result.evidence[1].endswith(" → ".join(logs.LOG_LIFECYCLE))
    assert "Prometheus text format, which carries no exemplars" in result.evidence[-1]
    assert result.evidence[-1].startswith("· ")


@responses.activate
def test_the_lab_stack_still_requires_the_exemplar(default_registry_text: str) -> None:
    """On the lab's own stack the same plain /metrics fails check 4 (no traceback): the lab's
    app serves OpenMetrics with the id as exemplar."""

    sent: list[str] = []

    def answer(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        sent.append(str(request.headers["X-Correlation-ID"]))
        return 200, {"X-Correlation-ID": sent[-1]}, '{"answer": "x"}'

    def read() -> list[str]:
        return [json.dumps({"event": e, "correlation_id": sent[-1]}) for e in logs.LOG_LIFECYCLE]

    responses.add_callback(responses.POST, f"{APP}/query", callback=answer)
    responses.get(f"{APP}/metrics", body=default_registry_text)
    ctx = LabContext.from_settings(LabSettings(app_url=APP))
    result = logs.run(ctx, StreamLogSource(read))
    assert target_of(ctx).own_stack
    assert result.status is Status.FAIL
    assert len(sent) == logs.ATTEMPTS  # each attempt hoped for the exemplar
    assert result.evidence[-1] == (
        "✗ /metrics answered in the Prometheus text format, which carries no exemplars"
    )
    assert "choose_encoder" in (result.fix or "")


@pytest.mark.parametrize(
    "metrics",
    [
        "rag_requests_total{job= 3\n",
        "# TYPE rag_query_duration_seconds histogram\nrag_query_duration_seconds_bucket 1 2\n"
        "# EOF\n",
    ],
    ids=["broken text", "broken openmetrics"],
)
@responses.activate
def test_unparseable_metrics_fail_the_check_with_a_fix(tmp_path: Path, metrics: str) -> None:
    """Whatever the exposition parser objects to is a failed check naming the parser's
    complaint and how to find the line, never a traceback."""
    CourseApp(tmp_path / "app.log", metrics).serve()
    result = run(learner(tmp_path))
    assert result.status is Status.FAIL
    assert f"/metrics at {APP} does not parse as" in result.evidence[-1]
    assert "promtool check metrics" in (result.fix or "")


@responses.activate
def test_logs_with_another_id_field_fail_naming_the_target_file(
    tmp_path: Path, default_registry_text: str
) -> None:
    """Lines carrying the id as `rid` while the target says request_id: FAIL, the fix names
    the field and the learner's lab-target.yaml, not the lab's files."""
    CourseApp(tmp_path / "app.log", default_registry_text, id_field="rid").serve()
    result = run(learner(tmp_path))
    assert result.status is Status.FAIL
    assert "without carrying it as request_id" in result.evidence[-1]
    assert str(tmp_path / "lab-target.yaml") in (result.fix or "")
    assert "structlog.contextvars in the request middleware" not in (result.fix or "")


@responses.activate
def test_stages_named_otherwise_are_mapped_by_the_target(
    tmp_path: Path, default_registry_text: str
) -> None:
    """A stage logged as "Retrieved chunks" counts as vector_search_completed once the
    target maps it; without the mapping the lifecycle is incomplete, naming logs.stages."""
    messages = tuple(
        m.replace("Vector search completed", "Retrieved chunks") for m in COURSE_MESSAGES
    )
    CourseApp(tmp_path / "app.log", default_registry_text, messages=messages).serve()
    unmapped = run(learner(tmp_path))
    assert unmapped.status is Status.FAIL
    assert "missing ['vector_search_completed']" in unmapped.evidence[-1]
    assert "logs.stages" in (unmapped.fix or "")
    mapped = run(learner(tmp_path, stages={"Retrieved chunks": "vector_search_completed"}))
    assert mapped.status is Status.PASS, mapped.evidence


@responses.activate
def test_an_id_returned_in_a_header_of_its_own_is_followed(
    tmp_path: Path, default_registry_text: str
) -> None:
    """An app that ignores the id sent and answers with its own in X-Request-ID (the
    target's correlation header) is traced by the id it gave."""
    app = CourseApp(tmp_path / "app.log", default_registry_text, reply_header="X-Request-ID")
    app.serve()
    result = run(learner(tmp_path, correlation_header="X-Request-ID"))
    assert result.status is Status.PASS, result.evidence
    assert f"with its id {app.ids[-1]} in header X-Request-ID" in result.evidence[0]


@responses.activate
def test_a_reply_without_an_id_and_logs_without_the_sent_one_fail(
    tmp_path: Path, default_registry_text: str
) -> None:
    """No id in the reply, none of the sent one in the logs: nothing to follow, and the fix
    says to reuse the incoming header or return the id."""
    log = tmp_path / "app.log"
    log.write_text(json.dumps({"message": "Query received", "request_id": "other"}) + "\n")
    responses.post(f"{APP}/query", json={"response": "ok"})
    responses.get(f"{APP}/metrics", body=default_registry_text)
    result = run(learner(tmp_path))
    assert result.status is Status.FAIL
    assert "the reply named no id of its own" in result.evidence[-1]
    assert "reuse the incoming X-Correlation-ID" in (result.fix or "")


def test_a_message_and_an_event_name_the_same_stage() -> None:
    """ "Query received" as a message and query_received as an event are one stage; the
    course's `request_id` lines trace like the lab's `correlation_id` ones."""
    shape = logs.LogShape(("request_id",))
    lines = [json.dumps({"message": m, "request_id": "r1"}) for m in COURSE_MESSAGES]
    trace = logs.trace_request(lines, "r1", shape)
    assert trace.complete
    assert logs.latest_full_trace(lines, shape) == trace


def test_each_kind_of_log_source_comes_from_the_target(tmp_path: Path) -> None:
    """compose, container, file (beside the target file), command and stdin sources."""

    def source(kind: str, where: str) -> object:
        return log_source_for(learner(tmp_path, kind=kind, source=where), "proj")

    compose = source("compose", "rag")
    assert isinstance(compose, DockerLogSource)
    assert (compose.project, compose.service) == ("proj", "rag")
    assert isinstance(source("container", "rag-app-1"), ContainerLogSource)
    file = source("file", "logs/app.log")
    assert isinstance(file, FileLogSource)
    assert file.path == tmp_path / "logs" / "app.log"
    assert isinstance(source("command", "kubectl logs deploy/rag"), CommandLogSource)
    assert isinstance(source("stdin", "-"), StreamLogSource)


def test_a_command_source_reads_both_streams_and_reports_its_failures() -> None:
    """A command's stdout and stderr are its lines; a missing program or a non-zero exit
    is a LogSourceError naming the command, never a traceback."""
    program = "import sys; print('{\"a\": 1}'); print('{\"b\": 2}', file=sys.stderr)"
    quoted = program.replace('"', '\\"')
    lines = CommandLogSource(f'{sys.executable} -c "{quoted}"').lines_since(datetime.now(UTC))
    assert lines == ['{"a": 1}', '{"b": 2}']
    with pytest.raises(LogSourceError, match="not installed or not on PATH"):
        CommandLogSource("no-such-program-here logs").lines_since(datetime.now(UTC))
    with pytest.raises(LogSourceError, match="exited 3") as failed:
        CommandLogSource(f'{sys.executable} -c "raise SystemExit(3)"', "t.yaml").lines_since(
            datetime.now(UTC)
        )
    assert "t.yaml" in failed.value.fix


@responses.activate
def test_logs_without_the_id_the_reply_gave_fail_naming_the_target_file(
    tmp_path: Path, default_registry_text: str
) -> None:
    """The reply names request_id, but no log line carries it (the app stopped binding it):
    FAIL saying so, the fix naming the field and the learner's target file."""
    CourseApp(tmp_path / "app.log", default_registry_text, log_ids=False).serve()
    result = run(learner(tmp_path))
    assert result.status is Status.FAIL
    assert "no line in log file" in result.evidence[-1]
    assert "the id the reply gave in its body field 'request_id'" in result.evidence[-1]
    assert "as request_id" in (result.fix or "")
    assert str(tmp_path / "lab-target.yaml") in (result.fix or "")
