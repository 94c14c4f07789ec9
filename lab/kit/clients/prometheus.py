"""Client for the parts of Prometheus's HTTP API (/api/v1) the lab relies on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lab.kit.clients.base import HttpClient, ServiceError


@dataclass(frozen=True)
class ScrapeTarget:
    """One active scrape target, as /api/v1/targets reports it."""

    job: str
    instance: str
    scrape_url: str
    health: str
    last_scrape: datetime | None
    last_error: str
    scrape_interval: str | None

    @property
    def is_up(self) -> bool:
        return self.health == "up"


@dataclass(frozen=True)
class Sample:
    """One series of an instant-query result: its labels and its value."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range query: its labels and (unix time, value) points."""

    labels: dict[str, str]
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class Rule:
    """One alerting or recording rule, with its evaluation health."""

    name: str
    type: str
    query: str
    health: str
    state: str | None
    group: str
    labels: dict[str, str]
    annotations: dict[str, str]
    duration_seconds: float
    #: The rule file Prometheus loaded it from, as Prometheus names it (its own path).
    file: str = ""


def _parse_time(value: str | None) -> datetime | None:
    if not value or value.startswith("0001-01-01"):
        return None
    # Prometheus sends RFC 3339 with nanoseconds; datetime takes at most microseconds.
    head, _, tail = value.partition(".")
    if tail:
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits) :]
        value = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class PrometheusClient(HttpClient):
    """Queries Prometheus: targets, instant queries, rules, Alertmanagers, config."""

    service_name = "Prometheus"
    compose_service = "prometheus"

    def _data(self, path: str, **params: Any) -> Any:
        body = self._json("GET", path, params=params or None)
        if body.get("status") != "success":
            raise ServiceError(f"Prometheus {path} failed: {body.get('error', body)}")
        return body["data"]

    def ready(self) -> bool:
        return self.is_ready("/-/ready")

    def targets(self) -> list[ScrapeTarget]:
        data = self._data("/api/v1/targets", state="active")
        return [
            ScrapeTarget(
                job=t["labels"].get("job", ""),
                instance=t["labels"].get("instance", ""),
                scrape_url=t.get("scrapeUrl", ""),
                health=t.get("health", "unknown"),
                last_scrape=_parse_time(t.get("lastScrape")),
                last_error=t.get("lastError", ""),
                scrape_interval=t.get("scrapeInterval"),
            )
            for t in data["activeTargets"]
        ]

    def query(self, expr: str, *, at: datetime | None = None) -> list[Sample]:
        """Instant query; NaN and infinite values are dropped (they mean "no data")."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at.timestamp()
        data = self._data("/api/v1/query", **params)
        if data["resultType"] == "scalar":
            raw = [{"metric": {}, "value": data["result"]}]
        elif data["resultType"] == "vector":
            raw = data["result"]
        else:
            raise ServiceError(f"expected a vector from {expr!r}, got {data['resultType']}")
        samples = [Sample(labels=r["metric"], value=float(r["value"][1])) for r in raw]
        return [s for s in samples if math.isfinite(s.value)]

    def range_vector(self, selector: str, *, at: datetime | None = None) -> list[RangeSeries]:
        """The raw samples of a range-vector selector such as `x[15m]`, as scraped.

        Unlike `rate()` or `query_range`, nothing is extrapolated or resampled: the points
        are the scrapes themselves, so their timestamps say what span the data covers.
        """
        params: dict[str, Any] = {"query": selector}
        if at is not None:
            params["time"] = at.timestamp()
        data = self._data("/api/v1/query", **params)
        if data["resultType"] != "matrix":
            raise ServiceError(f"expected a matrix from {selector!r}, got {data['resultType']}")
        return [
            RangeSeries(item["metric"], [(float(t), float(v)) for t, v in item["values"]])
            for item in data["result"]
        ]

    def query_range(
        self, expr: str, *, start: datetime, end: datetime, step_seconds: float
    ) -> list[RangeSeries]:
        """Range query; NaN points are dropped from each series."""
        data = self._data(
            "/api/v1/query_range",
            query=expr,
            start=start.timestamp(),
            end=end.timestamp(),
            step=step_seconds,
        )
        series = []
        for item in data["result"]:
            points = [(float(t), float(v)) for t, v in item["values"]]
            series.append(
                RangeSeries(item["metric"], [(t, v) for t, v in points if math.isfinite(v)])
            )
        return series

    def label_values(self, label: str, metric: str | None = None) -> list[str]:
        """The values of `label` (on `metric`'s series when given): what a dashboard's
        label_values() variable offers."""
        params: dict[str, Any] = {"match[]": metric} if metric else {}
        data = self._data(f"/api/v1/label/{label}/values", **params)
        return [str(v) for v in data] if isinstance(data, list) else []

    def rules(self) -> list[Rule]:
        data = self._data("/api/v1/rules")
        return [
            Rule(
                name=r["name"],
                type=r["type"],
                query=r["query"],
                health=r.get("health", "unknown"),
                state=r.get("state"),
                group=group["name"],
                labels=r.get("labels", {}),
                annotations=r.get("annotations", {}),
                duration_seconds=float(r.get("duration", 0)),
                file=group.get("file", ""),
            )
            for group in data["groups"]
            for r in group["rules"]
        ]

    def config_file(self) -> str:
        """The configuration file Prometheus runs, as its --config.file flag names it."""
        return str(self._data("/api/v1/status/flags").get("config.file", ""))

    def active_alertmanagers(self) -> list[str]:
        """URLs of the Alertmanagers Prometheus currently sends alerts to."""
        data = self._data("/api/v1/alertmanagers")
        return [am["url"] for am in data.get("activeAlertmanagers", [])]

    def reload(self) -> None:
        """Reload the configuration (POST /-/reload; needs --web.enable-lifecycle)."""
        response = self._request("POST", "/-/reload")
        if response.status_code != 200:
            raise ServiceError(
                f"Prometheus refused to reload ({response.status_code}): "
                f"{response.text.strip()[:300]}; it needs --web.enable-lifecycle "
                "(docker-compose.yml sets it: `docker compose up -d prometheus`)"
            )
