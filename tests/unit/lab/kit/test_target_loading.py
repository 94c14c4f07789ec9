"""Which target a run proves: the file, then LAB_* variables and flags over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.cli import run
from lab.kit.context import LabContext
from lab.kit.exit_codes import ExitCode
from lab.kit.settings import LabSettings
from lab.kit.target import OWN_STACK, TargetFileError, load_target

LEARNER = """\
name: my M2.3 stack
prometheus_url: http://127.0.0.1:19090
scrape_job: rag_pipeline
logs:
  kind: file
  source: logs/app.jsonl
"""


def test_no_file_and_no_variable_is_the_labs_own_stack(tmp_path: Path) -> None:
    """With nothing described the run proves the lab's own stack, unchanged."""
    assert load_target(LabSettings(), cwd=tmp_path) is OWN_STACK


def test_a_file_in_the_working_directory_describes_a_learners_stack(tmp_path: Path) -> None:
    """./lab-target.yaml is read when present; its stack has no lab alert sink by default."""
    (tmp_path / "lab-target.yaml").write_text(LEARNER)
    target = load_target(LabSettings(), cwd=tmp_path)
    assert not target.own_stack
    assert target.scrape_job == "rag_pipeline"
    assert target.alert_sink_url is None
    assert target.logs.kind == "file"
    assert target.source == tmp_path / "lab-target.yaml"


def test_a_file_without_a_job_leaves_it_to_be_found(tmp_path: Path) -> None:
    """A learner's file that names no job lets check 1 find the one exporting the app's
    series, rather than assuming the lab's job name."""
    path = tmp_path / "t.yaml"
    path.write_text("prometheus_url: http://127.0.0.1:19090\n")
    assert load_target(LabSettings(target_file=path)).scrape_job is None


def test_variables_and_flags_override_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A LAB_* variable (and a flag, which sets the same field) wins over the file."""
    path = tmp_path / "t.yaml"
    path.write_text(LEARNER)
    monkeypatch.setenv("LAB_PROMETHEUS_URL", "http://127.0.0.1:29090")
    target = load_target(LabSettings(target_file=path, app_job="other"))
    assert target.prometheus_url == "http://127.0.0.1:29090"
    assert target.scrape_job == "other"
    assert target.name == "my M2.3 stack"


def test_the_context_reaches_the_targets_urls(tmp_path: Path) -> None:
    """The clients are built from the target, so a file's URL is where the checks go."""
    path = tmp_path / "t.yaml"
    path.write_text(LEARNER)
    ctx = LabContext.from_settings(LabSettings(target_file=path))
    assert ctx.target.prometheus_url == "http://127.0.0.1:19090"
    assert ctx.prometheus.base_url == "http://127.0.0.1:19090"


@pytest.mark.parametrize(
    ("text", "named"),
    [("scrape_jobb: x\n", "scrape_jobb"), ("- a\n", "mapping"), ("a: [\n", "not valid YAML")],
)
def test_a_bad_file_is_named_with_what_is_wrong(tmp_path: Path, text: str, named: str) -> None:
    """A typo or a non-mapping file is an error naming the file and the field."""
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(TargetFileError, match=named) as caught:
        load_target(LabSettings(target_file=path))
    assert str(path) in str(caught.value)


def test_the_cli_reports_a_bad_file_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lab check --target` with a typo exits 2 with the file and field, not a traceback."""
    import io

    path = tmp_path / "t.yaml"
    path.write_text("scrape_jobb: x\n")
    assert (
        run(["check", "--target", str(path), "--only", "scrape"], io.StringIO()) is ExitCode.USAGE
    )
    assert "scrape_jobb" in capsys.readouterr().err


def test_a_file_that_is_not_utf8_is_named_with_the_fix(tmp_path: Path) -> None:
    """A target file of other bytes is an error naming the file, not a UnicodeDecodeError."""
    path = tmp_path / "t.yaml"
    path.write_bytes(b"\xff\xfe scrape_job: x\n")
    with pytest.raises(TargetFileError, match="not UTF-8") as caught:
        load_target(LabSettings(target_file=path))
    assert str(path) in str(caught.value)
