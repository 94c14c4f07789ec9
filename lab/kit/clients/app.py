"""Client for the sample RAG app: its query API, metrics and fault-injection admin API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from lab.kit.clients.base import HttpClient, ServiceError, ServiceUnreachable
from lab.spec.rag import CORRELATION_HEADER, SERVED_BY_HEADER

OPENMETRICS = "application/openmetrics-text; version=1.0.0"


@dataclass(frozen=True)
class QueryReply:
    """The app's answer to POST /query: HTTP status, correlation id, and which replica
    served it (empty when the app does not say)."""

    status_code: int
    correlation_id: str
    body: dict[str, Any]
    served_by: str = ""


class AppClient(HttpClient):
    service_name = "The RAG app"
    compose_service = "app"

    def __init__(self, base_url: str, *, admin_token: str | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.admin_token = admin_token

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """As the base class; the gateway's 503 `no_replica` (HAProxy: no replica of the app
        is ready behind it) is an unreachable app, like a refused connection."""
        response = super()._request(method, path, **kwargs)
        if response.status_code == 503 and _error_code(response) == "no_replica":
            raise ServiceUnreachable(
                f"{self.service_name} is not reachable at {self.base_url}{path} "
                "(the gateway answers, but no replica of the app is running)",
                compose_service=self.compose_service,
            )
        return response

    def ready(self) -> bool:
        return self.is_ready("/readyz")

    def metrics_text(self, *, openmetrics: bool = False) -> str:
        accept = OPENMETRICS if openmetrics else "text/plain"
        response = self._request("GET", "/metrics", headers={"Accept": accept})
        if response.status_code != 200:
            raise ServiceError(f"GET /metrics answered {response.status_code}")
        return response.text

    def metrics_of_replica(
        self, replica: str, *, openmetrics: bool = False, attempts: int = 10
    ) -> str | None:
        """/metrics as `replica` serves it; None when `attempts` reads all met other replicas.

        Behind the lab's gateway (HAProxy, round robin per request) each read goes to the
        next ready replica, so `attempts` reads meet every one of them in turn. An app that
        names no replica (no X-Served-By) is taken to be the one.
        """
        accept = OPENMETRICS if openmetrics else "text/plain"
        for _ in range(attempts):
            response = self._request(
                "GET", "/metrics", headers={"Accept": accept, "Connection": "close"}
            )
            if response.status_code != 200:
                raise ServiceError(f"GET /metrics answered {response.status_code}")
            if response.headers.get(SERVED_BY_HEADER, replica) == replica:
                return response.text
        return None

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
            served_by=response.headers.get(SERVED_BY_HEADER, ""),
        )

    def ask(
        self, path: str, body: dict[str, Any], *, correlation_header: str, correlation_id: str
    ) -> QueryReply:
        """POST a query shaped as a learner's app takes it (its path and JSON body), sending
        `correlation_id` in `correlation_header`; the reply's id is that header's value."""
        response = self._request(
            "POST", path, json=body, headers={correlation_header: correlation_id}
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {"raw": response.text[:300]}
        return QueryReply(
            status_code=response.status_code,
            correlation_id=response.headers.get(correlation_header, ""),
            body=answer if isinstance(answer, dict) else {"raw": answer},
            served_by=response.headers.get(SERVED_BY_HEADER, ""),
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


def _error_code(response: requests.Response) -> str | None:
    """The `error` of a JSON error body (the app's and the gateway's shape), else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None
