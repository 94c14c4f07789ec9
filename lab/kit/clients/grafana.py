"""Client for the parts of Grafana's HTTP API the dashboards check relies on.

Anonymous Viewer access (how the lab's Grafana is configured) is enough for every call
here; a service-account token is sent when one is configured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lab.kit.clients.base import HttpClient, ServiceError


@dataclass(frozen=True)
class PanelQuery:
    """One query as a panel sends it to /api/ds/query: PromQL, datasource, resolution."""

    ref_id: str
    expr: str
    datasource_uid: str
    interval_ms: int = 15000
    max_data_points: int = 500


@dataclass(frozen=True)
class Readiness:
    """Whether Grafana serves what the lab provisions, and if not, what is still missing."""

    ready: bool
    detail: str


@dataclass(frozen=True)
class QueryOutcome:
    """What /api/ds/query returned for one query: how many non-null points, or the error."""

    ref_id: str
    points: int
    error: str | None


class GrafanaClient(HttpClient):
    service_name = "Grafana"
    compose_service = "grafana"

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        elif user:
            self._session.auth = (user, password or "")

    def health(self) -> dict[str, Any]:
        """/api/health's body, on a 503 too: that one says {"database": "failing"}, which
        tells the user more than "answered 503"."""
        response = self._request("GET", "/api/health")
        if response.status_code in (200, 503):
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                return body
        raise ServiceError(
            f"Grafana answered {response.status_code} to GET /api/health: {response.text[:300]}"
        )

    def readiness(self, *, datasource_uid: str, dashboard_uid: str) -> Readiness:
        """Ready once its database is ok, the provisioned datasource passes Grafana's own
        health test and the dashboard is served: /api/health alone answers before
        provisioning has finished."""
        health = self.health()
        if health.get("database") != "ok":
            return Readiness(False, f"database {health.get('database')!r}")
        ok, message = self.datasource_health(datasource_uid)
        if not ok:
            return Readiness(False, f"datasource {datasource_uid!r} not healthy: {message}")
        dashboard = self._request("GET", f"/api/dashboards/uid/{dashboard_uid}")
        if dashboard.status_code != 200:
            return Readiness(
                False, f"dashboard {dashboard_uid!r} not served (HTTP {dashboard.status_code})"
            )
        return Readiness(True, f"datasource {datasource_uid!r} OK, dashboard {dashboard_uid!r}")

    def datasource_health(self, uid: str) -> tuple[bool, str]:
        """Grafana's own test of the datasource (the "Save & test" button)."""
        response = self._request("GET", f"/api/datasources/uid/{uid}/health")
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200]}
        ok = response.status_code == 200 and str(body.get("status", "")).upper() == "OK"
        return ok, str(body.get("message", f"HTTP {response.status_code}"))

    def datasources(self) -> list[dict[str, Any]]:
        """GET /api/datasources: every datasource the caller may read (a Viewer may)."""
        body = self._json("GET", "/api/datasources")
        return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []

    def search_dashboards(self, limit: int = 5000) -> list[dict[str, Any]]:
        """GET /api/search?type=dash-db: the dashboards (no folders) the caller may see."""
        body = self._json("GET", "/api/search", params={"type": "dash-db", "limit": limit})
        return [hit for hit in body if isinstance(hit, dict)] if isinstance(body, list) else []

    def dashboard_model(self, uid: str) -> dict[str, Any]:
        """The dashboard JSON model of GET /api/dashboards/uid/{uid} (without its meta)."""
        body = self._json("GET", f"/api/dashboards/uid/{uid}")
        model = body.get("dashboard") if isinstance(body, dict) else None
        if not isinstance(model, dict):
            raise ServiceError(f"Grafana's /api/dashboards/uid/{uid} has no dashboard model")
        return model

    def run_queries(
        self, queries: tuple[PanelQuery, ...], *, time_from: str = "now-30m", time_to: str = "now"
    ) -> list[QueryOutcome]:
        """Run panel queries through Grafana, as the panel itself would."""
        body = {
            "from": time_from,
            "to": time_to,
            "queries": [
                {
                    "refId": q.ref_id,
                    "datasource": {"uid": q.datasource_uid, "type": "prometheus"},
                    "expr": q.expr,
                    "range": True,
                    "instant": False,
                    "intervalMs": q.interval_ms,
                    "maxDataPoints": q.max_data_points,
                }
                for q in queries
            ],
        }
        response = self._request("POST", "/api/ds/query", json=body)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        results = answer.get("results") if isinstance(answer, dict) else None
        # A 400 with per-query results carries each query's own error; anything else
        # (unknown datasource, bad request, no permission) is the whole call failing.
        if response.status_code >= 400 and not results:
            message = answer.get("message", response.text[:200]) if answer else response.text[:200]
            raise ServiceError(f"Grafana /api/ds/query answered {response.status_code}: {message}")
        results = results or {}
        return [self._outcome(q.ref_id, results.get(q.ref_id, {})) for q in queries]

    @staticmethod
    def _outcome(ref_id: str, result: dict[str, Any]) -> QueryOutcome:
        if result.get("error"):
            return QueryOutcome(ref_id, 0, str(result["error"]))
        points = 0
        for frame in result.get("frames", []):
            values = (frame.get("data") or {}).get("values", [])
            for column in values[1:]:  # the first column is time
                points += sum(1 for v in column if isinstance(v, int | float) and math.isfinite(v))
        return QueryOutcome(ref_id, points, None)
