"""Bad input to the `lab` CLI, generated and listed: one message naming the variable, flag
or file, exit 2, never a traceback (an exception escaping `cli.run` is one)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.cli import build_parser, run
from lab.kit.exit_codes import ExitCode
from lab.kit.settings import LabSettings

#: Nothing listens on the discard port: a valid setting makes `lab baseline` fail fast (exit 1).
CLOSED = "http://127.0.0.1:9"
URL_FIELDS = [name for name in LabSettings.model_fields if name.endswith("_url")]
#: Environment values can hold any text but NUL (the OS refuses it).
ENV_TEXT = st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=40)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in os.environ for the block (hypothesis reruns a test body many times, so
    pytest's function-scoped monkeypatch cannot be used)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def closed_endpoints() -> dict[str, str]:
    return {f"LAB_{name.upper()}": CLOSED for name in URL_FIELDS}


@pytest.mark.parametrize("field", sorted(LabSettings.model_fields))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=ENV_TEXT)
def test_any_value_of_any_setting_is_run_or_named(field: str, value: str) -> None:
    """Whatever a LAB_* variable holds, `lab baseline` runs (exit 0 or 1) or names the variable
    and exits 2."""
    variable = f"LAB_{field.upper()}"
    errors: list[str] = []
    with environment({**closed_endpoints(), variable: value}):
        code = run_capturing(["baseline", "--out", "unwritten"], errors)
    assert code in (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE)
    if code is ExitCode.USAGE:
        assert variable in errors[0], errors


def run_capturing(argv: list[str], errors: list[str]) -> ExitCode:
    """`cli.run` with stderr collected into `errors`, stdout discarded."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = run(argv, out)
    errors.append(err.getvalue())
    return code


VALUE_FLAGS = [
    ["wait", "--timeout"],
    ["drill", "--timeout"],
    ["check", "--wait"],
    ["experiment", "--out", "x", "--requests"],
    ["experiment", "--out", "x", "--rate"],
    ["check", "--app-url"],
    ["baseline", "--out", "x", "--baseline-window"],
]


@pytest.mark.parametrize("flag", VALUE_FLAGS, ids=lambda argv: " ".join(argv))
@settings(max_examples=40, deadline=None)
@given(value=st.one_of(ENV_TEXT, st.sampled_from(["nan", "inf", "-1", "0", "1e999", "-inf"])))
def test_any_value_of_a_flag_parses_or_is_a_usage_error(flag: list[str], value: str) -> None:
    """A flag's value is parsed to something usable or refused by argparse (exit 2): nan,
    infinities and negatives never get through as a wait or a count."""
    try:
        args = build_parser().parse_args([*flag, value])
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    if code:
        assert code == 2
        return
    parsed = getattr(args, flag[-1].removeprefix("--").replace("-", "_"))
    if isinstance(parsed, float):
        assert 0 <= parsed < float("inf")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LAB_HTTP_TIMEOUT_SECONDS", "abc"),
        ("LAB_HTTP_TIMEOUT_SECONDS", "0"),
        ("LAB_HTTP_TIMEOUT_SECONDS", "-1"),
        ("LAB_HTTP_TIMEOUT_SECONDS", "nan"),
        ("LAB_HTTP_TIMEOUT_SECONDS", "inf"),
        ("LAB_CHECK_GRAFANA", "maybe"),
        ("LAB_APP_URL", "notaurl"),
        ("LAB_APP_URL", ""),
        ("LAB_APP_URL", "ftp://example.test/"),
        ("LAB_APP_URL", "http://localhost:99999"),
        ("LAB_APP_URL", "http://[::1"),
        ("LAB_PROMETHEUS_URL", "notaurl"),
        ("LAB_BASELINE_WINDOW", "zz"),
    ],
)
def test_the_reported_bad_variables_are_named_with_exit_2(
    variable: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each value issue 21 found crashing `lab` is now one line naming its variable."""
    with environment({**closed_endpoints(), variable: value}):
        assert run(["check", "--only", "scrape"]) is ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert variable in err


@pytest.mark.parametrize(
    "argv",
    [["check", "--app-url", "notaurl"], ["baseline", "--out", "b", "--baseline-window", "zz"]],
)
def test_a_bad_flag_value_is_named_by_its_flag(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A value given as a flag is named as that flag, not as the variable it overrides."""
    assert run(argv) is ExitCode.USAGE
    assert argv[-2] in capsys.readouterr().err


@pytest.mark.parametrize("timeout", ["nan", "-1", "inf", "1e999"])
def test_lab_wait_refuses_a_timeout_that_never_ends_or_never_starts(
    timeout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lab wait --timeout nan` used to wait forever, and -1 was accepted."""
    assert run(["wait", "--timeout", timeout]) is ExitCode.USAGE
    assert "--timeout" in capsys.readouterr().err


def test_compare_names_a_baseline_with_a_string_where_a_number_belongs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-edited baseline is refused naming the file and the field, exit 2."""
    from tests.unit.lab.baseline.test_baseline_report import baseline

    body = json.loads(json.dumps(baseline(1000, 8).__dict__, default=str))
    body["requests"] = "a thousand"
    (tmp_path / "baseline.json").write_text(json.dumps(body))
    assert run(["compare", str(tmp_path), str(tmp_path)]) is ExitCode.USAGE
    out = capsys.readouterr().out
    assert "baseline.json" in out
    assert "requests" in out


def test_a_chart_into_a_missing_directory_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--chart` into a directory that does not exist: the path and the fix, exit 2."""
    from tests.unit.lab.baseline.test_baseline_report import baseline

    body = json.loads(json.dumps(baseline(1000, 8).__dict__, default=str))
    (tmp_path / "baseline.json").write_text(json.dumps(body))
    chart = tmp_path / "missing" / "chart.png"
    assert run(["compare", str(tmp_path), str(tmp_path), "--chart", str(chart)]) is ExitCode.USAGE
    err = capsys.readouterr().err
    assert str(chart) in err
    assert "create its directory" in err


def test_generate_where_it_cannot_write_names_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lab generate` into a checkout where a file blocks a directory it writes (what a
    read-only checkout gives too, but root may write anywhere): the path, exit 2."""
    (tmp_path / "prometheus").write_text("not a directory")
    assert run(["generate", "--root", str(tmp_path)]) is ExitCode.USAGE
    assert "prometheus" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["status", "hint", "verify", "reset"])
@pytest.mark.parametrize("state", ["random bytes", "a directory"])
def test_scenario_commands_survive_any_state_file(
    command: str, state: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A state file of random bytes or a directory in its place: `status`, `hint` and
    `verify` say so with the fix (exit 2), and `reset` clears it."""
    path = tmp_path / "scenario.json"
    if state == "a directory":
        path.mkdir()
    else:
        path.write_bytes(os.urandom(64) + b"\xff")
    with environment({**closed_endpoints(), "LAB_STATE_DIR": str(tmp_path)}):
        code = run(["scenario", command])
    out = capsys.readouterr().out
    if command == "reset":
        assert not path.exists()
        assert code in (ExitCode.OK, ExitCode.FAILED)  # FAILED: no lab answers here
    else:
        assert code is ExitCode.USAGE
        assert "scenario.json" in out
        assert "lab scenario reset" in out
