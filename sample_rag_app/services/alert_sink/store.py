"""Received notifications: an append-only JSON-lines file, and the newest of them in memory.

Every notification is written and fsync'd before the webhook answers, so an acknowledged
alert survives a restart. On start the file is read back: a torn last line (a crash in the
middle of a write, never acknowledged) is cut off so the next line starts clean, and a
line that does not pass the webhook's validation is skipped and logged. Memory holds the
newest notifications within a byte budget; the file keeps all of them.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from sample_rag_app.services.alert_sink.models import WebhookPayload

log = structlog.get_logger("sample_rag_app.services.alert_sink.store")


@dataclass(frozen=True)
class Received:
    """A notification, when the sink received it, and where it sits in the record."""

    received_at: datetime
    payload: dict[str, Any]  # the notification as Alertmanager sent it (aliases kept)
    seq: int  # 1 for the first notification of the file, then counting up
    first_alert: int  # id of its first alert: alerts are numbered from 0 across the file
    size: int  # bytes of its JSON line

    def flattened(self) -> list[dict[str, Any]]:
        """One entry per alert, with its id, the receiver, group key and receivedAt."""
        out = []
        for index, alert in enumerate(self.payload.get("alerts", [])):
            labels = alert.get("labels", {})
            out.append(
                {
                    "id": self.first_alert + index,
                    "alertname": labels.get("alertname", ""),
                    "status": alert.get("status"),
                    "labels": labels,
                    "annotations": alert.get("annotations", {}),
                    "startsAt": alert.get("startsAt"),
                    "endsAt": alert.get("endsAt"),
                    "generatorURL": alert.get("generatorURL", ""),
                    "fingerprint": alert.get("fingerprint", ""),
                    "receiver": self.payload.get("receiver"),
                    "groupKey": self.payload.get("groupKey"),
                    "receivedAt": self.received_at.isoformat(),
                }
            )
        return out


@dataclass(frozen=True)
class AlertPage:
    """Up to `limit` matching alerts, oldest first, and the cursor to the older ones."""

    alerts: list[dict[str, Any]]
    next_before: int | None  # pass as `before` for the previous page; None: no more


def _line(received_at: datetime, payload: dict[str, Any]) -> bytes:
    record = {"receivedAt": received_at.isoformat(), "notification": payload}
    return (json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")


def _parse(line: bytes) -> tuple[datetime, dict[str, Any]]:
    """The receipt time and notification of a stored line, validated as the webhook does."""
    record = json.loads(line)
    if not isinstance(record, dict):
        raise TypeError("the line is not a JSON object")
    received_at = datetime.fromisoformat(record["receivedAt"])
    payload = record["notification"]
    if not isinstance(payload, dict):
        raise TypeError("notification is not an object")
    WebhookPayload.model_validate(payload)
    return received_at, payload


class AlertStore:
    """Thread-safe append-only store backed by a JSON-lines file."""

    def __init__(self, path: Path, *, memory_max_bytes: int = 33_554_432) -> None:
        self.path = path
        self.memory_max_bytes = memory_max_bytes
        self._lock = threading.Lock()
        self._items: deque[Received] = deque()
        self._memory_bytes = 0
        self._next_seq = 1
        self._next_alert = 0
        self._load()

    def _keep(self, received_at: datetime, payload: dict[str, Any], size: int) -> Received:
        item = Received(received_at, payload, self._next_seq, self._next_alert, size)
        self._next_seq += 1
        self._next_alert += len(payload.get("alerts", []))
        self._items.append(item)
        self._memory_bytes += size
        while self._items and self._memory_bytes > self.memory_max_bytes:
            self._memory_bytes -= self._items.popleft().size
        return item

    def _load(self) -> None:
        if not self.path.exists():
            return
        offset = 0
        with self.path.open("r+b") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    self._cut_torn_line(handle, offset, len(line))
                    break
                offset += len(line)
                if not line.strip():
                    continue
                try:
                    received_at, payload = _parse(line)
                except (ValueError, KeyError, TypeError, ValidationError) as exc:
                    log.warning(
                        "skipped_unreadable_line",
                        file=str(self.path),
                        line=number,
                        error=str(exc).splitlines()[0][:200],
                    )
                    continue
                self._keep(received_at, payload, len(line))
        log.info(
            "reloaded",
            file=str(self.path),
            notifications=self._next_seq - 1,
            in_memory=len(self._items),
        )

    def _cut_torn_line(self, handle: Any, offset: int, size: int) -> None:
        # A write that never completed was never acknowledged: Alertmanager sends the
        # notification again. Cutting the fragment keeps the next line from being glued on.
        handle.truncate(offset)
        handle.flush()
        os.fsync(handle.fileno())
        log.warning("cut_torn_last_line", file=str(self.path), offset=offset, bytes=size)

    def append(self, payload: WebhookPayload, *, now: datetime | None = None) -> Received:
        """Write the notification and fsync it, then keep it; a failed write is undone."""
        received_at = now or datetime.now(UTC)
        notification = payload.model_dump(mode="json", by_alias=True)
        line = _line(received_at, notification)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                start = handle.seek(0, os.SEEK_END)
                try:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
                except OSError:
                    handle.truncate(start)
                    raise
            return self._keep(received_at, notification, len(line))

    def notifications(self) -> list[Received]:
        """The notifications in memory, oldest first."""
        with self._lock:
            return list(self._items)

    def page(
        self,
        *,
        alertname: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> AlertPage:
        """The newest `limit` alerts that match, with an id below `before` when given."""
        found: list[dict[str, Any]] = []
        more = False
        for item in reversed(self.notifications()):
            if since is not None and item.received_at < since:
                continue
            for alert in reversed(item.flattened()):
                if before is not None and alert["id"] >= before:
                    continue
                if alertname and alert["alertname"] != alertname:
                    continue
                if status and alert["status"] != status:
                    continue
                if len(found) == limit:
                    more = True
                    break
                found.append(alert)
            if more:
                break
        found.reverse()
        return AlertPage(found, found[0]["id"] if more else None)
