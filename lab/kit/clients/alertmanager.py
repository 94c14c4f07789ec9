"""Client for the parts of Alertmanager's v2 API the lab relies on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from lab.kit.clients.base import HttpClient, ServiceError


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

    def silences(self) -> list[dict[str, Any]]:
        """Every silence Alertmanager holds (active, pending and expired), as its API has them."""
        return list(self._json("GET", "/api/v2/silences"))

    def create_silence(
        self,
        matchers: list[dict[str, object]],
        *,
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
    ) -> str:
        """Create a silence; returns its id."""
        body = self._json(
            "POST",
            "/api/v2/silences",
            json={
                "matchers": matchers,
                "startsAt": starts_at.isoformat(),
                "endsAt": ends_at.isoformat(),
                "createdBy": created_by,
                "comment": comment,
            },
        )
        return str(body["silenceID"])

    def expire_silence(self, silence_id: str) -> None:
        response = self._request("DELETE", f"/api/v2/silence/{silence_id}")
        if response.status_code not in (200, 404):  # 404: gone already
            raise ServiceError(
                f"Alertmanager refused to expire silence {silence_id} "
                f"({response.status_code}): {response.text[:300]}"
            )

    def config_text(self) -> str:
        """The configuration Alertmanager runs, as the file it loaded says it."""
        status = self._json("GET", "/api/v2/status")
        return str(status.get("config", {}).get("original", ""))

    def config(self) -> dict[str, Any]:
        """The configuration Alertmanager runs, parsed (its route tree and receivers)."""
        text = self.config_text()
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ServiceError(f"Alertmanager's /api/v2/status config is not YAML: {exc}") from exc
        return parsed if isinstance(parsed, dict) else {}

    def alerts(self, *matchers: str) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds matching every `matchers` (`name="value"`), each
        with the receivers it routed them to (GET /api/v2/alerts)."""
        return list(self._json("GET", "/api/v2/alerts", params={"filter": list(matchers)}))

    def metrics_text(self) -> str:
        """Alertmanager's own /metrics (its notification counters per integration)."""
        response = self._request("GET", "/metrics")
        if response.status_code != 200:
            raise ServiceError(f"Alertmanager /metrics answered {response.status_code}")
        return response.text
