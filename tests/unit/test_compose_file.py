"""docker-compose.yml repeats a few values lab/spec owns and keeps Grafana quiet; tied here."""

from __future__ import annotations

from typing import Any

import yaml

from lab.spec import SPEC
from tests.image_pins import COMPOSE_FILE


def grafana_service() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services["grafana"]


def test_grafana_healthcheck_waits_for_the_spec_datasource_and_dashboard() -> None:
    """The healthcheck asks for the spec's datasource health and dashboard, not only /api/health,
    with curl (which the Grafana image ships) failing on any HTTP error."""
    kind, command = grafana_service()["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    probes = command.split(" && ")
    assert [p.split()[:2] for p in probes] == [["curl", "-fsS"]] * 3
    assert [p.split()[-1] for p in probes] == [
        "http://127.0.0.1:3000/api/health",
        f"http://127.0.0.1:3000/api/datasources/uid/{SPEC.datasource_uid}/health",
        f"http://127.0.0.1:3000/api/dashboards/uid/{SPEC.dashboard.uid}",
    ]


def test_grafana_does_not_phone_home() -> None:
    """Usage reports, update checks (Grafana's and its plugins') and the news feed are off."""
    environment = grafana_service()["environment"]
    for switch in (
        "GF_ANALYTICS_REPORTING_ENABLED",
        "GF_ANALYTICS_CHECK_FOR_UPDATES",
        "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES",
        "GF_NEWS_NEWS_FEED_ENABLED",
    ):
        assert environment[switch] == "false", switch
