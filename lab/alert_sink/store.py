"""Received notifications, kept in memory and in an append-only JSON-lines file.

Every notification is written and fsync'd before the webhook answers, so an acknowledged
alert survives a restart; the file is read back when the sink starts.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from lab.alert_sink.models import WebhookPayload

log = structlog.get_logger("lab.alert_sink.store")


@dataclass(frozen=True)
class Received:
    """A notification and when the sink received it."""

    received_at: datetime
    payload: dict[str, Any]  # the notification as Alertmanager sent it (aliases kept)

    def to_line(self) -> str:
        record = {"receivedAt": self.received_at.isoformat(), "notification": self.payload}
        return json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"

    def flattened(self) -> list[dict[str, Any]]:
        """One entry per alert, with the notification's receiver, group key and receivedAt."""
        out = []
        for alert in self.payload.get("alerts", []):
            labels = alert.get("labels", {})
            out.append(
                {
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


class AlertStore:
    """Thread-safe append-only store backed by a JSON-lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._items: list[Received] = []
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    received_at = datetime.fromisoformat(record["receivedAt"])
                    payload = record["notification"]
                    if not isinstance(payload, dict):
                        raise TypeError("notification is not an object")
                except (ValueError, KeyError, TypeError) as exc:
                    # A torn last line after a crash: skip it, keep everything else.
                    log.warning(
                        "skipped_unreadable_line", file=str(self.path), line=number, error=str(exc)
                    )
                    continue
                self._items.append(Received(received_at, payload))
        log.info("reloaded", file=str(self.path), notifications=len(self._items))

    def append(self, payload: WebhookPayload, *, now: datetime | None = None) -> Received:
        item = Received(now or datetime.now(UTC), payload.model_dump(mode="json", by_alias=True))
        line = item.to_line()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self._items.append(item)
        return item

    def notifications(self) -> list[Received]:
        with self._lock:
            return list(self._items)

    def alerts(
        self,
        *,
        alertname: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Received alerts, oldest first, filtered by name, status and receipt time."""
        out = []
        for item in self.notifications():
            if since is not None and item.received_at < since:
                continue
            for alert in item.flattened():
                if alertname and alert["alertname"] != alertname:
                    continue
                if status and alert["status"] != status:
                    continue
                out.append(alert)
        return out
