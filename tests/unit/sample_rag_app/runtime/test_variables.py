"""The variable behind each settings field, its allowed values, and the rows of the
settings reference, all derived from the model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sample_rag_app.runtime.variables import (
    Variable,
    allowed_values,
    from_environment,
    variable_at,
    variables,
)


class _Group(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="T_GROUP_", validate_by_name=True)

    on: bool = Field(False, validation_alias="T_GROUP", description="Master switch.")
    burst: int = Field(5, ge=1, le=10, description="Burst.")


class _Service(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="T_")

    port: int = Field(8000, ge=1, le=65535, description="Port.")
    level: Literal["debug", "info"] = Field("info", description="Level.")
    seed: int | None = Field(None, description="Seed.")
    rate: float = Field(0.5, gt=0, description="Rate.")
    group: _Group = Field(default_factory=_Group, description="The group.")


def test_a_location_names_the_variable_a_person_sets() -> None:
    """Core fields take the prefix, a group's fields its own prefix, an alias is itself."""
    assert variable_at(_Service, ("port",))[0] == "T_PORT"
    assert variable_at(_Service, ("group", "burst"))[0] == "T_GROUP_BURST"
    assert variable_at(_Service, ("group", "on"))[0] == "T_GROUP"
    assert variable_at(_Service, ("group", "T_GROUP"))[0] == "T_GROUP"
    assert variable_at(_Service, ("group",)) == ("T_GROUP_*", None)


def test_allowed_values_come_from_the_type_and_the_bounds() -> None:
    """Ranges, choices and optional numbers in words; free text has no allowed values."""
    fields = _Service.model_fields
    assert allowed_values(fields["port"]) == "an integer from 1 to 65535"
    assert allowed_values(fields["level"]) == "one of debug, info"
    assert allowed_values(fields["seed"]) == "an integer"
    assert allowed_values(fields["rate"]) == "a number greater than 0"
    assert allowed_values(_Group.model_fields["on"]) == "true or false"


def test_the_rows_state_each_default_the_field_declares() -> None:
    """Every variable, groups in place, with its declared default as the environment writes it."""
    rows = list(variables(_Service))
    assert [row.name for row in rows] == [
        "T_PORT", "T_LEVEL", "T_SEED", "T_RATE", "T_GROUP", "T_GROUP_BURST",
    ]  # fmt: skip
    assert rows[0] == Variable("T_PORT", "8000", "an integer from 1 to 65535", "Port.")
    assert [row.default for row in rows] == ["8000", "info", "unset", "0.5", "false", "5"]

    class Changed(_Service):
        port: int = Field(9000, ge=1, le=65535, description="Port.")

    assert next(variables(Changed)).default == "9000"


def test_a_groups_values_are_read_by_their_variables() -> None:
    """The group's fields come from its variables, in any case, keyed by field name."""
    environ = {"t_group": "on", "T_GROUP_BURST": "3", "T_PORT": "1", "T_GROUP_ON": "off"}
    assert from_environment(_Group, environ) == {"on": "on", "burst": "3"}
