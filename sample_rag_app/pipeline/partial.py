"""Strict partial-update models derived from a configuration model.

A configuration (the faults, the resilience parameters) is declared once, as a pydantic
model with each field's type, range and description. The admin API's ``PUT`` body is
derived from it here rather than declared again: every field optional, unknown fields
refused, types strict (``"0.5"`` is no float and ``"yes"`` no boolean), and a value out
of range refused with a message that names the whole allowed range (in the words of
``sample_rag_app.runtime.variables``, which the start-up errors use too).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sample_rag_app.runtime.variables import allowed_range, bounds, written


def _in_range(field: FieldInfo) -> AfterValidator:
    lower, upper = bounds(field)
    text = allowed_range(field)

    def check(value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        ok = True
        if lower is not None:
            ok = value >= lower[1] if lower[0] == ">=" else value > lower[1]
        if ok and upper is not None:
            ok = value <= upper[1] if upper[0] == "<=" else value < upper[1]
        if not ok:
            raise ValueError(f"must be {text}, got {value!r}")
        return value

    return AfterValidator(check)


def _known_fields_only(known: frozenset[str]) -> Any:
    def check(data: Any) -> Any:
        if isinstance(data, dict):
            # A key may hold a lone surrogate (a JSON escape): written as \udXXX, the
            # message stays encodable (pydantic-core cannot carry it otherwise).
            unknown = sorted(
                str(key).encode("utf-8", "backslashreplace").decode("utf-8")
                for key in data
                if key not in known
            )
            if unknown:
                raise ValueError(
                    f"unknown field {', '.join(unknown)}; known fields: {', '.join(sorted(known))}"
                )
        return data

    return model_validator(mode="before")(check)


def _schema_bounds(field: FieldInfo) -> JsonDict | None:
    """The range as JSON Schema keywords, so the OpenAPI document states what is enforced."""
    lower, upper = bounds(field)
    integer = field.annotation is int
    keywords = {">=": "minimum", ">": "exclusiveMinimum", "<=": "maximum", "<": "exclusiveMaximum"}
    schema: JsonDict = {
        keywords[b[0]]: int(b[1]) if integer else b[1] for b in (lower, upper) if b is not None
    }
    return schema or None


def _integral_if_int(field: FieldInfo) -> BeforeValidator:
    """For an integer field, 3.0 becomes 3: JSON Schema's "integer" includes it, and
    strict validation still refuses 3.5, "3" and true."""
    integer = field.annotation is int

    def convert(value: Any) -> Any:
        if integer and isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    return BeforeValidator(convert)


def partial_model(model: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    """A strict model with every field of ``model`` optional (None: leave unchanged)."""
    fields: dict[str, Any] = {}
    for field_name, field in model.model_fields.items():
        checks = (_in_range(field), _integral_if_int(field))
        annotation = Annotated[field.annotation | None, *checks]  # type: ignore[name-defined]
        default = field.get_default(call_default_factory=True)
        stated = "" if default is PydanticUndefined else f" Default: {written(default)}."
        description = f"{field.description or ''} Allowed: {allowed_range(field)}.{stated}"
        fields[field_name] = (
            annotation,
            Field(None, description=description, json_schema_extra=_schema_bounds(field)),
        )
    derived: type[BaseModel] = create_model(
        name,
        __config__=ConfigDict(extra="forbid", strict=True),
        __doc__=doc,
        __validators__={"_known_fields_only": _known_fields_only(frozenset(fields))},
        **fields,
    )
    return derived
