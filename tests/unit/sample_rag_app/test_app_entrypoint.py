"""``python -m sample_rag_app`` and the settings it reads."""

from __future__ import annotations

import socket
from typing import Any

import pytest

import sample_rag_app.__main__ as entrypoint
from sample_rag_app.pipeline.faults import FaultConfig
from sample_rag_app.settings import Settings
from sample_rag_app.transport.server import RequestDeadlineProtocol


def test_main_runs_uvicorn_with_one_worker_factory_and_no_access_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """main() configures JSON logging and runs the app factory: one worker, own access log."""
    calls: dict[str, Any] = {}
    monkeypatch.setenv("RAG_PORT", "8123")
    monkeypatch.setattr(entrypoint, "configure_logging", lambda *a, **k: calls.update(log=a))
    monkeypatch.setattr(
        entrypoint.uvicorn, "run", lambda app, **kwargs: calls.update(app=app, **kwargs)
    )
    entrypoint.main()
    assert calls["log"] == ("info", "rag-app")
    assert calls["app"] == "sample_rag_app.main:create_app"
    assert calls["factory"] is True
    assert calls["workers"] == 1
    assert calls["access_log"] is False
    assert calls["log_config"] is None
    assert (calls["host"], calls["port"]) == ("0.0.0.0", 8123)


def test_main_bounds_connections_with_the_server_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keep-alive timeout, request deadline, concurrency limit and header size limit
    reach uvicorn from RAG_* variables."""
    calls: dict[str, Any] = {}
    monkeypatch.setenv("RAG_TIMEOUT_KEEP_ALIVE_SECONDS", "7")
    monkeypatch.setenv("RAG_REQUEST_READ_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("RAG_LIMIT_CONCURRENCY", "300")
    monkeypatch.setenv("RAG_MAX_HEADER_BYTES", "8192")
    monkeypatch.setattr(entrypoint, "configure_logging", lambda *a, **k: None)
    monkeypatch.setattr(entrypoint.uvicorn, "run", lambda app, **kwargs: calls.update(kwargs))
    entrypoint.main()
    assert calls["timeout_keep_alive"] == 7
    assert calls["limit_concurrency"] == 300
    assert calls["h11_max_incomplete_event_size"] == 8192
    assert issubclass(calls["http"], RequestDeadlineProtocol)
    assert calls["http"].request_read_timeout == 2.5


def test_settings_defaults_match_the_documentation() -> None:
    """The documented defaults: host, port, service, privacy, limits, admin off, simulated LLM."""
    settings = Settings()
    assert (settings.host, settings.port, settings.service_name) == ("0.0.0.0", 8000, "rag-app")
    assert settings.log_questions is False
    assert (settings.max_question_length, settings.max_body_bytes) == (2000, 16384)
    assert settings.admin_token is None
    assert (settings.timeout_keep_alive_seconds, settings.request_read_timeout_seconds) == (5, 10)
    assert (settings.limit_concurrency, settings.max_header_bytes) == (1000, 16384)
    assert settings.llm_provider == "simulated"
    assert 0.005 <= settings.faults.llm_error_rate <= 0.02


def test_openai_provider_needs_both_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OpenAI-compatible provider is chosen only when key and base URL are both set."""
    monkeypatch.setenv("RAG_OPENAI_API_KEY", "sk-test")
    assert Settings().llm_provider == "simulated"
    monkeypatch.setenv("RAG_OPENAI_BASE_URL", "http://llm.test")
    assert Settings().llm_provider == "openai"


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("RAG_RESILIENCE_ADMISSION_MAX_INFLIGHT", "0", "an integer from 1 to 10000"),
        ("RAG_RESILIENCE_LLM_TIMEOUT_SECONDS", "-1", "a number greater than 0 and at most 60"),
        ("RAG_RESILIENCE_RETRY_MAX_ATTEMPTS", "0", "an integer from 1 to 10"),
        ("RAG_RESILIENCE", "maybe", "true or false"),
        ("RAG_CACHE_TTL_SECONDS", "0", "a number greater than 0"),
        ("RAG_FAULT_LLM_ERROR_RATE", "2", "a number from 0 to 1"),
        ("RAG_FAULT_VECTOR_STORE_DOWN", "maybe", "true or false"),
    ],
)
def test_settings_that_cannot_work_stop_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    allowed: str,
) -> None:
    """A bad value exits with status 2 and a message naming the variable and what it allows."""
    monkeypatch.setenv(variable, value)
    monkeypatch.setattr(entrypoint.uvicorn, "run", lambda *a, **k: pytest.fail("started"))
    with pytest.raises(SystemExit) as info:
        entrypoint.main()
    assert info.value.code == 2
    message = capsys.readouterr().err
    assert f"{variable}: " in message
    assert repr(value) in message
    assert allowed in message


def test_a_rule_across_settings_names_both_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fallback reserve as long as the deadline names both variables in the message."""
    monkeypatch.setenv("RAG_RESILIENCE_REQUEST_DEADLINE_SECONDS", "2")
    monkeypatch.setenv("RAG_RESILIENCE_FALLBACK_RESERVE_SECONDS", "2")
    with pytest.raises(SystemExit):
        entrypoint.main()
    message = capsys.readouterr().err
    assert "RAG_RESILIENCE_FALLBACK_RESERVE_SECONDS (2) must be less than" in message
    assert "RAG_RESILIENCE_REQUEST_DEADLINE_SECONDS (2)" in message


def test_fault_variables_and_keywords_set_the_start_up_faults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RAG_FAULT_<FIELD> sets the one fault declaration; faults={...} merges over it."""
    monkeypatch.setenv("RAG_FAULT_LLM_TIMEOUT_RATE", "0.25")
    monkeypatch.setenv("RAG_FAULT_VECTOR_STORE_DOWN", "true")
    from_env = Settings().faults
    assert (from_env.llm_timeout_rate, from_env.vector_store_down) == (0.25, True)
    assert from_env.llm_error_rate == FaultConfig().llm_error_rate
    from_keyword = Settings(faults={"llm_error_rate": 0.0, "added_latency_seconds": 2}).faults
    assert (from_keyword.llm_error_rate, from_keyword.added_latency_seconds) == (0.0, 2.0)
    assert from_keyword.llm_timeout_rate == 0.25


def test_more_than_one_worker_is_refused_with_the_way_to_scale(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """RAG_WORKERS=4 stops the start, says why, and names `--scale app=4` instead."""
    monkeypatch.setenv("RAG_WORKERS", "4")
    monkeypatch.setattr(entrypoint.uvicorn, "run", lambda *a, **k: pytest.fail("started"))
    with pytest.raises(SystemExit) as info:
        entrypoint.main()
    assert info.value.code == 2
    message = capsys.readouterr().err
    assert "RAG_WORKERS: " in message
    assert "docker compose up -d --scale app=4" in message
    assert "counters" in message
    assert "(allowed: only 1)" in message


def test_replica_defaults_to_the_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, the replica is the host name (a container's short id); RAG_REPLICA overrides."""
    monkeypatch.setattr(socket, "gethostname", lambda: "3f2a9c1d04be")
    assert Settings().replica_name == "3f2a9c1d04be"
    monkeypatch.setenv("RAG_REPLICA", "app-east-1")
    assert Settings().replica_name == "app-east-1"
