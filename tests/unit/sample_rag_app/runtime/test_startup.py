"""Every service's start-up with settings that cannot work: exit 2, one line per bad
variable naming it, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sample_rag_app.runtime.startup import BAD_SETTINGS_EXIT, load_settings


@pytest.mark.parametrize(
    ("module", "variable", "value", "allowed"),
    [
        ("sample_rag_app", "RAG_FAULT_LLM_ERROR_RATE", "2", "a number from 0 to 1"),
        ("sample_rag_app.services.alert_sink", "ALERT_SINK_PORT", "70000", "to 65535"),
        ("sample_rag_app.services.loadgen", "LOADGEN_RATE_PER_SECOND", "-1", "greater than 0"),
    ],
)
def test_each_service_refuses_a_bad_variable_with_exit_2_and_its_name(
    module: str, variable: str, value: str, allowed: str
) -> None:
    """`python -m <service>` with one bad variable exits 2, names it and what it allows."""
    environment = {key: val for key, val in os.environ.items() if not key.startswith("RAG_")}
    done = subprocess.run(
        [sys.executable, "-m", module],
        env=environment | {variable: value},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == BAD_SETTINGS_EXIT, done.stderr
    assert f"  {variable}: " in done.stderr
    assert f"got {value!r}" in done.stderr
    assert allowed in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


class _Limits(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="T_LIMIT_")

    burst: int = Field(5, ge=1, le=10)


class _Service(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="T_")

    port: int = Field(8000, ge=1, le=65535)
    mode: bool = Field(False, validation_alias="T_SWITCH")
    limits: _Limits = Field(default_factory=_Limits)


def test_every_bad_variable_is_one_line_in_one_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two bad variables give two lines, each with the problem, the value and the range."""
    monkeypatch.setenv("T_PORT", "http")
    monkeypatch.setenv("T_SWITCH", "maybe")
    with pytest.raises(SystemExit) as info:
        load_settings(_Service, "test service")
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "the test service cannot start with these settings:"
    assert lines[1].startswith("  T_PORT: Input should be a valid integer")
    assert lines[1].endswith(", got 'http' (allowed: an integer from 1 to 65535)")
    assert lines[2].startswith("  T_SWITCH: ")
    assert lines[2].endswith("(allowed: true or false)")
    assert len(lines) == 3


def test_good_settings_are_returned() -> None:
    """Without a bad variable the settings come back as read."""
    assert load_settings(_Service, "test service").port == 8000
