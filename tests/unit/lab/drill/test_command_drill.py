"""`lab drill` in-process: the list, a name it does not know, and a drill that cannot start."""

from __future__ import annotations

import io

import pytest
import responses

from lab.cli import run
from lab.drill.runner import DRILLS
from lab.kit.exit_codes import ExitCode


def test_list_names_every_drill_with_its_alert() -> None:
    """`lab drill --list` prints one line per drill, with the alert it makes fire."""
    out = io.StringIO()
    assert run(["drill", "--list"], out) is ExitCode.OK
    lines = out.getvalue().splitlines()
    for drill in DRILLS.values():
        assert any(line.split()[:2] == [drill.name, drill.alert] for line in lines), drill.name


def test_without_a_name_it_lists_the_drills_and_is_a_usage_error() -> None:
    """`lab drill` alone shows what to choose from and exits 2."""
    out = io.StringIO()
    assert run(["drill"], out) is ExitCode.USAGE
    assert "high-error-rate" in out.getvalue()


def test_an_unknown_drill_is_a_usage_error_pointing_at_the_list() -> None:
    """A name that is no drill exits 2 and says how to see the drills."""
    out = io.StringIO()
    assert run(["drill", "no-such-drill"], out) is ExitCode.USAGE
    assert "`lab drill --list`" in out.getvalue()


def test_a_drill_without_the_admin_token_fails_saying_how_to_set_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No token: the drill stops before touching the app, exit 1 with the variable to set."""
    monkeypatch.delenv("LAB_ADMIN_TOKEN", raising=False)
    out = io.StringIO()
    code = run(["drill", "high-error-rate", "--app-url", "http://app.test:8000"], out)
    assert code is ExitCode.FAILED
    assert "✗ drill high-error-rate:" in out.getvalue()
    assert "LAB_ADMIN_TOKEN" in out.getvalue()


@responses.activate
def test_a_drill_on_several_replicas_is_refused_before_touching_the_app() -> None:
    """Three replicas scraped: exit 2 with the reason, and no admin call is made."""
    prometheus = "http://prometheus.test:9090"
    count = {"resultType": "vector", "result": [{"metric": {}, "value": [1.7e9, "3"]}]}
    responses.get(f"{prometheus}/api/v1/query", json={"status": "success", "data": count})
    out = io.StringIO()
    code = run(
        ["drill", "high-error-rate", "--app-url", "http://app.test:8000",
         "--prometheus-url", prometheus, "--admin-token", "t"],
        out,
    )  # fmt: skip
    assert code is ExitCode.USAGE
    assert "✗ lab drill needs exactly one app replica" in out.getvalue()
    assert [c.request.url for c in responses.calls if "app.test" in (c.request.url or "")] == []
