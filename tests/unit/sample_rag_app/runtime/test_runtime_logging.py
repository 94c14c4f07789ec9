"""The JSON log format: one orjson object per line with the required fields."""

from __future__ import annotations

import io
import json
import logging
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog

from sample_rag_app.runtime import logging as app_logging
from sample_rag_app.runtime.logging import configure_logging


@pytest.fixture
def log_stream() -> Iterator[io.BytesIO]:
    stream = io.BytesIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("info", "rag-test", stream=stream, cache_logger_on_first_use=False)
    yield stream
    structlog.reset_defaults()
    root.handlers[:], root.level = saved
    structlog.contextvars.clear_contextvars()


def _lines(stream: io.BytesIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_lines_are_json_with_timestamp_level_event_service(log_stream: io.BytesIO) -> None:
    """Each line is one JSON object with an ISO-8601 UTC timestamp, level, event and service."""
    structlog.get_logger("t").info("something_happened", answer=42)
    (line,) = _lines(log_stream)
    assert line["event"] == "something_happened"
    assert line["level"] == "info"
    assert line["service"] == "rag-test"
    assert line["answer"] == 42
    stamp = line["timestamp"]
    assert isinstance(stamp, str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp), stamp
    written = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - written).total_seconds()) < 5


def test_timestamps_are_what_datetime_writes_across_second_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cached-per-second timestamp equals datetime's ISO text (microseconds, Z) at any
    instant, including right after the second turns."""
    stamp = app_logging._UtcTimestamp()
    rng = random.Random(5)
    instants = [1768047300.0, 1768047300.999999, 1768047301.000001]
    instants += sorted(1768047300 + rng.uniform(0, 5) for _ in range(200))
    for instant in instants:
        monkeypatch.setattr(app_logging.time, "time", lambda instant=instant: instant)
        expected = datetime.fromtimestamp(instant, UTC).isoformat(timespec="microseconds")
        # datetime rounds to the nearest microsecond, the stamp truncates: at most 1 µs apart.
        written = datetime.fromisoformat(stamp().replace("Z", "+00:00"))
        assert abs((written - datetime.fromisoformat(expected)).total_seconds()) <= 1e-6


def test_bound_correlation_id_appears_on_every_line(log_stream: io.BytesIO) -> None:
    """A correlation_id bound to contextvars is on every line until it is unbound."""
    tokens = structlog.contextvars.bind_contextvars(correlation_id="cid-9")
    structlog.get_logger("t").info("one")
    structlog.get_logger("t").error("two")
    structlog.contextvars.reset_contextvars(**tokens)
    structlog.get_logger("t").info("three")
    lines = _lines(log_stream)
    assert [line.get("correlation_id") for line in lines] == ["cid-9", "cid-9", None]


def test_an_exception_line_carries_the_traceback_at_error_level(log_stream: io.BytesIO) -> None:
    """`logger.exception` writes level error and the rendered traceback as `exception`."""
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        structlog.get_logger("t").exception("unhandled_exception")
    (line,) = _lines(log_stream)
    assert line["level"] == "error"
    assert "ZeroDivisionError: division by zero" in str(line["exception"])
    assert "exc_info" not in line


def test_level_filter_drops_debug_lines(log_stream: io.BytesIO) -> None:
    """At level info, debug lines are not written."""
    structlog.get_logger("t").debug("hidden")
    assert log_stream.getvalue() == b""


def test_standard_library_records_are_rendered_as_json(log_stream: io.BytesIO) -> None:
    """uvicorn's standard-library log records become JSON lines with the same fields."""
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    ]
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "Started server process", None, None
    )
    assert handler.formatter is not None
    line = json.loads(handler.formatter.format(record))
    assert line["event"] == "Started server process"
    assert line["level"] == "info"
    assert line["service"] == "rag-test"
    assert "timestamp" in line


def test_the_replica_is_on_every_line_when_given() -> None:
    """With a replica, each line names it (which of several replicas wrote it)."""
    stream = io.BytesIO()
    configure_logging(
        "info",
        "rag-test",
        replica="3f2a9c1d04be",
        stream=stream,
        cache_logger_on_first_use=False,
        route_stdlib=False,
    )
    try:
        structlog.get_logger("t").info("one")
        structlog.get_logger("t").warning("two", replica="explicit")
    finally:
        structlog.reset_defaults()
    assert [line["replica"] for line in _lines(stream)] == ["3f2a9c1d04be", "explicit"]
