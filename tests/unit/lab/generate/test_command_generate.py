"""`lab generate` in-process: what it writes, what --check reports, where it finds the root."""

from __future__ import annotations

import io
from pathlib import Path

from lab.cli import run
from lab.kit.exit_codes import ExitCode


def test_generate_writes_every_file_into_an_empty_root(tmp_path: Path) -> None:
    """`lab generate --root` creates the rules, tests, Alertmanager and Grafana files."""
    out = io.StringIO()
    assert run(["generate", "--root", str(tmp_path)], out) is ExitCode.OK
    assert (tmp_path / "prometheus/rules/rag_alerts.yml").is_file()
    assert (tmp_path / "prometheus/tests/high_p95_latency.yml").is_file()
    assert (tmp_path / "alertmanager/alertmanager.yml").is_file()
    assert (tmp_path / "grafana/dashboards/rag-overview.json").is_file()
    assert "wrote prometheus/rules/rag_alerts.yml" in out.getvalue()
    again = io.StringIO()
    assert run(["generate", "--root", str(tmp_path)], again) is ExitCode.OK
    assert "0 changed" in again.getvalue()


def test_generate_check_on_an_empty_root_fails(tmp_path: Path) -> None:
    """--check writes nothing and fails when the files are missing."""
    out = io.StringIO()
    assert run(["generate", "--check", "--root", str(tmp_path)], out) is ExitCode.FAILED
    assert "missing" in out.getvalue()
    assert not (tmp_path / "prometheus").exists()


def test_with_slack_writes_the_local_variant(tmp_path: Path) -> None:
    """--with-slack also writes the git-ignored alertmanager/local/alertmanager.yml."""
    out = io.StringIO()
    assert run(["generate", "--with-slack", "--root", str(tmp_path)], out) is ExitCode.OK
    local = (tmp_path / "alertmanager/local/alertmanager.yml").read_text()
    assert "api_url_file: /etc/alertmanager/secrets/slack_webhook_url" in local
    assert "slack" not in (tmp_path / "alertmanager/alertmanager.yml").read_text()
    check = io.StringIO()
    assert run(["generate", "--check", "--root", str(tmp_path)], check) is ExitCode.OK
