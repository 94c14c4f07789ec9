"""Log sources hand the checks whole JSON lines, whatever characters the lines carry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from lab.logsource import FileLogSource, log_lines


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
