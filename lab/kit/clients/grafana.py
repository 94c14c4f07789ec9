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
    """One query of a dashboard panel: its refId, PromQL and datasource uid."""

    ref_id: str
    expr: str
    datasource_uid: str


@dataclass(frozen=True)
class Panel:
    id: int
    title: str
    type: str
    queries: tuple[PanelQuery, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    refresh: str
    time_from: str
    panels: tuple[Panel, ...]

    def panel(self, title: str) -> Panel | None:
        return next((p for p in self.panels if p.title == title), None)


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


def _panels(raw: list[dict[str, Any]], default_uid: str) -> list[Panel]:
    panels: list[Panel] = []
    for item in raw:
        if item.get("type") == "row":
            panels.extend(_panels(item.get("panels", []), default_uid))
            continue
        panel_uid = (item.get("datasource") or {}).get("uid", default_uid)
        queries = tuple(
            PanelQuery(
                ref_id=target.get("refId", "A"),
                expr=target.get("expr", ""),
                datasource_uid=(target.get("datasource") or {}).get("uid", panel_uid),
            )
            for target in item.get("targets", [])
            if target.get("expr")
        )
        panels.append(Panel(int(item.get("id", 0)), item.get("title", ""), item["type"], queries))
    return panels


class GrafanaClient(HttpClient):
    service_name = "Grafana"
    compose_service = "grafana"

    def __init__(self, base_url: str, *, token: str | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

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

    def dashboard(self, uid: str, *, default_datasource_uid: str) -> Dashboard:
        body = self._json("GET", f"/api/dashboards/uid/{uid}")
        raw = body["dashboard"]
        return Dashboard(
            uid=raw.get("uid", uid),
            title=raw.get("title", ""),
            refresh=raw.get("refresh", ""),
            time_from=(raw.get("time") or {}).get("from", ""),
            panels=tuple(_panels(raw.get("panels", []), default_datasource_uid)),
        )

    def run_queries(
        self, queries: tuple[PanelQuery, ...], *, time_from: str = "now-30m", step_ms: int = 15000
    ) -> list[QueryOutcome]:
        """Run panel queries through Grafana, as the panel itself would."""
        body = {
            "from": time_from,
            "to": "now",
            "queries": [
                {
                    "refId": q.ref_id,
                    "datasource": {"uid": q.datasource_uid, "type": "prometheus"},
                    "expr": q.expr,
                    "range": True,
                    "instant": False,
                    "intervalMs": step_ms,
                    "maxDataPoints": 500,
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
