"""The log trace logic: which lines belong to a request, and what makes a trace broken."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import responses
import structlog
from fastapi.testclient import TestClient
from requests import PreparedRequest
from structlog.testing import capture_logs

from lab.check import logs
from lab.check.logs import latest_full_trace, read_exemplars, trace_request
from lab.check.logsource import FileLogSource
from lab.check.result import Status
from lab.kit.context import LabContext
from lab.kit.settings import LabSettings
from lab.spec.rag import LOG_LIFECYCLE
from sample_rag_app.main import create_app
from sample_rag_app.settings import Settings

CID = "lab-check-0123456789abcdef"


def line(event: str, correlation_id: str | None = CID, **fields: object) -> str:
    record: dict[str, object] = {"event": event, "level": "info", **fields}
    if correlation_id is not None:
        record["correlation_id"] = correlation_id
    return json.dumps(record)


def test_a_full_lifecycle_in_order_is_complete() -> None:
    """Five stage lines carrying the id, in order, among other requests' lines, trace fully."""
    lines = [line("query_received", "other")]
    for event in LOG_LIFECYCLE:
        lines += [line(event), line("http_request", "other")]
    trace = trace_request(lines, CID)
    assert trace.complete
    assert trace.events == list(LOG_LIFECYCLE)


def test_a_stage_out_of_order_is_incomplete() -> None:
    """LLM completion logged before the vector search breaks the lifecycle order."""
    order = ["query_received", "embedding_generated", "llm_call_completed"]
    order += ["vector_search_completed", "response_returned"]
    trace = trace_request([line(e) for e in order], CID)
    assert not trace.complete


def test_a_missing_stage_is_named() -> None:
    """A trace without its LLM line reports that stage as missing."""
    events = [e for e in LOG_LIFECYCLE if e != "llm_call_completed"]
    trace = trace_request([line(e) for e in events], CID)
    assert trace.missing == ["llm_call_completed"]


def test_plain_text_mentioning_the_id_is_reported_as_not_json() -> None:
    """A non-JSON line about the request is a defect, not silently skipped."""
    trace = trace_request([f"INFO handled {CID} in 12ms", line("query_received")], CID)
    assert trace.not_json == [f"INFO handled {CID} in 12ms"]


def test_a_line_with_the_id_only_in_its_message_lacks_the_field() -> None:
    """The id inside a message but not in `correlation_id` counts as a line without the id."""
    stray = line("retrying", correlation_id=None, message=f"retry for {CID}")
    assert trace_request([stray], CID).without_id == [stray]


def test_piped_logs_trace_the_newest_request_that_ran_the_whole_pipeline() -> None:
    """With logs piped in, a newer cache hit is passed over for the newest full request."""
    full = [line(event, "full") for event in LOG_LIFECYCLE]
    hit = [line(e, "hit") for e in ("query_received", "response_returned", "http_request")]
    trace = latest_full_trace([*full, *hit, "not json"])
    assert trace is not None
    assert trace.correlation_id == "full"
    assert trace.complete


def test_piped_logs_without_a_full_request_report_the_newest() -> None:
    """When no request ran the whole pipeline, the newest one is reported, incomplete."""
    trace = latest_full_trace([line("query_received", "only")])
    assert trace is not None
    assert trace.correlation_id == "only"
    assert trace.missing == list(LOG_LIFECYCLE[1:])


def test_exemplar_ids_come_from_the_latency_histogram_only() -> None:
    """Exemplar correlation ids are read from rag_query_duration_seconds buckets."""
    text = (
        "# TYPE rag_query_duration_seconds histogram\n"
        'rag_query_duration_seconds_bucket{le="0.5"} 3 # {correlation_id="abc"} 0.21 1.7e9\n'
        'rag_query_duration_seconds_bucket{le="+Inf"} 4 # {correlation_id="def"} 0.9 1.7e9\n'
        "rag_query_duration_seconds_count 4\n"
        "rag_query_duration_seconds_sum 1.8\n"
        "# TYPE other_seconds histogram\n"
        'other_seconds_bucket{le="+Inf"} 1 # {correlation_id="zzz"} 0.1\n'
        "other_seconds_count 1\n"
        "other_seconds_sum 0.1\n"
        "# EOF\n"
    )
    assert read_exemplars(text).ids == {"abc", "def"}


def test_an_unreadable_log_file_fails_with_a_fix_not_its_path(tmp_path: Path) -> None:
    """A missing log file fails the check with the command that writes it as the fix."""
    missing = tmp_path / "app.log"
    result = logs.run(
        LabContext.from_settings(LabSettings()), FileLogSource(missing), send_query=False
    )
    assert result.status is Status.FAIL
    assert any(str(missing) in line for line in result.evidence)
    command = f"`docker compose logs --no-log-prefix app > {missing}`"
    assert result.fix == f"write the app's logs there first: {command}"


class ReplicaLogs:
    """Log lines by replica; `of_replica` narrows to one, as the Docker source does."""

    def __init__(self, read: Callable[[str | None], list[str]], replica: str | None = None):
        self.read = read
        self.replica = replica

    @property
    def description(self) -> str:
        return f"logs of {self.replica or 'every replica'}"

    def lines_since(self, since: datetime) -> list[str]:
        return self.read(self.replica)

    def of_replica(self, replica: str) -> ReplicaLogs:
        return ReplicaLogs(self.read, replica)


@responses.activate
def test_a_fresh_query_is_traced_in_the_logs_of_the_replica_that_served_it() -> None:
    """The reply's X-Served-By picks the replica whose logs and exemplars are read: /metrics
    answered by another replica first is read again until the serving one answers."""
    app = "http://app.test:8000"
    sent: list[str] = []

    def answer(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        cid = str(request.headers["X-Correlation-ID"])
        sent.append(cid)
        return 200, {"X-Correlation-ID": cid, "X-Served-By": "b"}, '{"answer": "x"}'

    def metrics(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        replica = "a" if len(responses.calls) % 2 else "b"
        exemplar = f'# {{correlation_id="{sent[-1]}"}} 0.2' if replica == "b" else ""
        body = (
            "# TYPE rag_query_duration_seconds histogram\n"
            f'rag_query_duration_seconds_bucket{{le="+Inf"}} 1 {exemplar}\n'
            "rag_query_duration_seconds_count 1\nrag_query_duration_seconds_sum 0.2\n# EOF\n"
        )
        return 200, {"X-Served-By": replica}, body

    responses.add_callback(responses.POST, f"{app}/query", callback=answer)
    responses.add_callback(responses.GET, f"{app}/metrics", callback=metrics)

    def read(replica: str | None) -> list[str]:
        if replica == "b":
            return [line(event, sent[-1]) for event in LOG_LIFECYCLE]
        return [line("query_received", "other")]

    settings = LabSettings(app_url=app)
    result = logs.run(LabContext.from_settings(settings), ReplicaLogs(read))
    assert result.status is Status.PASS, result.evidence
    assert result.data["replica"] == "b"
    assert "served by replica b" in result.evidence[0]
    assert "logs of b" in result.evidence[1]


def test_the_access_line_is_the_last_line_the_app_writes_for_a_request() -> None:
    """Check 4 stops waiting at ACCESS_EVENT: the app's last line of every request."""
    app = create_app(Settings(simulated_latency_median_seconds=0.0, faults={"llm_error_rate": 0.0}))
    merge = [structlog.contextvars.merge_contextvars]
    with TestClient(app) as client, capture_logs(processors=merge) as lines:
        client.post("/query", json={"question": "What is a runbook?"})
    assert lines[-1]["event"] == logs.ACCESS_EVENT
