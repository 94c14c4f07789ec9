"""Every client of the lab's services, built once from `LabSettings` with one timeout policy.

The checks, `lab wait`, `lab drill`, `lab experiment`, `lab baseline` and the notebook all
reach the services through a `LabContext`, so where each service runs and how long a call
to it may take are decided in one place: the settings (LAB_* variables, or the flags that
override them).
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.kit.clients.alert_sink import AlertSinkClient
from lab.kit.clients.alertmanager import AlertmanagerClient
from lab.kit.clients.app import AppClient
from lab.kit.clients.base import DEFAULT_POOL_SIZE
from lab.kit.clients.grafana import GrafanaClient
from lab.kit.clients.prometheus import PrometheusClient
from lab.kit.settings import LabSettings, reveal


@dataclass(frozen=True)
class LabContext:
    settings: LabSettings
    app: AppClient
    prometheus: PrometheusClient
    alertmanager: AlertmanagerClient
    alert_sink: AlertSinkClient
    grafana: GrafanaClient

    @classmethod
    def from_settings(
        cls, settings: LabSettings, *, pool_size: int = DEFAULT_POOL_SIZE
    ) -> LabContext:
        """Each call times out after `settings.http_timeout_seconds`; `pool_size` is how many
        connections a client keeps open (the experiment keeps one per request in flight)."""
        timeout = settings.http_timeout_seconds
        return cls(
            settings=settings,
            app=AppClient(
                settings.app_url,
                admin_token=reveal(settings.admin_token),
                timeout=timeout,
                pool_size=pool_size,
            ),
            prometheus=PrometheusClient(
                settings.prometheus_url, timeout=timeout, pool_size=pool_size
            ),
            alertmanager=AlertmanagerClient(
                settings.alertmanager_url, timeout=timeout, pool_size=pool_size
            ),
            alert_sink=AlertSinkClient(
                settings.alert_sink_url, timeout=timeout, pool_size=pool_size
            ),
            grafana=GrafanaClient(
                settings.grafana_url,
                token=reveal(settings.grafana_token),
                timeout=timeout,
                pool_size=pool_size,
            ),
        )
