"""The resilience parameters: one declaration, read from the environment, strict updates."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sample_rag_app.pipeline.resilience.config import (
    MECHANISMS,
    ResilienceConfig,
    ResilienceUpdate,
)
from sample_rag_app.runtime.variables import variable_names
from sample_rag_app.settings import ResilienceSettings, Settings


def test_resilience_is_off_by_default_with_every_mechanism_switched_on() -> None:
    """The course's 'before': master switch off, so no mechanism is in effect."""
    config = Settings().resilience
    assert config.enabled is False
    assert all(getattr(config, m) is True for m in MECHANISMS)
    assert not any(config.in_effect(m) for m in MECHANISMS)
    assert config.model_copy(update={"enabled": True}).in_effect("retries")


def test_settings_read_the_master_switch_and_each_parameter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RAG_RESILIENCE=on and RAG_RESILIENCE_<PARAMETER> reach the nested configuration."""
    monkeypatch.setenv("RAG_RESILIENCE", "on")
    monkeypatch.setenv("RAG_RESILIENCE_PACING", "off")
    monkeypatch.setenv("RAG_RESILIENCE_RETRY_MAX_ATTEMPTS", "5")
    config = Settings().resilience
    assert (config.enabled, config.pacing, config.retry_max_attempts) == (True, False, 5)
    assert config.in_effect("retries")
    assert not config.in_effect("pacing")


def test_explicit_settings_merge_with_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings(resilience={...}) overrides the fields it names, the environment the rest."""
    monkeypatch.setenv("RAG_RESILIENCE_RETRY_MAX_ATTEMPTS", "4")
    config = Settings(resilience={"enabled": True}).resilience
    assert (config.enabled, config.retry_max_attempts) == (True, 4)


def test_every_parameter_has_its_variable_and_a_description() -> None:
    """Each field maps to RAG_RESILIENCE[_<NAME>] and says what it does."""
    names = variable_names(ResilienceSettings)
    assert names["enabled"] == "RAG_RESILIENCE"
    assert names["retry_max_attempts"] == "RAG_RESILIENCE_RETRY_MAX_ATTEMPTS"
    for name, variable in names.items():
        assert variable == (
            "RAG_RESILIENCE" if name == "enabled" else f"RAG_RESILIENCE_{name.upper()}"
        )
    for name, field in ResilienceConfig.model_fields.items():
        assert field.description, name


def test_the_update_model_is_derived_field_for_field() -> None:
    """ResilienceUpdate has exactly the configuration's fields, all optional."""
    assert set(ResilienceUpdate.model_fields) == set(ResilienceConfig.model_fields)
    assert ResilienceUpdate.model_validate({}).model_dump(exclude_none=True) == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"retry_budget_ratio": "0.5"}, "valid number"),
        ({"enabled": "yes"}, "valid boolean"),
        ({"enabled": 1}, "valid boolean"),
        ({"retry_max_attempts": 2.5}, "valid integer"),
        ({"retry_max_attempts": 0}, "an integer from 1 to 10, got 0"),
        ({"admission_max_inflight": 0}, "an integer from 1 to 10000"),
        ({"llm_timeout_seconds": -1.0}, "a number greater than 0 and at most 60"),
        ({"pacing_target_percent": 120}, "greater than 0 and at most 100"),
        ({"retry": True}, "unknown field retry; known fields: admission"),
    ],
)
def test_updates_are_strict_and_name_the_allowed_range(
    body: dict[str, object], message: str
) -> None:
    """Wrong types are refused, not coerced; out-of-range values say what is allowed."""
    with pytest.raises(ValidationError, match=message):
        ResilienceUpdate.model_validate(body)


def test_a_fallback_reserve_as_long_as_the_deadline_is_refused() -> None:
    """The fallback reserve must leave the primary model some of the deadline."""
    with pytest.raises(ValidationError, match="less than request_deadline_seconds"):
        ResilienceConfig(request_deadline_seconds=1.0, fallback_reserve_seconds=1.0)
