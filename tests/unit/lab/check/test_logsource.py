"""Log sources hand the checks whole JSON lines, whatever characters the lines carry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from lab.check.logsource import DockerLogSource, FileLogSource, log_lines


def test_a_line_separator_inside_a_json_string_does_not_split_the_line(tmp_path: Path) -> None:
    """U+2028 and \\x1c inside a logged message stay within their JSON line."""
    record = {"event": "request_rejected", "message": "bad key 'a\u2028b\x1c'"}
    log = tmp_path / "app.log"
    log.write_text(json.dumps(record, ensure_ascii=False) + "\n" + '{"event": "next"}\n')
    lines = FileLogSource(log).lines_since(datetime.now(UTC))
    assert [json.loads(line)["event"] for line in lines] == ["request_rejected", "next"]


def test_log_lines_drops_carriage_returns_and_blank_lines() -> None:
    """CRLF endings and empty lines leave no empty or CR-terminated entries."""
    assert log_lines('{"a": 1}\r\n\n{"b": 2}\n') == ['{"a": 1}', '{"b": 2}']


def test_a_docker_source_narrowed_to_a_replica_says_which() -> None:
    """of_replica keeps project and service and names the replica; file sources hold
    every replica's lines and stay as they are."""
    source = DockerLogSource("lab").of_replica("0b165e99ede1")
    assert (source.project, source.service, source.replica) == ("lab", "app", "0b165e99ede1")
    assert "replica 0b165e99ede1 of compose service 'app'" in source.description
    log = FileLogSource(Path("app.log"))
    assert log.of_replica("0b165e99ede1") is log
