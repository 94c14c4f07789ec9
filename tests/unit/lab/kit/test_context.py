"""`LabContext`: every client built from one `LabSettings`, with its URLs, tokens and timeout."""

from __future__ import annotations

import responses
from pydantic import SecretStr

from lab.kit.context import LabContext
from lab.kit.settings import LabSettings

SETTINGS = LabSettings(
    app_url="http://app.test:8000/",
    prometheus_url="http://prometheus.test:9090",
    alertmanager_url="http://alertmanager.test:9093",
    alert_sink_url="http://sink.test:9095",
    grafana_url="http://grafana.test:3000",
    grafana_token=SecretStr("grafana-secret"),
    admin_token=SecretStr("admin-secret"),
    http_timeout_seconds=1.5,
)


def test_every_client_gets_its_url_and_the_one_timeout() -> None:
    """Each of the five clients points where the settings say and times out after
    `http_timeout_seconds`."""
    lab = LabContext.from_settings(SETTINGS)
    clients = [
        lab.app,
        lab.prometheus,
        lab.alertmanager,
        lab.alert_sink,
        lab.grafana,
    ]
    assert [c.base_url for c in clients] == [
        "http://app.test:8000",
        "http://prometheus.test:9090",
        "http://alertmanager.test:9093",
        "http://sink.test:9095",
        "http://grafana.test:3000",
    ]
    assert {c.timeout for c in clients} == {1.5}
    assert lab.settings is SETTINGS


@responses.activate
def test_tokens_go_only_to_their_own_service() -> None:
    """The admin token reaches the app's admin API and the Grafana token Grafana; neither
    is sent anywhere else."""
    responses.get("http://app.test:8000/admin/faults", json={})
    responses.get("http://grafana.test:3000/api/health", json={"database": "ok"})
    responses.get("http://prometheus.test:9090/-/ready", body="OK")
    lab = LabContext.from_settings(SETTINGS)
    lab.app.faults()
    lab.grafana.health()
    lab.prometheus.ready()
    sent = {call.request.url: call.request.headers.get("Authorization") for call in responses.calls}
    assert sent == {
        "http://app.test:8000/admin/faults": "Bearer admin-secret",
        "http://grafana.test:3000/api/health": "Bearer grafana-secret",
        "http://prometheus.test:9090/-/ready": None,
    }
