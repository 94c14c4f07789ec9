"""Client for the sample RAG app: its query API, metrics and fault-injection admin API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.clients.base import HttpClient, ServiceError
from lab.spec.rag import CORRELATION_HEADER


@dataclass(frozen=True)
class QueryReply:
    """The app's answer to POST /query, with the HTTP status and correlation id it used."""

    status_code: int
    correlation_id: str
    body: dict[str, Any]


class AppClient(HttpClient):
    service_name = "The RAG app"
    compose_service = "app"

    def __init__(self, base_url: str, *, admin_token: str | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.admin_token = admin_token

    def ready(self) -> bool:
        return self.is_ready("/readyz")

    def metrics_text(self, *, openmetrics: bool = False) -> str:
        accept = "application/openmetrics-text; version=1.0.0" if openmetrics else "text/plain"
        response = self._request("GET", "/metrics", headers={"Accept": accept})
        if response.status_code != 200:
            raise ServiceError(f"GET /metrics answered {response.status_code}")
        return response.text

    def query(self, question: str, *, correlation_id: str, top_k: int = 4) -> QueryReply:
        response = self._request(
            "POST",
            "/query",
            json={"question": question, "top_k": top_k},
            headers={CORRELATION_HEADER: correlation_id},
        )
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text[:300]}
        return QueryReply(
            status_code=response.status_code,
            correlation_id=response.headers.get(CORRELATION_HEADER, ""),
            body=body,
        )

    def _admin(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if not self.admin_token:
            raise ServiceError(
                "the app's admin API needs its token: start the lab with "
                "RAG_ADMIN_TOKEN=<secret> and pass the same value as LAB_ADMIN_TOKEN"
            )
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return dict(self._json(method, path, headers=headers, **kwargs))

    def faults(self) -> dict[str, Any]:
        return self._admin("GET", "/admin/faults")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        return self._admin("PUT", "/admin/faults", json=faults)

    def clear_faults(self) -> dict[str, Any]:
        return self._admin("DELETE", "/admin/faults")

    def resilience(self) -> dict[str, Any]:
        """The resilience configuration in force: the master switch, mechanisms, parameters."""
        return self._admin("GET", "/admin/resilience")

    def set_resilience(self, **fields: Any) -> dict[str, Any]:
        """Change the fields given (e.g. `enabled=True`); returns the new configuration."""
        return self._admin("PUT", "/admin/resilience", json=fields)
