"""Client for the lab's alert sink: what Alertmanager delivered to its webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lab.kit.clients.base import HttpClient, ServiceError


class AlertSinkClient(HttpClient):
    service_name = "The alert sink"
    compose_service = "alert-sink"

    def ready(self) -> bool:
        return self.is_ready("/healthz")

    def alerts(
        self,
        *,
        alertname: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Received alerts, newest last, each with its labels, annotations and receivedAt."""
        params: dict[str, str] = {}
        if alertname:
            params["alertname"] = alertname
        if status:
            params["status"] = status
        if since:
            params["since"] = since.isoformat()
        body = self._json("GET", "/alerts", params=params)
        try:
            return list(body["alerts"])
        except (TypeError, KeyError) as exc:  # the sink always answers {"alerts": [...]}
            raise ServiceError(
                f"{self.service_name} answered GET /alerts without an `alerts` list: is "
                f"{self.base_url} the lab's alert sink?"
            ) from exc
