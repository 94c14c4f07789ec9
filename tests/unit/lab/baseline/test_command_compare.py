"""`lab compare` in-process: two saved baselines side by side, and what it says about bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

from lab.baseline.report import JSON_NAME
from lab.cli import run
from lab.kit.exit_codes import ExitCode
from tests.unit.lab.baseline.test_baseline_report import baseline


def saved(directory: Path, requests: int, errors: int) -> Path:
    directory.mkdir()
    (directory / JSON_NAME).write_text(json.dumps(baseline(requests, errors).to_json()))
    return directory


def test_compares_two_directories_figure_by_figure(tmp_path: Path) -> None:
    """Before 2 % errors, after 0.1 %: one row per figure, the error rate's change shown."""
    before = saved(tmp_path / "before", 1000, 20)
    after = saved(tmp_path / "after", 1000, 1)
    out = io.StringIO()
    assert run(["compare", str(before), str(after)], out) is ExitCode.OK
    text = out.getvalue()
    (row,) = [line for line in text.splitlines() if line.startswith("error rate")]
    assert row.split()[2:5] == ["2.00", "%", "0.10"]
    assert "-95" in row


def test_a_missing_baseline_is_a_usage_error_naming_how_to_record_one(tmp_path: Path) -> None:
    """A directory without baseline.json exits 2 and names `lab baseline --out`."""
    before = saved(tmp_path / "before", 1000, 20)
    out = io.StringIO()
    assert run(["compare", str(before), str(tmp_path / "nothing")], out) is ExitCode.USAGE
    assert "lab baseline --out DIR" in out.getvalue()


def test_a_file_that_is_not_a_baseline_is_a_usage_error(tmp_path: Path) -> None:
    """Any JSON that is not a baseline is refused with what it is not, not a traceback."""
    before = saved(tmp_path / "before", 1000, 20)
    other = tmp_path / "other.json"
    other.write_text("[1, 2, 3]")
    out = io.StringIO()
    assert run(["compare", str(before), str(other)], out) is ExitCode.USAGE
    assert "is not a baseline written by `lab baseline`" in out.getvalue()
