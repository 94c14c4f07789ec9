"""Which environment variable sets a settings field, what it allows, and every variable
of a settings model as rows: what the start-up error and the settings reference derive.

A settings model is a ``BaseSettings`` with an ``env_prefix``; a field whose type is itself
a ``BaseSettings`` is a group read from its own prefix (``RAG_FAULT_``), and a field with a
string validation alias is read from that alias (``RAG_RESILIENCE``, the master switch).
Naming the variable from the model keeps the messages and the docs true to what is read.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, cast, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

Bound = tuple[str, float]


def bounds(field: FieldInfo) -> tuple[Bound | None, Bound | None]:
    """The field's lower and upper bound as (operator, value), None where it has none."""
    lower: Bound | None = None
    upper: Bound | None = None
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


def _unset_removed(annotation: Any) -> Any:
    """``int | None`` as ``int``: unset is no value a variable can be set to."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def allowed_range(field: FieldInfo) -> str:
    """The field's allowed values in words, e.g. ``an integer from 1 to 10``."""
    annotation = _unset_removed(field.annotation)
    if annotation is bool:
        return "true or false"
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(choice) for choice in get_args(annotation))
    integer = annotation is int
    kind = "an integer" if integer else "a number"
    lower, upper = bounds(field)
    if lower is None and upper is None:
        return kind
    if lower is not None and upper is not None and lower[0] == ">=" and upper[0] == "<=":
        if lower[1] == upper[1]:
            return f"only {_number(lower[1], integer)}"
        return f"{kind} from {_number(lower[1], integer)} to {_number(upper[1], integer)}"
    words = {">=": "at least", ">": "greater than", "<=": "at most", "<": "less than"}
    parts = [f"{words[b[0]]} {_number(b[1], integer)}" for b in (lower, upper) if b is not None]
    return f"{kind} " + " and ".join(parts)


def allowed_values(field: FieldInfo) -> str | None:
    """What a variable may be set to, for the fields where that is more than any text."""
    annotation = _unset_removed(field.annotation)
    if annotation in (bool, int, float) or get_origin(annotation) is Literal:
        return allowed_range(field)
    return None


def group_of(field: FieldInfo) -> type[BaseSettings] | None:
    """The settings group a field holds (read from the group's own prefix), if it is one."""
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
        return annotation
    return None


def _prefix(model: type[BaseModel]) -> str:
    return str(model.model_config.get("env_prefix", ""))


def _variable(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    if isinstance(field.validation_alias, str):
        return field.validation_alias
    return f"{_prefix(model)}{name}".upper()


def _fields_by_key(model: type[BaseModel]) -> dict[str, tuple[str, FieldInfo]]:
    """A model's fields by the keys an error location may use: name, or string alias."""
    keys = {name: (name, field) for name, field in model.model_fields.items()}
    for name, field in model.model_fields.items():
        if isinstance(field.validation_alias, str):
            keys[field.validation_alias] = (name, field)
    return keys


def variable_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, FieldInfo | None]:
    """The variable a validation error's location points at, and its field.

    A location that ends at a group (a rule across its fields) is the group's variables,
    ``RAG_RESILIENCE_*``, with no single field.
    """
    for key in loc:
        keys = _fields_by_key(model)
        if str(key) not in keys:
            break
        name, field = keys[str(key)]
        group = group_of(field)
        if group is None:
            return _variable(model, name, field), field
        model = group
    return f"{_prefix(model)}*".upper(), None


@dataclass(frozen=True)
class Variable:
    """One environment variable of a settings model, as the settings reference lists it."""

    name: str
    default: str
    allowed: str | None
    description: str


def written(value: object) -> str:
    """A default as it is written in the environment: unset, true, 0.5, /data/alerts.jsonl."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def variables(model: type[BaseModel]) -> Iterator[Variable]:
    """Every variable of the model, groups in place, with the default the field declares."""
    for name, field in model.model_fields.items():
        group = group_of(field)
        if group is not None:
            yield from variables(group)
            continue
        yield Variable(
            name=_variable(model, name, field),
            default=written(field.get_default(call_default_factory=True)),
            allowed=allowed_values(field),
            description=" ".join((field.description or "").split()),
        )


def variable_names(model: type[BaseModel]) -> dict[str, str]:
    """Each field of the model (a group's, or the core's) by the variable it is read from."""
    return {name: _variable(model, name, field) for name, field in model.model_fields.items()}


def from_environment(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, Any]:
    """The fields the environment sets, by field name and a group as a mapping of its own,
    not yet validated (so every error is reported at once); names match in any case, as
    pydantic-settings matches them."""
    given = {key.upper(): value for key, value in environ.items()}
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        group = group_of(field)
        if group is not None:
            values[name] = from_environment(group, environ)
        elif (variable := _variable(model, name, field).upper()) in given:
            values[name] = given[variable]
    return values


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _default(written: str) -> str:
    return written if written == "unset" else f"`{_cell(written)}`"


def markdown_table(model: type[BaseModel]) -> list[str]:
    """The model's variables as a Markdown table: variable, default, allowed, meaning."""
    lines = ["| variable | default | allowed | what it sets |", "|---|---|---|---|"]
    for variable in variables(model):
        lines.append(
            f"| `{variable.name}` | {_default(variable.default)} | {variable.allowed or ''} "
            f"| {_cell(variable.description)} |"
        )
    return lines
