"""Alertmanager's webhook payload (version 4), as documented for `webhook_config`.

Extra fields are kept, so the payload is checked as a whole before the fields are: no
string may hold a lone UTF-16 surrogate (it cannot be written back as UTF-8 JSON) and no
value may nest deeper than `MAX_NESTING_DEPTH` (deep nesting exhausts the serializer).
The same checks run on every line the store reads back, so a stored line either lists
cleanly or is skipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class _Model(BaseModel):
    # Alertmanager may add fields in later versions: keep them rather than reject them.
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class WebhookAlert(_Model):
    """One alert inside a notification."""

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    generator_url: str = Field("", alias="generatorURL")
    fingerprint: str = ""


class WebhookPayload(_Model):
    """One notification: a group of alerts for one receiver."""

    version: Literal["4"]
    group_key: str = Field(alias="groupKey")
    truncated_alerts: int = Field(0, alias="truncatedAlerts", ge=0)
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
