"""Alertmanager's webhook payload (version 4), as documented for `webhook_config`.

Extra fields are kept, so the payload is checked as a whole before the fields are: no
string may hold a lone UTF-16 surrogate (it cannot be written back as UTF-8 JSON) and no
value may nest deeper than `MAX_NESTING_DEPTH` (deep nesting exhausts the serializer).
The same checks run on every line the store reads back, so a stored line either lists
cleanly or is skipped.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

#: Levels of nested objects and arrays a notification may have, the notification itself
#: being the first. Alertmanager's own payload needs four.
MAX_NESTING_DEPTH = 32


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_json_value(value: Any, *, max_depth: int = MAX_NESTING_DEPTH) -> None:
    """Raise ValueError when ``value`` nests deeper than ``max_depth`` or holds a string
    (key or value) with a lone surrogate. Iterative: deep input cannot exhaust the stack."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not _is_unicode(item):
                raise ValueError("a string contains a lone UTF-16 surrogate (not valid Unicode)")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise ValueError(f"the notification is nested deeper than {max_depth} levels")
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict):
            pending.extend((key, depth) for key in item)
        pending.extend((child, depth + 1) for child in children)


_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _time_text(value: Any) -> Any:
    """Let only text through to the date-time parser: pydantic would read a number, or a
    string of one, as a Unix timestamp, and the OpenAPI document says RFC 3339."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time string, not a number")
    return value


#: A time as Alertmanager writes it: RFC 3339 text.
Rfc3339 = Annotated[datetime, BeforeValidator(_time_text)]


def _integral(value: Any) -> Any:
    # JSON Schema's "integer" includes 3.0; strict validation still refuses 1.5, "3", false.
    return int(value) if isinstance(value, float) and value.is_integer() else value


class _Model(BaseModel):
    # Alertmanager may add fields in later versions: keep them rather than reject them.
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class WebhookAlert(_Model):
    """One alert inside a notification."""

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: Rfc3339 = Field(alias="startsAt")
    ends_at: Rfc3339 | None = Field(None, alias="endsAt")
    generator_url: str = Field("", alias="generatorURL")
    fingerprint: str = ""


class WebhookPayload(_Model):
    """One notification: a group of alerts for one receiver."""

    version: Literal["4"]
    group_key: str = Field(alias="groupKey")
    truncated_alerts: Annotated[int, BeforeValidator(_integral)] = Field(
        0, alias="truncatedAlerts", ge=0, strict=True
    )
    status: Literal["firing", "resolved"]
    receiver: str
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field("", alias="externalURL")
    alerts: list[WebhookAlert] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _bounded_and_encodable(cls, data: Any) -> Any:
        check_json_value(data)
        return data
