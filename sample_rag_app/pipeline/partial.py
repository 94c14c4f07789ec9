"""Strict partial-update models derived from a configuration model, and its ranges in words.

A configuration (the faults, the resilience parameters) is declared once, as a pydantic
model with each field's type, range and description. The admin API's ``PUT`` body is
derived from it here rather than declared again: every field optional, unknown fields
refused, types strict (``"0.5"`` is no float and ``"yes"`` no boolean), and a value out
of range refused with a message that names the whole allowed range.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

import annotated_types
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


def _bounds(field: FieldInfo) -> tuple[tuple[str, float] | None, tuple[str, float] | None]:
    lower: tuple[str, float] | None = None
    upper: tuple[str, float] | None = None
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            lower = (">=", float(cast(float, item.ge)))
        elif isinstance(item, annotated_types.Gt):
            lower = (">", float(cast(float, item.gt)))
        elif isinstance(item, annotated_types.Le):
            upper = ("<=", float(cast(float, item.le)))
        elif isinstance(item, annotated_types.Lt):
            upper = ("<", float(cast(float, item.lt)))
    return lower, upper


def _number(value: float, integer: bool) -> str:
    return str(int(value)) if integer else f"{value:g}"


def allowed_range(field: FieldInfo) -> str:
    """The field's allowed values in words, e.g. ``an integer from 1 to 10``."""
    if field.annotation is bool:
        return "true or false"
    integer = field.annotation is int
    kind = "an integer" if integer else "a number"
    lower, upper = _bounds(field)
    if lower is None and upper is None:
        return kind
    if lower is not None and upper is not None and lower[0] == ">=" and upper[0] == "<=":
        if lower[1] == upper[1]:
            return f"only {_number(lower[1], integer)}"
        return f"{kind} from {_number(lower[1], integer)} to {_number(upper[1], integer)}"
    words = {">=": "at least", ">": "greater than", "<=": "at most", "<": "less than"}
    parts = [f"{words[b[0]]} {_number(b[1], integer)}" for b in (lower, upper) if b is not None]
    return f"{kind} " + " and ".join(parts)


def _in_range(field: FieldInfo) -> AfterValidator:
    lower, upper = _bounds(field)
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
    lower, upper = _bounds(field)
    integer = field.annotation is int
    keywords = {">=": "minimum", ">": "exclusiveMinimum", "<=": "maximum", "<": "exclusiveMaximum"}
    bounds: JsonDict = {
        keywords[b[0]]: int(b[1]) if integer else b[1] for b in (lower, upper) if b is not None
    }
    return bounds or None


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
        description = f"{field.description or ''} Allowed: {allowed_range(field)}.".strip()
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
