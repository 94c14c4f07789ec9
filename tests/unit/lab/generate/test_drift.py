"""`lab generate --check` against committed files, and the spec as the single source."""

from __future__ import annotations

import io
import json
from pathlib import Path

import yaml

from lab.cli import run
from lab.generate import grafana, promtool, render_all
from lab.kit.exit_codes import ExitCode
from lab.spec import SPEC


def _check(root: Path) -> tuple[ExitCode, str]:
    out = io.StringIO()
    code = run(["generate", "--check", "--root", str(root)], out)
    return code, out.getvalue()


def test_check_passes_on_the_committed_files(repo_root: Path) -> None:
    """The committed generated files are exactly what lab/spec produces."""
    code, output = _check(repo_root)
    assert code is ExitCode.OK, output
    assert "match lab/spec" in output


def test_check_fails_naming_the_modified_file_with_a_diff(repo_copy: Path) -> None:
    """A hand edit in a copy makes --check exit non-zero with the path and a unified diff."""
    code, _ = _check(repo_copy)
    assert code is ExitCode.OK
    edited = repo_copy / "prometheus/rules/rag_alerts.yml"
    edited.write_text(edited.read_text().replace("> 0.5", "> 0.9"))
    code, output = _check(repo_copy)
    assert code is ExitCode.FAILED
    assert "DRIFT prometheus/rules/rag_alerts.yml" in output
    assert "--- prometheus/rules/rag_alerts.yml (committed)" in output
    removed = [line for line in output.splitlines() if line.startswith("-  ")]
    added = [line for line in output.splitlines() if line.startswith("+  ")]
    assert [line.split("expr: ")[1] for line in removed] == [
        "histogram_quantile(0.95, sum by (job, le) (rate(rag_query_duration_seconds_bucket[5m])))"
        " > 0.9"
    ]
    assert [line.split("expr: ")[1] for line in added] == [
        "histogram_quantile(0.95, sum by (job, le) (rate(rag_query_duration_seconds_bucket[5m])))"
        " > 0.5"
    ]


def test_check_reports_missing_and_stale_files(repo_copy: Path) -> None:
    """A deleted generated file and a leftover test file both fail the check."""
    (repo_copy / "grafana/dashboards/rag-overview.json").unlink()
    (repo_copy / "prometheus/tests/removed_alert.yml").write_text("tests: []\n")
    code, output = _check(repo_copy)
    assert code is ExitCode.FAILED
    assert "DRIFT grafana/dashboards/rag-overview.json: missing" in output
    assert "STALE prometheus/tests/removed_alert.yml" in output


def test_changing_a_threshold_changes_rule_test_and_dashboard() -> None:
    """One threshold edit in a spec copy moves the rule, its promtool test and the panel line,
    in compose's files and in their Kubernetes objects."""
    before = {f.path: f.content for f in render_all(SPEC)}
    changed_spec = SPEC.with_threshold("HighP95Latency", 1.0)
    after = {f.path: f.content for f in render_all(changed_spec)}
    differing = {p for p in before if before[p] != after[p]}
    assert differing == {
        "prometheus/rules/rag_alerts.yml",
        "prometheus/tests/high_p95_latency.yml",
        "grafana/dashboards/rag-overview.json",
        "prometheus/kubernetes/prometheusrule.yaml",
        "grafana/kubernetes/dashboard-configmap.yaml",
    }
    rules = yaml.safe_load(after["prometheus/rules/rag_alerts.yml"])["groups"][0]["rules"]
    assert rules[0]["expr"].endswith("> 1.0")
    tests = yaml.safe_load(after["prometheus/tests/high_p95_latency.yml"])["tests"]
    assert any("above 1s" in g["name"] for g in tests)
    board = json.loads(after[f"{grafana.DASHBOARDS_DIR}/rag-overview.json"])
    p95 = next(p for p in board["panels"] if p["title"] == "p95 Latency")
    assert p95["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"] == 1.0
    assert promtool.file_name(changed_spec.alert("HighP95Latency")) in after


def test_changed_threshold_tests_pass_promtool(tmp_path: Path, tool: object) -> None:
    """The regenerated rules and tests for a new threshold still pass promtool."""
    from lab.generate import write

    write(render_all(SPEC.with_threshold("HighErrorRate", 2.5)), tmp_path)
    tests_dir = tmp_path / "prometheus/tests"
    result = tool("promtool", "test", "rules", "high_error_rate.yml", cwd=tests_dir)  # type: ignore[operator]
    assert result.returncode == 0, result.stdout + result.stderr
