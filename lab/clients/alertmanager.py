"""Client for the parts of Alertmanager's v2 API the lab relies on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lab.clients.base import HttpClient, ServiceError


@dataclass(frozen=True)
class PostableAlert:
    """An alert as a client sends it to Alertmanager (POST /api/v2/alerts)."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None = None
    generator_url: str = ""

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": self.starts_at.isoformat(),
        }
        if self.ends_at is not None:
            body["endsAt"] = self.ends_at.isoformat()
        if self.generator_url:
            body["generatorURL"] = self.generator_url
        return body


class AlertmanagerClient(HttpClient):
    """Talks to Alertmanager: readiness and sending alerts."""

    service_name = "Alertmanager"
    compose_service = "alertmanager"

    def ready(self) -> bool:
        return self.is_ready("/-/ready")

    def post_alerts(self, alerts: list[PostableAlert]) -> None:
        response = self._request("POST", "/api/v2/alerts", json=[a.to_json() for a in alerts])
        if response.status_code != 200:
            raise ServiceError(
                f"Alertmanager refused the alerts ({response.status_code}): {response.text[:300]}"
            )
